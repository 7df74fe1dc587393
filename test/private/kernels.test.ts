/**
 * The fused kernels of the private transformer against float64 on fresh random inputs, each with
 * its bits of precision asserted (absolute error relative to the values' scale, see each bound).
 * Small insecure parameters (N = 8192, opt-in); every kernel input is encrypted fresh at the top
 * level, so each kernel's own error is measured.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as P from '../../src/model/poly';
import { signCoefficients } from '../../src/private/executor';
import type { ActivationLayout } from '../../src/private/layout';
import { SLOTS, WIDTH, HEADS, TOP, bits, decrypt, encrypt, kernelsFor, random, setupKernelEnv } from './kernel-env';

beforeAll(() => setupKernelEnv(false), 120_000);

/** x W + b per row, on the decoded layout (model order for 'model', plain order beyond). */
function matmulRows(layout: ActivationLayout, x: Float64Array[], W: Float64Array, din: number, dout: number, bias: Float64Array): Float64Array[] {
  return x.map((a) => {
    const y = new Float64Array(layout.tokens * dout);
    for (let t = 0; t < layout.tokens; t++)
      for (let o = 0; o < dout; o++) {
        let s = bias[o];
        for (let i = 0; i < din; i++) s += a[t * din + i] * W[i * dout + o];
        y[t * dout + o] = s;
      }
    return y;
  });
}

