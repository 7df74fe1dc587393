import { Ciphertext } from './ciphertext';
import type { CkksContext } from './context';
import type { GaloisKeys, RelinKey } from './keys';
import { callNative, callNativeAsync, type NativeHandle } from './native';
import type { Plaintext } from './plaintext';

/**
 * Homomorphic operations. Results are new ciphertexts; inputs are never modified. Operands must share
 * a context, a level and (for additions) a scale: anything else is a typed error, never a silent
 * wrong answer. Methods ending in Async run off the JavaScript thread.
 */
export class Evaluator {
  constructor(readonly context: CkksContext) {}

  private wrap(handle: NativeHandle): Ciphertext {
    return new Ciphertext(this.context, handle);
  }
  private run(operation: string, ...args: unknown[]): Ciphertext {
    return this.wrap(callNative<NativeHandle>(operation, ...args));
  }
  private async runAsync(operation: string, ...args: unknown[]): Promise<Ciphertext> {
    return this.wrap(await callNativeAsync<NativeHandle>(operation, ...args));
  }
  private async runManyAsync(operation: string, ...args: unknown[]): Promise<Ciphertext[]> {
    return (await callNativeAsync<NativeHandle[]>(operation, ...args)).map((h) => this.wrap(h));
  }

  add(a: Ciphertext, b: Ciphertext): Ciphertext {
    return this.run('add', a.handle, b.handle);
  }
  sub(a: Ciphertext, b: Ciphertext): Ciphertext {
    return this.run('sub', a.handle, b.handle);
  }
  negate(a: Ciphertext): Ciphertext {
    return this.run('negate', a.handle);
  }
  addPlain(a: Ciphertext, b: Plaintext): Ciphertext {
    return this.run('addPlain', a.handle, b.handle);
  }
  subPlain(a: Ciphertext, b: Plaintext): Ciphertext {
    return this.run('subPlain', a.handle, b.handle);
  }
  /** Adds `value` to every slot (encoded at the ciphertext's scale). */
  addScalar(a: Ciphertext, value: number): Ciphertext {
    return this.run('addScalar', a.handle, value);
  }
  /** Ciphertext product of size 3; relinearize it (or use multiplyRelinearize). */
  multiply(a: Ciphertext, b: Ciphertext): Ciphertext {
    return this.run('multiply', a.handle, b.handle);
  }
  square(a: Ciphertext): Ciphertext {
    return this.run('square', a.handle);
  }
  multiplyPlain(a: Ciphertext, b: Plaintext): Ciphertext {
    return this.run('multiplyPlain', a.handle, b.handle);
  }
  /**
   * Multiplies every slot by `value`, encoded at `scale` (default: the level's last prime, so that a
   * following rescale restores the ciphertext's scale exactly).
   */
  multiplyScalar(a: Ciphertext, value: number, scale?: number): Ciphertext {
    const level = a.level;
    const s = scale ?? Number(this.context.dataPrimes[level]);
    return this.run('multiplyScalar', a.handle, value, s);
  }
  /** Multiplies by an integer; the scale is unchanged and no level is used. */
  multiplyInteger(a: Ciphertext, value: number): Ciphertext {
    return this.run('multiplyInteger', a.handle, value);
  }
  relinearize(a: Ciphertext, key: RelinKey): Ciphertext {
    return this.run('relinearize', a.handle, key.handle);
  }
  multiplyRelinearize(a: Ciphertext, b: Ciphertext, key: RelinKey): Ciphertext {
    return this.run('multiplyRelinearize', a.handle, b.handle, key.handle);
  }
  multiplyRelinearizeAsync(a: Ciphertext, b: Ciphertext, key: RelinKey): Promise<Ciphertext> {
    return this.runAsync('multiplyRelinearize', a.handle, b.handle, key.handle);
  }
  /** Divides by the level's last prime: level - 1, scale / q_level. */
  rescale(a: Ciphertext): Ciphertext {
    return this.run('rescale', a.handle);
  }
  dropToLevel(a: Ciphertext, level: number): Ciphertext {
    return this.run('dropToLevel', a.handle, level);
  }
  /**
   * Rotates slots left by `step` (negative: right). Needs the Galois key for that step, or (as SEAL
   * does) keys for every term of its non-adjacent form, e.g. 4 and -1 for 3, applied one by one.
   */
  rotate(a: Ciphertext, step: number, keys: GaloisKeys): Ciphertext {
    return this.run('rotate', a.handle, step, keys.handle);
  }
  rotateAsync(a: Ciphertext, step: number, keys: GaloisKeys): Promise<Ciphertext> {
    return this.runAsync('rotate', a.handle, step, keys.handle);
  }
  /** Complex conjugation of every slot. */
  conjugate(a: Ciphertext, keys: GaloisKeys): Ciphertext {
    return this.run('conjugate', a.handle, keys.handle);
  }
  /** Many rotations of one ciphertext sharing one key-switching decomposition (hoisting). */
  rotateHoisted(a: Ciphertext, steps: number[], keys: GaloisKeys): Ciphertext[] {
    return callNative<NativeHandle[]>('rotateHoisted', a.handle, steps, keys.handle).map((h) => this.wrap(h));
  }
  rotateHoistedAsync(a: Ciphertext, steps: number[], keys: GaloisKeys): Promise<Ciphertext[]> {
    return this.runManyAsync('rotateHoisted', a.handle, steps, keys.handle);
  }

  /** Independent operations spread over the context's threads. */
  multiplyRelinearizeBatchAsync(as: Ciphertext[], bs: Ciphertext[], key: RelinKey): Promise<Ciphertext[]> {
    return this.runManyAsync('multiplyRelinearizeBatch', as.map((c) => c.handle), bs.map((c) => c.handle), key.handle);
  }
  multiplyPlainBatchAsync(as: Ciphertext[], bs: Plaintext[]): Promise<Ciphertext[]> {
    return this.runManyAsync('multiplyPlainBatch', as.map((c) => c.handle), bs.map((p) => p.handle));
  }
  rotateBatchAsync(as: Ciphertext[], step: number, keys: GaloisKeys): Promise<Ciphertext[]> {
    return this.runManyAsync('rotateBatch', as.map((c) => c.handle), step, keys.handle);
  }
  rescaleBatchAsync(as: Ciphertext[]): Promise<Ciphertext[]> {
    return this.runManyAsync('rescaleBatch', as.map((c) => c.handle));
  }

  /** Drops the higher of two ciphertexts to the other's level. */
  alignLevels(a: Ciphertext, b: Ciphertext): [Ciphertext, Ciphertext] {
    const level = Math.min(a.level, b.level);
    return [a.level === level ? a : this.dropToLevel(a, level), b.level === level ? b : this.dropToLevel(b, level)];
  }

  /**
   * Brings a ciphertext to exactly `scale` at one level lower: multiplies by 1 encoded at
   * scale * q_level / a.scale, then rescales. Costs one level.
   */
  setScale(a: Ciphertext, scale: number): Ciphertext {
    const level = a.level;
    const correction = (scale * Number(this.context.dataPrimes[level])) / a.scale;
    const product = this.run('multiplyScalar', a.handle, 1, correction);
    try {
      return this.rescale(product);
    } finally {
      product.dispose();
    }
  }

  /** multiply, relinearize and rescale in one call. */
  multiplyRescale(a: Ciphertext, b: Ciphertext, key: RelinKey): Ciphertext {
    const product = this.multiplyRelinearize(a, b, key);
    try {
      return this.rescale(product);
    } finally {
      product.dispose();
    }
  }
}
