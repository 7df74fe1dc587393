/**
 * Polynomial approximations used by the HE-friendly model.
 *
 * Every non-polynomial step of the HE-friendly variant is replaced here by a polynomial (or a
 * composition of polynomials) with a fixed degree and interval; the encrypted pipeline must use
 * exactly these definitions. Each approximation states its interval and its maximum error on
 * that interval (checked by test/model/poly.test.ts on a dense grid).
 *
 * Chebyshev coefficients are computed deterministically at load time (interpolation at the
 * Chebyshev nodes of the first kind); `exportPolys()` dumps them for the native side.
 */

/** Chebyshev series on [a, b]: f(x) ~ sum_j c[j] T_j(t), t = (2x - a - b) / (b - a). */
export interface Cheb {
  a: number;
  b: number;
  c: Float64Array;
  /** coefficients of the derivative series (w.r.t. x), same interval */
  dc: Float64Array;
}

export function chebFit(f: (x: number) => number, a: number, b: number, degree: number): Cheb {
  const n = degree + 1;
  const fx = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const t = Math.cos((Math.PI * (k + 0.5)) / n);
    fx[k] = f(0.5 * (b - a) * t + 0.5 * (b + a));
  }
  const c = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += fx[k] * Math.cos((Math.PI * j * (k + 0.5)) / n);
    c[j] = (2 / n) * s;
  }
  c[0] *= 0.5;
  return { a, b, c, dc: chebDerivCoeffs(c, a, b) };
}

function chebDerivCoeffs(c: Float64Array, a: number, b: number): Float64Array {
  const n = c.length - 1;
  const d = new Float64Array(Math.max(1, n));
  if (n === 0) return d;
  // d_{j-1} = d_{j+1} + 2 j c_j (with d_n = d_{n+1} = 0); then d_0 halved
  const tmp = new Float64Array(n + 2);
  for (let j = n; j >= 1; j--) tmp[j - 1] = tmp[j + 1] + 2 * j * c[j];
  for (let j = 0; j < n; j++) d[j] = tmp[j];
  d[0] *= 0.5;
  const s = 2 / (b - a);
  for (let j = 0; j < n; j++) d[j] *= s;
  return d;
}

/** Clenshaw evaluation of a Chebyshev series with coefficients c on [a, b]. */
export function chebEvalCoeffs(c: Float64Array, a: number, b: number, x: number): number {
  const t = (2 * x - a - b) / (b - a);
  const t2 = 2 * t;
  let b1 = 0;
  let b2 = 0;
  for (let j = c.length - 1; j >= 1; j--) {
    const b0 = c[j] + t2 * b1 - b2;
    b2 = b1;
    b1 = b0;
  }
  return c[0] + t * b1 - b2;
}

export const chebEval = (p: Cheb, x: number): number => chebEvalCoeffs(p.c, p.a, p.b, x);
export const chebDeriv = (p: Cheb, x: number): number => chebEvalCoeffs(p.dc, p.a, p.b, x);

// ---------------------------------------------------------------------------------------------
// exp on the Gaussian-kernel argument: exp(x) ~ (1 + x / 2^k)^(2^k), x in [EXP_LO, 0]
// (k squarings under HE; degree 2^k).
export const EXP_SQUARINGS = 10;
export const EXP_N = 2 ** EXP_SQUARINGS;
export const EXP_LO = -EXP_N; // (1 + x/n) in [0, 1] on the interval
export const EXP_HI = 0;
/** stated max absolute error on [EXP_LO, 0] (bound 2/(e^2 n) ~ 0.271/n, plus margin) */
export const EXP_MAX_ERR = 3e-4;

export function expPoly(x: number): number {
  let y = 1 + x / EXP_N;
  for (let i = 0; i < EXP_SQUARINGS; i++) y *= y;
  return y;
}
/** derivative of expPoly: (1 + x/n)^(n-1) */
export function expPolyDeriv(x: number): number {
  const base = 1 + x / EXP_N;
  let y = base;
  for (let i = 0; i < EXP_SQUARINGS; i++) y *= y;
  return base === 0 ? 0 : y / base;
}

// ---------------------------------------------------------------------------------------------
// 1/sqrt(s) for LayerNorm, s = var + eps in [ISQ_LO, ISQ_HI]:
// u = s / ISQ_HI in [ISQ_LO/ISQ_HI, 1]; y0 = Chebyshev(u) of degree ISQ_DEGREE; then
// ISQ_NEWTON Newton steps y <- y (1.5 - 0.5 u y^2); result y / sqrt(ISQ_HI).
export const ISQ_LO = 0.02;
export const ISQ_HI = 256;
export const ISQ_DEGREE = 63;
export const ISQ_NEWTON = 4;
/** stated max relative error of invSqrtApprox on [ISQ_LO, ISQ_HI] */
export const ISQ_MAX_REL_ERR = 1e-5;
export const ISQ_CHEB = chebFit((u) => 1 / Math.sqrt(u), ISQ_LO / ISQ_HI, 1, ISQ_DEGREE);
const ISQ_SCALE = 1 / Math.sqrt(ISQ_HI);

