/**
 * AdamW in the form the encrypted pipeline runs (AdamW-HE):
 *   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
 *   theta <- theta (1 - lr wd) - lr m / sqrt(v + eps)        (eps inside the root)
 * Bias correction is optional (off for fine-tuning, as under HE; on for plaintext pretraining).
 * With `approxInvSqrt`, 1/sqrt(v + eps) uses the same Chebyshev + Newton approximation as the
 * HE-friendly LayerNorm (rescaled into its interval), so the encrypted step is reproduced.
 */
import { Model, Param } from './model';
import { countNonlin } from './ops';
import { invSqrtApprox, ISQ_HI, ISQ_LO } from './poly';

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  biasCorrection: boolean;
  approxInvSqrt: boolean;
}

export const ADAMW_HE: Omit<AdamWOptions, 'lr'> = { beta1: 0.9, beta2: 0.99, eps: 6e-4, weightDecay: 0.01, biasCorrection: false, approxInvSqrt: false };

export class AdamW {
  opts: AdamWOptions;
  t = 0;
  /**
   * With approxInvSqrt: how many updates had v + eps above the approximation's interval and were
   * clamped to its top. The encrypted pipeline cannot clamp, so a run that counts 0 here did
   * exactly what it would do.
   */
  clamped = 0;
  private m = new Map<string, Float64Array>();
  private v = new Map<string, Float64Array>();

  constructor(opts: AdamWOptions) {
    this.opts = { ...opts };
  }

  moments(): [string, [Float64Array, Float64Array]][] {
    return [...this.m.keys()].map((k) => [k, [this.m.get(k)!, this.v.get(k)!]]);
  }

  stateHeader() {
    return { t: this.t, opts: this.opts };
  }

  restore(h: { t: number; opts: AdamWOptions }, moments: Map<string, [Float64Array, Float64Array]>): void {
    this.t = h.t;
    this.opts = { ...h.opts };
    for (const [k, [m, v]] of moments) {
      this.m.set(k, m);
      this.v.set(k, v);
    }
  }

  /** one step on the model's trainable params; grads are divided by `scale` (batch size) */
  step(model: Model, scale: number, lr = this.opts.lr): void {
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = this.opts;
    this.t++;
    const c1 = this.opts.biasCorrection ? 1 - b1 ** this.t : 1;
    const c2 = this.opts.biasCorrection ? 1 - b2 ** this.t : 1;
    for (const p of model.params.values()) {
      if (!p.trainable) continue;
      this.update(p, scale, lr, b1, b2, eps, wd, c1, c2);
    }
  }

  private update(p: Param, scale: number, lr: number, b1: number, b2: number, eps: number, wd: number, c1: number, c2: number) {
    let m = this.m.get(p.name);
    let v = this.v.get(p.name);
    if (!m || !v) {
      m = new Float64Array(p.data.length);
      v = new Float64Array(p.data.length);
      this.m.set(p.name, m);
      this.v.set(p.name, v);
    }
    const decay = p.shape.length > 1 ? wd : 0; // no decay on gains/biases
    const approx = this.opts.approxInvSqrt;
    if (approx) countNonlin('adam invSqrt(poly)', p.data.length);
    // rescale v + eps into the invSqrt interval [ISQ_LO, ISQ_HI]: s = (v+eps) * ISQ_LO / eps
    const k = ISQ_LO / eps;
    for (let i = 0; i < p.data.length; i++) {
      const g = p.grad[i] / scale;
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const s = v[i] / c2 + eps;
      if (approx && s * k > ISQ_HI) this.clamped++;
      const inv = approx ? invSqrtApprox(Math.min(s * k, ISQ_HI)) * Math.sqrt(k) : 1 / Math.sqrt(s);
      p.data[i] = p.data[i] * (1 - lr * decay) - (lr * (m[i] / c1)) * inv;
    }
  }
}
