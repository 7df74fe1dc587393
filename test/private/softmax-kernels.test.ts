/**
 * The standard model's softmax-attention kernels against float64 on fresh random inputs, each with
 * its bits of precision asserted: the row max by comparison polynomials, exp by Chebyshev and
 * squarings, the Goldschmidt inverse, and the whole masked softmax attention over packed sequences.
 * Small insecure parameters (N = 8192, opt-in). Where a chain of kernels runs out of levels the test
 * re-encrypts the decrypted slots at the top level (what a bootstrap does, without its noise), so
 * every figure is the kernels' own error.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CkksContext, CkksEncoder, Decryptor, Encryptor, KeyGenerator, type Ciphertext } from '../../src';
import * as P from '../../src/model/poly';
import { comparisonSteps, softmaxConstants, softmaxExpAffine } from '../../src/private/executor';
import { Kernels } from '../../src/private/kernels';
import { ActivationLayout } from '../../src/private/layout';
import { rotateLeft } from '../helpers';

const N = 8192;
const SLOTS = N / 2;
const HEADS = 2;
const TOP = 12;
/** The layouts tested: the model's (one 40-token sequence, two packed ciphertexts) and a narrower one with six sequences. */
const SHAPES = [
  { width: 64, tokens: 40 },
  { width: 32, tokens: 20 },
];

let context: CkksContext;
let encoder: CkksEncoder;
let encryptor: Encryptor;
let decryptor: Decryptor;
const kernelsByShape = new Map<string, Kernels>();

beforeAll(() => {
  context = CkksContext.create({ ringDegree: N, dataBits: [50, ...Array(TOP).fill(40)], specialBits: [60, 60, 60], scale: 2 ** 40, threads: 2, allowInsecureParametersForTestsOnly: true });
  const keys = new KeyGenerator(context);
  const steps = new Set<number>();
  for (const { width, tokens } of SHAPES) for (const s of Kernels.rotationSteps(new ActivationLayout(SLOTS, width, tokens, HEADS))) steps.add(s);
  const relin = keys.createRelinKey();
  const galois = keys.createGaloisKeys([...steps]);
  for (const { width, tokens } of SHAPES) kernelsByShape.set(`${width}x${tokens}`, new Kernels(context, new ActivationLayout(SLOTS, width, tokens, HEADS), TOP, 2 ** 40, relin, galois));
  encoder = new CkksEncoder(context);
  encryptor = new Encryptor(context, keys.secretKey);
  decryptor = new Decryptor(context, keys.secretKey);
}, 120_000);

const kernelsFor = (width: number, tokens: number) => kernelsByShape.get(`${width}x${tokens}`)!;
const anyKernels = () => kernelsFor(SHAPES[0].width, SHAPES[0].tokens);

function encrypt(values: Float64Array, level = TOP): Ciphertext {
  return encryptor.encrypt(encoder.encode(values, { level, scale: anyKernels().scaleAt(level) }));
}
function decrypt(ct: Ciphertext): Float64Array {
  return encoder.decode(decryptor.decrypt(ct));
}
/** The ciphertext itself when it has `need` levels, else its slots encrypted afresh at the top (a noiseless bootstrap). */
function refreshed(ct: Ciphertext, need: number): Ciphertext {
  return ct.level >= need ? ct : encrypt(decrypt(ct));
}
const random = (n: number, lo: number, hi: number) => Float64Array.from({ length: n }, () => lo + Math.random() * (hi - lo));

/** -log2 of the largest |a - b| / scale over the slots. */
function bits(actual: ArrayLike<number>, expected: ArrayLike<number>, scale: (i: number) => number = () => 1): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / scale(i));
  return -Math.log2(worst);
}

