/**
 * Polynomial approximations used by the HE-friendly model, and the stand-ins the standard model's
 * encrypted run evaluates in place of its exact functions.
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

// ---------------------------------------------------------------------------------------------
// Stand-ins for the standard model's exact functions, which its encrypted run (the paper's
// baseline) evaluates instead. The plaintext standard model keeps the exact functions (its
// accuracy table); `Model.standIns` evaluates these to measure what they cost. LayerNorm's 1/sqrt
// and the pooler's tanh reuse invSqrtApprox and tanhApprox above: the standard encoder's inputs lie
// well inside their intervals (docs/model.md, "Input ranges of the standard model").

/** GELU, tanh form (the standard model's feed-forward activation). */
export function gelu(x: number): number {
  const u = GELU_K0 * (x + 0.044715 * x * x * x);
  return 0.5 * x * (1 + Math.tanh(u));
}
export const GELU_K0 = Math.sqrt(2 / Math.PI);
/** GELU by one Chebyshev interpolant on [-GELU_B, GELU_B] (observed inputs within +-6.7). */
export const GELU_B = 12;
export const GELU_DEGREE = 63;
export const GELU_MAX_ERR = 2e-6;
export const GELU_CHEB = chebFit(gelu, -GELU_B, GELU_B, GELU_DEGREE);
export const geluApprox = (x: number): number => chebEval(GELU_CHEB, x);

// Softmax attention rows, as the paper's baseline evaluates them (after HETAL, Lee et al. 2023):
//   - scores s = q.k / sqrt(d_h) in [-SMX_SCORE_B, SMX_SCORE_B] are normalised to u = s / (2B) in
//     [-1/2, 1/2]; masked keys get u = -1/2, at or below every real score, so the max ignores them;
//   - row max by a tree of pairwise max(a, b) = a + (d sgn(d) - d) / 2, d = a - b, with sgn by the
//     composite SMX_SIGN (Cheon et al.'s fast-growing degree-7 g, then the ReLU's degree-7 f). Since
//     |sgn| <= 1 a pairwise max never exceeds the true one and falls short by at most SMX_ROUND_SLACK
//     (normalised units); softmax is invariant to the shift, so this only widens the ranges below;
//   - exp(x), x = 2B (u - max) in [-2B, SMX_EXP_HI]: the degree-SMX_EXP_DEGREE Chebyshev interpolant
//     of exp on the interval shrunk 2^k-fold, then k squarings extend it back (domain extension by
//     squarings; k = SMX_EXP_SQUARINGS, each doubling costs one level and the relative error doubles);
//   - masked keys' exponentials multiplied by 0 (exact exclusion, as the plaintext softmax);
//   - 1/sum by Goldschmidt iterations: the sum lies in [SMX_SUM_MIN, SMX_SUM_MAX] (the max key gives
//     at least e^0, at most SMX_MAX_KEYS keys give at most e^SMX_EXP_HI each); with x = sum / c,
//     c = SMX_INV_CENTER the interval's midpoint, a = 2 - x, b = 1 - x, then b <- b^2, a <- a (1 + b)
//     SMX_INV_ITERATIONS times: a x = 1 - b_0^(2^(n+1)), relative error below 2^-19 on the interval;
//     1/sum = a / c. Every row needs a live key (the encrypted run gives filler rows their own key
//     and the client fills unused sequence slots with copies): a sum of 0 would give a = 2^(n+1).
export const SMX_SCORE_B = 12;
/** Most keys a row has (the model's maxLen), and most pairwise max rounds (key slots <= 2^6). */
export const SMX_MAX_KEYS = 40;
export const SMX_MAX_ROUNDS = 6;
/** g(t) = (4589 t - 16577 t^3 + 25614 t^5 - 12860 t^7) / 1024: coefficients of t, t^3, t^5, t^7. */
const G7 = [4589 / 1024, -16577 / 1024, 25614 / 1024, -12860 / 1024];
/** The comparison's sign: these odd degree-7 polynomials, applied in order. */
export const SMX_SIGN: readonly (readonly number[])[] = [G7, F7];
/** Largest shortfall d (1 - sgn(d)) / 2 of one pairwise max over d in [0, 1] (checked by the tests). */
export const SMX_ROUND_SLACK = 0.014;
/** Largest exp argument: the max's total shortfall, in score units. */
export const SMX_EXP_HI = SMX_MAX_ROUNDS * 2 * SMX_SCORE_B * SMX_ROUND_SLACK;
export const SMX_EXP_LO = -2 * SMX_SCORE_B;
export const SMX_EXP_SQUARINGS = 4;
export const SMX_EXP_DEGREE = 8;
/** stated max relative error of expSoftmaxApprox on [SMX_EXP_LO, SMX_EXP_HI] */
export const SMX_EXP_MAX_REL_ERR = 1e-7;
export const SMX_EXP_CHEB = chebFit(Math.exp, SMX_EXP_LO / 2 ** SMX_EXP_SQUARINGS, SMX_EXP_HI / 2 ** SMX_EXP_SQUARINGS, SMX_EXP_DEGREE);
export const SMX_SUM_MIN = 1 - 1e-3;
export const SMX_SUM_MAX = SMX_MAX_KEYS * Math.exp(SMX_EXP_HI) * (1 + 1e-3);
export const SMX_INV_CENTER = (SMX_SUM_MIN + SMX_SUM_MAX) / 2;
export const SMX_INV_ITERATIONS = 10;
/** stated max relative error of inverseApprox on [SMX_SUM_MIN, SMX_SUM_MAX] */
export const SMX_INV_MAX_REL_ERR = 2 ** -19;
/** stated max absolute error of each weight of softmaxApproxRow against the exact softmax */
export const SMX_MAX_ERR = 2e-6;