export function invSqrtApprox(s: number): number {
  const u = s / ISQ_HI;
  let y = chebEval(ISQ_CHEB, u);
  for (let i = 0; i < ISQ_NEWTON; i++) y = y * (1.5 - 0.5 * u * y * y);
  return y * ISQ_SCALE;
}
/** exact derivative of invSqrtApprox (chain rule through the Newton steps) */
export function invSqrtApproxDeriv(s: number): number {
  const u = s / ISQ_HI;
  let y = chebEval(ISQ_CHEB, u);
  let dy = chebDeriv(ISQ_CHEB, u); // dy/du
  for (let i = 0; i < ISQ_NEWTON; i++) {
    const ny = y * (1.5 - 0.5 * u * y * y);
    dy = dy * (1.5 - 1.5 * u * y * y) - 0.5 * y * y * y;
    y = ny;
  }
  return (dy * ISQ_SCALE) / ISQ_HI;
}

// ---------------------------------------------------------------------------------------------
// ReLU(x) = (x + x sign(x)) / 2 on [-RELU_B, RELU_B]; sign(t), t = x / RELU_B in [-1, 1], by the
// composition f(f(...f(t))) (SIGN_COMPOSE times) of the odd degree-7 polynomial
// f(t) = (35 t - 35 t^3 + 21 t^5 - 5 t^7) / 16 (Cheon et al., "Efficient homomorphic comparison").
export const RELU_B = 16;
export const SIGN_COMPOSE = 8;
/** stated max absolute error of reluApprox on [-RELU_B, RELU_B] */
export const RELU_MAX_ERR = 0.005;
const F7 = [35 / 16, -35 / 16, 21 / 16, -5 / 16]; // coefficients of t, t^3, t^5, t^7

function f7(t: number): number {
  const t2 = t * t;
  return t * (F7[0] + t2 * (F7[1] + t2 * (F7[2] + t2 * F7[3])));
}
function f7d(t: number): number {
  const t2 = t * t;
  return F7[0] + t2 * (3 * F7[1] + t2 * (5 * F7[2] + t2 * 7 * F7[3]));
}
export function signApprox(t: number): number {
  for (let i = 0; i < SIGN_COMPOSE; i++) t = f7(t);
  return t;
}
/** value and derivative (w.r.t. t) of signApprox */
export function signApproxWithDeriv(t: number): [number, number] {
  let d = 1;
  for (let i = 0; i < SIGN_COMPOSE; i++) {
    d *= f7d(t);
    t = f7(t);
  }
  return [t, d];
}
export function reluApprox(x: number): number {
  return 0.5 * (x + x * signApprox(x / RELU_B));
}
export function reluApproxDeriv(x: number): number {
  const [s, ds] = signApproxWithDeriv(x / RELU_B);
  return 0.5 * (1 + s + (x * ds) / RELU_B);
}

// ---------------------------------------------------------------------------------------------
// tanh for the pooler: Chebyshev degree TANH_DEGREE on [-TANH_B, TANH_B].
export const TANH_B = 6;
export const TANH_DEGREE = 47;
export const TANH_MAX_ERR = 1e-5;
export const TANH_CHEB = chebFit(Math.tanh, -TANH_B, TANH_B, TANH_DEGREE);
export const tanhApprox = (x: number): number => chebEval(TANH_CHEB, x);
export const tanhApproxDeriv = (x: number): number => chebDeriv(TANH_CHEB, x);

// ---------------------------------------------------------------------------------------------
// Softmax for the loss gradient (softmax - one-hot), after the authors' Chebyshev exp and inverse.
// The logits are centred by their mean (a linear step), so the largest is >= 0 and the sum of the
// exponentials is >= 1. exp: Chebyshev degree LOSS_EXP_DEGREE on [-LOSS_B, LOSS_B]; 1/sum:
// Chebyshev degree LOSS_INV_DEGREE on [1, LOSS_MAX_CLASSES e^LOSS_B], then LOSS_INV_NEWTON Newton
// steps y <- y (2 - s y), each of which squares the relative error.
export const LOSS_B = 4;
export const LOSS_MAX_CLASSES = 4;
export const LOSS_EXP_DEGREE = 15;
export const LOSS_INV_DEGREE = 63;
export const LOSS_INV_NEWTON = 2;
/** stated max absolute error of each probability of softmaxApprox (centred logits in [-LOSS_B, LOSS_B]) */
export const LOSS_SOFTMAX_MAX_ERR = 1e-7;
export const LOSS_EXP_CHEB = chebFit(Math.exp, -LOSS_B, LOSS_B, LOSS_EXP_DEGREE);
export const LOSS_INV_CHEB = chebFit((s) => 1 / s, 1, LOSS_MAX_CLASSES * Math.exp(LOSS_B), LOSS_INV_DEGREE);

