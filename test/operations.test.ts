import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encryptor } from '../src';
import { makeKit, precisionBits, randomVector, rotateLeft, type Kit } from './helpers';

// Error bounds at scale 2^40, N = 8192 (4096 slots), inputs in [-1, 1]: a fresh ciphertext carries
// about 2^-23 absolute error; every bound below leaves a few bits of margin.
const FRESH_BITS = 20;
const PRODUCT_BITS = 20;

let kit: Kit;
let slots: number;
beforeAll(() => {
  kit = makeKit();
  slots = kit.context.slotCount;
});
afterAll(() => kit.context.dispose());

describe('encryption', () => {
  it('public-key encryption decrypts to the input', () => {
    const x = randomVector(slots);
    const ct = kit.encrypt(x);
    expect(ct.level).toBe(kit.context.maxLevel);
    expect(precisionBits(kit.decrypt(ct), x)).toBeGreaterThanOrEqual(FRESH_BITS);
  });

  it('secret-key encryption, seeded or not, decrypts to the input', () => {
    const x = randomVector(slots);
    for (const seeded of [true, false]) {
      const ct = new Encryptor(kit.context, kit.keys.secretKey).encrypt(kit.encoder.encode(x), { seeded });
      expect(ct.seeded).toBe(seeded);
      expect(precisionBits(kit.decrypt(ct), x)).toBeGreaterThanOrEqual(FRESH_BITS + 2);
    }
  });

  it('encrypts at a lower level and a chosen scale', () => {
    const x = randomVector(slots, 100);
    const ct = kit.encrypt(x, { level: 1, scale: 2 ** 30 });
    expect(ct.level).toBe(1);
    expect(ct.scale).toBe(2 ** 30);
    expect(precisionBits(kit.decrypt(ct), x)).toBeGreaterThanOrEqual(10);
  });
});

describe('additive operations', () => {
  it('add, sub and negate match float64', () => {
    const x = randomVector(slots), y = randomVector(slots);
    const a = kit.encrypt(x), b = kit.encrypt(y);
    const ev = kit.evaluator;
    expect(precisionBits(kit.decrypt(ev.add(a, b)), x.map((v, i) => v + y[i]))).toBeGreaterThanOrEqual(FRESH_BITS - 1);
    expect(precisionBits(kit.decrypt(ev.sub(a, b)), x.map((v, i) => v - y[i]))).toBeGreaterThanOrEqual(FRESH_BITS - 1);
    expect(precisionBits(kit.decrypt(ev.negate(a)), x.map((v) => -v))).toBeGreaterThanOrEqual(FRESH_BITS);
  });

  it('addInPlace and subInPlace update their first operand exactly as add and sub would', () => {
    const x = randomVector(slots), y = randomVector(slots);
    const a = kit.encrypt(x), b = kit.encrypt(y);
    const ev = kit.evaluator;
    const sum = Buffer.from(ev.add(a, b).save()), difference = Buffer.from(ev.sub(ev.add(a, b), b).save());
    expect(ev.addInPlace(a, b)).toBe(a);
    expect(Buffer.from(a.save()).equals(sum)).toBe(true);
    ev.subInPlace(a, b);
    expect(Buffer.from(a.save()).equals(difference)).toBe(true);
    expect(precisionBits(kit.decrypt(a), x)).toBeGreaterThanOrEqual(FRESH_BITS - 1);
    // b may be a itself: a + a
    ev.addInPlace(a, a);
    expect(precisionBits(kit.decrypt(a), x.map((v) => 2 * v))).toBeGreaterThanOrEqual(FRESH_BITS - 1);
    // a size-3 operand grows a; a refused operand leaves a as it was
    const product = ev.multiply(kit.encrypt(x), kit.encrypt(y));
    const plainProduct = ev.multiplyPlain(kit.encrypt(x), kit.encoder.encode(y));
    ev.addInPlace(plainProduct, product);
    expect(plainProduct.size).toBe(3);
    const before = Buffer.from(a.save());
    expect(() => ev.addInPlace(a, product)).toThrow(/scales/);
    expect(() => ev.subInPlace(a, null as never)).toThrow(/second operand/);
    expect(Buffer.from(a.save()).equals(before)).toBe(true);
  });

  it('addPlain, subPlain and addScalar match float64', () => {
    const x = randomVector(slots), y = randomVector(slots);
    const a = kit.encrypt(x);
    const p = kit.encoder.encode(y);
    const ev = kit.evaluator;
    expect(precisionBits(kit.decrypt(ev.addPlain(a, p)), x.map((v, i) => v + y[i]))).toBeGreaterThanOrEqual(FRESH_BITS);
    expect(precisionBits(kit.decrypt(ev.subPlain(a, p)), x.map((v, i) => v - y[i]))).toBeGreaterThanOrEqual(FRESH_BITS);
    const c = Math.random() * 10 - 5;
    expect(precisionBits(kit.decrypt(ev.addScalar(a, c)), x.map((v) => v + c))).toBeGreaterThanOrEqual(FRESH_BITS);
  });
});

