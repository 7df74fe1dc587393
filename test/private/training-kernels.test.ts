/**
 * The kernels the encrypted backward pass and optimizer add, against float64 on fresh random inputs
 * with their bits of precision asserted (N = 8192, insecure test parameters, opt-in).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as P from '../../src/model/poly';
import { signCoefficients } from '../../src/private/executor';
import { SLOTS, TOP, WIDTH, HEADS, bits, decrypt, encrypt, kernelsFor, random, setupKernelEnv } from './kernel-env';

beforeAll(() => setupKernelEnv(true), 120_000);

const approx = { lo: P.ISQ_LO, hi: P.ISQ_HI, eps: 1e-5 };

describe('training kernels (N = 8192, insecure test parameters)', () => {
  it("a degree-7 sign step and its derivative; a function and its derivative series from one Chebyshev basis", async () => {
    const k = kernelsFor(40);
    const t = random(SLOTS, 1);
    const f = signCoefficients();
    const [value, slope] = await k.oddDegree7WithDerivative(encrypt(t), f);
    expect(value.level).toBe(TOP - 3);
    expect(slope.level).toBe(TOP - 3);
    const fx = Float64Array.from(t, (x) => x * (f[0] + x * x * (f[1] + x * x * (f[2] + x * x * f[3]))));
    const dfx = Float64Array.from(t, (x) => f[0] + x * x * (3 * f[1] + x * x * (5 * f[2] + x * x * 7 * f[3])));
    expect(bits(decrypt(value), fx)).toBeGreaterThan(24);
    expect(bits(decrypt(slope), dfx, 8)).toBeGreaterThan(22);
    const u = random(SLOTS, 0.9);
    const [tanh, dtanh] = await k.chebyshevMany(encrypt(u), [Float64Array.from(P.TANH_CHEB.c), Float64Array.from(P.TANH_CHEB.dc, (c) => c * P.TANH_B)]);
    expect(bits(decrypt(tanh), Float64Array.from(u, (x) => P.tanhApprox(P.TANH_B * x)))).toBeGreaterThan(20);
    expect(bits(decrypt(dtanh), Float64Array.from(u, (x) => P.TANH_B * P.tanhApproxDeriv(P.TANH_B * x)))).toBeGreaterThan(18);
  });

  it('Newton steps of 1/sqrt(v) with their derivative by v, and the LayerNorm backward, within 2^-16 of float64', async () => {
    const k = kernelsFor(40);
    const layout = k.layout;
    const rows = layout.tokens;
    const v = Float64Array.from({ length: rows }, () => Math.exp(Math.log(0.03) + Math.random() * Math.log(20 / 0.03)));
    const perRow = (x: ArrayLike<number>) => layout.packActivations([Float64Array.from({ length: rows * WIDTH }, (_, i) => x[Math.floor(i / WIDTH)])]);
    // a perturbed start, so that the derivative chain is not at its fixed point
    const w0 = Float64Array.from(v, (x) => (1 + 0.01 * (Math.random() - 0.5)) / Math.sqrt(x));
    const dw0 = Float64Array.from(v, (x) => -0.5 * x ** -1.5 * (1 + 0.05 * (Math.random() - 0.5)));
    const [w1, dw1] = await k.newtonWithDerivative(encrypt(perRow(w0)), encrypt(perRow(dw0)), encrypt(perRow(Float64Array.from(v, (x) => x / 2))), approx);
    expect([w1.level, dw1.level]).toEqual([TOP - 2, TOP - 3]);
    const [w1Got, dw1Got] = [decrypt(w1), decrypt(dw1)];
    for (let r = 0; r < rows; r++) {
      const w = w0[r] * (1.5 - 0.5 * v[r] * w0[r] ** 2);
      const dw = dw0[r] * (1.5 - 1.5 * v[r] * w0[r] ** 2) - 0.5 * w0[r] ** 3;
      expect(Math.abs(w1Got[layout.slot(5, r)] - w) / w).toBeLessThan(2 ** -20);
      expect(Math.abs(dw1Got[layout.slot(5, r)] - dw) / Math.abs(dw0[r])).toBeLessThan(2 ** -16);
    }
    // LayerNorm backward of h = xc r: dx = dxc - mean(dxc), dxc = dh r + (sum dh xc) dr 2 xc / D
    const xc = random(rows * WIDTH, 2);
    for (let r = 0; r < rows; r++) {
      let mean = 0;
      for (let f = 0; f < WIDTH; f++) mean += xc[r * WIDTH + f] / WIDTH;
      for (let f = 0; f < WIDTH; f++) xc[r * WIDTH + f] -= mean;
    }
    const dh = random(rows * WIDTH, 1);
    const w = Float64Array.from(v, (x) => 1 / Math.sqrt(x));
    const dw = Float64Array.from(v, (x) => -0.5 * x ** -1.5);
    const dx = await k.normBackward(encrypt(layout.packActivations([dh])), encrypt(layout.packActivations([xc])), encrypt(perRow(w)), encrypt(perRow(dw)), approx);
    const expected = new Float64Array(rows * WIDTH);
    for (let r = 0; r < rows; r++) {
      let a = 0;
      for (let f = 0; f < WIDTH; f++) a += dh[r * WIDTH + f] * xc[r * WIDTH + f];
      const dxc = Array.from({ length: WIDTH }, (_, f) => dh[r * WIDTH + f] * w[r] + ((a * dw[r] * 2) / WIDTH) * xc[r * WIDTH + f]);
      const m = dxc.reduce((s, x) => s + x, 0) / WIDTH;
      for (let f = 0; f < WIDTH; f++) expected[r * WIDTH + f] = dxc[f] - m;
    }
    const scale = Math.max(...expected.map(Math.abs));
    expect(bits(layout.unpackActivation(decrypt(dx), 0), expected, scale)).toBeGreaterThan(16);
  });

  it('packed attention pieces for the backward pass: inner products, transpose, head sums', async () => {
    for (const tokens of [16, 40]) {
      const k = kernelsFor(tokens);
      const layout = k.layout;
      const dh = WIDTH / HEADS;
      const per = dh;
      const S = layout.sequences;
      const x = Array.from({ length: S }, () => random(tokens * WIDTH, 1));
      const y = Array.from({ length: S }, () => random(tokens * WIDTH, 1));
      // packed value of head h, shift d, sequence s, query i
      const at = (cts: Float64Array[], h: number, d: number, s: number, i: number) => cts[Math.floor(d / per)][layout.slot(2 * (d % per) + h, s * tokens + i)];
      const inner = (await k.attentionInner(encrypt(layout.packActivations(x)), encrypt(layout.packActivations(y)))).map(decrypt);
      let worst = 0;
      for (let s = 0; s < S; s++)
        for (let h = 0; h < HEADS; h++)
          for (let d = 0; d < tokens; d++)
            for (let i = 0; i < tokens; i++) {
              let e = 0;
              for (let f = 0; f < dh; f++) e += x[s][i * WIDTH + h * dh + f] * y[s][((i + d) % tokens) * WIDTH + h * dh + f];
              worst = Math.max(worst, Math.abs(at(inner, h, d, s, i) - e));
            }
      expect(-Math.log2(worst / dh), `inner, tokens ${tokens}`).toBeGreaterThan(18);
      // a packed kernel K (zero beyond the tokens), its transpose through weigh: sum_i K[i, j] y[i]
      const K: Float64Array[] = Array.from({ length: Math.ceil(tokens / per) }, () => new Float64Array(SLOTS));
      const dense = new Float64Array(S * HEADS * tokens * tokens); // [s][h][i][j]
      for (let s = 0; s < S; s++)
        for (let h = 0; h < HEADS; h++)
          for (let d = 0; d < tokens; d++)
            for (let i = 0; i < tokens; i++) {
              const value = Math.random();
              K[Math.floor(d / per)][layout.slot(2 * (d % per) + h, s * tokens + i)] = value;
              dense[((s * HEADS + h) * tokens + i) * tokens + ((i + d) % tokens)] = value;
            }
      const transposed = await k.attentionTranspose(K.map((c) => encrypt(c)));
      expect(transposed[0].level).toBe(TOP - 2);
      const weighed = layout.packActivations(y);
      const out = decrypt(await k.attentionWeigh(transposed, encrypt(weighed)));
      const sums = decrypt(await k.attentionHeadSums(K.map((c) => encrypt(c))));
      worst = 0;
      let worstSum = 0;
      for (let s = 0; s < S; s++)
        for (let h = 0; h < HEADS; h++)
          for (let j = 0; j < tokens; j++) {
            for (let f = 0; f < dh; f++) {
              let e = 0;
              for (let i = 0; i < tokens; i++) e += dense[((s * HEADS + h) * tokens + i) * tokens + j] * y[s][i * WIDTH + h * dh + f];
              worst = Math.max(worst, Math.abs(out[layout.slot(layout.modelBlock(h * dh + f), s * tokens + j)] - e));
            }
            let rowSum = 0;
            for (let jj = 0; jj < tokens; jj++) rowSum += dense[((s * HEADS + h) * tokens + j) * tokens + jj];
            for (let f = 0; f < dh; f++) worstSum = Math.max(worstSum, Math.abs(sums[layout.slot(layout.modelBlock(h * dh + f), s * tokens + j)] - rowSum));
          }
      expect(-Math.log2(worst / tokens), `transpose, tokens ${tokens}`).toBeGreaterThan(18);
      expect(-Math.log2(worstSum / tokens), `head sums, tokens ${tokens}`).toBeGreaterThan(20);
    }
  });

  it('row totals packed one parameter per row and unpacked to block constants again', async () => {
    const k = kernelsFor(40);
    const layout = k.layout;
    const params = [0, 1, 2, 3, 4].map(() => random(SLOTS, 1));
    const totals = await Promise.all(params.map((p) => k.rowTotal(encrypt(p))));
    const packed = await k.packRows(totals);
    const expected = params.map((p) => Float64Array.from({ length: WIDTH }, (_, b) => p.subarray(layout.slot(b, 0), layout.slot(b, 0) + layout.rows).reduce((s, x) => s + x, 0)));
    const got = decrypt(packed);
    for (const [i, e] of expected.entries())
      for (let b = 0; b < WIDTH; b++) expect(Math.abs(got[layout.slot(b, layout.rows - 1 - i)] - e[b])).toBeLessThan(2 ** -18 * layout.rows);
    for (const i of [0, 3]) {
      const back = decrypt(await k.unpackRow(packed, i));
      let worst = 0;
      for (let b = 0; b < WIDTH; b++) for (let r = 0; r < layout.rows; r++) worst = Math.max(worst, Math.abs(back[layout.slot(b, r)] - expected[i][b]));
      expect(-Math.log2(worst / layout.rows)).toBeGreaterThan(18);
    }
  });

  it('the encrypted matrix backward (y W^T, the diagonals\' gradients) and the scatter that undoes the gather', async () => {
    const k = kernelsFor(40);
    const layout = k.layout;
    const rows = layout.tokens;
    const W = random(WIDTH * WIDTH, 0.2);
    const diagonals = layout.cipherDiagonals(W).map((d) => encrypt(d));
    const y = random(rows * WIDTH, 1);
    const x = random(rows * WIDTH, 1);
    const back = layout.unpackActivation(decrypt(await k.cipherMatrixTranspose(encrypt(layout.packActivations([y])), diagonals)), 0);
    const expected = new Float64Array(rows * WIDTH);
    for (let t = 0; t < rows; t++) for (let i = 0; i < WIDTH; i++) for (let o = 0; o < WIDTH; o++) expected[t * WIDTH + i] += y[t * WIDTH + o] * W[i * WIDTH + o];
    expect(bits(back, expected, 1)).toBeGreaterThan(18);
    // diagonals left below the input by their updates (step 3 of the 8-step run met this): the
    // transposed product runs at their level
    const lowered = layout.cipherDiagonals(W).map((d) => encrypt(d, TOP - 3));
    const backLow = await k.cipherMatrixTranspose(encrypt(layout.packActivations([y])), lowered);
    expect(backLow.level).toBe(TOP - 4);
    expect(bits(layout.unpackActivation(decrypt(backLow), 0), expected, 1)).toBeGreaterThan(18);
    // the gradient of W for sum_rows (x W) . y is x^T y; its diagonals, pre-rotated like W's, row-totalled
    const packedX = layout.packActivations([x]);
    const packedY = layout.packActivations([y]);
    const grads = (await k.cipherMatrixGradient(encrypt(packedX), encrypt(packedY))).map(decrypt);
    const dW = new Float64Array(WIDTH * WIDTH);
    // every row of the layout counts (filler rows hold copies of real rows)
    for (let r = 0; r < layout.rows; r++)
      for (let i = 0; i < WIDTH; i++)
        for (let o = 0; o < WIDTH; o++) dW[i * WIDTH + o] += packedX[layout.slot(layout.modelBlock(i), r)] * packedY[layout.slot(layout.modelBlock(o), r)];
    const expectedDiagonals = layout.cipherDiagonals(dW);
    let worst = 0;
    for (const [i, g] of grads.entries()) for (let b = 0; b < WIDTH; b++) worst = Math.max(worst, Math.abs(g[layout.slot(b, layout.rows - 1)] - expectedDiagonals[i][layout.slot(b, 0)]));
    expect(-Math.log2(worst / layout.rows)).toBeGreaterThan(18);
    // scatter undoes gather on the [CLS] rows
    const k16 = kernelsFor(16);
    const groups = [0, 1, 2].map(() => random(SLOTS, 1));
    const gathered = await k16.gatherFirstRows(groups.map((g) => encrypt(g)));
    const scattered = (await k16.scatterFirstRows(gathered, 3)).map(decrypt);
    worst = 0;
    for (const [g, values] of groups.entries())
      for (let b = 0; b < WIDTH; b++)
        for (let r = 0; r < k16.layout.rows; r++) {
          const cls = r < k16.layout.usedRows && r % k16.layout.tokens === 0;
          worst = Math.max(worst, Math.abs(scattered[g][k16.layout.slot(b, r)] - (cls ? values[k16.layout.slot(b, r)] : 0)));
        }
    expect(-Math.log2(worst)).toBeGreaterThan(20);
  });
});

