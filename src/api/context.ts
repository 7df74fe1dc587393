import { InvalidArgumentError } from './errors';
import { callNative, callNativeAsync, type NativeHandle } from './native';
import { NativeResource } from './resource';

/**
 * The kernel family: `avx512ifma` runs every kernel on AVX-512 (IFMA for primes below 2^50);
 * `avx2` runs the NTT on AVX2 + FMA (primes below 2^50) and the rest portable; `portable` is plain
 * C++. All give identical bits; a context starts on the fastest this CPU runs.
 */
export type SimdPath = 'portable' | 'avx2' | 'avx512ifma';

/** What a context's memory pool holds (CkksContext.memoryPool). */
export interface MemoryPoolStats {
  /** Held by live ciphertexts, plaintexts and buffers. */
  inUseBytes: number;
  /** Freed blocks kept for reuse. */
  cachedBytes: number;
  /** The most in use and cached at once. */
  highWaterBytes: number;
  /** Blocks taken from the system. */
  allocations: number;
  /** Requests served from the cache. */
  reuses: number;
  /**
   * The pool's limit now. By default it follows the work: the pool keeps freed blocks while it holds
   * no more in all (in use and cached) than the most bytes it has had in use at once plus 16
   * key-switch decompositions of this context (every digit on every data and special limb; at least
   * 256 MiB), so that a repeated computation (bootstrapping, a training step) finds its blocks
   * cached from its second round on. After `memoryPoolCacheLimit` is set, it is that fixed limit on
   * the freed bytes kept.
   */
  cacheLimitBytes: number;
}

export interface ContextOptions {
  /** Ring degree N, a power of two from 4096 (2^12) to 65536 (2^16). Slots: N/2. */
  ringDegree: number;
  /**
   * Bit sizes of the data primes q_0..q_L. With specialBits, the primes are those of SEAL's
   * CoeffModulus.Create(N, [...dataBits, ...specialBits]).
   */
  dataBits?: number[];
  /** Or the data primes themselves. */
  dataPrimes?: bigint[];
  /** Bit sizes of the special primes used only in key switching. */
  specialBits?: number[];
  specialPrimes?: bigint[];
  /** Default scale for encoding; 2^40 if omitted. */
  scale?: number;
  /**
   * Key-switching digits; default ceil(#data / #special primes) digits of equal size. A list gives the
   * number of data primes in each digit, from q_0 up (uneven digits: more small primes per digit, so
   * fewer digits and smaller keys for the same special primes); 'balanced' makes each digit as long as
   * its product stays below P / 2^20 (P the special primes' product). Microsoft SEAL's formats need one
   * special prime and one digit per data prime (the default then): see SealFormat.isCompatible.
   */
  keySwitchDigits?: number | number[] | 'balanced';
  /** Threads for the engine's pool (default 1); change later with `threads`. */
  threads?: number;
  /** Accept parameters below 128-bit security. For fast tests only: never for real data. */
  allowInsecureParametersForTestsOnly?: boolean;
}

interface NativeContextInfo {
  ringDegree: number;
  slotCount: number;
  maxLevel: number;
  dataPrimes: bigint[];
  specialPrimes: bigint[];
  keySwitchDigits: number;
  digitSize: number;
  digitSizes: number[];
  logModulus: number;
  securityLimitBits: number;
  insecure: boolean;
  threads: number;
  simdPath: SimdPath;
  fingerprint: bigint;
}

/** Encryption parameters with everything precomputed from them, and the engine's thread pool. */
export class CkksContext extends NativeResource {
  readonly ringDegree: number;
  readonly slotCount: number;
  /** The level of a fresh ciphertext: data primes - 1. Each rescale lowers the level by one. */
  readonly maxLevel: number;
  readonly dataPrimes: readonly bigint[];
  readonly specialPrimes: readonly bigint[];
  readonly keySwitchDigits: number;
  /** Data primes in each key-switching digit, from q_0 up. */
  readonly digitSizes: readonly number[];
  /** log2 of the whole modulus, data and special primes. */
  readonly logModulus: number;
  /** The HE standard's 128-bit bound on logModulus for this ring degree. */
  readonly securityLimitBits: number;
  readonly insecure: boolean;
  readonly fingerprint: bigint;
  readonly defaultScale: number;

