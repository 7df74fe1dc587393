import type { CkksContext } from './context';
import { callNative, type NativeHandle } from './native';
import { NativeResource } from './resource';

interface CiphertextInfo {
  level: number;
  scale: number;
  size: number;
  seeded: boolean;
}

/** An encrypted vector: its level, scale and size (2, or 3 before relinearization) travel with it. */
export class Ciphertext extends NativeResource {
  /** @internal */
  constructor(
    readonly context: CkksContext,
    handle: NativeHandle,
  ) {
    super(handle);
  }
  private info(): CiphertextInfo {
    return callNative<CiphertextInfo>('ciphertextInfo', this.handle);
  }
  get level(): number {
    return this.info().level;
  }
  get scale(): number {
    return this.info().scale;
  }
  get size(): number {
    return this.info().size;
  }
  /** Made by secret-key encryption with a stored seed: saves at half the size. */
  get seeded(): boolean {
    return this.info().seeded;
  }
  save(): Uint8Array {
    return callNative<Uint8Array>('save', this.handle);
  }
  static load(context: CkksContext, bytes: Uint8Array): Ciphertext {
    return new Ciphertext(context, callNative<NativeHandle>('loadCiphertext', context.handle, bytes));
  }
}
