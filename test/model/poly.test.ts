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
  it('exportPolys lists every approximation with interval and stated error', () => {
    const e = P.exportPolys() as Record<string, { interval: number[] }>;
    expect(Object.keys(e).sort()).toEqual(['exp', 'invSqrt', 'lossSoftmax', 'relu', 'tanh']);
    for (const v of Object.values(e)) expect(v.interval.length).toBe(2);
  });
});
