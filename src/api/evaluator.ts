import { Ciphertext } from './ciphertext';
import type { CkksContext } from './context';
import type { GaloisKeys, RelinKey } from './keys';
import { callNative, callNativeAsync, type NativeHandle } from './native';
import { handleOf, handlesOf } from './resource';
import type { Plaintext } from './plaintext';

/**
 * Homomorphic operations. Results are new ciphertexts; inputs are never modified, except by
 * addInPlace and subInPlace, which update their first operand. Operands must share
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
    return this.run('add', handleOf(a, 'the first operand'), handleOf(b, 'the second operand'));
  }
  sub(a: Ciphertext, b: Ciphertext): Ciphertext {
    return this.run('sub', handleOf(a, 'the first operand'), handleOf(b, 'the second operand'));
  }
  /**
   * a += b in a's own memory (no new ciphertext; b may be a). The operands are checked as for add,
   * before a is touched. Returns a. The only methods that modify an input.
   */
  addInPlace(a: Ciphertext, b: Ciphertext): Ciphertext {
    callNative<undefined>('addInPlace', handleOf(a, 'the first operand'), handleOf(b, 'the second operand'));
    return a;
  }
  /** a -= b in a's own memory, as addInPlace. Returns a. */
  subInPlace(a: Ciphertext, b: Ciphertext): Ciphertext {
    callNative<undefined>('subInPlace', handleOf(a, 'the first operand'), handleOf(b, 'the second operand'));
    return a;
  }
  negate(a: Ciphertext): Ciphertext {
    return this.run('negate', handleOf(a, 'the first operand'));
  }
  addPlain(a: Ciphertext, b: Plaintext): Ciphertext {
    return this.run('addPlain', handleOf(a, 'the first operand'), handleOf(b, 'the second operand'));
  }
  subPlain(a: Ciphertext, b: Plaintext): Ciphertext {
    return this.run('subPlain', handleOf(a, 'the first operand'), handleOf(b, 'the second operand'));
  }
  /** Adds `value` to every slot (encoded at the ciphertext's scale). */
  addScalar(a: Ciphertext, value: number): Ciphertext {
    return this.run('addScalar', handleOf(a, 'the first operand'), value);
  }
  /** Ciphertext product of size 3; relinearize it (or use multiplyRelinearize). */
  multiply(a: Ciphertext, b: Ciphertext): Ciphertext {
    return this.run('multiply', handleOf(a, 'the first operand'), handleOf(b, 'the second operand'));
  }
  square(a: Ciphertext): Ciphertext {
    return this.run('square', handleOf(a, 'the first operand'));
  }
  multiplyPlain(a: Ciphertext, b: Plaintext): Ciphertext {
    return this.run('multiplyPlain', handleOf(a, 'the first operand'), handleOf(b, 'the second operand'));
  }
  /**
   * Multiplies every slot by `value`, encoded at `scale` (default: the level's last prime, so that a
   * following rescale restores the ciphertext's scale exactly).
   */
  multiplyScalar(a: Ciphertext, value: number, scale?: number): Ciphertext {
    const level = a.level;
    const s = scale ?? Number(this.context.dataPrimes[level]);
    return this.run('multiplyScalar', handleOf(a, 'the first operand'), value, s);
  }
  /** Multiplies by an integer; the scale is unchanged and no level is used. */
  multiplyInteger(a: Ciphertext, value: number): Ciphertext {
    return this.run('multiplyInteger', handleOf(a, 'the first operand'), value);
  }
  relinearize(a: Ciphertext, key: RelinKey): Ciphertext {
    return this.run('relinearize', handleOf(a, 'the first operand'), handleOf(key, 'the relinearization key'));
  }
  multiplyRelinearize(a: Ciphertext, b: Ciphertext, key: RelinKey): Ciphertext {
    return this.run('multiplyRelinearize', handleOf(a, 'the first operand'), handleOf(b, 'the second operand'), handleOf(key, 'the relinearization key'));
  }
  multiplyRelinearizeAsync(a: Ciphertext, b: Ciphertext, key: RelinKey): Promise<Ciphertext> {
    return this.runAsync('multiplyRelinearize', handleOf(a, 'the first operand'), handleOf(b, 'the second operand'), handleOf(key, 'the relinearization key'));
  }
  /** Divides by the level's last prime: level - 1, scale / q_level. */
  rescale(a: Ciphertext): Ciphertext {
    return this.run('rescale', handleOf(a, 'the first operand'));
  }
  dropToLevel(a: Ciphertext, level: number): Ciphertext {
    return this.run('dropToLevel', handleOf(a, 'the first operand'), level);
  }
  /**
   * Rotates slots left by `step` (negative: right). Needs the Galois key for that step, or (as SEAL
   * does) keys for every term of its non-adjacent form, e.g. 4 and -1 for 3, applied one by one.
   */
  rotate(a: Ciphertext, step: number, keys: GaloisKeys): Ciphertext {
    return this.run('rotate', handleOf(a, 'the first operand'), step, handleOf(keys, 'the Galois keys'));
  }
  rotateAsync(a: Ciphertext, step: number, keys: GaloisKeys): Promise<Ciphertext> {
    return this.runAsync('rotate', handleOf(a, 'the first operand'), step, handleOf(keys, 'the Galois keys'));
  }
  /** Complex conjugation of every slot. */
  conjugate(a: Ciphertext, keys: GaloisKeys): Ciphertext {
    return this.run('conjugate', handleOf(a, 'the first operand'), handleOf(keys, 'the Galois keys'));
  }
  /** Many rotations of one ciphertext sharing one key-switching decomposition (hoisting). */
  rotateHoisted(a: Ciphertext, steps: number[], keys: GaloisKeys): Ciphertext[] {
    return callNative<NativeHandle[]>('rotateHoisted', handleOf(a, 'the first operand'), steps, handleOf(keys, 'the Galois keys')).map((h) => this.wrap(h));
  }
  rotateHoistedAsync(a: Ciphertext, steps: number[], keys: GaloisKeys): Promise<Ciphertext[]> {
    return this.runManyAsync('rotateHoisted', handleOf(a, 'the first operand'), steps, handleOf(keys, 'the Galois keys'));
  }

  /** Independent operations spread over the context's threads. */
  multiplyRelinearizeBatchAsync(as: Ciphertext[], bs: Ciphertext[], key: RelinKey): Promise<Ciphertext[]> {
    return this.runManyAsync('multiplyRelinearizeBatch', handlesOf(as, 'as'), handlesOf(bs, 'bs'), handleOf(key, 'the relinearization key'));
  }
  multiplyPlainBatchAsync(as: Ciphertext[], bs: Plaintext[]): Promise<Ciphertext[]> {
    return this.runManyAsync('multiplyPlainBatch', handlesOf(as, 'as'), handlesOf(bs, 'bs'));
  }
  rotateBatchAsync(as: Ciphertext[], step: number, keys: GaloisKeys): Promise<Ciphertext[]> {
    return this.runManyAsync('rotateBatch', handlesOf(as, 'as'), step, handleOf(keys, 'the Galois keys'));
  }
  rescaleBatchAsync(as: Ciphertext[]): Promise<Ciphertext[]> {
    return this.runManyAsync('rescaleBatch', handlesOf(as, 'as'));
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
    const product = this.run('multiplyScalar', handleOf(a, 'the first operand'), 1, correction);
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