describe('multiplicative operations', () => {
  it('multiply + relinearize + rescale matches float64', () => {
    const x = randomVector(slots), y = randomVector(slots);
    const a = kit.encrypt(x), b = kit.encrypt(y);
    const ev = kit.evaluator;
    const product = ev.multiply(a, b);
    expect(product.size).toBe(3);
    const relinearized = ev.relinearize(product, kit.relinKey);
    expect(relinearized.size).toBe(2);
    const rescaled = ev.rescale(relinearized);
    expect(rescaled.level).toBe(kit.context.maxLevel - 1);
    expect(rescaled.scale).toBeCloseTo((2 ** 80) / Number(kit.context.dataPrimes[kit.context.maxLevel]), -10);
    expect(precisionBits(kit.decrypt(rescaled), x.map((v, i) => v * y[i]))).toBeGreaterThanOrEqual(PRODUCT_BITS);
    // A size-3 ciphertext decrypts correctly too; its rescale rounding meets s^2, so a little more noise.
    const direct = ev.rescale(product);
    expect(precisionBits(kit.decrypt(direct), x.map((v, i) => v * y[i]))).toBeGreaterThanOrEqual(PRODUCT_BITS - 2);
  });

  it('square matches float64', () => {
    const x = randomVector(slots);
    const ev = kit.evaluator;
    const sq = ev.rescale(ev.relinearize(ev.square(kit.encrypt(x)), kit.relinKey));
    expect(precisionBits(kit.decrypt(sq), x.map((v) => v * v))).toBeGreaterThanOrEqual(PRODUCT_BITS);
  });

  it('a product of depth 3 keeps at least 20 bits at scale 2^40', () => {
    const xs = [randomVector(slots), randomVector(slots), randomVector(slots), randomVector(slots)];
    const ev = kit.evaluator;
    let acc = kit.encrypt(xs[0]);
    const expected = Float64Array.from(xs[0]);
    for (let d = 1; d <= 3; d++) {
      // Products need equal levels, not equal scales: the scale of a product is the product of scales.
      const factor = ev.dropToLevel(kit.encrypt(xs[d]), acc.level);
      acc = ev.multiplyRescale(acc, factor, kit.relinKey);
      for (let i = 0; i < slots; i++) expected[i] *= xs[d][i];
    }
    expect(acc.level).toBe(0);
    expect(precisionBits(kit.decrypt(acc), expected)).toBeGreaterThanOrEqual(20);
  });

  it('multiplyPlain, multiplyScalar and multiplyInteger match float64', () => {
    const x = randomVector(slots), y = randomVector(slots);
    const a = kit.encrypt(x);
    const ev = kit.evaluator;
    const p = kit.encoder.encode(y);
    expect(precisionBits(kit.decrypt(ev.rescale(ev.multiplyPlain(a, p))), x.map((v, i) => v * y[i]))).toBeGreaterThanOrEqual(
      PRODUCT_BITS,
    );
    const c = Math.random() * 4 - 2;
    const scaled = ev.rescale(ev.multiplyScalar(a, c));
    // The default scalar scale is the level's last prime, so rescaling restores the scale exactly.
    expect(scaled.scale).toBe(a.scale);
    expect(precisionBits(kit.decrypt(scaled), x.map((v) => v * c))).toBeGreaterThanOrEqual(PRODUCT_BITS);
    const k = Math.floor(Math.random() * 200) - 100;
    const times = ev.multiplyInteger(a, k);
    expect(times.level).toBe(a.level);
    expect(precisionBits(kit.decrypt(times), x.map((v) => v * k))).toBeGreaterThanOrEqual(FRESH_BITS - 8);
  });
});

