/**
 * Microsoft SEAL 4.1 interoperability: load and save encryption parameters, plaintexts, ciphertexts
 * and keys in SEAL's own byte formats (the ones node-seal's saveArray/loadArray use), with the
 * compression modes none, zlib and zstd.
 *
 * A context is SEAL-compatible when it has exactly one special prime and one key-switching digit per
 * data prime (SEAL's key-switching mode) and N <= 32768. Others are refused with
 * SealIncompatibleError. Malformed bytes are refused with DeserializationError.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { Ciphertext } from './ciphertext';
import { CkksContext } from './context';
import { DeserializationError, InvalidArgumentError, SealIncompatibleError } from './errors';
import { GaloisKeys, PublicKey, RelinKey, SecretKey } from './keys';
import { callNative, type NativeHandle } from './native';
import { Plaintext } from './plaintext';

export type SealCompression = 'none' | 'zlib' | 'zstd';
export type SealObject = Plaintext | Ciphertext | SecretKey | PublicKey | RelinKey | GaloisKeys;

export interface SealContextOptions {
  /** Threads for the engine's pool (default 1). */
  threads?: number;
  /** Default encoding scale of the context (default 2^40). */
  scale?: number;
  /** Accept parameters above the 128-bit bound (SEAL's sec_level none). For tests only. */
  allowInsecureParametersForTestsOnly?: boolean;
}

const HEADER_BYTES = 16;
const MODES: Record<SealCompression, number> = { none: 0, zlib: 1, zstd: 2 };
const ZLIB_LEVEL = 6; // SEAL's Z_DEFAULT_COMPRESSION
const ZSTD_LEVEL = 3; // SEAL's default zstd level

enum Kind {
  Parameters = 0,
  Plaintext = 1,
  Ciphertext = 2,
  SecretKey = 3,
  PublicKey = 4,
  RelinKeys = 5,
  GaloisKeys = 6,
}

function checkBytes(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('bytes must be a Uint8Array', 'ERR_INVALID_ARGUMENT');
}

function deserialization(message: string): DeserializationError {
  return new DeserializationError('SEAL data: ' + message, 'ERR_DESERIALIZATION');
}

