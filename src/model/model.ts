/**
 * A small pre-norm BERT-like encoder with two variants on one code path:
 *  - 'standard':   softmax attention, exact LayerNorm, GELU feed-forward, exact tanh pooler.
 *  - 'hefriendly': Gaussian-kernel attention S_ij = exp(-||q_i - k_j||^2 / (2 sqrt(d_h))) (no row
 *                  normalisation) with exp by (1 + x/2^k)^(2^k); LayerNorm with 1/sqrt by
 *                  Chebyshev + Newton; ReLU by sign polynomials; pooler tanh by Chebyshev. Every
 *                  approximation's input is tracked and pushed into its interval by a penalty.
 * Hand-written forward/backward for one sequence at a time (no padding needed in plaintext: the
 * encrypted pipeline's 0/1 key mask gives the same result). LoRA on Wq, Wk, Wv.
 */
import { InvalidArgumentError } from '../api/errors';
import { describeModel, type LinearStep, type ModelDescription } from './description';
import { mm, mmAt, mmBt, countNonlin } from './ops';
import * as P from './poly';
import { gaussian, mulberry32 } from './rng';

export type Variant = 'standard' | 'hefriendly';
export type Mode = 'pretrain' | 'full' | 'lora' | 'frozen';

export interface ModelConfig {
  vocab: number;
  dim: number;
  heads: number;
  layers: number;
  ffn: number;
  maxLen: number;
  variant: Variant;
  numLabels: number;
  loraRank: number;
  loraScale: number;
  /** weight of the interval penalty (hefriendly only) */
  penalty: number;
  lnEps: number;
  /**
   * Multipliers on the initial W_Q, W_K (qk) and W_O (out) of every layer. The unnormalised
   * Gaussian kernel at the standard initialisation gives each query row an attention mass of about
   * 0.1 (||q - k||^2 ~ 2 d_h), and its gradient is proportional to that mass, so pretraining never
   * brings attention to life; smaller W_Q, W_K start the kernel near 1 and a smaller W_O keeps the
   * attention output at the size a softmax's would have. Absent: 1, 1.
   */
  attnInit?: { qk: number; out: number };
  /**
   * Pretraining only (hefriendly): a penalty weight * max(0, log(floor / m))^2 on every query row
   * whose attention mass m = sum_j S_ij falls below `floor`. Without it a layer's kernel can drift to
   * a mass near 0, where its gradient (proportional to the mass) vanishes and the layer stays off for
   * good, leaving LoRA on its W_Q, W_K, W_V nothing to adapt. In log form the push does not vanish
   * with the mass. Fine-tuning and inference never compute it.
   */
  attnMassFloor?: { floor: number; weight: number };
  /**
   * The loss gradient softmax - one-hot from the polynomial softmax (P.softmaxApprox: centred
   * logits, Chebyshev exp and inverse) that the encrypted pipeline runs; the centred logits are
   * tracked and kept inside [-LOSS_B, LOSS_B] by the interval penalty. Absent: exact softmax.
   */
  approxLossSoftmax?: boolean;
}

export const DEFAULT_CONFIG: Omit<ModelConfig, 'vocab' | 'variant'> = {
  dim: 64,
  heads: 2,
  layers: 2,
  ffn: 128,
  maxLen: 40,
  numLabels: 2,
  loraRank: 2,
  loraScale: 1,
  penalty: 0.1,
  lnEps: 1e-5,
};

export interface Param {
  name: string;
  shape: number[];
  data: Float64Array;
  grad: Float64Array;
  trainable: boolean;
}

/** Range statistics of the inputs of every approximated function (min, max seen). */
export type Ranges = Record<string, { min: number; max: number; outside: number; total: number }>;

const LAYER_W = ['wq', 'wk', 'wv', 'wo'] as const;
const LORA_T = ['q', 'k', 'v'] as const;

export class Model {
  readonly cfg: ModelConfig;
  /** The layer list this executor walks (and the encrypted one too). */
  readonly desc: ModelDescription;
  readonly params = new Map<string, Param>();
  mode: Mode = 'pretrain';
  ranges: Ranges = {};
  /** accumulated interval penalty of the last forward passes (reset by the trainer) */
  penaltyLoss = 0;
  /**
   * Standard variant, inference only: evaluate softmax, LayerNorm's 1/sqrt, GELU and the pooler's
   * tanh by the polynomial stand-ins of poly.ts that the encrypted executor runs, instead of the
   * exact functions (to measure what the stand-ins cost; backward passes refuse it).
   */
  standIns = false;