describe('levels and scales', () => {
  it('dropToLevel keeps the values and alignLevels matches levels', () => {
    const x = randomVector(slots), y = randomVector(slots);
    const a = kit.encrypt(x);
    const b = kit.evaluator.dropToLevel(kit.encrypt(y), 1);
    expect(b.level).toBe(1);
    expect(precisionBits(kit.decrypt(b), y)).toBeGreaterThanOrEqual(FRESH_BITS);
    const [a2, b2] = kit.evaluator.alignLevels(a, b);
    expect(a2.level).toBe(1);
    expect(b2.level).toBe(1);
    expect(precisionBits(kit.decrypt(kit.evaluator.add(a2, b2)), x.map((v, i) => v + y[i]))).toBeGreaterThanOrEqual(
      FRESH_BITS - 1,
    );
  });

  it('setScale brings a ciphertext to an exact scale one level lower', () => {
    const x = randomVector(slots);
    const a = kit.encrypt(x);
    const target = 2 ** 39.5;
    const b = kit.evaluator.setScale(a, target);
    expect(b.level).toBe(a.level - 1);
    expect(b.scale).toBeCloseTo(target, -2);
    expect(precisionBits(kit.decrypt(b), x)).toBeGreaterThanOrEqual(FRESH_BITS - 1);
  });
});

describe('rotations', () => {
  it('rotates by positive and negative steps', () => {
    const x = randomVector(slots);
    const a = kit.encrypt(x);
    for (const step of [1, 2, 3, 7, -1, -5, 100, 2047]) {
      expect(precisionBits(kit.decrypt(kit.evaluator.rotate(a, step, kit.galoisKeys)), rotateLeft(x, step))).toBeGreaterThanOrEqual(
        FRESH_BITS - 1,
      );
    }
    // Rotation by 0 or by the slot count is the identity and needs no key.
    expect(precisionBits(kit.decrypt(kit.evaluator.rotate(a, slots, kit.galoisKeys)), x)).toBeGreaterThanOrEqual(FRESH_BITS);
  });

  it('conjugates complex slots', () => {
    const re = randomVector(slots), im = randomVector(slots);
    const a = kit.encryptor.encrypt(kit.encoder.encodeComplex({ real: re, imaginary: im }));
    const conj = kit.evaluator.conjugate(a, kit.galoisKeys);
    const out = kit.encoder.decodeComplex(kit.decryptor.decrypt(conj));
    expect(precisionBits(out.real, re)).toBeGreaterThanOrEqual(FRESH_BITS - 1);
    expect(precisionBits(out.imaginary, im.map((v) => -v))).toBeGreaterThanOrEqual(FRESH_BITS - 1);
  });

  it('hoisted rotations equal single rotations', () => {
    const x = randomVector(slots);
    const a = kit.encrypt(x);
    // more steps than one group of keys applied together (4), and step 0 among them
    const steps = [1, -1, 7, 0, 100, 2, 3, -5, 2047];
    const hoisted = kit.evaluator.rotateHoisted(a, steps, kit.galoisKeys);
    expect(hoisted).toHaveLength(steps.length);
    steps.forEach((step, k) => {
      const single = kit.decrypt(kit.evaluator.rotate(a, step, kit.galoisKeys));
      const fromHoisted = kit.decrypt(hoisted[k]);
      expect(precisionBits(fromHoisted, rotateLeft(x, step))).toBeGreaterThanOrEqual(FRESH_BITS - 1);
      // Same value up to the fresh key-switching noise of each.
      expect(precisionBits(fromHoisted, single)).toBeGreaterThanOrEqual(FRESH_BITS - 2);
    });
  });

  it('rotates a ciphertext that was multiplied and rescaled (lower level)', () => {
    const x = randomVector(slots), y = randomVector(slots);
    const ev = kit.evaluator;
    const p = ev.multiplyRescale(kit.encrypt(x), kit.encrypt(y), kit.relinKey);
    const r = ev.rotate(p, 3, kit.galoisKeys);
    expect(precisionBits(kit.decrypt(r), rotateLeft(x.map((v, i) => v * y[i]), 3))).toBeGreaterThanOrEqual(PRODUCT_BITS - 1);
  });
});

