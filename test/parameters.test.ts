import { describe, expect, it } from 'vitest';
import { CkksContext, InsecureParametersError, InvalidArgumentError, KeyGenerator } from '../src';

// Independent primality check (Miller-Rabin with the first twelve prime bases, exact below 3.3e24).
function isPrime(n: bigint): boolean {
  if (n < 2n) return false;
  const bases = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n];
  for (const p of bases) if (n % p === 0n) return n === p;
  let d = n - 1n, r = 0;
  while (d % 2n === 0n) { d /= 2n; r++; }
  const power = (b: bigint, e: bigint) => { let x = 1n; b %= n; while (e > 0n) { if (e & 1n) x = (x * b) % n; b = (b * b) % n; e >>= 1n; } return x; };
  for (const a of bases) {
    let x = power(a, d);
    if (x === 1n || x === n - 1n) continue;
    let composite = true;
    for (let i = 1; i < r; i++) { x = (x * x) % n; if (x === n - 1n) { composite = false; break; } }
    if (composite) return false;
  }
  return true;
}

describe('128-bit security from the HE standard table', () => {
  const limits: Array<[number, number]> = [[4096, 109], [8192, 218], [16384, 438], [32768, 881], [65536, 1772]];

  it.each(limits)('N = %i accepts a modulus at the limit and refuses one bit more', (n, limit) => {
    // Primes of at most 60 bits whose bit counts add up to the limit exactly (then one more bit).
    const bitsFor = (total: number) => {
      const count = Math.ceil(total / 60) + 1;
      const base = Math.floor(total / count);
      return Array.from({ length: count }, (_, i) => base + (i < total - base * count ? 1 : 0));
    };
    // Primes just below 2^b: the product of primes of b_i bits has exactly sum(b_i) bits.
    const ok = bitsFor(limit);
    const context = CkksContext.create({ ringDegree: n, dataBits: ok.slice(0, -1), specialBits: ok.slice(-1) });
    expect(context.logModulus).toBeLessThanOrEqual(limit);
    expect(context.securityLimitBits).toBe(limit);
    context.dispose();
    const tooMany = bitsFor(limit + 1);
    const attempt = () => CkksContext.create({ ringDegree: n, dataBits: tooMany.slice(0, -1), specialBits: tooMany.slice(-1) });
    expect(attempt).toThrow(InsecureParametersError);
    expect(attempt).toThrow(new RegExp(`at most ${limit} bits for N = ${n}`));
  });

  it('the loudly named opt-out allows weak parameters for tests', () => {
    const context = CkksContext.create({
      ringDegree: 1024,
      dataBits: [50, 40],
      specialBits: [50],
      allowInsecureParametersForTestsOnly: true,
    });
    expect(context.insecure).toBe(true);
    expect(() => CkksContext.create({ ringDegree: 1024, dataBits: [50, 40], specialBits: [50] })).toThrow(InvalidArgumentError);
    expect(() => CkksContext.create({ ringDegree: 8192, dataBits: [60, 60, 60], specialBits: [60] })).toThrow(InsecureParametersError);
  });
});

describe('prime chains', () => {
  it('picks the primes of SEAL\'s CoeffModulus.Create: per size the largest = 1 mod 2N, ascending in request order', () => {
    const n = 16384;
    const bits = [50, 40, 40, 45, 40];
    const context = CkksContext.create({ ringDegree: n, dataBits: bits, specialBits: [50] });
    const all = [...context.dataPrimes, ...context.specialPrimes];
    const requested = [...bits, 50];
    const twoN = BigInt(2 * n);
    for (const b of new Set(requested)) {
      const got = all.filter((_, i) => requested[i] === b);
      // The count largest primes = 1 mod 2N below 2^b, in descending order...
      const largest: bigint[] = [];
      for (let c = ((1n << BigInt(b)) - 1n) / twoN * twoN + 1n; largest.length < got.length; c -= twoN) {
        if (isPrime(c)) largest.push(c);
      }
      // ...handed out smallest first: the first request of a size gets the smallest of them.
      expect(got).toEqual([...largest].reverse());
      for (const p of got) expect(p >= 1n << BigInt(b - 1) && p < 1n << BigInt(b)).toBe(true);
    }
    expect(new Set(all).size).toBe(all.length);
  });

  it('accepts explicit primes and refuses bad ones', () => {
    const good = CkksContext.create({ ringDegree: 8192, dataBits: [40, 40], specialBits: [45] });
    const explicit = CkksContext.create({
      ringDegree: 8192,
      dataPrimes: [...good.dataPrimes],
      specialPrimes: [...good.specialPrimes],
    });
    expect(explicit.fingerprint).toBe(good.fingerprint);
    const p = good.dataPrimes[0];
    expect(() => CkksContext.create({ ringDegree: 8192, dataPrimes: [p + 2n], specialPrimes: [...good.specialPrimes] })).toThrow(
      InvalidArgumentError,
    );
    expect(() => CkksContext.create({ ringDegree: 8192, dataPrimes: [p, p], specialPrimes: [...good.specialPrimes] })).toThrow(
      /appears twice/,
    );
    // A prime that is not 1 mod 2N.
    let q = p + 2n;
    while (!(isPrime(q) && q % 16384n !== 1n)) q += 2n;
    expect(() => CkksContext.create({ ringDegree: 8192, dataPrimes: [q], specialPrimes: [...good.specialPrimes] })).toThrow(
      /not congruent to 1 mod 2N/,
    );
    expect(() => CkksContext.create({ ringDegree: 3000, dataBits: [40], specialBits: [40] })).toThrow(InvalidArgumentError);
    expect(() => CkksContext.create({ ringDegree: 8192, dataBits: [40], specialBits: [70] })).toThrow(InvalidArgumentError);
    expect(() => CkksContext.create({ ringDegree: 8192, dataBits: [40] } as never)).toThrow(InvalidArgumentError);
  });

  it('key-switching digits are configurable and work', () => {
    const context = CkksContext.create({ ringDegree: 8192, dataBits: [40, 30, 30, 30], specialBits: [40, 40], keySwitchDigits: 2 });
    expect(context.keySwitchDigits).toBe(2);
    const keys = new KeyGenerator(context, { hammingWeight: 64 });
    expect(keys.secretKey.hammingWeight).toBe(64);
    expect(() => new KeyGenerator(context, { hammingWeight: 9000 })).toThrow();
  });
});