/** logits minus their mean: the inputs of the loss exp, which must lie in [-LOSS_B, LOSS_B] */
export function centredLogits(logits: Float64Array): Float64Array {
  let mean = 0;
  for (const v of logits) mean += v / logits.length;
  return logits.map((v) => v - mean);
}

/** softmax of (at most LOSS_MAX_CLASSES) logits from already centred logits, by polynomials only */
export function softmaxApprox(centred: Float64Array): Float64Array {
  if (centred.length > LOSS_MAX_CLASSES) throw new RangeError(`softmaxApprox: ${centred.length} classes > LOSS_MAX_CLASSES (${LOSS_MAX_CLASSES})`);
  const e = centred.map((z) => chebEval(LOSS_EXP_CHEB, z));
  let sum = 0;
  for (const v of e) sum += v;
  let inv = chebEval(LOSS_INV_CHEB, sum);
  for (let i = 0; i < LOSS_INV_NEWTON; i++) inv = inv * (2 - sum * inv);
  return e.map((v) => v * inv);
}

/** The approximation table (for docs and the native pipeline). */
export function exportPolys(): Record<string, unknown> {
  return {
    exp: { form: '(1 + x/2^k)^(2^k)', k: EXP_SQUARINGS, interval: [EXP_LO, EXP_HI], maxAbsErr: EXP_MAX_ERR },
    invSqrt: {
      form: 'u = s/hi; y = cheb(u); Newton y <- y(1.5 - 0.5 u y^2); y/sqrt(hi)',
      interval: [ISQ_LO, ISQ_HI],
      degree: ISQ_DEGREE,
      newton: ISQ_NEWTON,
      chebInterval: [ISQ_CHEB.a, ISQ_CHEB.b],
      cheb: Array.from(ISQ_CHEB.c),
      maxRelErr: ISQ_MAX_REL_ERR,
    },
    relu: {
      form: '(x + x sign(x/B))/2, sign = f^(m)(t), f(t) = (35t - 35t^3 + 21t^5 - 5t^7)/16',
      interval: [-RELU_B, RELU_B],
      compose: SIGN_COMPOSE,
      f: F7,
      maxAbsErr: RELU_MAX_ERR,
    },
    tanh: { form: 'chebyshev', interval: [-TANH_B, TANH_B], degree: TANH_DEGREE, cheb: Array.from(TANH_CHEB.c), maxAbsErr: TANH_MAX_ERR },
    lossSoftmax: {
      form: 'z = logits - mean; e = cheb_exp(z); s = sum e; y = cheb_inv(s); Newton y <- y(2 - s y); e y',
      interval: [-LOSS_B, LOSS_B],
      maxClasses: LOSS_MAX_CLASSES,
      expDegree: LOSS_EXP_DEGREE,
      expCheb: Array.from(LOSS_EXP_CHEB.c),
      invInterval: [LOSS_INV_CHEB.a, LOSS_INV_CHEB.b],
      invDegree: LOSS_INV_DEGREE,
      invCheb: Array.from(LOSS_INV_CHEB.c),
      newton: LOSS_INV_NEWTON,
      maxAbsErr: LOSS_SOFTMAX_MAX_ERR,
    },
  };
}

/**
 * Where the training penalty starts to act: each interval shrunk by a margin at the ends where the
 * approximation explodes. Outside its interval a polynomial grows so fast (a degree-63 Chebyshev,
 * an 8-fold composition) that one step across the edge gives Inf/NaN; pushing back before the edge
 * keeps training finite. The approximations are still accurate up to the interval's edge.
 */
export const PENALTY_INTERVAL = {
  layernormVar: [1.25 * ISQ_LO, 0.8 * ISQ_HI],
  gaussExp: [0.9 * EXP_LO, EXP_HI],
  relu: [-0.9 * RELU_B, 0.9 * RELU_B],
  tanh: [-0.9 * TANH_B, 0.9 * TANH_B],
  lossLogit: [-0.9 * LOSS_B, 0.9 * LOSS_B],
} as const;
