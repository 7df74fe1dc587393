import { describe, expect, it } from 'vitest';
import * as P from '../../src/model/poly';

function maxErr(f: (x: number) => number, g: (x: number) => number, lo: number, hi: number, n = 20000, rel = false): number {
  let m = 0;
  for (let i = 0; i <= n; i++) {
    const x = lo + ((hi - lo) * i) / n;
    const e = Math.abs(f(x) - g(x)) / (rel ? Math.abs(g(x)) : 1);
    if (e > m) m = e;
  }
  return m;
}

describe('polynomial approximations stay within their stated error on their interval', () => {
  it('exp(x) ~ (1 + x/2^k)^(2^k) on [EXP_LO, 0]', () => {
    expect(maxErr(P.expPoly, Math.exp, P.EXP_LO, P.EXP_HI)).toBeLessThan(P.EXP_MAX_ERR);
    expect(maxErr(P.expPoly, Math.exp, -10, 0)).toBeLessThan(P.EXP_MAX_ERR);
  });
  it('1/sqrt(s): Chebyshev + Newton, relative error on [ISQ_LO, ISQ_HI] (log-spaced grid)', () => {
    let m = 0;
    for (let i = 0; i <= 20000; i++) {
      const s = P.ISQ_LO * (P.ISQ_HI / P.ISQ_LO) ** (i / 20000);
      m = Math.max(m, Math.abs(P.invSqrtApprox(s) * Math.sqrt(s) - 1));
    }
    expect(m).toBeLessThan(P.ISQ_MAX_REL_ERR);
  });
  it('ReLU by sign polynomials on [-RELU_B, RELU_B]', () => {
    expect(maxErr(P.reluApprox, (x) => Math.max(0, x), -P.RELU_B, P.RELU_B, 40000)).toBeLessThan(P.RELU_MAX_ERR);
  });
  it('tanh by Chebyshev on [-TANH_B, TANH_B]', () => {
    expect(maxErr(P.tanhApprox, Math.tanh, -P.TANH_B, P.TANH_B)).toBeLessThan(P.TANH_MAX_ERR);
  });
  it('loss softmax by Chebyshev exp and inverse, on fresh random centred logits (2 to LOSS_MAX_CLASSES classes)', () => {
    let m = 0;
    let tried = 0;
    for (let C = 2; C <= P.LOSS_MAX_CLASSES; C++)
      for (let t = 0; t < 20000; t++) {
        const z = P.centredLogits(new Float64Array(C).map(() => (2 * Math.random() - 1) * P.LOSS_B));
        if (z.some((v) => Math.abs(v) > P.LOSS_B)) continue;
        tried++;
        const mx = Math.max(...z);
        const e = z.map((v) => Math.exp(v - mx));
        const sum = e.reduce((a, b) => a + b, 0);
        P.softmaxApprox(z).forEach((p, i) => (m = Math.max(m, Math.abs(p - e[i] / sum))));
      }
    expect(tried).toBeGreaterThan(30000);
    expect(m).toBeLessThan(P.LOSS_SOFTMAX_MAX_ERR);
    expect(() => P.softmaxApprox(new Float64Array(P.LOSS_MAX_CLASSES + 1))).toThrow(RangeError);
  });
  it('derivatives of the approximations match finite differences', () => {
    const h = 1e-6;
    const fd = (f: (x: number) => number, x: number) => (f(x + h) - f(x - h)) / (2 * h);
    for (const x of [-9.3, -3, -0.4]) expect(Math.abs(P.expPolyDeriv(x) - fd(P.expPoly, x))).toBeLessThan(1e-6);
    for (const s of [0.05, 1.3, 20, 200]) expect(Math.abs(P.invSqrtApproxDeriv(s) - fd(P.invSqrtApprox, s))).toBeLessThan(1e-5 * Math.abs(P.invSqrtApproxDeriv(s)) + 1e-8);
    for (const x of [-7, -0.3, 0.2, 5]) expect(Math.abs(P.reluApproxDeriv(x) - fd(P.reluApprox, x))).toBeLessThan(1e-5);
    for (const x of [-4, 0.1, 2.5]) expect(Math.abs(P.tanhApproxDeriv(x) - fd(P.tanhApprox, x))).toBeLessThan(1e-6);
  });
  it('GELU (the standard model\'s stand-in) by Chebyshev on [-GELU_B, GELU_B]', () => {
    expect(maxErr(P.geluApprox, P.gelu, -P.GELU_B, P.GELU_B, 40000)).toBeLessThan(P.GELU_MAX_ERR);
  });
  it('softmax stand-in pieces: the pairwise max never exceeds the max and falls short by at most the stated slack', () => {
    // the slack bound on a dense grid of differences d in [0, 1] (normalised units)
    let slack = 0;
    for (let i = 0; i <= 200000; i++) {
      const d = i / 200000;
      slack = Math.max(slack, d - P.maxApprox(d, 0));
    }
    expect(slack).toBeGreaterThan(0.5 * P.SMX_ROUND_SLACK); // the bound is tight, not vacuous
    expect(slack).toBeLessThan(P.SMX_ROUND_SLACK);
    let over = -Infinity;
    let under = 0;
    for (let t = 0; t < 100000; t++) {
      const a = Math.random() - 0.5;
      const b = Math.random() - 0.5;
      const m = P.maxApprox(a, b);
      over = Math.max(over, m - Math.max(a, b));
      under = Math.max(under, Math.max(a, b) - m);
    }
    expect(over).toBeLessThanOrEqual(1e-12);
    expect(under).toBeLessThan(P.SMX_ROUND_SLACK);
  });
  it('softmax stand-in pieces: exp by squarings and the Goldschmidt inverse on their intervals', () => {
    expect(maxErr(P.expSoftmaxApprox, Math.exp, P.SMX_EXP_LO, P.SMX_EXP_HI, 40000, true)).toBeLessThan(P.SMX_EXP_MAX_REL_ERR);
    let m = 0;
    for (let i = 0; i <= 20000; i++) {
      const s = P.SMX_SUM_MIN * (P.SMX_SUM_MAX / P.SMX_SUM_MIN) ** (i / 20000);
      m = Math.max(m, Math.abs(P.inverseApprox(s) * s - 1));
    }
    expect(m).toBeLessThan(P.SMX_INV_MAX_REL_ERR);
    expect(m).toBeGreaterThan(P.SMX_INV_MAX_REL_ERR / 4);
    // a row with every key masked sums to 0: the inverse stays bounded
    expect(P.inverseApprox(0)).toBeCloseTo(2 ** (P.SMX_INV_ITERATIONS + 1) / P.SMX_INV_CENTER, 9);
  });
  it('softmax rows by the stand-ins match the exact softmax within the stated error (random, peaked, tied and masked rows)', () => {
    const exact = (s: number[], mask: number[]) => {
      const mx = Math.max(...s.filter((_, j) => mask[j]));
      const e = s.map((v, j) => (mask[j] ? Math.exp(v - mx) : 0));
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / z);
    };
    const B = P.SMX_SCORE_B;
    const rows: { s: number[]; mask: number[] }[] = [];
    for (let t = 0; t < 3000; t++) {
      const n = 1 + Math.floor(Math.random() * P.SMX_MAX_KEYS);
      const spread = [0.5, 3, B][t % 3];
      const centre = (Math.random() * 2 - 1) * (B - spread);
      const s = Array.from({ length: n }, () => centre + (Math.random() * 2 - 1) * spread);
      const mask = s.map(() => (Math.random() < 0.8 ? 1 : 0));
      mask[Math.floor(Math.random() * n)] = 1;
      rows.push({ s, mask });
    }
    const n = P.SMX_MAX_KEYS;
    rows.push({ s: Array(n).fill(B), mask: Array(n).fill(1) }); // all tied at the top: the largest sum
    rows.push({ s: Array.from({ length: n }, (_, j) => (j === 7 ? B : -B)), mask: Array(n).fill(1) }); // one key takes all
    rows.push({ s: Array.from({ length: n }, (_, j) => (j < 2 ? B - 1e-3 * j : -B)), mask: Array(n).fill(1) }); // a near tie
    rows.push({ s: Array.from({ length: n }, (_, j) => (j % 5 === 0 ? 30 : 0.1 * j - 2)), mask: Array.from({ length: n }, (_, j) => (j % 5 === 0 ? 0 : 1)) }); // masked keys beyond the interval
    let worst = 0;
    for (const { s, mask } of rows) {
      const want = exact(s, mask);
      P.softmaxApproxRow(s, mask).forEach((w, j) => (worst = Math.max(worst, Math.abs(w - want[j]))));
    }
    expect(worst).toBeLessThan(P.SMX_MAX_ERR);
    expect(() => P.softmaxApproxRow(new Float64Array(P.SMX_MAX_KEYS + 1))).toThrow(RangeError);
  });
  it('exportPolys lists every approximation with interval and stated error', () => {
    const e = P.exportPolys() as Record<string, { interval: number[] }>;
    expect(Object.keys(e).sort()).toEqual(['exp', 'gelu', 'invSqrt', 'lossSoftmax', 'relu', 'softmax', 'tanh']);
    for (const v of Object.values(e)) expect(v.interval.length).toBe(2);
  });
});
