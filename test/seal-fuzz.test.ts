import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { CipherlmError, DeserializationError, SealFormat, type CkksContext } from '../src';
import { callNative } from '../src/api/native';
import { COMPRESSIONS, loadNodeSeal, randomVector, sealParameters, sealSession, type NodeSeal } from './seal-helpers';

// Hostile SEAL bytes: every mutation must be refused with a typed error, or load and save back to the
// very same bytes. A crash of the native loader would take the test process down with it.

const REFUSALS = new Set(['ERR_DESERIALIZATION', 'ERR_SEAL_INCOMPATIBLE', 'ERR_INSECURE_PARAMETERS']);

type Loader = (bytes: Uint8Array) => { dispose(): void } | CkksContext;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function withU64(bytes: Uint8Array, offset: number, value: bigint): Uint8Array {
  const out = Uint8Array.from(bytes);
  if (offset + 8 <= out.length) new DataView(out.buffer).setBigUint64(offset, value, true);
  return out;
}

/** Truncations, bit flips (dense in the first bytes, where headers and sizes live), huge sizes. */
function mutations(bytes: Uint8Array, seed: number, u64Fields: number[]): Uint8Array[] {
  const random = rng(seed);
  const out: Uint8Array[] = [];
  for (const length of [0, 1, 15, 16, 17, 40, 100, bytes.length - 1, bytes.length - 8]) {
    if (length >= 0 && length < bytes.length) out.push(bytes.subarray(0, length));
  }
  for (let i = 0; i < 8; i++) out.push(bytes.subarray(0, Math.floor(random() * bytes.length)));
  out.push(Uint8Array.from([...bytes, 0, 0, 0])); // trailing bytes
  for (let i = 0; i < 40; i++) {
    const position = i < 25 ? Math.floor(random() * Math.min(bytes.length, 160)) : Math.floor(random() * bytes.length);
    const flipped = Uint8Array.from(bytes);
    flipped[position] ^= 1 << Math.floor(random() * 8);
    out.push(flipped);
  }
  for (const offset of [8, ...u64Fields]) {
    for (const value of [0n, 1n, 2n ** 31n, 2n ** 61n, 2n ** 64n - 1n, BigInt(bytes.length) + 8n]) out.push(withU64(bytes, offset, value));
  }
  return out;
}

