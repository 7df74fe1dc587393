import { describe, expect, it } from 'vitest';
import { CkksContext, CkksEncoder, Encryptor, Evaluator, KeyGenerator } from '../src';

// N = 4096 inside the 128-bit bound (109 bits): the loop is about allocation, not arithmetic.
describe('native memory', () => {
  it('3,000 encrypt / multiply / dispose cycles keep resident memory flat', () => {
    const context = CkksContext.create({ ringDegree: 4096, dataBits: [36, 36], specialBits: [37] });
    const encoder = new CkksEncoder(context);
    const keys = new KeyGenerator(context);
    const encryptor = new Encryptor(context, keys.createPublicKey());
    const relinKey = keys.createRelinKey();
    const evaluator = new Evaluator(context);
    const plaintext = encoder.encode([0.5, 0.25], { scale: 2 ** 20 });
    const cycle = () => {
      const a = encryptor.encrypt(plaintext);
      const b = evaluator.multiplyRelinearize(a, a, relinKey);
      a.dispose();
      b.dispose();
    };
    for (let i = 0; i < 300; i++) cycle();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 3_000; i++) cycle();
    const growth = process.memoryUsage().rss - before;
    // One ciphertext here is 128 KiB: leaking even one per cycle would grow by 375 MiB
    // (3,000 cycles keep the portable build's run short on a loaded machine).
    expect(growth).toBeLessThan(16 * 1024 * 1024);
  });

  it('the memory pool reuses freed blocks, returns to its baseline when objects are disposed, and trims to nothing', () => {
    const context = CkksContext.create({ ringDegree: 4096, dataBits: [36, 36], specialBits: [37] });
    const encoder = new CkksEncoder(context);
    const keys = new KeyGenerator(context);
    const encryptor = new Encryptor(context, keys.secretKey);
    const evaluator = new Evaluator(context);
    const plaintext = encoder.encode([0.5, 0.25], { scale: 2 ** 20 });
    const a = encryptor.encrypt(plaintext);
    const ciphertextBytes = 2 * 2 * 4096 * 8;
    const baseline = context.memoryPool.inUseBytes;
    const sums = Array.from({ length: 10 }, () => evaluator.add(a, a));
    expect(context.memoryPool.inUseBytes - baseline).toBe(10 * ciphertextBytes);
    sums.forEach((s) => s.dispose());
    const settled = context.memoryPool;
    expect(settled.inUseBytes).toBe(baseline);
    expect(settled.cachedBytes).toBeGreaterThanOrEqual(10 * ciphertextBytes);
    // the next results take the freed blocks: no allocation from the system
    for (let i = 0; i < 20; i++) evaluator.add(a, a).dispose();
    const reused = context.memoryPool;
    expect(reused.allocations).toBe(settled.allocations);
    expect(reused.reuses - settled.reuses).toBe(20);
    expect(reused.highWaterBytes).toBeGreaterThanOrEqual(baseline + 10 * ciphertextBytes);
    context.trimMemoryPool();
    expect(context.memoryPool.cachedBytes).toBe(0);
    expect(context.memoryPool.inUseBytes).toBe(baseline);
    // with no cache, freed blocks go straight back
    context.memoryPoolCacheLimit = 0;
    evaluator.add(a, a).dispose();
    expect(context.memoryPool.cachedBytes).toBe(0);
    expect(() => (context.memoryPoolCacheLimit = -1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(context.memoryPool.cacheLimitBytes).toBe(0);
  });

  it('the default cache is the peak in use plus 16 key-switch decompositions, at least 256 MiB', () => {
    // N = 32768 with 19 one-prime digits (bench:ops' parameters): a decomposition is 19 digits on
    // 20 limbs, 95 MiB, so the headroom is 1.5 GiB; at N = 4096 the 256 MiB floor holds. Nothing is
    // in use yet, so the limit is the headroom alone.
    const large = CkksContext.create({ ringDegree: 32768, dataBits: [50, ...Array(18).fill(40)], specialBits: [50] });
    expect(large.memoryPool.cacheLimitBytes).toBe(16 * 19 * 20 * 32768 * 8);
    // a long-lived object raises the limit by its own size, not by a multiple of it
    const held = new Encryptor(large, new KeyGenerator(large).secretKey).encrypt(new CkksEncoder(large).encode([1]));
    const pool = large.memoryPool;
    expect(pool.inUseBytes).toBeGreaterThan(0);
    expect(pool.cacheLimitBytes).toBeGreaterThanOrEqual(16 * 19 * 20 * 32768 * 8 + pool.inUseBytes);
    expect(pool.cacheLimitBytes).toBeLessThanOrEqual(16 * 19 * 20 * 32768 * 8 + pool.highWaterBytes);
    held.dispose();
    large.dispose();
    const small = CkksContext.create({ ringDegree: 4096, dataBits: [36, 36], specialBits: [37] });
    expect(small.memoryPool.cacheLimitBytes).toBe(256 * 2 ** 20);
    small.dispose();
  });

  it('hoisted rotations in a loop take every block from the cache after the first round', () => {
    const context = CkksContext.create({ ringDegree: 4096, dataBits: [36, 36], specialBits: [37] });
    const keys = new KeyGenerator(context);
    const steps = [1, 2, 3, 4, 5, 6, 7, 8];
    const galoisKeys = keys.createGaloisKeys(steps);
    const encryptor = new Encryptor(context, keys.secretKey);
    const evaluator = new Evaluator(context);
    const a = encryptor.encrypt(new CkksEncoder(context).encode([0.5, 0.25], { scale: 2 ** 20 }));
    const round = () => [...steps.map((step) => evaluator.rotate(a, step, galoisKeys)), ...evaluator.rotateHoisted(a, steps, galoisKeys)].forEach((c) => c.dispose());
    round();
    const warm = context.memoryPool.allocations;
    for (let i = 0; i < 3; i++) round();
    expect(context.memoryPool.allocations).toBe(warm);
  });
});
