import { DisposedError } from './errors';
import type { NativeHandle } from './native';

/**
 * Base of every object backed by native memory. dispose() (or `using`) frees it at once; otherwise
 * the garbage collector's finalizer frees it later.
 */
export abstract class NativeResource implements Disposable {
  #handle: NativeHandle | undefined;

  protected constructor(handle: NativeHandle) {
    this.#handle = handle;
  }

  /** The native handle; throws DisposedError after dispose(). */
  get handle(): NativeHandle {
    if (this.#handle === undefined || this.#handle.disposed) {
      throw new DisposedError(`${this.constructor.name} has been disposed`, 'ERR_DISPOSED');
    }
    return this.#handle;
  }

  get disposed(): boolean {
    return this.#handle === undefined || this.#handle.disposed;
  }

  dispose(): void {
    this.#handle?.dispose();
    this.#handle = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