  constructor(cfg: ModelConfig, seed = 1) {
    this.cfg = cfg;
    this.desc = describeModel(cfg);
    const rng = mulberry32(seed);
    const { vocab: V, dim: D, ffn: F, maxLen: T, numLabels: C, loraRank: r } = cfg;
    const normal = (std: number) => () => gaussian(rng) * std;
    const zero = () => () => 0;
    const one = () => () => 1;
    const add = (name: string, shape: number[], init: () => number) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = init();
      this.params.set(name, { name, shape, data, grad: new Float64Array(n), trainable: true });
    };
    add('emb.tok', [V, D], normal(0.25));
    add('emb.pos', [T, D], normal(0.1));
    for (let l = 0; l < cfg.layers; l++) {
      add(`L${l}.ln1.g`, [D], one());
      add(`L${l}.ln1.b`, [D], zero());
      for (const w of LAYER_W) add(`L${l}.${w}`, [D, D], normal(1 / Math.sqrt(D)));
      add(`L${l}.ln2.g`, [D], one());
      add(`L${l}.ln2.b`, [D], zero());
      add(`L${l}.w1`, [D, F], normal(1 / Math.sqrt(D)));
      add(`L${l}.w2`, [F, D], normal(0.5 / Math.sqrt(F)));
      for (const t of LORA_T) {
        // A: Kaiming-uniform-like, B: zeros (LoRA starts as the identity update)
        const bound = 1 / Math.sqrt(D);
        add(`L${l}.${t}.loraA`, [D, r], () => (2 * rng() - 1) * bound);
        add(`L${l}.${t}.loraB`, [r, D], zero());
      }
    }
    const scale = (name: string, f: number) => this.p(name).data.forEach((x, i, a) => (a[i] = x * f));
    for (let l = 0; l < cfg.layers; l++) {
      scale(`L${l}.wq`, cfg.attnInit?.qk ?? 1);
      scale(`L${l}.wk`, cfg.attnInit?.qk ?? 1);
      scale(`L${l}.wo`, cfg.attnInit?.out ?? 1);
    }
    add('lnf.g', [D], one());
    add('lnf.b', [D], zero());
    add('mlm.bias', [V], zero());
    add('head.wp', [D, D], normal(1 / Math.sqrt(D)));
    add('head.bp', [D], zero());
    add('head.wc', [D, C], normal(1 / Math.sqrt(D)));
    add('head.bc', [C], zero());
    this.setMode('pretrain');
  }

  p(name: string): Param {
    const x = this.params.get(name);
    if (!x) throw new Error(`no param ${name}`);
    return x;
  }

  /**
   * Which parameters train (and so would be encrypted) in each mode. 'frozen' (inference) keeps
   * whatever adapters are loaded; 'pretrain' and 'full' do not evaluate adapters, so they refuse a
   * model whose adapters are non-zero rather than silently dropping them.
   */
  setMode(mode: Mode): void {
    if ((mode === 'pretrain' || mode === 'full') && this.hasAdapters())
      throw new InvalidArgumentError(`mode '${mode}' would ignore this model's non-zero LoRA adapters; use 'lora' or 'frozen'`);
    this.mode = mode;
    for (const p of this.params.values()) {
      const isLora = p.name.includes('.lora');
      const isHead = p.name.startsWith('head.');
      const isEmb = p.name.startsWith('emb.') || p.name === 'mlm.bias';
      if (mode === 'pretrain') p.trainable = !isLora && !isHead;
      else if (mode === 'full') p.trainable = !isLora && !isEmb;
      else if (mode === 'lora') p.trainable = isLora || isHead;
      else p.trainable = false;
    }
  }

  /** Whether the LoRA branch is evaluated: when training adapters, and at inference. */
  get loraOn(): boolean {
    return this.mode === 'lora' || this.mode === 'frozen';
  }

  /** Whether any LoRA B factor is non-zero (a model fine-tuned with LoRA). */
  hasAdapters(): boolean {
    for (const p of this.params.values()) if (p.name.endsWith('.loraB') && p.data.some((x) => x !== 0)) return true;
    return false;
  }

  /** is this weight a ciphertext in the encrypted pipeline? (trained => encrypted) */
  enc(name: string): boolean {
    return this.mode !== 'pretrain' && this.p(name).trainable;
  }

  zeroGrad(): void {
    for (const p of this.params.values()) p.grad.fill(0);
  }

  /**
   * Record x, an input of an approximated function with interval [lo, hi], and return the gradient
   * of the penalty, which acts outside the narrower `safe` interval (P.PENALTY_INTERVAL).
   */
  private track(kind: string, x: number, lo: number, hi: number, safe: readonly [number, number]): number {
    this.record(kind, x, lo, hi);
    if (x < safe[0] || x > safe[1]) {
      const d = x < safe[0] ? x - safe[0] : x - safe[1];
      this.penaltyLoss += this.cfg.penalty * d * d;
      return 2 * this.cfg.penalty * d; // d(penalty)/dx
    }
    return 0;
  }

  /** Record x, an input of a function the encrypted run approximates on [lo, hi] (no penalty). */
  private record(kind: string, x: number, lo: number, hi: number): void {
    const r = (this.ranges[kind] ??= { min: Infinity, max: -Infinity, outside: 0, total: 0 });
    if (x < r.min) r.min = x;
    if (x > r.max) r.max = x;
    r.total++;
    if (x < lo || x > hi) r.outside++;
  }

  private refuseStandInGradients(): void {
    if (this.standIns) throw new InvalidArgumentError('the polynomial stand-ins are for inference: a backward pass with standIns is not supported');
  }

  // ------------------------------------------------------------------------------------------
  // LayerNorm on n rows of width D
  private lnForward(x: Float64Array, n: number, gname: string, bname: string) {
    const D = this.cfg.dim;
    const g = this.p(gname).data;
    const b = this.p(bname).data;
    const he = this.cfg.variant === 'hefriendly';
    const xc = new Float64Array(n * D);
    const y = new Float64Array(n * D);
    const r = new Float64Array(n);
    const dr = new Float64Array(n); // d r / d s
    const pen = new Float64Array(n); // d penalty / d s
    countNonlin(he ? 'invSqrt(poly)' : 'invSqrt', n);
    for (let i = 0; i < n; i++) {
      let mu = 0;
      for (let j = 0; j < D; j++) mu += x[i * D + j];
      mu /= D;
      let v = 0;
      for (let j = 0; j < D; j++) {
        const c = x[i * D + j] - mu;
        xc[i * D + j] = c;
        v += c * c;
      }
      const s = v / D + this.cfg.lnEps;
      if (he) {
        pen[i] = this.track('layernorm.var', s, P.ISQ_LO, P.ISQ_HI, P.PENALTY_INTERVAL.layernormVar);
        r[i] = P.invSqrtApprox(s);
        dr[i] = P.invSqrtApproxDeriv(s);
      } else {
        this.record('layernorm.var', s, P.ISQ_LO, P.ISQ_HI);
        r[i] = this.standIns ? P.invSqrtApprox(s) : 1 / Math.sqrt(s);
        dr[i] = -0.5 * r[i] * r[i] * r[i];
      }
      for (let j = 0; j < D; j++) y[i * D + j] = xc[i * D + j] * r[i] * g[j] + b[j];
    }
    return { y, cache: { xc, r, dr, pen, n, gname, bname } };
  }

  private lnBackward(dy: Float64Array, c: { xc: Float64Array; r: Float64Array; dr: Float64Array; pen: Float64Array; n: number; gname: string; bname: string }): Float64Array {
    const D = this.cfg.dim;
    const G = this.p(c.gname);
    const Bp = this.p(c.bname);
    const g = G.data;
    const dx = new Float64Array(c.n * D);
    const dxc = new Float64Array(D);
    for (let i = 0; i < c.n; i++) {
      const ri = c.r[i];
      let A = 0;
      for (let j = 0; j < D; j++) {
        const d = dy[i * D + j];
        const xcij = c.xc[i * D + j];
        if (G.trainable) G.grad[j] += d * xcij * ri;
        if (Bp.trainable) Bp.grad[j] += d;
        A += d * g[j] * xcij;
      }
      const ds = A * c.dr[i] + c.pen[i]; // dL/ds
      let mean = 0;
      for (let j = 0; j < D; j++) {
        const v = dy[i * D + j] * g[j] * ri + (ds * 2 * c.xc[i * D + j]) / D;
        dxc[j] = v;
        mean += v;
      }
      mean /= D;
      for (let j = 0; j < D; j++) dx[i * D + j] = dxc[j] - mean;
    }
    return dx;
  }

  // ------------------------------------------------------------------------------------------
  /** linear step h W (+ LoRA); h is n x inputs activations (encrypted) */
  private proj(h: Float64Array, n: number, step: LinearStep) {
    const { inputs: din, outputs: dout, lora } = step;
    const y = mm(h, this.p(step.weight).data, n, din, dout, true, this.enc(step.weight));
    let hA: Float64Array | undefined;
    if (lora && this.loraOn) {
      const A = this.p(lora.a);
      const B = this.p(lora.b);
      hA = mm(h, A.data, n, din, lora.rank, true, this.enc(A.name));
      const t = mm(hA, B.data, n, lora.rank, dout, true, this.enc(B.name));
      for (let i = 0; i < y.length; i++) y[i] += lora.scale * t[i];
    }
    return { y, hA };
  }

  private projBackward(dy: Float64Array, h: Float64Array, hA: Float64Array | undefined, n: number, step: LinearStep, dh: Float64Array): void {
    const { inputs: din, outputs: dout, lora } = step;
    const W = this.p(step.weight);
    if (W.trainable) mmAt(h, dy, n, din, dout, true, true, W.grad, true);
    mmBt(dy, W.data, n, dout, din, true, this.enc(W.name), dh, true);
    if (lora && this.loraOn && hA) {
      const r = lora.rank;
      const A = this.p(lora.a);
      const B = this.p(lora.b);
      const ds = new Float64Array(dy.length);
      for (let i = 0; i < ds.length; i++) ds[i] = lora.scale * dy[i];
      if (B.trainable) mmAt(hA, ds, n, r, dout, true, true, B.grad, true);
      const dhA = mmBt(ds, B.data, n, dout, r, true, this.enc(B.name));
      if (A.trainable) mmAt(h, dhA, n, din, r, true, true, A.grad, true);
      mmBt(dhA, A.data, n, r, din, true, this.enc(A.name), dh, true);
    }
  }

  // ------------------------------------------------------------------------------------------
  /**
   * attention core for one head; q,k,v: n x dh (extracted); returns out and cache. keyMask (0/1 per
   * key) removes padded keys: multiplied into the Gaussian kernel (as the encrypted pipeline does),
   * excluded from the softmax.
   */
  private attnHead(q: Float64Array, k: Float64Array, v: Float64Array, n: number, dh: number, keyMask?: Float64Array) {
    const he = this.cfg.variant === 'hefriendly';
    const S = new Float64Array(n * n);
    const dS = new Float64Array(n * n); // d S / d arg (he) — reused
    const pen = new Float64Array(n * n);
    if (he) {
      // arg_ij = -(|q_i|^2 + |k_j|^2 - 2 q_i.k_j) / (2 sqrt(dh)): one ct x ct product q k^T
      const qk = mmBt(q, k, n, dh, n, true, true);
      const qq = new Float64Array(n);
      const kk = new Float64Array(n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < dh; j++) {
          qq[i] += q[i * dh + j] * q[i * dh + j];
          kk[i] += k[i * dh + j] * k[i * dh + j];
        }
      const c = 1 / (2 * Math.sqrt(dh));
      countNonlin('exp(poly)', n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          const a = -(qq[i] + kk[j] - 2 * qk[i * n + j]) * c;
          pen[i * n + j] = this.track('gauss.exp', a, P.EXP_LO, P.EXP_HI, P.PENALTY_INTERVAL.gaussExp);
          const m = keyMask ? keyMask[j] : 1;
          S[i * n + j] = m * P.expPoly(a);
          dS[i * n + j] = m * P.expPolyDeriv(a);
        }
      if (this.mode === 'pretrain' && this.cfg.attnMassFloor) this.massFloorPenalty(S, dS, pen, n);
    } else {
      const sc = mmBt(q, k, n, dh, n, true, true);
      const c = 1 / Math.sqrt(dh);
      countNonlin('softmax(max,exp,inverse)', n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) if (!keyMask || keyMask[j]) this.record('softmax.score', sc[i * n + j] * c, -P.SMX_SCORE_B, P.SMX_SCORE_B);
        if (this.standIns) {
          S.set(P.softmaxApproxRow(sc.subarray(i * n, (i + 1) * n).map((x) => x * c), keyMask), i * n);
          continue;
        }
        let mx = -Infinity;
        for (let j = 0; j < n; j++) if (!keyMask || keyMask[j]) mx = Math.max(mx, sc[i * n + j] * c);
        let z = 0;
        for (let j = 0; j < n; j++) {
          const e = keyMask && !keyMask[j] ? 0 : Math.exp(sc[i * n + j] * c - mx);
          S[i * n + j] = e;
          z += e;
        }
        for (let j = 0; j < n; j++) S[i * n + j] /= z;
      }
    }
    const out = mm(S, v, n, n, dh, true, true);
    return { out, cache: { q, k, v, S, dS, pen } };
  }

  /** Adds the attention-mass floor penalty of each row (ModelConfig.attnMassFloor) and its d/d arg into pen. */
  private massFloorPenalty(S: Float64Array, dS: Float64Array, pen: Float64Array, n: number): void {
    const { floor, weight } = this.cfg.attnMassFloor!;
    for (let i = 0; i < n; i++) {
      let mass = 0;
      for (let j = 0; j < n; j++) mass += S[i * n + j];
      const short = Math.log(floor / mass);
      if (short <= 0) continue;
      this.penaltyLoss += weight * short * short;
      const dMass = (-2 * weight * short) / mass; // d penalty / d S_ij, the same for every j
      for (let j = 0; j < n; j++) pen[i * n + j] += dMass * dS[i * n + j];
    }
  }

  private attnHeadBackward(dout: Float64Array, c: { q: Float64Array; k: Float64Array; v: Float64Array; S: Float64Array; dS: Float64Array; pen: Float64Array }, n: number, dh: number) {
    const he = this.cfg.variant === 'hefriendly';
    const dP = mmBt(dout, c.v, n, dh, n, true, true);
    const dv = mmAt(c.S, dout, n, n, dh, true, true);
    const darg = new Float64Array(n * n);
    let scale: number;
    if (he) {
      for (let i = 0; i < n * n; i++) darg[i] = dP[i] * c.dS[i] + c.pen[i];
      scale = 1 / Math.sqrt(dh);
    } else {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += dP[i * n + j] * c.S[i * n + j];
        for (let j = 0; j < n; j++) darg[i * n + j] = c.S[i * n + j] * (dP[i * n + j] - s);
      }
      scale = 1 / Math.sqrt(dh);
    }
    // standard: scores = q k^T * scale -> dq = darg k scale, dk = darg^T q scale
    // gaussian: arg = (2 q.k - |q|^2 - |k|^2) * scale/2 -> dq = (darg k - rowsum(darg) q) scale
    const dq = mm(darg, c.k, n, n, dh, true, true);
    const dk = mmAt(darg, c.q, n, n, dh, true, true);
    if (he) {
      for (let i = 0; i < n; i++) {
        let rs = 0;
        let cs = 0;
        for (let j = 0; j < n; j++) {
          rs += darg[i * n + j];
          cs += darg[j * n + i];
        }
        for (let t = 0; t < dh; t++) {
          dq[i * dh + t] -= rs * c.q[i * dh + t];
          dk[i * dh + t] -= cs * c.k[i * dh + t];
        }
      }
    }
    for (let i = 0; i < dq.length; i++) {
      dq[i] *= scale;
      dk[i] *= scale;
    }
    return { dq, dk, dv };
  }

  // ------------------------------------------------------------------------------------------
  private act(a: Float64Array): { z: Float64Array; dz: Float64Array } {
    const z = new Float64Array(a.length);
    const dz = new Float64Array(a.length);
    if (this.cfg.variant === 'hefriendly') {
      countNonlin('relu(sign poly)', a.length);
      for (let i = 0; i < a.length; i++) {
        const x = a[i];
        const pg = this.track('relu', x, -P.RELU_B, P.RELU_B, P.PENALTY_INTERVAL.relu);
        z[i] = P.reluApprox(x);
        dz[i] = P.reluApproxDeriv(x);
        this.actPen.push(pg);
      }
    } else {
      countNonlin('gelu', a.length);
      const k0 = P.GELU_K0;
      for (let i = 0; i < a.length; i++) {
        const x = a[i];
        this.record('gelu', x, -P.GELU_B, P.GELU_B);
        const u = k0 * (x + 0.044715 * x * x * x);
        const t = Math.tanh(u);
        z[i] = this.standIns ? P.geluApprox(x) : 0.5 * x * (1 + t);
        dz[i] = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k0 * (1 + 3 * 0.044715 * x * x);
      }
    }
    return { z, dz };
  }
  private actPen: number[] = [];

  // ------------------------------------------------------------------------------------------
  /**
   * Encoder forward on token ids; returns final normalised hidden states (n x D) and cache. Walks
   * the description's layer list. Positions from `length` on are padding: every row is computed,
   * but padded keys are masked out of attention, so the rows before `length` equal those of the
   * unpadded sequence (as in the encrypted pipeline, which hides the length).
   */
  encode(ids: number[], length = ids.length) {
    const { dim: D, heads: H } = this.cfg;
    const n = ids.length;
    const dh = D / H;
    const E = this.p(this.desc.embedding.token).data;
    const Pp = this.p(this.desc.embedding.position).data;
    const keyMask = length < n ? Float64Array.from(ids, (_, j) => (j < length ? 1 : 0)) : undefined;
    // embedding: client side, plaintext
    let x = new Float64Array(n * D);
    for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) x[i * D + j] = E[ids[i] * D + j] + Pp[i * D + j];
    const layers: any[] = [];
    for (const layer of this.desc.layers) {
      const ln1 = this.lnForward(x, n, layer.ln1.gamma, layer.ln1.beta);
      const h = ln1.y;
      const Q = this.proj(h, n, layer.query);
      const K = this.proj(h, n, layer.key);
      const Vv = this.proj(h, n, layer.value);
      const att = new Float64Array(n * D);
      const heads: any[] = [];
      for (let hh = 0; hh < H; hh++) {
        const q = sliceCols(Q.y, n, D, hh * dh, dh);
        const k = sliceCols(K.y, n, D, hh * dh, dh);
        const v = sliceCols(Vv.y, n, D, hh * dh, dh);
        const r = this.attnHead(q, k, v, n, dh, keyMask);
        putCols(att, r.out, n, D, hh * dh, dh);
        heads.push(r.cache);
      }
      const O = this.proj(att, n, layer.output);
      const x1 = new Float64Array(n * D);
      for (let i = 0; i < x1.length; i++) x1[i] = x[i] + O.y[i];
      const ln2 = this.lnForward(x1, n, layer.ln2.gamma, layer.ln2.beta);
      const a = this.proj(ln2.y, n, layer.up).y;
      this.actPen = [];
      const { z, dz } = this.act(a);
      const actPen = Float64Array.from(this.actPen);
      const f = this.proj(z, n, layer.down).y;
      const x2 = new Float64Array(n * D);
      for (let i = 0; i < x2.length; i++) x2[i] = x1[i] + f[i];
      layers.push({ ln1: ln1.cache, h, Q, K, Vv, heads, att, x1, ln2: ln2.cache, h2: ln2.y, a, z, dz, actPen, x2 });
      x = x2;
    }
    const lnf = this.lnForward(x, n, this.desc.finalNorm.gamma, this.desc.finalNorm.beta);
    return { y: lnf.y, cache: { ids, n, layers, lnf: lnf.cache } };
  }

  /** Backward through the encoder given dL/dy (n x D). Accumulates into param grads. */
  encodeBackward(dy: Float64Array, cache: ReturnType<Model['encode']>['cache']): void {
    const { dim: D, heads: H, ffn: F } = this.cfg;
    const n = cache.n;
    const dh = D / H;
    let dx = this.lnBackward(dy, cache.lnf);
    for (let l = this.desc.layers.length - 1; l >= 0; l--) {
      const layer = this.desc.layers[l];
      const c = cache.layers[l];
      // x2 = x1 + W2 act(W1 ln2(x1))
      const dz = new Float64Array(n * F);
      this.projBackward(dx, c.z, undefined, n, layer.down, dz);
      const da = new Float64Array(n * F);
      for (let i = 0; i < da.length; i++) da[i] = dz[i] * c.dz[i] + (c.actPen.length ? c.actPen[i] : 0);
      const dh2 = new Float64Array(n * D);
      this.projBackward(da, c.h2, undefined, n, layer.up, dh2);
      const dx1 = this.lnBackward(dh2, c.ln2);
      for (let i = 0; i < dx1.length; i++) dx1[i] += dx[i];
      // x1 = x + Wo attn(ln1(x))
      const datt = new Float64Array(n * D);
      this.projBackward(dx1, c.att, undefined, n, layer.output, datt);
      const dQ = new Float64Array(n * D);
      const dK = new Float64Array(n * D);
      const dV = new Float64Array(n * D);
      for (let hh = 0; hh < H; hh++) {
        const dout = sliceCols(datt, n, D, hh * dh, dh);
        const g = this.attnHeadBackward(dout, c.heads[hh], n, dh);
        putCols(dQ, g.dq, n, D, hh * dh, dh);
        putCols(dK, g.dk, n, D, hh * dh, dh);
        putCols(dV, g.dv, n, D, hh * dh, dh);
      }
      const dhh = new Float64Array(n * D);
      this.projBackward(dQ, c.h, c.Q.hA, n, layer.query, dhh);
      this.projBackward(dK, c.h, c.K.hA, n, layer.key, dhh);
      this.projBackward(dV, c.h, c.Vv.hA, n, layer.value, dhh);
      const dx0 = this.lnBackward(dhh, c.ln1);
      for (let i = 0; i < dx0.length; i++) dx0[i] += dx1[i];
      dx = dx0;
    }
    // embeddings (only trained in pretraining)
    const E = this.p(this.desc.embedding.token);
    const Pp = this.p(this.desc.embedding.position);
    if (E.trainable) for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) E.grad[cache.ids[i] * D + j] += dx[i * D + j];
    if (Pp.trainable) for (let i = 0; i < n * D; i++) Pp.grad[i] += dx[i];
  }

  // ------------------------------------------------------------------------------------------
  /**
   * Class probabilities of the loss, exact or polynomial (ModelConfig.approxLossSoftmax), and the
   * interval penalty's gradient w.r.t. the logits (zero for the exact softmax).
   */
  private lossSoftmax(logits: Float64Array): { pr: Float64Array; pen: Float64Array } {
    const C = logits.length;
    const pen = new Float64Array(C);
    if (this.cfg.approxLossSoftmax) {
      countNonlin('loss softmax(poly)', C);
      const z = P.centredLogits(logits);
      // d z_c / d logit_k = [c = k] - 1/C, so the penalty gradient is centred as well
      for (let c = 0; c < C; c++) pen[c] = this.track('loss.logit', z[c], -P.LOSS_B, P.LOSS_B, P.PENALTY_INTERVAL.lossLogit);
      return { pr: P.softmaxApprox(z), pen: P.centredLogits(pen) };
    }
    countNonlin('loss softmax', C);
    let mx = -Infinity;
    for (let c = 0; c < C; c++) mx = Math.max(mx, logits[c]);
    let s = 0;
    const pr = new Float64Array(C);
    for (let c = 0; c < C; c++) s += pr[c] = Math.exp(logits[c] - mx);
    for (let c = 0; c < C; c++) pr[c] /= s;
    return { pr, pen };
  }

  /**
   * Classification: loss (cross-entropy) and backward when label given. `length` as in encode:
   * positions from it on are padding. `encoded` receives the encoder's forward cache and pooler
   * input (the per-stage values the encrypted pipeline's report compares against).
   */
  classify(ids: number[], label?: number, backward = false, length = ids.length, encoded?: (cache: ReturnType<Model['encode']>, poolerInput: Float64Array) => void): { logits: Float64Array; loss: number } {
    const { dim: D, numLabels: C } = this.cfg;
    const he = this.cfg.variant === 'hefriendly';
    if (backward) this.refuseStandInGradients();
    const { pooler: poolerStep, classifier: classifierStep } = this.desc.head;
    const enc = this.encode(ids, length);
    const pooled = enc.y.subarray(0, D); // [CLS]
    const u = mm(pooled, this.p(poolerStep.weight).data, 1, D, D, true, this.enc(poolerStep.weight));
    const bp = this.p(poolerStep.bias).data;
    const z = new Float64Array(D);
    const dzdu = new Float64Array(D);
    const pen = new Float64Array(D);
    countNonlin(he ? 'tanh(poly)' : 'tanh', D);
    for (let j = 0; j < D; j++) {
      const x = u[j] + bp[j];
      if (he) {
        pen[j] = this.track('pooler.tanh', x, -P.TANH_B, P.TANH_B, P.PENALTY_INTERVAL.tanh);
        z[j] = P.tanhApprox(x);
        dzdu[j] = P.tanhApproxDeriv(x);
      } else {
        this.record('pooler.tanh', x, -P.TANH_B, P.TANH_B);
        z[j] = this.standIns ? P.tanhApprox(x) : Math.tanh(x);
        dzdu[j] = 1 - z[j] * z[j];
      }
    }
    encoded?.(enc, Float64Array.from(u, (x, j) => x + bp[j]));
    const logits = mm(z, this.p(classifierStep.weight).data, 1, D, C, true, this.enc(classifierStep.weight));
    const bc = this.p(classifierStep.bias).data;
    for (let c = 0; c < C; c++) logits[c] += bc[c];
    if (label === undefined) return { logits, loss: 0 };
    // cross-entropy; gradient softmax - onehot
    const { pr, pen: logitPen } = this.lossSoftmax(logits);
    const loss = -Math.log(Math.max(pr[label], 1e-300));
    if (!backward) return { logits, loss };
    const dlog = pr;
    dlog[label] -= 1;
    for (let c = 0; c < C; c++) dlog[c] += logitPen[c];
    const Wc = this.p(classifierStep.weight);
    const Bc = this.p(classifierStep.bias);
    if (Wc.trainable) mmAt(z, dlog, 1, D, C, true, true, Wc.grad, true);
    if (Bc.trainable) for (let c = 0; c < C; c++) Bc.grad[c] += dlog[c];
    const dz = mmBt(dlog, Wc.data, 1, C, D, true, this.enc(Wc.name));
    const du = new Float64Array(D);
    for (let j = 0; j < D; j++) du[j] = dz[j] * dzdu[j] + pen[j];
    const Wp = this.p(poolerStep.weight);
    const Bp = this.p(poolerStep.bias);
    if (Wp.trainable) mmAt(pooled, du, 1, D, D, true, true, Wp.grad, true);
    if (Bp.trainable) for (let j = 0; j < D; j++) Bp.grad[j] += du[j];
    const dy = new Float64Array(enc.y.length);
    mmBt(du, Wp.data, 1, D, D, true, this.enc(Wp.name), dy.subarray(0, D), true);
    this.encodeBackward(dy, enc.cache);
    return { logits, loss };
  }

  /** Masked-LM loss at `positions` with targets; tied output embedding + bias. */
  mlm(ids: number[], positions: number[], targets: number[], backward = false): { loss: number; correct: number } {
    const { dim: D, vocab: V } = this.cfg;
    if (backward) this.refuseStandInGradients();
    const enc = this.encode(ids);
    const E = this.p('emb.tok');
    const bias = this.p('mlm.bias');
    let loss = 0;
    let correct = 0;
    const dy = new Float64Array(enc.y.length);
    const m = positions.length;
    for (let t = 0; t < m; t++) {
      const pos = positions[t];
      const h = enc.y.subarray(pos * D, pos * D + D);
      const lg = mmBt(h, E.data, 1, D, V, false, false);
      let mx = -Infinity;
      let arg = 0;
      for (let v = 0; v < V; v++) {
        lg[v] += bias.data[v];
        if (lg[v] > mx) (mx = lg[v]), (arg = v);
      }
      if (arg === targets[t]) correct++;
      let s = 0;
      for (let v = 0; v < V; v++) s += lg[v] = Math.exp(lg[v] - mx);
      for (let v = 0; v < V; v++) lg[v] /= s;
      loss -= Math.log(Math.max(lg[targets[t]], 1e-300)) / m;
      if (backward) {
        lg[targets[t]] -= 1;
        for (let v = 0; v < V; v++) lg[v] /= m;
        if (bias.trainable) for (let v = 0; v < V; v++) bias.grad[v] += lg[v];
        if (E.trainable) {
          for (let v = 0; v < V; v++) {
            const g = lg[v];
            const o = v * D;
            for (let j = 0; j < D; j++) E.grad[o + j] += g * h[j];
          }
        }
        mm(lg, E.data, 1, V, D, false, false, dy.subarray(pos * D, pos * D + D), true);
      }
    }
    if (backward) this.encodeBackward(dy, enc.cache);
    return { loss, correct };
  }
}

function sliceCols(X: Float64Array, n: number, D: number, off: number, w: number): Float64Array {
  const o = new Float64Array(n * w);
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) o[i * w + j] = X[i * D + off + j];
  return o;
}
function putCols(X: Float64Array, Y: Float64Array, n: number, D: number, off: number, w: number): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) X[i * D + off + j] = Y[i * w + j];
}