function check(loader: Loader, bytes: Uint8Array, tally: { refused: number; roundTrips: number }): void {
  let object: ReturnType<Loader>;
  try {
    object = loader(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(CipherlmError);
    expect(REFUSALS, (error as Error).message).toContain((error as CipherlmError).code);
    tally.refused++;
    return;
  }
  try {
    const mode = bytes[5];
    const saved = SealFormat.save(object as Parameters<typeof SealFormat.save>[0]);
    if (mode === 0) {
      expect(Buffer.from(saved).equals(Buffer.from(bytes))).toBe(true);
    } else {
      // A compressed payload that still decompresses to a valid object: its uncompressed form is stable.
      const again = loader(saved);
      expect(Buffer.from(SealFormat.save(again as Parameters<typeof SealFormat.save>[0])).equals(Buffer.from(saved))).toBe(true);
      again.dispose();
    }
    tally.roundTrips++;
  } finally {
    object.dispose();
  }
}

describe('SEAL loaders under hostile bytes', () => {
  let seal: NodeSeal;
  let session: ReturnType<typeof sealSession>;
  let context: CkksContext;
  const n = 4096;
  const objects: Record<string, { bytes: Uint8Array; loader: Loader; fields: number[] }> = {};

  beforeAll(async () => {
    seal = await loadNodeSeal();
    session = sealSession(seal, sealParameters(seal, n, [36, 36, 37]));
    const { own, context: sctx } = session;
    context = SealFormat.loadContext(session.parms.saveArray(seal.ComprModeType.none));
    const none = seal.ComprModeType.none;
    const keygen = own(seal.KeyGenerator(sctx));
    const sk = own(keygen.secretKey());
    const pk = own(keygen.createPublicKey());
    const pt = own(seal.PlainText());
    session.encoder.encode(randomVector(n / 2, 3), 2 ** 30, pt);
    const ct = own(seal.CipherText());
    const encryptor = own(seal.Encryptor(sctx, pk, sk));
    encryptor.encrypt(pt, ct);
    // Offsets of u64 size fields: counts, dimensions and nested header sizes.
    objects.parameters = { bytes: session.parms.saveArray(none), loader: (b) => SealFormat.loadContext(b), fields: [17, 25, 41, 65] };
    objects.plaintext = { bytes: pt.saveArray(none), loader: (b) => SealFormat.loadPlaintext(context, b), fields: [48, 56, 72, 80] };
    objects.ciphertext = { bytes: ct.saveArray(none), loader: (b) => SealFormat.loadCiphertext(context, b), fields: [49, 57, 65, 73, 81, 97, 105] };
    objects.seededCiphertext = {
      bytes: own(encryptor.encryptSymmetricSerializable(pt)).saveArray(none),
      loader: (b) => SealFormat.loadCiphertext(context, b),
      fields: [49, 97, 105],
    };
    objects.secretKey = { bytes: sk.saveArray(none), loader: (b) => SealFormat.loadSecretKey(context, b), fields: [48, 72, 80] };
    objects.publicKey = { bytes: pk.saveArray(none), loader: (b) => SealFormat.loadPublicKey(context, b), fields: [49, 97, 105] };
    objects.relinKeys = {
      bytes: own(keygen.createRelinKeysSerializable()).saveArray(none),
      loader: (b) => SealFormat.loadRelinKeys(context, b),
      fields: [48, 56, 72],
    };
    objects.galoisKeys = {
      bytes: own(keygen.createGaloisKeys(Int32Array.from([1]))).saveArray(none),
      loader: (b) => SealFormat.loadGaloisKeys(context, b),
      fields: [48, 56, 64],
    };
  });
  afterAll(() => {
    context.dispose();
    session.close();
  });

  it('every valid object round-trips unchanged', () => {
    for (const { bytes, loader } of Object.values(objects)) {
      const tally = { refused: 0, roundTrips: 0 };
      if (bytes === objects.seededCiphertext.bytes || bytes === objects.relinKeys.bytes) continue; // seeded: re-saved expanded
      check(loader, bytes, tally);
      expect(tally.roundTrips).toBe(1);
    }
  });

  it('truncations, bit flips and huge sizes are refused or round-trip', () => {
    let seed = 1;
    for (const [name, { bytes, loader, fields }] of Object.entries(objects)) {
      const seeded = name === 'seededCiphertext' || name === 'relinKeys';
      const tally = { refused: 0, roundTrips: 0 };
      for (const mutated of mutations(bytes, seed++, fields)) {
        if (seeded) {
          // Seeded objects re-save expanded: they must be refused or load (and the load must be valid).
          try {
            loader(mutated).dispose();
            tally.roundTrips++;
          } catch (error) {
            expect(error).toBeInstanceOf(CipherlmError);
            expect(REFUSALS).toContain((error as CipherlmError).code);
            tally.refused++;
          }
        } else {
          check(loader, mutated, tally);
        }
      }
      // Truncations and wrong sizes alone guarantee many refusals; flips inside coefficient data load.
      expect(tally.refused, name).toBeGreaterThan(30);
      if (name !== 'parameters') expect(tally.roundTrips, name).toBeGreaterThan(0);
    }
  });

  it('wrong moduli in the parameters are refused', () => {
    const bytes = objects.parameters.bytes;
    const firstPrime = 16 + 1 + 8 + 8 + 16; // after the header, scheme, N, count and the Modulus header
    const plain = firstPrime + 3 * 24;
    const prime = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(firstPrime, true);
    for (const value of [0n, 1n, 2n ** 61n, 2n ** 60n + 1n, prime + 2n, prime + 2n * BigInt(n), 65539n]) {
      const tally = { refused: 0, roundTrips: 0 };
      check(objects.parameters.loader, withU64(bytes, firstPrime, value), tally);
      expect(tally.refused, `modulus ${value}`).toBe(1);
    }
    // The same prime twice, and a non-zero plain modulus.
    const second = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(firstPrime + 24, true);
    for (const mutated of [withU64(bytes, firstPrime, second), withU64(bytes, plain, 65537n)]) {
      const tally = { refused: 0, roundTrips: 0 };
      check(objects.parameters.loader, mutated, tally);
      expect(tally.refused).toBe(1);
    }
  });

  it('compressed payloads: corrupt, truncated or oversized streams are refused', () => {
    for (const mode of COMPRESSIONS) {
      const { loader } = objects.ciphertext;
      const compressed = SealFormat.save(loader(objects.ciphertext.bytes) as Parameters<typeof SealFormat.save>[0], mode);
      const tally = { refused: 0, roundTrips: 0 };
      for (const mutated of mutations(compressed, 99, [])) check(loader, mutated, tally);
      expect(tally.refused).toBeGreaterThan(30);
      // A stream that inflates to more than a ciphertext can hold (a compression bomb) is refused.
      const zeros = new Uint8Array(64 << 20);
      const payload = mode === 'zlib' ? new Uint8Array(deflateSync(zeros)) : callNative<Uint8Array>('zstdCompress', zeros, 3);
      const bomb = new Uint8Array(16 + payload.length);
      bomb.set(objects.ciphertext.bytes.subarray(0, 16));
      bomb[5] = mode === 'zlib' ? 1 : 2;
      new DataView(bomb.buffer).setBigUint64(8, BigInt(bomb.length), true);
      bomb.set(payload, 16);
      expect(() => loader(bomb)).toThrow(DeserializationError);
    }
  });
});