/** max(a, b) by the comparison kernels: difference, the sign steps (refreshing between them), combine. */
async function encryptedMax(k: Kernels, a: Ciphertext, b: Ciphertext | null, step: number): Promise<Ciphertext> {
  a = refreshed(a, 1);
  const d = await k.maxDifference(a, b, step);
  let s = d;
  for (const c of comparisonSteps()) s = await k.oddDegree7(refreshed(s, 3), c);
  return k.maxCombine(refreshed(a, 2), refreshed(d, 2), s);
}

/** The same tree of pairwise maxima in float64 on the slots: across the packed ciphertexts, then halving rotations over block pairs. */
function floatMaxTree(layout: ActivationLayout, packed: Float64Array[]): Float64Array {
  let list = packed;
  while (list.length > 1) list = Array.from({ length: Math.ceil(list.length / 2) }, (_, i) => (2 * i + 1 < list.length ? list[2 * i].map((x, j) => P.maxApprox(x, list[2 * i + 1][j])) : list[2 * i]));
  let a = list[0];
  for (let span = layout.width / layout.heads / 2; span >= 1; span /= 2) {
    const r = rotateLeft(a, span * layout.heads * layout.rows);
    a = a.map((x, j) => P.maxApprox(x, r[j]));
  }
  return a;
}
async function encryptedMaxTree(k: Kernels, packed: Ciphertext[]): Promise<Ciphertext> {
  let list = packed;
  while (list.length > 1) {
    const next: Ciphertext[] = [];
    for (let i = 0; i < list.length; i += 2) next.push(i + 1 < list.length ? await encryptedMax(k, list[i], list[i + 1], 0) : list[i]);
    list = next;
  }
  let a = list[0];
  for (let span = k.layout.width / k.layout.heads / 2; span >= 1; span /= 2) a = await encryptedMax(k, a, null, span * k.layout.heads * k.layout.rows);
  return a;
}