describe('asynchronous and batched work', () => {
  it('async variants resolve to the same results', async () => {
    const x = randomVector(slots), y = randomVector(slots);
    const a = await kit.encryptor.encryptAsync(await kit.encoder.encodeAsync(x));
    const b = kit.encrypt(y);
    const ev = kit.evaluator;
    const product = ev.rescale(await ev.multiplyRelinearizeAsync(a, b, kit.relinKey));
    expect(precisionBits(kit.decrypt(product), x.map((v, i) => v * y[i]))).toBeGreaterThanOrEqual(PRODUCT_BITS);
    const rotated = await ev.rotateAsync(a, -1, kit.galoisKeys);
    expect(precisionBits(kit.decrypt(rotated), rotateLeft(x, -1))).toBeGreaterThanOrEqual(FRESH_BITS - 1);
    const many = await ev.rotateHoistedAsync(a, [1, 2], kit.galoisKeys);
    expect(precisionBits(kit.decrypt(many[1]), rotateLeft(x, 2))).toBeGreaterThanOrEqual(FRESH_BITS - 1);
    const plain = await kit.decryptor.decryptAsync(b);
    expect(precisionBits(await kit.encoder.decodeAsync(plain), y)).toBeGreaterThanOrEqual(FRESH_BITS);
  });

  it('batches on two threads give the same values as one by one', async () => {
    kit.context.threads = 2;
    try {
      const xs = [0, 1, 2, 3].map(() => randomVector(slots));
      const ys = [0, 1, 2, 3].map(() => randomVector(slots));
      const as = xs.map((x) => kit.encrypt(x)), bs = ys.map((y) => kit.encrypt(y));
      const ev = kit.evaluator;
      const products = await ev.rescaleBatchAsync(await ev.multiplyRelinearizeBatchAsync(as, bs, kit.relinKey));
      products.forEach((p, k) => {
        expect(precisionBits(kit.decrypt(p), xs[k].map((v, i) => v * ys[k][i]))).toBeGreaterThanOrEqual(PRODUCT_BITS);
      });
      const rotated = await ev.rotateBatchAsync(as, 2, kit.galoisKeys);
      rotated.forEach((r, k) => expect(precisionBits(kit.decrypt(r), rotateLeft(xs[k], 2))).toBeGreaterThanOrEqual(FRESH_BITS - 1));
      const plains = ys.map((y) => kit.encoder.encode(y));
      const scaled = await ev.multiplyPlainBatchAsync(as, plains);
      scaled.forEach((s, k) => {
        expect(precisionBits(kit.decrypt(ev.rescale(s)), xs[k].map((v, i) => v * ys[k][i]))).toBeGreaterThanOrEqual(PRODUCT_BITS);
      });
    } finally {
      kit.context.threads = 1;
    }
  });
});
