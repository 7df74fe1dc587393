import type { CkksContext } from './context';
import { callNative, type NativeHandle } from './native';
import { NativeResource } from './resource';

/** An encoded (not encrypted) polynomial at a level and scale. */
export class Plaintext extends NativeResource {
  /** @internal */
  constructor(
    readonly context: CkksContext,
    handle: NativeHandle,
  ) {
    super(handle);
  }
  get level(): number {
    return callNative<{ level: number }>('plaintextInfo', this.handle).level;
  }
  get scale(): number {
    return callNative<{ scale: number }>('plaintextInfo', this.handle).scale;
  }
  save(): Uint8Array {
    return callNative<Uint8Array>('save', this.handle);
  }
  static load(context: CkksContext, bytes: Uint8Array): Plaintext {
    return new Plaintext(context, callNative<NativeHandle>('loadPlaintext', context.handle, bytes));
  }
}
