import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksContext, CkksEncoder } from '../src';
import { SMALL_PARAMS, precisionBits, randomVector } from './helpers';

let context: CkksContext;
let encoder: CkksEncoder;
beforeAll(() => {
  context = CkksContext.create(SMALL_PARAMS);
  encoder = new CkksEncoder(context);
});
afterAll(() => context.dispose());

describe('canonical-embedding encoder', () => {
  it('real vectors round-trip at every level (>= 28 bits at scale 2^40)', () => {
    for (let level = 0; level <= context.maxLevel; level++) {
      const x = randomVector(context.slotCount, 10);
      expect(precisionBits(encoder.decode(encoder.encode(x, { level })), x)).toBeGreaterThanOrEqual(28);
    }
  });

  it('complex vectors round-trip', () => {
    const real = randomVector(context.slotCount), imaginary = randomVector(context.slotCount);
    const out = encoder.decodeComplex(encoder.encodeComplex({ real, imaginary }));
    expect(precisionBits(out.real, real)).toBeGreaterThanOrEqual(30);
    expect(precisionBits(out.imaginary, imaginary)).toBeGreaterThanOrEqual(30);
  });

  it('precision follows the scale', () => {
    const x = randomVector(context.slotCount);
    const low = precisionBits(encoder.decode(encoder.encode(x, { scale: 2 ** 20 })), x);
    const high = precisionBits(encoder.decode(encoder.encode(x, { scale: 2 ** 50 })), x);
    expect(low).toBeGreaterThanOrEqual(8);
    expect(high).toBeGreaterThan(low + 20);
  });

  it('short vectors are padded with zeros', () => {
    const x = [0.25, -0.5, 0.75];
    const out = encoder.decode(encoder.encode(x));
    expect(precisionBits(out.subarray(0, 3), x)).toBeGreaterThanOrEqual(30);
    expect(precisionBits(out.subarray(3), new Float64Array(context.slotCount - 3))).toBeGreaterThanOrEqual(30);
  });

  it('scalars and integers fill every slot', () => {
    const value = Math.random() * 100 - 50;
    const scalar = encoder.decode(encoder.encodeScalar(value));
    expect(precisionBits(scalar, new Float64Array(context.slotCount).fill(value))).toBeGreaterThanOrEqual(25);
    const integer = encoder.encodeInteger(-7);
    expect(integer.scale).toBe(1);
    expect(precisionBits(encoder.decode(integer), new Float64Array(context.slotCount).fill(-7))).toBeGreaterThanOrEqual(40);
  });

  it('values with coefficients above 2^63 encode exactly enough at a large scale', () => {
    // scale 2^60 and values ~2^10: coefficients beyond 64 bits take the wide path.
    const x = randomVector(context.slotCount, 1024);
    const out = encoder.decode(encoder.encode(x, { scale: 2 ** 60 }));
    expect(precisionBits(out, x)).toBeGreaterThanOrEqual(30);
  });
});