function oddDegree7(c: readonly number[], t: number): number {
  const t2 = t * t;
  return t * (c[0] + t2 * (c[1] + t2 * (c[2] + t2 * c[3])));
}
/** max(a, b) by the comparison polynomials, on normalised values (|a - b| <= 1). */
export function maxApprox(a: number, b: number): number {
  const d = a - b;
  let s = d;
  for (const c of SMX_SIGN) s = oddDegree7(c, s);
  return a + (d * s - d) / 2;
}
/** exp(x) on [SMX_EXP_LO, SMX_EXP_HI]: Chebyshev of exp(x / 2^k), squared k times. */
export function expSoftmaxApprox(x: number): number {
  let y = chebEval(SMX_EXP_CHEB, x / 2 ** SMX_EXP_SQUARINGS);
  for (let i = 0; i < SMX_EXP_SQUARINGS; i++) y *= y;
  return y;
}
/** 1/s on [SMX_SUM_MIN, SMX_SUM_MAX] by Goldschmidt iterations on s / c (times 1/c at the end). */
export function inverseApprox(s: number): number {
  let b = 1 - s / SMX_INV_CENTER;
  let a = 1 + b;
  for (let i = 0; i < SMX_INV_ITERATIONS; i++) {
    b *= b;
    a *= 1 + b;
  }
  return a / SMX_INV_CENTER;
}
/**
 * Softmax weights of one row of scores (q.k / sqrt(d_h)) by the stand-ins above; keys with mask 0
 * are excluded. The max is a tree of pairwise maxima over the row padded to a power of two (the
 * encrypted kernel's tree follows its packing, which changes only the shift the softmax cancels).
 */
export function softmaxApproxRow(scores: ArrayLike<number>, mask?: ArrayLike<number>): Float64Array {
  const n = scores.length;
  if (n > SMX_MAX_KEYS) throw new RangeError(`softmaxApproxRow: ${n} keys > SMX_MAX_KEYS (${SMX_MAX_KEYS})`);
  const live = (j: number) => !mask || mask[j] !== 0;
  const u = Array.from({ length: n }, (_, j) => (live(j) ? scores[j] / (2 * SMX_SCORE_B) : -0.5));
  let tree = [...u];
  while (tree.length & (tree.length - 1)) tree.push(-0.5);
  for (let span = tree.length / 2; span >= 1; span /= 2) tree = tree.slice(0, span).map((a, i) => maxApprox(a, tree[i + span]));
  const e = u.map((v, j) => (live(j) ? expSoftmaxApprox(2 * SMX_SCORE_B * (v - tree[0])) : 0));
  const inv = inverseApprox(e.reduce((s, v) => s + v, 0));
  return Float64Array.from(e, (v) => v * inv);
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
    gelu: { form: 'chebyshev', interval: [-GELU_B, GELU_B], degree: GELU_DEGREE, cheb: Array.from(GELU_CHEB.c), maxAbsErr: GELU_MAX_ERR },
    softmax: {
      form: 'u = s/(2B), masked -1/2; tree of max(a,b) = a + (d sgn d - d)/2; e = cheb_exp(x/2^k)^(2^k), x = 2B(u - max); e *= mask; y = Goldschmidt(sum e); e y',
      interval: [-SMX_SCORE_B, SMX_SCORE_B],
      maxKeys: SMX_MAX_KEYS,
      maxRounds: SMX_MAX_ROUNDS,
      sign: SMX_SIGN.map((c) => [...c]),
      roundSlack: SMX_ROUND_SLACK,
      expInterval: [SMX_EXP_LO, SMX_EXP_HI],
      expSquarings: SMX_EXP_SQUARINGS,
      expDegree: SMX_EXP_DEGREE,
      expCheb: Array.from(SMX_EXP_CHEB.c),
      sumInterval: [SMX_SUM_MIN, SMX_SUM_MAX],
      inverseCenter: SMX_INV_CENTER,
      inverseIterations: SMX_INV_ITERATIONS,
      maxAbsErr: SMX_MAX_ERR,
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