  private constructor(handle: NativeHandle, defaultScale: number) {
    super(handle);
    const info = callNative<NativeContextInfo>('contextInfo', handle);
    this.ringDegree = info.ringDegree;
    this.slotCount = info.slotCount;
    this.maxLevel = info.maxLevel;
    this.dataPrimes = Object.freeze(info.dataPrimes);
    this.specialPrimes = Object.freeze(info.specialPrimes);
    this.keySwitchDigits = info.keySwitchDigits;
    this.digitSizes = Object.freeze(info.digitSizes);
    this.logModulus = info.logModulus;
    this.securityLimitBits = info.securityLimitBits;
    this.insecure = info.insecure;
    this.fingerprint = info.fingerprint;
    this.defaultScale = defaultScale;
  }

  static create(options: ContextOptions): CkksContext {
    const scale = checkScale(options.scale ?? 2 ** 40);
    return new CkksContext(callNative<NativeHandle>('createContext', options), scale);
  }

  /** Loads parameters saved by save(); validated in full before use. */
  static load(bytes: Uint8Array, options: { threads?: number; scale?: number } = {}): CkksContext {
    const handle = callNative<NativeHandle>('loadContext', bytes, options.threads ?? 1);
    return new CkksContext(handle, checkScale(options.scale ?? 2 ** 40));
  }

  save(): Uint8Array {
    return callNative<Uint8Array>('save', this.handle);
  }

  /** @internal A context around a handle the addon made (SEAL parameters, for instance). */
  static fromHandle(handle: NativeHandle, scale: number): CkksContext {
    return new CkksContext(handle, checkScale(scale));
  }

  /** Threads in the engine's pool; operations and batches run on them. */
  get threads(): number {
    return callNative<NativeContextInfo>('contextInfo', this.handle).threads;
  }
  set threads(count: number) {
    callNative('setThreads', this.handle, count);
  }

  get simdPath(): SimdPath {
    return callNative<NativeContextInfo>('contextInfo', this.handle).simdPath;
  }
  /** Forces a kernel family (for tests and benchmarks); refused if the CPU lacks it. */
  set simdPath(path: SimdPath) {
    callNative('setSimdPath', this.handle, path);
  }

  /**
   * The context's memory pool: every ciphertext, plaintext and temporary buffer of the context takes
   * its memory from it, and freed blocks wait there for the next of their size instead of going back
   * to the system (no page faults or zeroing in a steady computation). `highWaterBytes` is the most
   * it has held at once, in use and cached together.
   */
  get memoryPool(): MemoryPoolStats {
    return callNative<MemoryPoolStats>('memoryPool', this.handle);
  }
  /** Returns every cached block of the memory pool to the system (live objects keep theirs). */
  trimMemoryPool(): void {
    callNative('trimMemoryPool', this.handle);
  }
  /**
   * A fixed limit on the bytes of freed blocks the pool keeps, in place of the default that follows
   * the work (`memoryPool.cacheLimitBytes`); blocks beyond it go back to the system.
   */
  set memoryPoolCacheLimit(bytes: number) {
    callNative('setMemoryPoolCacheLimit', this.handle, bytes);
  }

  static cpuSupports(path: SimdPath): boolean {
    return callNative<boolean>('cpuSupports', path);
  }

  /** The Galois element 3^step mod 2N that rotates slots left by `step`. */
  galoisElement(step: number): number {
    return callNative<number>('galoisElement', this.handle, step);
  }

  /** Testing hooks: one prime's forward/inverse NTT on the chosen kernel path. */
  nttForward(limb: number, values: BigUint64Array, path: SimdPath): Promise<BigUint64Array> {
    return callNativeAsync<BigUint64Array>('nttForward', this.handle, limb, values, path);
  }
  nttInverse(limb: number, values: BigUint64Array, path: SimdPath): Promise<BigUint64Array> {
    return callNativeAsync<BigUint64Array>('nttInverse', this.handle, limb, values, path);
  }
}

function checkScale(scale: number): number {
  if (!Number.isFinite(scale) || scale < 1) throw new InvalidArgumentError('scale must be a finite number >= 1', 'ERR_INVALID_ARGUMENT');
  return scale;
}
