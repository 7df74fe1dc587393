import { DisposedError, InvalidArgumentError } from './errors';
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

/**
 * The handle of an operand, or InvalidArgumentError naming it when it is null or undefined (a bare
 * property access would throw a TypeError). Objects of the wrong type are refused by the addon.
 */
export function handleOf(value: NativeResource | null | undefined, what: string): NativeHandle {
  if (value === null || value === undefined) {
    throw new InvalidArgumentError(`${what} must be a library object, not ${String(value)}`, 'ERR_INVALID_ARGUMENT');
  }
  if (typeof value !== 'object') {
    throw new InvalidArgumentError(`${what} must be a library object, not a ${typeof value}`, 'ERR_INVALID_ARGUMENT');
  }
  return value.handle;
}

/** The handles of a list of operands (InvalidArgumentError for a list that is not an array, or a null entry). */
export function handlesOf(values: readonly (NativeResource | null | undefined)[] | null | undefined, what: string): NativeHandle[] {
  if (!Array.isArray(values)) throw new InvalidArgumentError(`${what} must be an array`, 'ERR_INVALID_ARGUMENT');
  return values.map((value, i) => handleOf(value, `${what}[${i}]`));
}
