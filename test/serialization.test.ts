import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Ciphertext,
  CkksContext,
  CkksEncoder,
  Decryptor,
  DeserializationError,
  Encryptor,
  Evaluator,
  GaloisKeys,
  InsecureParametersError,
  ParameterMismatchError,
  Plaintext,
  PublicKey,
  RelinKey,
  SecretKey,
  load,
} from '../src';
import { SMALL_PARAMS, makeKit, precisionBits, randomVector, rotateLeft, type Kit } from './helpers';

let kit: Kit;
beforeAll(() => {
  kit = makeKit(SMALL_PARAMS, [1, -2]);
});
afterAll(() => kit.context.dispose());

describe('round trips', () => {
  it('parameters reload into an equivalent context', () => {
    const bytes = kit.context.save();
    const copy = CkksContext.load(bytes);
    expect(copy.fingerprint).toBe(kit.context.fingerprint);
    expect(copy.dataPrimes).toEqual(kit.context.dataPrimes);
    expect(copy.specialPrimes).toEqual(kit.context.specialPrimes);
    expect(sameBytes(copy.save(), bytes)).toBe(true);
  });

  it('every object survives save and load, and saving again gives the same bytes', () => {
    const x = randomVector(kit.context.slotCount);
    const ct = kit.encrypt(x);
    const pt = kit.encoder.encode(x);
    const cases: Array<[{ save(): Uint8Array }, (b: Uint8Array) => { save(): Uint8Array }]> = [
      [pt, (b) => Plaintext.load(kit.context, b)],
      [ct, (b) => Ciphertext.load(kit.context, b)],
      [kit.keys.secretKey, (b) => SecretKey.load(kit.context, b)],
      [kit.publicKey, (b) => PublicKey.load(kit.context, b)],
      [kit.relinKey, (b) => RelinKey.load(kit.context, b)],
      [kit.galoisKeys, (b) => GaloisKeys.load(kit.context, b)],
    ];
    for (const [object, loader] of cases) {
      const bytes = object.save();
      expect(sameBytes(loader(bytes).save(), bytes)).toBe(true);
      expect(sameBytes(load(kit.context, bytes).save(), bytes)).toBe(true);
    }
  });

  it('loaded keys and ciphertexts compute correctly in a reloaded context', () => {
    const x = randomVector(kit.context.slotCount), y = randomVector(kit.context.slotCount);
    const context = CkksContext.load(kit.context.save());
    const ct = Ciphertext.load(context, kit.encrypt(x).save());
    const ct2 = Ciphertext.load(context, kit.encrypt(y).save());
    const rk = RelinKey.load(context, kit.relinKey.save());
    const gk = GaloisKeys.load(context, kit.galoisKeys.save());
    const sk = SecretKey.load(context, kit.keys.secretKey.save());
    const encoder = new CkksEncoder(context);
    const decryptor = new Decryptor(context, sk);
    const ev = new Evaluator(context);
    const product = ev.rotate(ev.multiplyRescale(ct, ct2, rk), -2, gk);
    expect(precisionBits(encoder.decode(decryptor.decrypt(product)), rotateLeft(x.map((v, i) => v * y[i]), -2))).toBeGreaterThanOrEqual(19);
  });

  it('seeded secret-key ciphertexts save at half the size and decrypt after reload', () => {
    const x = randomVector(kit.context.slotCount);
    const encryptor = new Encryptor(kit.context, kit.keys.secretKey);
    const seeded = encryptor.encrypt(kit.encoder.encode(x), { seeded: true });
    const full = encryptor.encrypt(kit.encoder.encode(x), { seeded: false });
    const seededBytes = seeded.save(), fullBytes = full.save();
    expect(seededBytes.length).toBeLessThan(fullBytes.length / 2 + 100);
    const reloaded = Ciphertext.load(kit.context, seededBytes);
    expect(reloaded.seeded).toBe(true);
    expect(precisionBits(kit.decrypt(reloaded), x)).toBeGreaterThanOrEqual(22);
    // Evaluation results are ordinary ciphertexts again.
    expect(kit.evaluator.add(reloaded, reloaded).seeded).toBe(false);
  });
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('hostile bytes', () => {
  const loaders: Array<[string, (b: Uint8Array) => unknown, () => Uint8Array]> = [
    ['ciphertext', (b) => Ciphertext.load(kit.context, b), () => kit.encrypt(randomVector(8)).save()],
    ['seeded ciphertext', (b) => Ciphertext.load(kit.context, b), () => new Encryptor(kit.context, kit.keys.secretKey).encrypt(kit.encoder.encode([1])).save()],
    ['plaintext', (b) => Plaintext.load(kit.context, b), () => kit.encoder.encode([1, 2]).save()],
    ['secret key', (b) => SecretKey.load(kit.context, b), () => kit.keys.secretKey.save()],
    ['galois keys', (b) => GaloisKeys.load(kit.context, b), () => kit.galoisKeys.save()],
    ['parameters', (b) => CkksContext.load(b), () => kit.context.save()],
  ];

  it('truncated bytes are rejected with a typed error', () => {
    for (const [, loader, make] of loaders) {
      const bytes = make();
      for (const length of [0, 3, 10, 23, 24, 30, bytes.length - 1, Math.floor(bytes.length / 2)]) {
        expect(() => loader(bytes.subarray(0, length))).toThrow(DeserializationError);
      }
    }
  });

  it('random bit flips never crash: each load either fails with a typed error or round-trips', () => {
    for (const [, loader, make] of loaders) {
      const original = make();
      for (let trial = 0; trial < 40; trial++) {
        const bytes = Uint8Array.from(original);
        // Flip bits in the header half the time, anywhere otherwise.
        const position = trial % 2 === 0 ? Math.floor(Math.random() * Math.min(64, bytes.length)) : Math.floor(Math.random() * bytes.length);
        bytes[position] ^= 1 << Math.floor(Math.random() * 8);
        try {
          const loaded = loader(bytes) as { save?: () => Uint8Array };
          if (loaded && typeof loaded.save === 'function') expect(loaded.save().length).toBe(bytes.length);
        } catch (error) {
          // a flipped prime size can make the stored parameters insecure, which load refuses
          expect(error).toSatisfy((e: unknown) => e instanceof DeserializationError || e instanceof ParameterMismatchError || e instanceof InsecureParametersError);
        }
      }
    }
  });

  it('coefficients out of range, huge sizes, wrong kinds and wrong parameters are refused', () => {
    const ct = kit.encrypt(randomVector(8)).save();
    const view = new DataView(ct.buffer, ct.byteOffset, ct.byteLength);
    // A coefficient set to 2^64 - 1 exceeds every prime.
    const corrupted = Uint8Array.from(ct);
    new DataView(corrupted.buffer).setBigUint64(100 * 8, 0xffffffffffffffffn, true);
    expect(() => Ciphertext.load(kit.context, corrupted)).toThrow(/not reduced modulo its prime/);
    // A level far above the top level.
    const highLevel = Uint8Array.from(ct);
    new DataView(highLevel.buffer).setUint32(24, 0xfffffff0, true);
    expect(() => Ciphertext.load(kit.context, highLevel)).toThrow(DeserializationError);
    // A payload length that claims terabytes.
    const hugeLength = Uint8Array.from(ct);
    new DataView(hugeLength.buffer).setBigUint64(16, 1n << 40n, true);
    expect(() => Ciphertext.load(kit.context, hugeLength)).toThrow(/payload length/);
    // A ciphertext is not a key.
    expect(() => SecretKey.load(kit.context, ct)).toThrow(/not a secret key/);
    // Bytes from another parameter set.
    const otherContext = CkksContext.create({ ...SMALL_PARAMS, dataBits: [45, 40, 40] });
    expect(() => Ciphertext.load(otherContext, ct)).toThrow(ParameterMismatchError);
    expect(view.getUint32(0, true)).toBe(0x4b4d4c43); // "CLMK"
    // Parameters with a composite "prime".
    const params = kit.context.save();
    const badPrime = Uint8Array.from(params);
    new DataView(badPrime.buffer).setBigUint64(24 + 17, 1000000n, true);
    expect(() => CkksContext.load(badPrime)).toThrow(DeserializationError);
  });
});