/** The uncompressed form of SEAL bytes (the same bytes when not compressed). */
function decompress(bytes: Uint8Array, maxBytes: () => number): Uint8Array {
  checkBytes(bytes);
  if (bytes.length < HEADER_BYTES) throw deserialization('truncated header (fewer than 16 bytes)');
  const mode = bytes[5];
  if (mode === 0) return bytes; // the native loader checks the header and everything after it
  if (bytes[0] !== 0x5e || bytes[1] !== 0xa1 || bytes[2] !== HEADER_BYTES) throw deserialization('not a SEAL object (bad header)');
  if (bytes[3] !== 4 || bytes[4] !== 1) {
    throw new SealIncompatibleError(`SEAL data: version ${bytes[3]}.${bytes[4]} is not supported (only SEAL 4.1's formats are)`, 'ERR_SEAL_INCOMPATIBLE');
  }
  if (mode > 2) throw deserialization(`unknown compression mode ${mode}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getBigUint64(8, true);
  if (size !== BigInt(bytes.length)) {
    throw deserialization(`the size in the header (${size}) differs from the data length (${bytes.length})`);
  }
  const payload = bytes.subarray(HEADER_BYTES);
  const limit = maxBytes() - HEADER_BYTES;
  let inner: Uint8Array;
  if (mode === 1) {
    try {
      inner = inflateSync(payload, { maxOutputLength: Math.max(1, limit) });
    } catch (error) {
      throw deserialization(`corrupt or oversized zlib payload (${(error as Error).message})`);
    }
  } else {
    inner = callNative<Uint8Array>('zstdDecompress', payload, limit);
  }
  if (inner.length > limit) throw deserialization('the compressed payload decompresses to more than such an object can hold');
  const out = new Uint8Array(HEADER_BYTES + inner.length);
  out.set(bytes.subarray(0, HEADER_BYTES));
  out[5] = 0;
  new DataView(out.buffer).setBigUint64(8, BigInt(out.length), true);
  out.set(inner, HEADER_BYTES);
  return out;
}

function compress(raw: Uint8Array, compression: SealCompression): Uint8Array {
  if (!(compression in MODES)) {
    throw new InvalidArgumentError("compression must be 'none', 'zlib' or 'zstd'", 'ERR_INVALID_ARGUMENT');
  }
  if (compression === 'none') return raw;
  const payload = raw.subarray(HEADER_BYTES);
  const packed =
    compression === 'zlib'
      ? new Uint8Array(deflateSync(payload, { level: ZLIB_LEVEL }))
      : callNative<Uint8Array>('zstdCompress', payload, ZSTD_LEVEL);
  const out = new Uint8Array(HEADER_BYTES + packed.length);
  out.set(raw.subarray(0, HEADER_BYTES));
  out[5] = MODES[compression];
  new DataView(out.buffer).setBigUint64(8, BigInt(out.length), true);
  out.set(packed, HEADER_BYTES);
  return out;
}

function checkContext(context: unknown): asserts context is CkksContext {
  if (!(context instanceof CkksContext)) throw new InvalidArgumentError('context must be a CkksContext', 'ERR_INVALID_ARGUMENT');
}

function load(context: CkksContext, bytes: Uint8Array, kind: Kind, operation: string): NativeHandle {
  checkContext(context);
  SealFormat.requireCompatible(context);
  const plain = decompress(bytes, () => callNative<number>('sealMaxBytes', context.handle, kind));
  try {
    return callNative<NativeHandle>(operation, context.handle, plain);
  } finally {
    // A decompressed copy of a secret key is ours to wipe (the caller's bytes are left alone).
    if (kind === Kind.SecretKey && plain !== bytes) plain.fill(0);
  }
}

/** Reads and writes Microsoft SEAL 4.1's formats. */
export class SealFormat {
  private constructor() {}

  /** Whether this build can read and write zstd-compressed SEAL data (zlib and none always work). */
  static get zstdAvailable(): boolean {
    return callNative<boolean>('zstdAvailable');
  }

  /** Why a context cannot be used with SEAL, or null when it can. */
  static incompatibility(context: CkksContext): string | null {
    checkContext(context);
    const issue = callNative<string>('sealCompatibility', context.handle);
    return issue === '' ? null : issue;
  }

  static isCompatible(context: CkksContext): boolean {
    return SealFormat.incompatibility(context) === null;
  }

  /** Throws SealIncompatibleError naming the reason when the context is not SEAL-compatible. */
  static requireCompatible(context: CkksContext): void {
    const issue = SealFormat.incompatibility(context);
    if (issue !== null) throw new SealIncompatibleError('not SEAL-compatible: ' + issue, 'ERR_SEAL_INCOMPATIBLE');
  }

  /**
   * SEAL's parms_id (four 64-bit words) of a level (0..maxLevel, the ciphertext levels) or of the
   * key level ('key': all primes, the special one included).
   */
  static parmsId(context: CkksContext, level: number | 'key'): bigint[] {
    checkContext(context);
    const primes = level === 'key' ? context.dataPrimes.length + context.specialPrimes.length : level + 1;
    if (level !== 'key' && !(Number.isInteger(level) && level >= 0 && level <= context.maxLevel)) {
      throw new InvalidArgumentError(`level must be 'key' or an integer in [0, ${context.maxLevel}]`, 'ERR_INVALID_ARGUMENT');
    }
    return callNative<bigint[]>('sealParmsId', context.handle, primes);
  }

  /**
   * SEAL bytes of a context's encryption parameters, or of a plaintext, ciphertext or key. Galois
   * keys are written in SEAL's layout (one slot per odd Galois element).
   */
  static save(object: CkksContext | SealObject, compression: SealCompression = 'none'): Uint8Array {
    const saveable = [CkksContext, Plaintext, Ciphertext, SecretKey, PublicKey, RelinKey, GaloisKeys];
    if (!saveable.some((type) => object instanceof type)) {
      throw new InvalidArgumentError('only contexts, plaintexts, ciphertexts and keys can be saved in SEAL formats', 'ERR_INVALID_ARGUMENT');
    }
    if (!(object instanceof CkksContext)) SealFormat.requireCompatible(object.context);
    return compress(callNative<Uint8Array>('sealSave', object.handle), compression);
  }

  /** A context from SEAL EncryptionParameters bytes: the last prime becomes the special prime. */
  static loadContext(bytes: Uint8Array, options: SealContextOptions = {}): CkksContext {
    const plain = decompress(bytes, () => callNative<number>('sealMaxBytes', null, Kind.Parameters));
    const handle = callNative<NativeHandle>(
      'sealLoadContext',
      plain,
      options.threads ?? 1,
      options.allowInsecureParametersForTestsOnly ?? false,
    );
    return CkksContext.fromHandle(handle, options.scale ?? 2 ** 40);
  }

  static loadPlaintext(context: CkksContext, bytes: Uint8Array): Plaintext {
    return new Plaintext(context, load(context, bytes, Kind.Plaintext, 'sealLoadPlaintext'));
  }

  /** A ciphertext; seeded ones (SEAL's symmetric-encryption output) are expanded. */
  static loadCiphertext(context: CkksContext, bytes: Uint8Array): Ciphertext {
    return new Ciphertext(context, load(context, bytes, Kind.Ciphertext, 'sealLoadCiphertext'));
  }

  static loadSecretKey(context: CkksContext, bytes: Uint8Array): SecretKey {
    return new SecretKey(context, load(context, bytes, Kind.SecretKey, 'sealLoadSecretKey'));
  }

  static loadPublicKey(context: CkksContext, bytes: Uint8Array): PublicKey {
    return new PublicKey(context, load(context, bytes, Kind.PublicKey, 'sealLoadPublicKey'));
  }

  /** SEAL RelinKeys (the key for s^2) as a RelinKey. */
  static loadRelinKeys(context: CkksContext, bytes: Uint8Array): RelinKey {
    return new RelinKey(context, load(context, bytes, Kind.RelinKeys, 'sealLoadRelinKey'));
  }

  static loadGaloisKeys(context: CkksContext, bytes: Uint8Array): GaloisKeys {
    return new GaloisKeys(context, load(context, bytes, Kind.GaloisKeys, 'sealLoadGaloisKeys'));
  }
}
