import { describe, expect, it } from 'vitest';
import { CkksContext } from '../src';

const context = CkksContext.create({
  ringDegree: 64,
  dataBits: [30, 45, 50],
  specialBits: [58],
  allowInsecureParametersForTestsOnly: true,
});
const n = context.ringDegree;
const primes = [...context.dataPrimes, ...context.specialPrimes];

function randomResidues(q: bigint): BigUint64Array {
  const out = new BigUint64Array(n);
  for (let i = 0; i < n; i++) {
    const r = (BigInt(Math.floor(Math.random() * 2 ** 32)) << 32n) | BigInt(Math.floor(Math.random() * 2 ** 32));
    out[i] = r % q;
  }
  return out;
}

// Schoolbook product in Z_q[X]/(X^N + 1), in BigInt.
function negacyclicProduct(a: BigUint64Array, b: BigUint64Array, q: bigint): BigUint64Array {
  const out = new Array<bigint>(n).fill(0n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const k = i + j, p = a[i] * b[j];
      if (k < n) out[k] = (out[k] + p) % q;
      else out[k - n] = (out[k - n] - p % q + q) % q;
    }
  }
  return BigUint64Array.from(out);
}

const paths = (['portable', 'avx2', 'avx512ifma'] as const).filter((p) => CkksContext.cpuSupports(p));
const simdPaths = paths.filter((p) => p !== 'portable');

describe('negacyclic NTT', () => {
  it('this CPU runs the portable path (and reports its SIMD paths)', () => {
    expect(paths).toContain('portable');
  });

  it.each(paths)('%s: pointwise products of transforms are negacyclic convolutions', async (path) => {
    for (let limb = 0; limb < primes.length; limb++) {
      const q = primes[limb];
      const a = randomResidues(q), b = randomResidues(q);
      const fa = await context.nttForward(limb, a, path);
      const fb = await context.nttForward(limb, b, path);
      const product = fa.map((x, i) => (x * fb[i]) % q);
      expect(await context.nttInverse(limb, product, path)).toEqual(negacyclicProduct(a, b, q));
    }
  });

  it.each(paths)('%s: inverse(forward(a)) = a with every output reduced', async (path) => {
    for (let limb = 0; limb < primes.length; limb++) {
      const q = primes[limb];
      const a = randomResidues(q);
      const f = await context.nttForward(limb, a, path);
      for (const v of f) expect(v < q).toBe(true);
      expect(await context.nttInverse(limb, f, path)).toEqual(a);
    }
  });
});

describe('SIMD paths agree bit for bit', () => {
  it('a context starts on the fastest path this CPU runs', () => {
    const context = CkksContext.create({ ringDegree: 16, dataBits: [30], specialBits: [31], allowInsecureParametersForTestsOnly: true });
    expect(context.simdPath).toBe(paths[paths.length - 1]);
    context.dispose();
  });

  it.runIf(simdPaths.length > 0).each(simdPaths)('%s equals portable, forward and inverse, at several N', async (path) => {
    for (const ringDegree of [16, 1024, 16384]) {
      // 30-50 bits: the IFMA and AVX2 kernels; 55-60 bits: the 64-bit AVX-512 kernels (portable on AVX2).
      const ctx = CkksContext.create({ ringDegree, dataBits: [30, 40, 50, 55], specialBits: [59, 60], allowInsecureParametersForTestsOnly: true });
      const all = [...ctx.dataPrimes, ...ctx.specialPrimes];
      for (let limb = 0; limb < all.length; limb++) {
        const values = new BigUint64Array(ringDegree).map(() => BigInt(Math.floor(Math.random() * 2 ** 29)));
        const portable = await ctx.nttForward(limb, values, 'portable');
        const simd = await ctx.nttForward(limb, values, path);
        expect(Buffer.from(simd.buffer).equals(Buffer.from(portable.buffer))).toBe(true);
        const back = await ctx.nttInverse(limb, portable, path);
        expect(Buffer.from(back.buffer).equals(Buffer.from((await ctx.nttInverse(limb, portable, 'portable')).buffer))).toBe(true);
      }
      ctx.dispose();
    }
  });

  it.runIf(simdPaths.length > 0).each(
    simdPaths.flatMap((path) => [
      [path, 'IFMA-sized primes', undefined],
      [path, '55-60-bit primes (64-bit AVX-512 kernels)', { ringDegree: 8192, dataBits: [60, 55, 55], specialBits: [60, 60], allowInsecureParametersForTestsOnly: true }],
    ]),
  )('whole computations decrypt identically on %s and portable: %s', async (path, _name, options) => {
    const { makeKit, randomVector } = await import('./helpers');
    const kit = makeKit(options as never, [1]);
    const x = randomVector(kit.context.slotCount), y = randomVector(kit.context.slotCount);
    const a = kit.encrypt(x), b = kit.encrypt(y);
    const run = () => {
      const product = kit.evaluator.multiplyRescale(a, b, kit.relinKey);
      const r = kit.evaluator.rotate(product, 1, kit.galoisKeys);
      // additions and subtractions have their own SIMD kernels; decryption runs on the chosen path too
      const mixed = kit.evaluator.sub(kit.evaluator.add(r, product), kit.evaluator.add(product, product));
      // products by plaintexts have their own kernels too
      const byPlain = kit.evaluator.multiplyPlain(a, kit.encoder.encode(x));
      // encoding reduces its signed coefficients on the chosen path as well
      const encoded = kit.encoder.encode(y);
      return Buffer.concat([kit.decryptor.decrypt(mixed).save(), kit.decryptor.decrypt(byPlain).save(), encoded.save()]);
    };
    // Every step is deterministic given its inputs: both paths must give the same bytes.
    kit.context.simdPath = 'portable';
    const portable = run();
    kit.context.simdPath = path as 'avx2' | 'avx512ifma';
    expect(run().equals(portable)).toBe(true);
  });
});
