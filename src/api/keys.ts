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

/** Switches s^2 back to s after a ciphertext-ciphertext product. */
export class RelinKey extends NativeResource {
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
  static load(context: CkksContext, bytes: Uint8Array): RelinKey {
    return new RelinKey(context, callNative<NativeHandle>('loadRelinKey', context.handle, bytes));
  }
}

/** Keys for rotations by chosen steps and (optionally) conjugation. */
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
  hasStep(step: number): boolean {
    const element = this.context.galoisElement(step);
    return element === 1 || this.elements.includes(element);
  }
  get hasConjugation(): boolean {
    return this.elements.includes(2 * this.context.ringDegree - 1);
  }
  save(): Uint8Array {
    return callNative<Uint8Array>('save', this.handle);
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
  /** Keys for rotation by each step (negative: right) and, if asked, conjugation. */
  createGaloisKeys(steps: number[], options: { conjugate?: boolean } = {}): GaloisKeys {
    return new GaloisKeys(
      this.context,
      callNative<NativeHandle>('generateGaloisKeys', this.secretKey.handle, steps, options.conjugate ?? false),
    );
  }
  /** Keys for the given Galois elements (odd, below 2N), e.g. one part of a large key set. */
  async createGaloisKeysForElementsAsync(elements: readonly number[]): Promise<GaloisKeys> {
    return new GaloisKeys(this.context, await callNativeAsync<NativeHandle>('generateGaloisKeyElements', this.secretKey.handle, [...elements]));
  }
  async createGaloisKeysAsync(steps: number[], options: { conjugate?: boolean } = {}): Promise<GaloisKeys> {
    const handle = await callNativeAsync<NativeHandle>('generateGaloisKeys', this.secretKey.handle, steps, options.conjugate ?? false);
    return new GaloisKeys(this.context, handle);
  }
}
