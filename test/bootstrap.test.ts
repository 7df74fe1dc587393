import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BOOTSTRAP_PRESETS,
  Bootstrapper,
  CkksContext,
  Encryptor,
  InsecureParametersError,
  KeyGenerator,
  MissingKeyError,
  ParameterMismatchError,
  type Ciphertext,
} from '../src';
import { bootstrapKit, disposeBootstrapKit, precisionBits, randomVector, type BootstrapKit } from './helpers';

// Precision is measured against the decrypted input, so that it is the bootstrap's own error (a
// public-key encryption alone already costs some 24 bits at scale 2^40). The small preset gives about
// 23 bits worst-case and 27 bits on average on 2048 random slots; 20 bits is the floor.
const MIN_BITS = 20;
const preset = BOOTSTRAP_PRESETS.testSmall;

describe('bootstrapping (small insecure preset, N = 4096)', () => {
  let { context, bootstrapper, keys, keyGenerator, encoder, encryptor, decryptor, evaluator } = {} as BootstrapKit;
  const encrypt = (values: Float64Array): Ciphertext => encryptor.encrypt(encoder.encode(values));
  const decrypt = (ct: Ciphertext): Float64Array => encoder.decode(decryptor.decrypt(ct));

  beforeAll(async () => {
    ({ context, bootstrapper, keys, keyGenerator, encoder, encryptor, decryptor, evaluator } = await bootstrapKit(preset));
  });
  afterAll(() => disposeBootstrapKit({ context, bootstrapper }));

  it('is refused without the explicit insecure opt-in', () => {
    expect(() => Bootstrapper.fromPreset(preset)).toThrow(InsecureParametersError);
  });

  it('spends the levels the preset states and keeps the EvalMod approximation far below the noise', () => {
    expect(bootstrapper.outputLevel).toBe(preset.levelsLeft);
    expect(bootstrapper.depth).toBe(context.maxLevel - preset.levelsLeft);
    expect(bootstrapper.galoisElements).toContain(2 * context.ringDegree - 1);
    expect(keys.galoisKeys.elements).toEqual([...bootstrapper.galoisElements].sort((a, b) => a - b));
    expect(bootstrapper.evalModError).toBeLessThan(2 ** -40);
  });

  it(`keeps at least ${MIN_BITS} bits on random real vectors, at the input's scale, from any level`, async () => {
    for (const level of [0, 2]) {
      const x = randomVector(context.slotCount);
      const ct = evaluator.dropToLevel(encrypt(x), level);
      const input = decrypt(ct);
      const out = await bootstrapper.bootstrapAsync(ct, keys);
      expect(out.level).toBe(preset.levelsLeft);
      expect(out.scale).toBe(ct.scale);
      expect(precisionBits(decrypt(out), input)).toBeGreaterThanOrEqual(MIN_BITS);
    }
  });

  it(`keeps at least ${MIN_BITS} bits on random complex vectors (full slots)`, async () => {
    const real = randomVector(context.slotCount), imaginary = randomVector(context.slotCount);
    const ct = encryptor.encrypt(encoder.encodeComplex({ real, imaginary }));
    const input = encoder.decodeComplex(decryptor.decrypt(ct));
    const out = encoder.decodeComplex(decryptor.decrypt(await bootstrapper.bootstrapAsync(ct, keys)));
    expect(precisionBits(out.real, input.real)).toBeGreaterThanOrEqual(MIN_BITS);
    expect(precisionBits(out.imaginary, input.imaginary)).toBeGreaterThanOrEqual(MIN_BITS);
  });

  it('reports each stage with its time, in order', async () => {
    const stages: string[] = [];
    const out = await bootstrapper.bootstrapAsync(encrypt(randomVector(context.slotCount)), keys, {
      onProgress: (stage, seconds) => {
        expect(seconds).toBeGreaterThanOrEqual(0);
        stages.push(stage);
      },
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stages).toEqual(['modRaise', 'coeffsToSlots', 'evalMod', 'slotsToCoeffs']);
    out.dispose();
  });

  it('bootstraps two real vectors with one bootstrap', async () => {
    const x = randomVector(context.slotCount), y = randomVector(context.slotCount);
    const a = encrypt(x), b = encrypt(y);
    const [ia, ib] = [decrypt(a), decrypt(b)];
    const [oa, ob] = await bootstrapper.bootstrapTwoRealAsync(a, b, keys);
    expect([oa.level, ob.level]).toEqual([preset.levelsLeft, preset.levelsLeft]);
    expect(precisionBits(decrypt(oa), ia)).toBeGreaterThanOrEqual(MIN_BITS);
    expect(precisionBits(decrypt(ob), ib)).toBeGreaterThanOrEqual(MIN_BITS);
  });

  it('gains precision with the two-pass (precise) variant', async () => {
    // Secret-key encryption: its noise is small enough not to hide the gain.
    const secretEncryptor = new Encryptor(context, keyGenerator.secretKey);
    const x = randomVector(context.slotCount);
    const ct = secretEncryptor.encrypt(encoder.encode(x), { seeded: false });
    const input = decrypt(ct);
    const plain = precisionBits(decrypt(await bootstrapper.bootstrapAsync(ct, keys)), input);
    const precise = precisionBits(decrypt(await bootstrapper.bootstrapPreciseAsync(ct, keys, 12)), input);
    expect(precise).toBeGreaterThanOrEqual(plain + 4);
  });

  it('survives 20 multiply-bootstrap cycles with bounded error growth', async () => {
    // x <- bootstrap(x * w) with w = +-1 at random: magnitudes stay put, the plaintext path is exact.
    let expected = randomVector(context.slotCount);
    // Start where bootstrapped ciphertexts live: the user levels at the bottom of the chain.
    let ct = evaluator.dropToLevel(encrypt(expected), preset.levelsLeft);
    let worstBits = Infinity;
    for (let cycle = 0; cycle < 20; cycle++) {
      const w = Float64Array.from({ length: context.slotCount }, () => (Math.random() < 0.5 ? -1 : 1));
      const wc = evaluator.dropToLevel(encrypt(w), ct.level);
      const product = evaluator.multiplyRescale(ct, wc, keys.relinKey);
      expected = expected.map((v, i) => v * w[i]);
      const next = await bootstrapper.bootstrapAsync(product, keys);
      [ct, product, wc].forEach((c) => c !== next && c.dispose());
      ct = next;
      worstBits = Math.min(worstBits, precisionBits(decrypt(ct), expected));
    }
    // Each cycle adds the bootstrap's error (about 2^-23) and the fresh operand's (about 2^-24), with
    // random signs: the error grows like a random walk, about sqrt(20) * 2^-22.5 after 20 cycles
    // (measured: 20.9 bits). The bound allows twice that: 19 bits.
    expect(worstBits).toBeGreaterThanOrEqual(19);
  }, 300_000);

  it('names a missing Galois key and refuses keys of another context', async () => {
    const partial = keyGenerator.createGaloisKeys([1], { conjugate: true });
    const ct = encrypt(randomVector(context.slotCount));
    await expect(bootstrapper.bootstrapAsync(ct, { relinKey: keys.relinKey, galoisKeys: partial })).rejects.toThrow(MissingKeyError);
    const other = CkksContext.create({ ...preset.context, allowInsecureParametersForTestsOnly: true });
    const otherKeys = new KeyGenerator(other, { hammingWeight: 64 });
    expect(() => bootstrapper.bootstrap(ct, { relinKey: otherKeys.createRelinKey(), galoisKeys: keys.galoisKeys })).toThrow(
      ParameterMismatchError,
    );
  });
});

describe('bootstrapping presets', () => {
  it('a chain too short for the configuration is refused with the number of levels needed', () => {
    const context = CkksContext.create({ ringDegree: 4096, dataBits: [52, 40, 58, 58, 58], specialBits: [60], allowInsecureParametersForTestsOnly: true });
    try {
      expect(() => Bootstrapper.create(context)).toThrow(/bootstrapping needs \d+ levels above level 0; the context has 4/);
      expect(() => Bootstrapper.create(context, { coeffsToSlotsLevels: 12 })).toThrow(/at most log2\(N\/2\) = 11 levels/);
    } finally {
      context.dispose();
    }
  });

  it('the secure preset is within 128-bit limits and leaves the levels it states', () => {
    const secure = BOOTSTRAP_PRESETS.secure;
    expect(secure.insecure).toBe(false);
    const { context, bootstrapper } = Bootstrapper.fromPreset(secure);
    try {
      expect(context.ringDegree).toBe(65536);
      expect(context.insecure).toBe(false);
      expect(context.logModulus).toBeLessThanOrEqual(1550);
      expect(bootstrapper.outputLevel).toBe(secure.levelsLeft);
      expect(bootstrapper.evalModError).toBeLessThan(2 ** -40);
    } finally {
      bootstrapper.dispose();
      context.dispose();
    }
  });
});