describe('softmax attention kernels (N = 8192, insecure test parameters)', () => {
  it('pairwise max by comparison polynomials: within 2^-18 of the same polynomials in float64, never above the larger input', async () => {
    const k = kernelsFor(64, 40);
    const a = random(SLOTS, -0.5, 0.5);
    const b = random(SLOTS, -0.5, 0.5);
    // across two ciphertexts
    const m = decrypt(await encryptedMax(k, encrypt(a), encrypt(b), 0));
    expect(bits(m, a.map((x, i) => P.maxApprox(x, b[i])))).toBeGreaterThan(18);
    let above = -Infinity;
    m.forEach((x, i) => (above = Math.max(above, x - Math.max(a[i], b[i]))));
    expect(above).toBeLessThan(2 ** -18);
    // a slot against the slot a rotation away
    const step = 4 * k.layout.rows;
    const r = decrypt(await encryptedMax(k, encrypt(a), null, step));
    const ra = rotateLeft(a, step);
    expect(bits(r, a.map((x, i) => P.maxApprox(x, ra[i])))).toBeGreaterThan(18);
  });

  it('exp by Chebyshev and squarings of factor (u - max) + offset: within 2^-20 of the float64 stand-in (relative above 1)', async () => {
    const k = kernelsFor(64, 40);
    const packedCount = Math.ceil(40 / 32);
    const max = random(SLOTS, -0.5, 0.5);
    // u - max over the exp interval (normalised units), some slots at the masked score
    const u = Array.from({ length: packedCount }, () => max.map((m) => Math.max(-0.5, m + (P.SMX_EXP_LO + Math.random() * (P.SMX_EXP_HI - P.SMX_EXP_LO)) / (2 * P.SMX_SCORE_B))));
    const { factor, offset } = softmaxExpAffine();
    const t = await k.softmaxExpInput(u.map((x) => encrypt(x)), encrypt(max), factor, offset, softmaxConstants(32));
    expect(t.length).toBe(packedCount);
    expect(t[0].level).toBe(TOP - 1);
    const coefficients = Float64Array.from(P.SMX_EXP_CHEB.c);
    for (let p = 0; p < packedCount; p++) {
      const e = await k.squarings(await k.chebyshev(t[p], coefficients), P.SMX_EXP_SQUARINGS);
      expect(e.level).toBe(TOP - 1 - k.chebyshevDepth(coefficients) - P.SMX_EXP_SQUARINGS);
      const expected = u[p].map((x, i) => P.expSoftmaxApprox(2 * P.SMX_SCORE_B * (x - max[i])));
      expect(bits(decrypt(e), expected, (i) => Math.max(1, expected[i]))).toBeGreaterThan(20);
    }
  });

  it('Goldschmidt inverse of row sums over [SMX_SUM_MIN, SMX_SUM_MAX]: within 2^-18 relative of float64, 2^-15 across a re-encryption', async () => {
    const k = kernelsFor(64, 40);
    const x = Float64Array.from({ length: SLOTS }, () => P.SMX_SUM_MIN * (P.SMX_SUM_MAX / P.SMX_SUM_MIN) ** Math.random());
    // the kernels give c/x (the executor applies 1/c with the weights)
    const expected = x.map((s) => P.inverseApprox(s) * P.SMX_INV_CENTER);
    const relative = (i: number) => expected[i];
    // the float64 Goldschmidt is within its stated error of 1/x
    expect(bits(x.map((s) => P.inverseApprox(s)), x.map((s) => 1 / s), (i) => 1 / x[i])).toBeGreaterThan(-Math.log2(P.SMX_INV_MAX_REL_ERR));
    const [a0, b0] = await k.goldschmidtStart(encrypt(x), P.SMX_INV_CENTER);
    expect([a0.level, b0.level]).toEqual([TOP - 1, TOP - 1]);
    const [a, b] = await k.goldschmidtSteps(a0, b0, P.SMX_INV_ITERATIONS);
    expect([a.level, b.level]).toEqual([TOP - 2 - P.SMX_INV_ITERATIONS, TOP - 1 - P.SMX_INV_ITERATIONS]);
    // fresh encryption noise over 10 iterations: about 20-21 bits, once 19.6 in a CI run
    expect(bits(decrypt(a), expected, relative)).toBeGreaterThan(18);
    // split around a re-encryption, as the executor splits them around a bootstrap: the estimate's
    // fresh absolute noise, relative to a ~ c/x, costs up to log2(SMX_SUM_MAX / c) bits at the largest sums
    const first = 6;
    const [a1, b1] = await k.goldschmidtSteps(a0, b0, first);
    expect([a1.level, b1.level]).toEqual([TOP - 2 - first, TOP - 1 - first]);
    const [a2] = await k.goldschmidtSteps(refreshed(a1, 99), refreshed(b1, 99), P.SMX_INV_ITERATIONS - first);
    expect(bits(decrypt(a2), expected, relative)).toBeGreaterThan(15);
  });

  it('softmax attention with encrypted key masks (packed mask, scores, max, exp, row sums, inverse, weights x values) over packed sequences: within 2^-13 of float64', async () => {
    for (const { width, tokens } of SHAPES) {
      const k = kernelsFor(width, tokens);
      const layout = k.layout;
      const dh = width / HEADS;
      const constants = softmaxConstants(dh);
      const S = layout.sequences;
      // one sequence full, the others shorter; scores within the stand-in's interval
      const lengths = Array.from({ length: S }, (_, s) => (s === 0 ? tokens : 1 + Math.floor(Math.random() * tokens)));
      const spread = Math.sqrt((P.SMX_SCORE_B * 0.8 * Math.sqrt(dh)) / dh);
      const q = Array.from({ length: S }, () => random(tokens * width, -spread, spread));
      const kk = Array.from({ length: S }, () => random(tokens * width, -spread, spread));
      const v = Array.from({ length: S }, () => random(tokens * width, -2, 2));
      const mask = encrypt(layout.packKeyMask(lengths));
      const packedMask = await k.softmaxPackedMask(mask, constants);
      expect(packedMask.length).toBe(Math.ceil(tokens / dh));
      expect(packedMask[0].level).toBe(TOP - 2);
      const scores = await k.softmaxScores(encrypt(layout.packActivations(q)), encrypt(layout.packActivations(kk)), mask, packedMask, constants);
      expect(scores[0].level).toBe(TOP - 4);
      // the row max: the encrypted tree against the same tree in float64, and against the true max
      const scoreSlots = scores.map(decrypt);
      const rowMax = await encryptedMaxTree(k, scores);
      const maxSlots = decrypt(rowMax);
      expect(bits(maxSlots, floatMaxTree(layout, scoreSlots))).toBeGreaterThan(16);
      // exp, masked, summed, inverted, normalised, times the values
      const { factor, offset } = softmaxExpAffine();
      const t = await k.softmaxExpInput(scores.map((c) => refreshed(c, 2)), refreshed(rowMax, 2), factor, offset, constants);
      const exps: Ciphertext[] = [];
      for (const c of t) exps.push(await k.squarings(refreshed(await k.chebyshev(refreshed(c, 5), Float64Array.from(P.SMX_EXP_CHEB.c)), P.SMX_EXP_SQUARINGS), P.SMX_EXP_SQUARINGS));
      const sums = await k.softmaxRowSums(exps.map((c) => refreshed(c, 2)), packedMask, constants);
      const masked = sums.slice(0, -1);
      let [a, b] = await k.goldschmidtStart(refreshed(sums[sums.length - 1], 2), P.SMX_INV_CENTER);
      for (let done = 0; done < P.SMX_INV_ITERATIONS; ) {
        [a, b] = [refreshed(a, 2), refreshed(b, 3)];
        const count = Math.min(P.SMX_INV_ITERATIONS - done, a.level, b.level - 1);
        [a, b] = await k.goldschmidtSteps(a, b, count);
        done += count;
      }
      const weights = await k.softmaxNormalize(masked.map((c) => refreshed(c, 2)), refreshed(a, 2), 1 / P.SMX_INV_CENTER, constants);
      const out = decrypt(await k.attentionValues(weights.map((c) => refreshed(c, 2)), encrypt(layout.packActivations(v)), mask));
      // float64: the stand-in softmax per row and head, and the exact one
      for (let s = 0; s < S; s++) {
        const approx = new Float64Array(tokens * width);
        const exact = new Float64Array(tokens * width);
        for (let h = 0; h < HEADS; h++)
          for (let i = 0; i < tokens; i++) {
            const row = Array.from({ length: lengths[s] }, (_, j) => {
              let dot = 0;
              for (let e = 0; e < dh; e++) dot += q[s][i * width + h * dh + e] * kk[s][j * width + h * dh + e];
              return dot / Math.sqrt(dh);
            });
            const w = P.softmaxApproxRow(row);
            const mx = Math.max(...row);
            const z = row.reduce((acc, x) => acc + Math.exp(x - mx), 0);
            for (let j = 0; j < lengths[s]; j++)
              for (let e = 0; e < dh; e++) {
                approx[i * width + h * dh + e] += w[j] * v[s][j * width + h * dh + e];
                exact[i * width + h * dh + e] += (Math.exp(row[j] - mx) / z) * v[s][j * width + h * dh + e];
              }
          }
        const actual = layout.unpackActivation(out, s);
        expect(bits(actual, approx), `width ${width}, sequence ${s} of ${S}, length ${lengths[s]}`).toBeGreaterThan(13);
        expect(bits(actual, exact), `width ${width}, sequence ${s}: against the exact softmax`).toBeGreaterThan(12);
      }
      // filler rows past the sequences stay bounded (their own zero key): attention output 0
      const filler: number[] = [];
      for (let r = layout.usedRows; r < layout.rows; r++) for (let blk = 0; blk < width; blk++) filler.push(Math.abs(out[layout.slot(blk, r)]));
      if (filler.length > 0) expect(Math.max(...filler)).toBeLessThan(1e-3);
    }
  });
});