describe('private-transformer kernels (N = 8192, insecure test parameters)', () => {
  it('plaintext matrix products, model -> feed-forward width -> model: within 2^-20 of float64', async () => {
    const k = kernelsFor(16);
    const layout = k.layout;
    const seqs = Array.from({ length: layout.sequences }, () => random(layout.tokens * WIDTH, 1));
    const W1 = random(WIDTH * 128, 0.2);
    const b1 = random(128, 0.5);
    const W2 = random(128 * WIDTH, 0.2);
    const up = k.matrix(W1, { order: 'model', count: WIDTH }, { order: 'plain', count: 128 }, b1);
    const down = k.matrix(W2, { order: 'plain', count: 128 }, { order: 'model', count: WIDTH });
    const x = encrypt(layout.packActivations(seqs));
    const hidden = await k.applyMatrix(up, [x]);
    expect(hidden.length).toBe(2);
    expect(hidden[0].level).toBe(TOP - 1);
    const y = await k.applyMatrix(down, hidden);
    expect(y[0].level).toBe(TOP - 2);
    const mid = matmulRows(layout, seqs, W1, WIDTH, 128, b1);
    const expected = matmulRows(layout, mid, W2, 128, WIDTH, new Float64Array(WIDTH));
    const got = decrypt(y[0]);
    for (let s = 0; s < layout.sequences; s++) {
      const actual = layout.unpackActivation(got, s);
      expect(bits(actual, expected[s], 1)).toBeGreaterThan(20);
    }
    // the hidden layer: features 64.. in the second ciphertext, in plain order
    const h1 = decrypt(hidden[1]);
    let worst = 0;
    for (let s = 0; s < layout.sequences; s++)
      for (let t = 0; t < layout.tokens; t++)
        for (let f = 0; f < 64; f++) worst = Math.max(worst, Math.abs(h1[layout.slot(f, s * layout.tokens + t)] - mid[s][t * 128 + 64 + f]));
    expect(-Math.log2(worst)).toBeGreaterThan(20);
  });

  it('LayerNorm stages (statistics, Chebyshev 1/sqrt, Newton steps, normalize): the HE-friendly LayerNorm within 2^-18', async () => {
    const k = kernelsFor(40);
    const layout = k.layout;
    // rows with offsets and spreads covering the variance interval's interior
    const rowsIn = new Float64Array(layout.tokens * WIDTH);
    for (let t = 0; t < layout.tokens; t++) {
      const spread = Math.exp(Math.log(0.2) + Math.random() * Math.log(3 / 0.2));
      const offset = (Math.random() * 2 - 1) * 2;
      for (let f = 0; f < WIDTH; f++) rowsIn[t * WIDTH + f] = offset + (Math.random() * 2 - 1) * spread * Math.sqrt(3);
    }
    const approx = { lo: P.ISQ_LO, hi: P.ISQ_HI, eps: 1e-5 };
    const x = encrypt(layout.packActivations([rowsIn]));
    const [centred, t, halfV] = await k.normStatistics(x, approx);
    expect([centred.level, t.level, halfV.level]).toEqual([TOP - 1, TOP - 2, TOP - 2]);
    // float64: per row mean, variance, u, t
    const mean = new Float64Array(layout.tokens);
    const varr = new Float64Array(layout.tokens);
    for (let r = 0; r < layout.tokens; r++) {
      for (let f = 0; f < WIDTH; f++) mean[r] += rowsIn[r * WIDTH + f] / WIDTH;
      for (let f = 0; f < WIDTH; f++) varr[r] += (rowsIn[r * WIDTH + f] - mean[r]) ** 2 / WIDTH;
    }
    const a = P.ISQ_LO / P.ISQ_HI;
    const v = Float64Array.from(varr, (x) => x + 1e-5);
    const tExpected = Float64Array.from(v, (x) => (2 * (x / P.ISQ_HI) - a - 1) / (1 - a));
    const [tGot, hvGot] = [decrypt(t), decrypt(halfV)];
    for (let r = 0; r < layout.tokens; r++)
      for (let b = 0; b < WIDTH; b++) {
        expect(Math.abs(tGot[layout.slot(b, r)] - tExpected[r])).toBeLessThan(2 ** -22);
        // v/2 keeps its relative precision however small the variance (2^-21: the rounding of the
        // constant 1/(2 width^3) to an integer multiplier)
        expect(Math.abs(hvGot[layout.slot(b, r)] - v[r] / 2) / v[r]).toBeLessThan(2 ** -21);
      }
    // each later stage starts from fresh ciphertexts of the float64 values (as after a bootstrap)
    const perRow = (x: Float64Array) => layout.packActivations([Float64Array.from({ length: layout.tokens * WIDTH }, (_, i) => x[Math.floor(i / WIDTH)])]);
    const coefficients = Float64Array.from(P.ISQ_CHEB.c, (c) => c / Math.sqrt(P.ISQ_HI));
    const w0 = await k.chebyshev(encrypt(perRow(tExpected)), coefficients);
    const w0Expected = Float64Array.from(v, (x) => P.chebEval(P.ISQ_CHEB, x / P.ISQ_HI) / Math.sqrt(P.ISQ_HI));
    const w0Got = decrypt(w0);
    // t's own error is amplified by |d log w / dt| ~ 1 / (4u), up to ~2^11 at the interval's low end (Newton removes it)
    for (let r = 0; r < layout.tokens; r++) expect(Math.abs(w0Got[layout.slot(0, r)] - w0Expected[r]) / w0Expected[r]).toBeLessThan(2 ** -14);
    let w = encrypt(perRow(w0Expected));
    let wExpected = w0Expected;
    for (let i = 0; i < P.ISQ_NEWTON; i++) {
      w = await k.newton(w, halfV, approx);
      wExpected = Float64Array.from(wExpected, (ww, r) => ww * (1.5 - 0.5 * v[r] * ww * ww));
    }
    const wGot = decrypt(w);
    for (let r = 0; r < layout.tokens; r++) expect(Math.abs(wGot[layout.slot(3, r)] - wExpected[r]) / wExpected[r]).toBeLessThan(2 ** -20);
    const normalized = await k.multiply(centred, w);
    const got = layout.unpackActivation(decrypt(normalized), 0);
    const expected = Float64Array.from(rowsIn, (x, i) => (x - mean[Math.floor(i / WIDTH)]) * P.invSqrtApprox(v[Math.floor(i / WIDTH)]));
    expect(bits(got, expected, 1)).toBeGreaterThan(18);
  });

  it('the composite sign (8 odd degree-7 steps) and ReLU combination match poly.ts within 2^-16', async () => {
    const k = kernelsFor(40);
    const values = random(SLOTS, 1);
    let s = encrypt(values);
    const f = signCoefficients();
    const expectedSign = new Float64Array(values);
    for (let step = 0; step < 4; step++) {
      s = await k.oddDegree7(s, f);
      for (let i = 0; i < SLOTS; i++) {
        const t = expectedSign[i];
        expectedSign[i] = t * (f[0] + t * t * (f[1] + t * t * (f[2] + t * t * f[3])));
      }
      expect(s.level).toBe(TOP - 3 * (step + 1));
    }
    // the error of a composite step grows with the slope near 0 (f'(0) = 35/16); four steps here
    expect(bits(decrypt(s), expectedSign)).toBeGreaterThan(16);
    const relu = await k.reluCombine(encrypt(values), encrypt(expectedSign, TOP - 8));
    expect(bits(decrypt(relu), Float64Array.from(values, (t, i) => t + t * expectedSign[i]))).toBeGreaterThan(18);
  });

  it('Gaussian-kernel attention (bases, squarings, masked kernel x values) over packed sequences within 2^-14 of float64', async () => {
    for (const tokens of [16, 40]) {
      const k = kernelsFor(tokens);
      const layout = k.layout;
      const dh = WIDTH / HEADS;
      const squarings = 4;
      const c = 1 / (2 * Math.sqrt(dh));
      const lengths = Array.from({ length: layout.sequences }, (_, s) => (s === 0 ? tokens : Math.max(2, Math.floor(Math.random() * tokens))));
      const q = Array.from({ length: layout.sequences }, () => random(tokens * WIDTH, 1.5));
      const kk = Array.from({ length: layout.sequences }, () => random(tokens * WIDTH, 1.5));
      const v = Array.from({ length: layout.sequences }, () => random(tokens * WIDTH, 2));
      const bases = await k.attentionBases(encrypt(layout.packActivations(q)), encrypt(layout.packActivations(kk)), c, squarings);
      expect(bases.length).toBe(Math.ceil(tokens / dh));
      expect(bases[0].level).toBe(TOP - 3);
      const kernel = await Promise.all(bases.map((b) => k.squarings(b, squarings)));
      const out = await k.attentionApply(kernel, encrypt(layout.packActivations(v)), encrypt(layout.packKeyMask(lengths)), c, squarings);
      const got = decrypt(out);
      for (let s = 0; s < layout.sequences; s++) {
        const expected = new Float64Array(tokens * WIDTH);
        for (let h = 0; h < HEADS; h++)
          for (let i = 0; i < tokens; i++)
            for (let j = 0; j < lengths[s]; j++) {
              let d2 = 0;
              for (let e = 0; e < dh; e++) d2 += (q[s][i * WIDTH + h * dh + e] - kk[s][j * WIDTH + h * dh + e]) ** 2;
              let base = 1 - (c * d2) / 2 ** squarings;
              for (let m = 0; m < squarings; m++) base *= base;
              for (let e = 0; e < dh; e++) expected[i * WIDTH + h * dh + e] += base * v[s][j * WIDTH + h * dh + e];
            }
        const actual = layout.unpackActivation(got, s);
        expect(bits(actual, expected, 1), `tokens ${tokens}, sequence ${s}`).toBeGreaterThan(14);
      }
    }
  });

  it('encrypted LoRA branch (x A) B and encrypted pooler matrix within 2^-18 of float64', async () => {
    const k = kernelsFor(40);
    const layout = k.layout;
    const x = random(layout.tokens * WIDTH, 1);
    const rank = 2;
    const A = random(WIDTH * rank, 0.3);
    const B = random(rank * WIDTH, 0.3);
    const aBias = random(rank, 0.5);
    const column = (c: number) => layout.blockConstant(Float64Array.from({ length: WIDTH }, (_, f) => A[f * rank + c]));
    const row = (c: number) => layout.blockConstant(B.subarray(c * WIDTH, (c + 1) * WIDTH));
    const xc = encrypt(layout.packActivations([x]));
    const t = await k.featureDot(xc, [0, 1].map((c) => encrypt(column(c))), [0, 1].map((c) => encrypt(new Float64Array(SLOTS).fill(aBias[c]))));
    const lora = await k.broadcastSum(t, [0, 1].map((c) => encrypt(row(c))));
    expect(lora.level).toBe(TOP - 2);
    const xa = matmulRows(layout, [x], A, WIDTH, rank, aBias);
    const expected = matmulRows(layout, xa, B, rank, WIDTH, new Float64Array(WIDTH));
    expect(bits(layout.unpackActivation(decrypt(lora), 0), expected[0])).toBeGreaterThan(18);

    const Wp = random(WIDTH * WIDTH, 0.15);
    const bp = random(WIDTH, 0.3);
    const diagonals = layout.cipherDiagonals(Wp).map((d) => encrypt(d));
    const pooled = await k.cipherMatrix(xc, diagonals, encrypt(layout.blockConstant(bp)));
    const expectedPool = matmulRows(layout, [x], Wp, WIDTH, WIDTH, bp);
    expect(bits(layout.unpackActivation(decrypt(pooled), 0), expectedPool[0])).toBeGreaterThan(18);
  });

  it('gathers the [CLS] rows of several row groups into one ciphertext, other rows from the first group', async () => {
    const k = kernelsFor(16);
    const layout = k.layout;
    const groups = [0, 1, 2].map(() => random(SLOTS, 2));
    const gathered = decrypt(await k.gatherFirstRows(groups.map((g) => encrypt(g))));
    let worst = 0;
    for (let b = 0; b < WIDTH; b++)
      for (let r = 0; r < layout.rows; r++) {
        const t = r % layout.tokens;
        const fromGroup = r < layout.usedRows && t < groups.length ? t : 0;
        const source = fromGroup === 0 || r >= layout.usedRows || t >= groups.length ? r : r - t;
        worst = Math.max(worst, Math.abs(gathered[layout.slot(b, r)] - groups[fromGroup][layout.slot(b, source)]));
      }
    expect(-Math.log2(worst / 2)).toBeGreaterThan(22);
  });
});

