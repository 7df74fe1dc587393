import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CkksContext,
  CkksEncoder,
  DisposedError,
  Encryptor,
  InvalidArgumentError,
  LevelMismatchError,
  MissingKeyError,
  OutOfRangeError,
  ParameterMismatchError,
  ScaleMismatchError,
  CipherlmError,
} from '../src';
import { SMALL_PARAMS, makeKit, randomVector, type Kit } from './helpers';

let kit: Kit;
let other: Kit;
beforeAll(() => {
  kit = makeKit(SMALL_PARAMS, [1]);
  other = makeKit(SMALL_PARAMS, [1]);
});
afterAll(() => {
  kit.context.dispose();
  other.context.dispose();
});

describe('typed errors for bad operands', () => {
  it('mismatched levels', () => {
    const a = kit.encrypt(randomVector(10));
    const b = kit.evaluator.dropToLevel(kit.encrypt(randomVector(10)), 1);
    expect(() => kit.evaluator.add(a, b)).toThrow(LevelMismatchError);
    expect(() => kit.evaluator.add(a, b)).toThrow(/different levels \(3 and 1\)/);
    expect(() => kit.evaluator.multiply(a, b)).toThrow(LevelMismatchError);
    expect(() => kit.evaluator.multiplyPlain(a, kit.encoder.encode([1], { level: 2 }))).toThrow(LevelMismatchError);
    expect(() => kit.evaluator.dropToLevel(b, 2)).toThrow(LevelMismatchError);
  });

  it('mismatched scales', () => {
    const a = kit.encrypt(randomVector(10));
    const b = kit.encrypt(randomVector(10), { scale: 2 ** 35 });
    expect(() => kit.evaluator.add(a, b)).toThrow(ScaleMismatchError);
    expect(() => kit.evaluator.addPlain(a, kit.encoder.encode([1], { scale: 2 ** 30 }))).toThrow(ScaleMismatchError);
  });

  it('objects from different contexts', () => {
    const a = kit.encrypt(randomVector(10));
    const b = other.encrypt(randomVector(10));
    expect(() => kit.evaluator.add(a, b)).toThrow(ParameterMismatchError);
    expect(() => kit.decryptor.decrypt(b)).toThrow(ParameterMismatchError);
    expect(() => kit.evaluator.relinearize(kit.evaluator.multiply(a, a), other.relinKey)).toThrow(ParameterMismatchError);
    expect(() => new Encryptor(kit.context, other.publicKey).encrypt(kit.encoder.encode([1]))).toThrow(ParameterMismatchError);
  });

  it('missing Galois key names the step', () => {
    const a = kit.encrypt(randomVector(10));
    expect(() => kit.evaluator.rotate(a, 5, kit.galoisKeys)).toThrow(MissingKeyError);
    expect(() => kit.evaluator.rotate(a, 5, kit.galoisKeys)).toThrow(/rotation by 5/);
    expect(() => kit.evaluator.rotateHoisted(a, [1, 3], kit.galoisKeys)).toThrow(/rotation by 3/);
    const noConjugation = kit.keys.createGaloisKeys([1]);
    expect(() => kit.evaluator.conjugate(a, noConjugation)).toThrow(MissingKeyError);
    expect(kit.galoisKeys.hasStep(1)).toBe(true);
    expect(kit.galoisKeys.hasStep(5)).toBe(false);
  });

  it('levels that do not exist', () => {
    const a = kit.evaluator.dropToLevel(kit.encrypt(randomVector(10)), 0);
    expect(() => kit.evaluator.rescale(a)).toThrow(LevelMismatchError);
    expect(() => kit.encoder.encode([1], { level: 4 })).toThrow(OutOfRangeError);
  });

  it('values that do not fit, NaN, too many values', () => {
    expect(() => kit.encoder.encode([2 ** 150])).toThrow(OutOfRangeError);
    expect(() => kit.encoder.encode([1e6], { level: 0 })).toThrow(/does not fit the modulus at level 0/);
    expect(() => kit.encoder.encode([Number.NaN])).toThrow(OutOfRangeError);
    expect(() => kit.encoder.encode(new Float64Array(kit.context.slotCount + 1))).toThrow(OutOfRangeError);
    expect(() => kit.encoder.encode([1], { scale: 0.5 })).toThrow(OutOfRangeError);
    const a = kit.encrypt(randomVector(10));
    expect(() => kit.evaluator.addScalar(a, Number.POSITIVE_INFINITY)).toThrow(OutOfRangeError);
  });

  it('malformed arguments', () => {
    expect(() => kit.encoder.encode('abc' as unknown as number[])).toThrow(InvalidArgumentError);
    const a = kit.encrypt(randomVector(10));
    expect(() => kit.evaluator.add(a, kit.encoder.encode([1]) as never)).toThrow(InvalidArgumentError);
    // null, undefined and non-objects are wrong types too, not bare TypeErrors.
    expect(() => kit.evaluator.add(a, null as never)).toThrow(InvalidArgumentError);
    expect(() => kit.evaluator.add(a, null as never)).toThrow(/second operand/);
    expect(() => kit.evaluator.add(undefined as never, a)).toThrow(InvalidArgumentError);
    expect(() => kit.evaluator.multiplyPlain(a, 3 as never)).toThrow(InvalidArgumentError);
    expect(() => kit.evaluator.relinearize(kit.evaluator.multiply(a, a), null as never)).toThrow(InvalidArgumentError);
    expect(() => kit.evaluator.rotate(a, 1, undefined as never)).toThrow(InvalidArgumentError);
    expect(() => kit.evaluator.rescaleBatchAsync([a, null as never])).toThrow(InvalidArgumentError);
    expect(() => kit.evaluator.add(a, {} as never)).toThrow(InvalidArgumentError);
    expect(() => kit.evaluator.rotate(a, 1.5, kit.galoisKeys)).toThrow(OutOfRangeError);
    expect(() => kit.evaluator.rotate(kit.evaluator.multiply(a, a), 1, kit.galoisKeys)).toThrow(/relinearized/);
    expect(() => CkksContext.create({ ringDegree: 8192, dataBits: [40], specialBits: [40], threads: 0 })).toThrow(
      InvalidArgumentError,
    );
  });

  it('use after dispose', () => {
    const a = kit.encrypt(randomVector(10));
    a.dispose();
    expect(a.disposed).toBe(true);
    expect(() => kit.evaluator.add(a, a)).toThrow(DisposedError);
    expect(() => a.level).toThrow(DisposedError);
    const ctx = CkksContext.create(SMALL_PARAMS);
    const encoder = new CkksEncoder(ctx);
    ctx.dispose();
    // The encoder keeps the parameters alive on its own.
    expect(encoder.decode(encoder.encode([0.5]))[0]).toBeCloseTo(0.5, 9);
    expect(() => new CkksEncoder(ctx)).toThrow(DisposedError);
  });

  it('every error is a CipherlmError with a code', () => {
    try {
      kit.encoder.encode([Number.NaN]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CipherlmError);
      expect((error as CipherlmError).code).toBe('ERR_OUT_OF_RANGE');
    }
  });

  it('async operations reject with typed errors', async () => {
    const a = kit.encrypt(randomVector(10));
    await expect(kit.evaluator.rotateAsync(a, 9, kit.galoisKeys)).rejects.toThrow(MissingKeyError);
    const b = kit.evaluator.dropToLevel(a, 0);
    await expect(kit.evaluator.multiplyRelinearizeAsync(a, b, kit.relinKey)).rejects.toThrow(LevelMismatchError);
  });
});
