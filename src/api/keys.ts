import type { CkksContext } from './context';
import { callNative, callNativeAsync, type NativeHandle } from './native';
import { NativeResource } from './resource';

/** The secret s. Its native memory is wiped when disposed or collected. Keep it on the client. */
export class SecretKey extends NativeResource {
  /** @internal */
  constructor(
    readonly context: CkksContext,
    handle: NativeHandle,
  ) {
    super(handle);
  }
  /** 0 for a uniform ternary secret, else the fixed number of nonzero coefficients. */
  get hammingWeight(): number {
    return callNative<{ hammingWeight: number }>('secretKeyInfo', this.handle).hammingWeight;
  }
  save(): Uint8Array {
    return callNative<Uint8Array>('save', this.handle);
  }
  static load(context: CkksContext, bytes: Uint8Array): SecretKey {
    return new SecretKey(context, callNative<NativeHandle>('loadSecretKey', context.handle, bytes));
  }
}

export class PublicKey extends NativeResource {
  /** @internal */
  constructor(
    readonly context: CkksContext,
    handle: NativeHandle,
  ) {
    super(handle);
  }
  save(): Uint8Array {
    return callNative<Uint8Array>('save', this.handle);
  }
  static load(context: CkksContext, bytes: Uint8Array): PublicKey {
    return new PublicKey(context, callNative<NativeHandle>('loadPublicKey', context.handle, bytes));
  }
}

/** How keys are saved. */
export interface KeySaveOptions {
  /**
   * Store each uniform half of the key as its 32-byte seed (about half the bytes); the loader
   * regenerates it. For keys a client uploads. Keys loaded from SEAL's format, or loaded from an
   * unseeded save, have no seed and are refused.
   */
  seeded?: boolean;
}

/** Switches s^2 back to s after a ciphertext-ciphertext product. */
export class RelinKey extends NativeResource {
  /** @internal */
  constructor(
    readonly context: CkksContext,
    handle: NativeHandle,
  ) {
    super(handle);
  }
  save(options: KeySaveOptions = {}): Uint8Array {
    return callNative<Uint8Array>('save', this.handle, options.seeded ?? false);
  }
  static load(context: CkksContext, bytes: Uint8Array): RelinKey {
    return new RelinKey(context, callNative<NativeHandle>('loadRelinKey', context.handle, bytes));
  }
}

/** One key of a GaloisKeys set. */
export interface GaloisKeyInfo {
  /** Its Galois element, or one of the two sparse-secret keys of a bootstrapper with encapsulation. */
  element: number | 'toSparse' | 'fromSparse';
  /** The highest level it serves: a key for lower levels holds fewer primes. */
  level: number;
  /** Bytes in memory (both halves). */
  bytes: number;
  /** Whether it can be saved seeded. */
  seeded: boolean;
}

/**
 * Keys for rotations by chosen steps and (optionally) conjugation. Sets made by `combine` and
 * `split` share the key data of the sets they came from: no copy, and disposing one set frees a
 * key only once no other set holds it.
 */
export class GaloisKeys extends NativeResource {
  /** @internal */
  constructor(
    readonly context: CkksContext,
    handle: NativeHandle,
  ) {
    super(handle);
  }
  /** The Galois elements held, ascending. */
  get elements(): number[] {
    return callNative<number[]>('galoisKeyElements', this.handle);
  }
  /** Every key held, with its level and size. */
  get keys(): GaloisKeyInfo[] {
    return callNative<GaloisKeyInfo[]>('galoisKeyInfo', this.handle);
  }
  /** Bytes of key material in memory. */
  get byteLength(): number {
    return this.keys.reduce((sum, key) => sum + key.bytes, 0);
  }
  /** Whether the set holds the sparse-secret keys a bootstrapper with encapsulation needs. */
  get hasSparseSecretKeys(): boolean {
    const keys = this.keys;
    return keys.some((k) => k.element === 'toSparse') && keys.some((k) => k.element === 'fromSparse');
  }
  /** One set per key, each sharing this set's memory: save and send them one at a time. */
  split(): GaloisKeys[] {
    return callNative<NativeHandle[]>('splitGaloisKeys', this.handle).map((h) => new GaloisKeys(this.context, h));
  }
  /** One set holding the keys of all `parts` (loaded blobs, say), sharing their memory. */
  static combine(context: CkksContext, parts: GaloisKeys[]): GaloisKeys {
    return new GaloisKeys(context, callNative<NativeHandle>('combineGaloisKeys', context.handle, parts.map((p) => p.handle)));
  }
  hasStep(step: number): boolean {
    const element = this.context.galoisElement(step);
    return element === 1 || this.elements.includes(element);
  }
  get hasConjugation(): boolean {
    return this.elements.includes(2 * this.context.ringDegree - 1);
  }
  save(options: KeySaveOptions = {}): Uint8Array {
    return callNative<Uint8Array>('save', this.handle, options.seeded ?? false);
  }
  static load(context: CkksContext, bytes: Uint8Array): GaloisKeys {
    return new GaloisKeys(context, callNative<NativeHandle>('loadGaloisKeys', context.handle, bytes));
  }
  /** A set with no keys yet, to fill with append(). */
  static empty(context: CkksContext): GaloisKeys {
    return new GaloisKeys(context, callNative<NativeHandle>('emptyGaloisKeys', context.handle));
  }
  /**
   * Adds the keys of a saved GaloisKeys (validated like load(); an element already present is
   * refused). Keys can thus arrive one part at a time. Not while an operation uses this set.
   */
  async append(bytes: Uint8Array): Promise<void> {
    await callNativeAsync<void>('appendGaloisKeys', this.handle, bytes);
  }
}

export interface SecretKeyOptions {
  /** Fixed number of nonzero (+-1) coefficients, as bootstrapping needs; omit for uniform ternary. */
  hammingWeight?: number;
}

export interface GaloisKeyOptions {
  /** Also a key for conjugation. */
  conjugate?: boolean;
  /** The highest level the keys serve; the context's top level if omitted. */
  level?: number;
}

/** Makes a secret key and the evaluation keys that belong to it. */
export class KeyGenerator {
  readonly secretKey: SecretKey;

  constructor(
    readonly context: CkksContext,
    options: SecretKeyOptions | SecretKey = {},
  ) {
    this.secretKey =
      options instanceof SecretKey
        ? options
        : new SecretKey(context, callNative<NativeHandle>('generateSecretKey', context.handle, options.hammingWeight ?? 0));
  }

  createPublicKey(): PublicKey {
    return new PublicKey(this.context, callNative<NativeHandle>('generatePublicKey', this.secretKey.handle));
  }
  async createPublicKeyAsync(): Promise<PublicKey> {
    return new PublicKey(this.context, await callNativeAsync<NativeHandle>('generatePublicKey', this.secretKey.handle));
  }
  createRelinKey(): RelinKey {
    return new RelinKey(this.context, callNative<NativeHandle>('generateRelinKey', this.secretKey.handle));
  }
  async createRelinKeyAsync(): Promise<RelinKey> {
    return new RelinKey(this.context, await callNativeAsync<NativeHandle>('generateRelinKey', this.secretKey.handle));
  }
  /**
   * Keys for rotation by each step (negative: right) and, if asked, conjugation. `level`: the highest
   * level the keys serve (default the top); a key for rotations low in the chain holds fewer primes
   * and digits, so it is smaller to store and to upload.
   */
  createGaloisKeys(steps: number[], options: GaloisKeyOptions = {}): GaloisKeys {
    return new GaloisKeys(
      this.context,
      callNative<NativeHandle>('generateGaloisKeys', this.secretKey.handle, steps, options.conjugate ?? false, options.level),
    );
  }
  /** Keys for the given Galois elements (odd, below 2N), e.g. one part of a large key set. */
  async createGaloisKeysForElementsAsync(elements: readonly number[]): Promise<GaloisKeys> {
    return new GaloisKeys(this.context, await callNativeAsync<NativeHandle>('generateGaloisKeyElements', this.secretKey.handle, [...elements]));
  }
  /**
   * The two keys of sparse-secret encapsulation alone (a bootstrapper's `ephemeralHammingWeight`): to a
   * fresh ephemeral secret of that Hamming weight (level 0, modulo q_0 p_0 only) and back. For a client
   * that makes a bootstrapper's keys part by part; `Bootstrapper.createGaloisKeys` includes them.
   */
  async createSparseSecretKeysAsync(hammingWeight: number): Promise<GaloisKeys> {
    return new GaloisKeys(this.context, await callNativeAsync<NativeHandle>('generateSparseSecretKeys', this.secretKey.handle, hammingWeight));
  }
  async createGaloisKeysAsync(steps: number[], options: GaloisKeyOptions = {}): Promise<GaloisKeys> {
    const handle = await callNativeAsync<NativeHandle>(
      'generateGaloisKeys', this.secretKey.handle, steps, options.conjugate ?? false, options.level,
    );
    return new GaloisKeys(this.context, handle);
  }
}
