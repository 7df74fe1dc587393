/**
 * Private LoRA fine-tuning: one training step of the HE-friendly model on ciphertexts, walking the
 * same description as the plaintext trainer (Model.classify with backward, AdamW-HE of optim.ts).
 * Every value the server touches is encrypted: activations, labels, gradients, the adapters, the head
 * and the optimizer's moments. Like the executor it extends, the same code plans (levels only) and
 * runs.
 *
 * Forward as in inference, but keeping what the backward pass reads, with the adapters and head in
 * their natural (unfolded) form so that AdamW updates exactly the parameters the plaintext trainer
 * does: LayerNorm also carries d(1/sqrt)/dv, the composite sign its derivative, the attention
 * kernel base^(2^m - 1), the pooler's tanh its derivative. The loss gradient is poly.ts's polynomial
 * softmax minus the one-hot labels. Backward is Model's hand-written backward, stage by stage, on
 * packed ciphertexts. The gradients are summed over rows (and row groups), packed one parameter per
 * row into one ciphertext, updated there by AdamW-HE with its polynomial 1/sqrt, and unpacked.
 */
import type { Ciphertext } from '../api/ciphertext';
import { InvalidArgumentError, UnsupportedError } from '../api/errors';
import type { ModelDescription } from '../model/description';
import * as P from '../model/poly';
import { depthOfChebyshev, Executor, INV_SQRT, INV_SQRT_CHEBYSHEV, signCoefficients, type ExecutorHooks, type RunBackend, type Value } from './executor';
import type { MatrixProduct } from './kernels';

/** The public base weights' transposes (the backward pass's products), folded like the forward ones. */
export interface ServerTransposes {
  layers: { query: MatrixProduct; key: MatrixProduct; value: MatrixProduct; output: MatrixProduct; up: MatrixProduct; down: MatrixProduct }[];
}

export interface TrainingBackend extends Omit<RunBackend, 'weights'> {
  transposes: ServerTransposes;
  /** the public LayerNorm gains and biases, in model order */
  norms: { ln1: { gamma: Float64Array; beta: Float64Array }[]; final: { gamma: Float64Array; beta: Float64Array } };
}

/** One trainable ciphertext: a LoRA column or row, a pooler diagonal, a head bias or classifier column. */
export interface ParameterSlot {
  /** model parameter it holds (part of) */
  param: string;
  kind: 'adapterA' | 'adapterB' | 'poolerDiagonal' | 'poolerBias' | 'classifier' | 'classifierBias';
  /** column of A, row of B, diagonal index, or label */
  index: number;
  /** AdamW's weight decay applies (matrices only, as in optim.ts) */
  decay: boolean;
}

/** Levels a parameter must have at the start of a step: the LoRA A feeds a product whose output feeds another. */
const PARAMETER_DEPTH = 4;

/** The order of the trainable ciphertexts: also their rows in the packed optimizer state. */
export function parameterSlots(desc: ModelDescription, rank: number): ParameterSlot[] {
  const out: ParameterSlot[] = [];
  for (const layer of desc.layers)
    for (const step of [layer.query, layer.key, layer.value]) {
      if (!step.lora) throw new InvalidArgumentError(`${step.weight} has no adapter to train`, 'ERR_INVALID_ARGUMENT');
      for (let c = 0; c < rank; c++) out.push({ param: step.lora.a, kind: 'adapterA', index: c, decay: true });
      for (let c = 0; c < rank; c++) out.push({ param: step.lora.b, kind: 'adapterB', index: c, decay: true });
    }
  const { pooler, classifier } = desc.head;
  for (let i = 0; i < desc.dim; i++) out.push({ param: pooler.weight, kind: 'poolerDiagonal', index: i, decay: true });
  out.push({ param: pooler.bias, kind: 'poolerBias', index: 0, decay: false });
  for (let c = 0; c < desc.numLabels; c++) out.push({ param: classifier.weight, kind: 'classifier', index: c, decay: true });
  for (let c = 0; c < desc.numLabels; c++) out.push({ param: classifier.bias, kind: 'classifierBias', index: c, decay: false });
  return out;
}

export interface OptimizerSettings {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** sequences in the batch (the gradients are averaged) */
  batch: number;
}

/** Bounds of the backward pass's values (measured: gradients at most 0.25, moments 0.04, v 2e-3). */
export const GRADIENT_BOUNDS = { activation: 1, parameter: 0.5, moment: 2 ** -4, secondMoment: 2 ** -8, weight: 1, derivative: 1024, slope: 4 } as const;

interface NormTape {
  centred: Value;
  w: Value;
  dw: Value;
}
export interface ForwardTape {
  layers: LayerTape[];
  gatheredAt: number;
  lnf: NormTape;
  hfPost: Value;
  tanh: Value;
  dtanh: Value;
  diagonals: Value[];
  classifier: Value[];
  poolerAt: number;
}

interface LayerTape {
  ln1: NormTape;
  h1: Value;
  h1Post: Value;
  q: Value;
  k: Value;
  vm: Value;
  t: Record<'query' | 'key' | 'value', Value[]>;
  kernel: Value;
  slope: Value;
  ln2: NormTape;
  up: Value;
  sign: Value;
  dsign: Value;
}

export interface TrainingInputs {
  embeddings: Value;
  keyMask: Value;
  /** per label: 1 on the gathered [CLS] row of each sequence whose label it is */
  labels: Value[];
  /** 1 on the gathered [CLS] rows of real sequences (the last row group may hold fewer) */
  real: Value;
}

export interface OptimizerState {
  /** packed first and second moments, one parameter per row (Trainer.optimizerWidth ciphertexts each) */
  m: Value;
  v: Value;
}

export class Trainer extends Executor {
  private readonly slots: ParameterSlot[];

  constructor(
    desc: ModelDescription,
    topLevel: number,
    groupCount: number,
    /** rows per feature block of the layout: parameters per packed optimizer ciphertext */
    private readonly rows: number,
    private readonly training: TrainingBackend | null,
    hooks: ExecutorHooks = {},
  ) {
    super(desc, topLevel, groupCount, training ? { ...training, weights: null as never } : null, hooks);
    // the backward pass is written for the HE-friendly model (Gaussian kernel, polynomial norm and ReLU)
    if (desc.attention !== 'gaussian' || desc.norm !== 'poly' || desc.activation !== 'relu-poly' || desc.pooler !== 'tanh-poly')
      throw new UnsupportedError(`encrypted fine-tuning runs the HE-friendly variant; '${desc.variant}' is not supported`, 'ERR_UNSUPPORTED');
    const rank = desc.layers[0].query.lora?.rank ?? 0;
    for (const layer of desc.layers)
      for (const step of [layer.query, layer.key, layer.value])
        if (step.lora?.scale !== 1) throw new InvalidArgumentError('encrypted training takes LoRA scale 1', 'ERR_INVALID_ARGUMENT');
    this.slots = parameterSlots(desc, rank);
  }

  get parameterCount(): number {
    return this.slots.length;
  }
  /** Ciphertexts of the packed optimizer state (parameters, moments): one parameter per row. */
  get optimizerWidth(): number {
    return Math.ceil(this.slots.length / this.rows);
  }

  private get t(): TrainingBackend {
    if (!this.training) throw new Error('internal: no backend while planning');
    return this.training;
  }

  /** A parameter value (one ciphertext for the whole batch). */
  parameter(name: string, groups: Ciphertext[][] | null, bound: number = GRADIENT_BOUNDS.weight): Value {
    return { name, level: this.topLevel, bound, width: 1, count: 1, groups };
  }

  /** Applies `fn` per row group (parameters, with one group, are read from group 0). */
  private async each(name: string, level: number, bound: number, width: number, like: Value, fn: (g: number) => Promise<Ciphertext[]>): Promise<Value> {
    return this.made(name, level, bound, width, like, this.planning ? null : await this.perGroup(like, fn));
  }
  private static one(v: Value, g: number): Ciphertext {
    return v.groups![v.count === 1 ? 0 : g][0];
  }
  private static all(v: Value, g: number): Ciphertext[] {
    return v.groups![v.count === 1 ? 0 : g];
  }

  // ------------------------------------------------------------------------------------------
  // forward

  private async norm(x: Value, name: string): Promise<{ h: Value; tape: NormTape }> {
    let out!: { h: Value; tape: NormTape };
    await this.stage(name, async () => {
      const approx = { ...INV_SQRT, eps: this.desc.lnEps };
      const depth = depthOfChebyshev(INV_SQRT_CHEBYSHEV);
      [x] = await this.ensure([[x, depth + 3]]);
      const stats = this.planning ? null : await this.perGroup(x, (g) => this.t.kernels.normStatistics(Trainer.one(x, g), approx));
      const pick = (i: number) => (stats ? stats.map((s) => [s[i]]) : null);
      const centred = this.made(`${name}.centred`, x.level - 1, 2 * 32, 1, x, pick(0));
      let t = this.made(`${name}.t`, x.level - 2, 1, 1, x, pick(1));
      const halfV = this.made(`${name}.halfV`, x.level - 2, 128, 1, x, pick(2));
      [t] = await this.ensure([[t, depth + 1]]);
      const tt = t;
      const first = this.planning ? null : await this.perGroup(tt, (g) => this.t.kernels.chebyshevMany(Trainer.one(tt, g), [INV_SQRT_CHEBYSHEV, INV_SQRT_DERIVATIVE]));
      let w = this.made(`${name}.w`, t.level - depth, 8, 1, t, first ? first.map((p) => [p[0]]) : null);
      let dw = this.made(`${name}.dw`, t.level - depth, GRADIENT_BOUNDS.derivative, 1, t, first ? first.map((p) => [p[1]]) : null);
      for (let i = 0; i < P.ISQ_NEWTON; i++) {
        [w, dw] = await this.ensure([[w, 4], [dw, 2]]);
        const [ww, dd] = [w, dw];
        const next = this.planning ? null : await this.perGroup(ww, (g) => this.t.kernels.newtonWithDerivative(Trainer.one(ww, g), Trainer.one(dd, g), Trainer.one(halfV, g), approx));
        const level = Math.min(ww.level, halfV.level) - 2;
        w = this.made(`${name}.w`, level, 8, 1, ww, next ? next.map((p) => [p[0]]) : null);
        dw = this.made(`${name}.dw`, Math.min(dd.level, level) - 1, GRADIENT_BOUNDS.derivative, 1, ww, next ? next.map((p) => [p[1]]) : null);
      }
      const [c, wf] = await this.ensure([[centred, 2], [w, 2]]);
      const h = await this.each(name, Math.min(c.level, wf.level) - 1, 8, 1, c, async (g) => [await this.t.kernels.multiply(Trainer.one(c, g), Trainer.one(wf, g))]);
      out = { h, tape: { centred: c, w: wf, dw } };
      return h;
    });
    return out;
  }

  private async affine(x: Value, gamma: (b: TrainingBackend) => Float64Array, beta: ((b: TrainingBackend) => Float64Array) | null, name: string, bound: number): Promise<Value> {
    let out!: Value;
    await this.stage(name, async () => {
      [x] = await this.ensure([[x, 2]]);
      out = await this.each(name, x.level - 1, bound, x.width, x, (g) =>
        Promise.all(Trainer.all(x, g).map((c) => this.t.kernels.affine(c, gamma(this.t), beta ? beta(this.t) : new Float64Array(0)))));
      return out;
    });
    return out;
  }

  private adapterIndex(l: number, which: 'query' | 'key' | 'value'): number {
    const rank = this.desc.layers[0].query.lora!.rank;
    return (l * 3 + ['query', 'key', 'value'].indexOf(which)) * 2 * rank;
  }

  /** h W' (folded public weight) + sum_c t_c B_c, t_c = sum over features of hPost A_c; three levels. */
  private async trainProjection(h: Value, hPost: Value, l: number, which: 'query' | 'key' | 'value', params: Value[]): Promise<{ y: Value; t: Value[] }> {
    const rank = this.desc.layers[l][which].lora!.rank;
    const base = this.adapterIndex(l, which);
    const A = params.slice(base, base + rank);
    const B = params.slice(base + rank, base + 2 * rank);
    let out!: { y: Value; t: Value[] };
    await this.stage(`L${l}.${which}`, async () => {
      [h, hPost] = await this.ensure([[h, 2], [hPost, 3]]);
      const t = await Promise.all(
        A.map((a, c) => this.each(`L${l}.${which}.t${c}`, Math.min(hPost.level, a.level) - 1, GRADIENT_BOUNDS.activation * 8, 1, hPost, async (g) => this.t.kernels.featureDot(Trainer.one(hPost, g), [Trainer.one(a, g)], []))),
      );
      const level = Math.min(h.level - 1, Math.min(...t.map((v) => v.level), ...B.map((b) => b.level)) - 1);
      const y = await this.each(`L${l}.${which}`, level, 16, 1, h, async (g) => {
        const k = this.t.kernels;
        const [projected] = await k.applyMatrix(this.t.matrices.layers[l][which], [Trainer.one(h, g)]);
        const lora = await k.broadcastSum(t.map((v) => Trainer.one(v, g)), B.map((b) => Trainer.one(b, g)));
        return [await k.add(projected, lora)];
      });
      out = { y, t };
      return y;
    });
    return out;
  }

  private async trainAttention(q: Value, k: Value, v: Value, mask: Value, l: number): Promise<{ out: Value; kernel: Value; slope: Value; vm: Value }> {
    const constant = 1 / (2 * Math.sqrt(this.desc.headDim));
    let bases!: Value;
    await this.stage(`L${l}.attention.bases`, async () => {
      [q, k] = await this.ensure([[q, 4], [k, 4]]);
      bases = await this.each(`L${l}.attention.bases`, Math.min(q.level, k.level) - 3, 1, this.packedCount(), q, (g) =>
        this.t.kernels.attentionBases(Trainer.one(q, g), Trainer.one(k, g), constant, P.EXP_SQUARINGS));
      return bases;
    });
    // S = base^(2^m) by squarings, with base^(2^m - 1) = prod_(i < m) base^(2^i) alongside (dS/dbase / 2^m)
    let power = bases;
    let slope = bases;
    for (let i = 1; i <= P.EXP_SQUARINGS; i++) {
      await this.stage(`L${l}.attention.exp`, async () => {
        [power, slope] = await this.ensure([[power, 2], [slope, 2]]);
        const [p, s] = [power, slope];
        const squared = await this.each(`L${l}.attention.exp`, p.level - 1, 1, p.width, p, (g) => Promise.all(Trainer.all(p, g).map((c) => this.t.kernels.squarings(c, 1))));
        if (i < P.EXP_SQUARINGS)
          slope = await this.each(`L${l}.attention.slope`, Math.min(s.level, squared.level) - 1, 1, p.width, p, (g) =>
            Promise.all(Trainer.all(s, g).map((c, j) => this.t.kernels.multiply(c, Trainer.all(squared, g)[j]))));
        power = squared;
        return power;
      });
    }
    let out!: { out: Value; kernel: Value; slope: Value; vm: Value };
    await this.stage(`L${l}.attention.values`, async () => {
      [v, mask] = await this.ensure([[v, 4], [mask, 4]]);
      const vm = await this.each(`L${l}.vm`, Math.min(v.level, mask.level) - 1, 16, 1, v, async (g) => [await this.t.kernels.multiply(Trainer.one(v, g), Trainer.one(mask, g))]);
      [power] = await this.ensure([[power, 2]]);
      const kernel = power;
      const att = await this.each(`L${l}.attention`, Math.min(vm.level - 2, kernel.level) - 1, 64, 1, vm, async (g) => [await this.t.kernels.attentionWeigh(Trainer.all(kernel, g), Trainer.one(vm, g))]);
      out = { out: att, kernel, slope, vm };
      return att;
    });
    return out;
  }

  private async trainFeedForward(h2: Value, l: number): Promise<{ z: Value; up: Value; sign: Value; dsign: Value }> {
    const chunks = Math.ceil(this.desc.ffn / this.desc.dim);
    const t = await this.linear(h2, (b) => b.matrices.layers[l].up, `L${l}.up`, chunks, 1);
    let s = t;
    let d: Value | null = null;
    const coefficients = signCoefficients();
    for (let i = 0; i < P.SIGN_COMPOSE; i++) {
      await this.stage(`L${l}.sign`, async () => {
        // s' is three levels down, its derivative d' one more
        const requests: [Value, number][] = [[s, 5]];
        if (d) requests.push([d, 2]);
        await this.ensure(requests);
        const input = s;
        const steps = this.planning ? null : await this.perGroup(input, (g) => Promise.all(Trainer.all(input, g).map((c) => this.t.kernels.oddDegree7WithDerivative(c, coefficients))));
        s = this.made(`L${l}.sign`, input.level - 3, 1, chunks, input, steps ? steps.map((p) => p.map((x) => x[0])) : null);
        const slope = this.made(`L${l}.signSlope`, input.level - 3, GRADIENT_BOUNDS.slope, chunks, input, steps ? steps.map((p) => p.map((x) => x[1])) : null);
        const previous = d;
        d = previous
          ? await this.each(`L${l}.dsign`, Math.min(previous.level, slope.level) - 1, GRADIENT_BOUNDS.derivative, chunks, input, (g) =>
              Promise.all(Trainer.all(previous, g).map((c, j) => this.t.kernels.multiply(c, Trainer.all(slope, g)[j]))))
          : slope;
        return s;
      });
    }
    let z!: Value;
    await this.stage(`L${l}.relu`, async () => {
      let tt = t;
      [tt, s] = await this.ensure([[tt, 2], [s, 2]]);
      const ss = s;
      z = await this.each(`L${l}.relu`, Math.min(tt.level, ss.level) - 1, 1, chunks, tt, (g) => Promise.all(Trainer.all(tt, g).map((c, j) => this.t.kernels.reluCombine(c, Trainer.all(ss, g)[j]))));
      return z;
    });
    return { z, up: t, sign: s, dsign: d! };
  }

  // ------------------------------------------------------------------------------------------
  // the step

  /**
   * The forward pass with the natural (trained) parameters: the batch's logits (per label, gathered
   * [CLS] rows when there are several row groups) and what the backward pass reads. Also private
   * inference with adapters that were trained encrypted and never decrypted.
   */
  async trainingForward(input: { embeddings: Value; keyMask: Value }, params: Value[]): Promise<{ logits: Value[]; tape: ForwardTape }> {
    if (params.length !== this.slots.length) throw new InvalidArgumentError(`${params.length} parameters, expected ${this.slots.length}`, 'ERR_INVALID_ARGUMENT');
    const desc = this.desc;
    const L = desc.layers.length;
    const tapes: LayerTape[] = [];
    let x = input.embeddings;
    let gatheredAt = -1;
    for (let l = 0; l < L; l++) {
      const ln1 = await this.norm(x, `L${l}.ln1`);
      const h1Post = await this.affine(ln1.h, (b) => b.norms.ln1[l].gamma, (b) => b.norms.ln1[l].beta, `L${l}.ln1.affine`, 8);
      const q = await this.trainProjection(ln1.h, h1Post, l, 'query', params);
      const k = await this.trainProjection(ln1.h, h1Post, l, 'key', params);
      const v = await this.trainProjection(ln1.h, h1Post, l, 'value', params);
      const att = await this.trainAttention(q.y, k.y, v.y, input.keyMask, l);
      const o = await this.linear(att.out, (b) => b.matrices.layers[l].output, `L${l}.output`, 1, 32);
      let x1 = await this.add(x, o, `L${l}.residual1`, 32);
      if (l === L - 1 && x1.count > 1) {
        x1 = await this.gatherFirstRows(x1);
        gatheredAt = l;
      }
      const ln2 = await this.norm(x1, `L${l}.ln2`);
      const ffn = await this.trainFeedForward(ln2.h, l);
      const f = await this.linear(ffn.z, (b) => b.matrices.layers[l].down, `L${l}.down`, 1, 32);
      x = await this.add(x1, f, `L${l}.residual2`, 32);
      tapes.push({ ln1: ln1.tape, h1: ln1.h, h1Post, q: q.y, k: k.y, vm: att.vm, t: { query: q.t, key: k.t, value: v.t }, kernel: att.kernel, slope: att.slope, ln2: ln2.tape, up: ffn.up, sign: ffn.sign, dsign: ffn.dsign });
    }
    // head, with the natural (unfolded) pooler: u = (hf gamma + beta) Wp + bp, tanh of u / TANH_B
    const lnf = await this.norm(x, 'final.norm');
    const hfPost = await this.affine(lnf.h, (b) => b.norms.final.gamma, (b) => b.norms.final.beta, 'final.affine', 8);
    const poolerAt = this.slots.findIndex((s) => s.kind === 'poolerDiagonal');
    const diagonals = params.slice(poolerAt, poolerAt + desc.dim);
    const poolerBias = params[poolerAt + desc.dim];
    const classifier = params.slice(poolerAt + desc.dim + 1, poolerAt + desc.dim + 1 + desc.numLabels);
    const classifierBias = params.slice(poolerAt + desc.dim + 1 + desc.numLabels);
    let u!: Value;
    await this.stage('head.pooler', async () => {
      const [hp] = await this.ensure([[hfPost, 3]]);
      const pooled = await this.each('head.pooled', Math.min(hp.level, ...diagonals.map((d) => d.level)) - 1, 8, 1, hp, async (g) => [
        await this.t.kernels.cipherMatrix(Trainer.one(hp, g), diagonals.map((d) => Trainer.one(d, g)), Trainer.one(poolerBias, g)),
      ]);
      u = await this.each('head.pooler', pooled.level - 1, 1, 1, pooled, async (g) => [await this.t.kernels.lower(Trainer.one(pooled, g), Trainer.one(pooled, g).level - 1, 1 / P.TANH_B)]);
      return u;
    });
    let tanh!: Value;
    let dtanh!: Value;
    await this.stage('head.tanh', async () => {
      const depth = depthOfChebyshev(TANH_DERIVATIVE);
      [u] = await this.ensure([[u, depth + 1]]);
      const uu = u;
      const pair = this.planning ? null : await this.perGroup(uu, (g) => this.t.kernels.chebyshevMany(Trainer.one(uu, g), [TANH_VALUES, TANH_DERIVATIVE]));
      tanh = this.made('head.tanh', uu.level - depth, 1, 1, uu, pair ? pair.map((p) => [p[0]]) : null);
      dtanh = this.made('head.dtanh', uu.level - depth, 2, 1, uu, pair ? pair.map((p) => [p[1]]) : null);
      return tanh;
    });
    const logits: Value[] = [];
    await this.stage('head.classifier', async () => {
      [tanh] = await this.ensure([[tanh, 2]]);
      const th = tanh;
      for (let c = 0; c < desc.numLabels; c++)
        logits.push(await this.each(`logit${c}`, Math.min(th.level, classifier[c].level) - 1, 16, 1, th, (g) =>
          this.t.kernels.featureDot(Trainer.one(th, g), [Trainer.one(classifier[c], g)], [Trainer.one(classifierBias[c], g)])));
      return logits;
    });
    return { logits, tape: { layers: tapes, gatheredAt, lnf: lnf.tape, hfPost, tanh, dtanh, diagonals, classifier, poolerAt } };
  }

  /**
   * One AdamW-HE step on a batch: forward, loss gradient, backward, update. Returns the updated
   * parameters (same order as parameterSlots), moments, and the batch's logits for the client's loss.
   */
  async step(input: TrainingInputs, params: Value[], state: OptimizerState, settings: OptimizerSettings): Promise<{ params: Value[]; state: OptimizerState; logits: Value[] }> {
    const desc = this.desc;
    const L = desc.layers.length;
    // The update leaves every parameter at PARAMETER_DEPTH or above; parameters from elsewhere (an
    // initial state encrypted lower, a state of an earlier version) are refreshed here.
    await this.stage('parameters.refresh', async () => {
      params = await this.ensure(params.map((p): [Value, number] => [p, PARAMETER_DEPTH]));
      return params;
    });
    const { logits, tape } = await this.trainingForward(input, params);
    const { layers: tapes, gatheredAt, lnf, hfPost, diagonals, classifier, poolerAt } = tape;
    let { tanh, dtanh } = tape;

    // ------------------------------------------------------------------------------------------
    // loss gradient: (softmaxApprox(logits - mean) * real - labels) / batch
    const dlogits = await this.lossGradient(logits, input, settings.batch);

    // ------------------------------------------------------------------------------------------
    // backward: the head
    const grads: Value[] = new Array(params.length);
    const classifierAt = poolerAt + desc.dim + 1;
    let dx!: Value;
    await this.stage('head.backward', async () => {
      await this.ensure([[tanh, 2], [dtanh, 2], ...dlogits.map((d): [Value, number] => [d, 3]), ...classifier.map((w): [Value, number] => [w, 3])]);
      for (let c = 0; c < desc.numLabels; c++) {
        const [th, dl] = [tanh, dlogits[c]];
        grads[classifierAt + c] = await this.total(`grad.classifier${c}`, await this.product(th, dl, 'head.dclassifier'));
        grads[classifierAt + desc.numLabels + c] = await this.total(`grad.classifierBias${c}`, dl);
      }
      const dth = await this.each('head.dtanh', Math.min(...dlogits.map((d) => d.level), ...classifier.map((w) => w.level)) - 1, GRADIENT_BOUNDS.activation, 1, dlogits[0], async (g) => [
        await this.t.kernels.broadcastSum(dlogits.map((d) => Trainer.one(d, g)), classifier.map((w) => Trainer.one(w, g))),
      ]);
      dx = await this.product(dth, dtanh, 'head.dpooled');
      return dx;
    });
    let dhf!: Value;
    await this.stage('head.pooler.backward', async () => {
      // the pooler's diagonals are trained parameters: they sit wherever their last update left them
      const [xIn, d, ...ws] = await this.ensure([[hfPost, 2], [dx, 2], ...diagonals.map((w): [Value, number] => [w, 2])]);
      const perDiagonal = this.planning ? null : await this.perGroup(xIn, (g) => this.t.kernels.cipherMatrixGradient(Trainer.one(xIn, g), Trainer.one(d, g)));
      for (let i = 0; i < desc.dim; i++)
        grads[poolerAt + i] = this.made(`grad.pooler${i}`, Math.min(xIn.level, d.level) - 1, GRADIENT_BOUNDS.parameter, 1, xIn, perDiagonal ? perDiagonal.map((p) => [p[i]]) : null);
      grads[poolerAt + desc.dim] = await this.total('grad.poolerBias', d);
      const dPost = await this.each('head.dnorm', Math.min(d.level, ...ws.map((w) => w.level)) - 1, GRADIENT_BOUNDS.activation, 1, d, async (g) => [await this.t.kernels.cipherMatrixTranspose(Trainer.one(d, g), ws.map((w) => Trainer.one(w, g)))]);
      dhf = await this.each('head.dnormScaled', dPost.level - 1, GRADIENT_BOUNDS.activation, 1, dPost, async (g) => [await this.t.kernels.affine(Trainer.one(dPost, g), this.t.norms.final.gamma)]);
      return dhf;
    });
    let dres = await this.normBackward(dhf, lnf, 'final.norm.backward');

    // ------------------------------------------------------------------------------------------
    // backward: the layers
    for (let l = L - 1; l >= 0; l--) {
      const tape = tapes[l];
      const chunks = Math.ceil(desc.ffn / desc.dim);
      const dz = await this.linear(dres, (b) => this.t.transposes.layers[l].down, `L${l}.down.backward`, chunks, GRADIENT_BOUNDS.activation);
      // z = t + t sign(t): dz/dt = 1 + sign + t dsign
      let dt!: Value;
      await this.stage(`L${l}.relu.backward`, async () => {
        const [t, sgn, ds, d] = await this.ensure([[tape.up, 3], [tape.sign, 3], [tape.dsign, 3], [dz, 3]]);
        const slope = await this.each(`L${l}.relu.slope`, Math.min(sgn.level, Math.min(t.level, ds.level) - 1), GRADIENT_BOUNDS.derivative, chunks, t, (g) =>
          Promise.all(Trainer.all(t, g).map(async (c, j) => this.t.kernels.add(await this.t.kernels.addScalar(Trainer.all(sgn, g)[j], 1), await this.t.kernels.multiply(c, Trainer.all(ds, g)[j])))));
        dt = await this.each(`L${l}.relu.backward`, Math.min(d.level, slope.level) - 1, GRADIENT_BOUNDS.activation, chunks, d, (g) =>
          Promise.all(Trainer.all(d, g).map((c, j) => this.t.kernels.multiply(c, Trainer.all(slope, g)[j]))));
        return dt;
      });
      const dh2 = await this.linear(dt, (b) => this.t.transposes.layers[l].up, `L${l}.up.backward`, 1, GRADIENT_BOUNDS.activation);
      let dx1 = await this.add(dres, await this.normBackward(dh2, tape.ln2, `L${l}.ln2.backward`), `L${l}.residual1.backward`, GRADIENT_BOUNDS.activation);
      if (l === gatheredAt) {
        await this.stage(`L${l}.scatter`, async () => {
          [dx1] = await this.ensure([[dx1, 2]]);
          const gathered = dx1;
          const parts = this.planning ? null : await this.t.kernels.scatterFirstRows(Trainer.one(gathered, 0), this.groupCount);
          dx1 = { name: `L${l}.scatter`, level: gathered.level - 1, bound: gathered.bound, width: 1, count: this.groupCount, groups: parts ? parts.map((c) => [c]) : null };
          return dx1;
        });
      }
      const datt = await this.linear(dx1, (b) => this.t.transposes.layers[l].output, `L${l}.output.backward`, 1, GRADIENT_BOUNDS.activation);
      const { dq, dk, dv } = await this.attentionBackward(datt, tape, input.keyMask, l);
      // projections: the public weights' transposes, and the adapters' gradients
      const dh: Value[] = [];
      const dhPost: Value[] = [];
      for (const [which, dy] of [['query', dq], ['key', dk], ['value', dv]] as const) {
        dh.push(await this.linear(dy, (b) => this.t.transposes.layers[l][which], `L${l}.${which}.backward`, 1, GRADIENT_BOUNDS.activation));
        dhPost.push(await this.adapterBackward(dy, tape, l, which, params, grads));
      }
      if (l === 0) break; // the embeddings do not train
      const dPost = await this.add(await this.add(dhPost[0], dhPost[1], `L${l}.dhPost`, GRADIENT_BOUNDS.activation), dhPost[2], `L${l}.dhPost`, GRADIENT_BOUNDS.activation);
      const dPostScaled = await this.affine(dPost, (b) => b.norms.ln1[l].gamma, null, `L${l}.dhPost.scaled`, GRADIENT_BOUNDS.activation);
      const dhSum = await this.add(await this.add(await this.add(dh[0], dh[1], `L${l}.dh`, GRADIENT_BOUNDS.activation), dh[2], `L${l}.dh`, GRADIENT_BOUNDS.activation), dPostScaled, `L${l}.dh`, GRADIENT_BOUNDS.activation);
      dres = await this.add(dx1, await this.normBackward(dhSum, tape.ln1, `L${l}.ln1.backward`), `L${l}.residual.backward`, GRADIENT_BOUNDS.activation);
    }

    // ------------------------------------------------------------------------------------------
    // AdamW-HE on the packed parameters
    const updated = await this.optimizerStep(params, grads, state, settings);
    return { ...updated, logits };
  }

  /** Product of two values per row group and ciphertext. */
  private async product(a: Value, b: Value, name: string, bound: number = GRADIENT_BOUNDS.activation): Promise<Value> {
    return this.each(name, Math.min(a.level, b.level) - 1, bound, Math.max(a.width, b.width), a.count >= b.count ? a : b, (g) =>
      Promise.all(Trainer.all(a, g).map((c, j) => this.t.kernels.multiply(c, Trainer.all(b, g)[j]))));
  }

  /** A gradient: the row totals of x, summed over the row groups (one ciphertext). */
  private async total(name: string, x: Value): Promise<Value> {
    const per = await this.each(name, x.level, GRADIENT_BOUNDS.parameter, 1, x, async (g) => [await this.t.kernels.rowTotal(Trainer.one(x, g))]);
    return this.sumGroups(per, name);
  }

  private async sumGroups(x: Value, name: string): Promise<Value> {
    if (x.count === 1) return x;
    if (this.planning) return { ...x, name, count: 1 };
    let sum = x.groups![0][0];
    for (let g = 1; g < x.count; g++) sum = await this.t.kernels.add(sum, x.groups![g][0]);
    return { ...x, name, count: 1, groups: [[sum]] };
  }

  private async normBackward(dh: Value, tape: NormTape, name: string): Promise<Value> {
    let out!: Value;
    await this.stage(name, async () => {
      const approx = { ...INV_SQRT, eps: this.desc.lnEps };
      const [d, c, w, dw] = await this.ensure([[dh, 5], [tape.centred, 5], [tape.w, 3], [tape.dw, 4]]);
      const a = Math.min(d.level, c.level) - 1;
      const ds = Math.min(a, dw.level) - 1;
      const level = Math.min(Math.min(d.level, w.level) - 1, Math.min(ds, c.level - 1) - 1) - 1;
      out = await this.each(name, level, GRADIENT_BOUNDS.activation, 1, d, async (g) => [
        await this.t.kernels.normBackward(Trainer.one(d, g), Trainer.one(c, g), Trainer.one(w, g), Trainer.one(dw, g), approx),
      ]);
      return out;
    });
    return out;
  }

  private async attentionBackward(datt: Value, tape: LayerTape, mask: Value, l: number): Promise<{ dq: Value; dk: Value; dv: Value }> {
    const packed = this.packedCount();
    const constant = 1 / (2 * Math.sqrt(this.desc.headDim));
    let dv!: Value;
    await this.stage(`L${l}.attention.values.backward`, async () => {
      const [S, d, m] = await this.ensure([[tape.kernel, 3], [datt, 4], [mask, 2]]);
      const transposed = await this.each(`L${l}.kernelT`, S.level - 2, 1, packed, S, (g) => this.t.kernels.attentionTranspose(Trainer.all(S, g)));
      const dvm = await this.each(`L${l}.dvm`, Math.min(transposed.level, d.level - 2) - 1, GRADIENT_BOUNDS.activation, 1, d, async (g) => [
        await this.t.kernels.attentionWeigh(Trainer.all(transposed, g), Trainer.one(d, g)),
      ]);
      dv = await this.product(dvm, m, `L${l}.dv`);
      return dv;
    });
    let dq!: Value;
    let dk!: Value;
    await this.stage(`L${l}.attention.kernel.backward`, async () => {
      const [d, vm, slope, q, k] = await this.ensure([[datt, 5], [tape.vm, 5], [tape.slope, 3], [tape.q, 3], [tape.k, 3]]);
      const dS = await this.each(`L${l}.dS`, Math.min(d.level, vm.level) - 3, GRADIENT_BOUNDS.activation, packed, d, (g) => this.t.kernels.attentionInner(Trainer.one(d, g), Trainer.one(vm, g)));
      // dL/d|q - k|^2 = -c slope dL/dS; with the 2 of the squared distance's derivative folded in
      const product = await this.product(dS, slope, `L${l}.dSslope`);
      let G = await this.each(`L${l}.G`, product.level - 1, GRADIENT_BOUNDS.activation, packed, product, (g) =>
        Promise.all(Trainer.all(product, g).map((c) => this.t.kernels.lower(c, c.level - 1, -2 * constant))));
      [G] = await this.ensure([[G, 4]]);
      const GG = G;
      const GT = await this.each(`L${l}.GT`, GG.level - 2, GRADIENT_BOUNDS.activation, packed, GG, (g) => this.t.kernels.attentionTranspose(Trainer.all(GG, g)));
      const side = async (x: Value, kernel: Value, other: Value, name: string) => {
        const [xx, kk, oo] = await this.ensure([[x, 2], [kernel, 2], [other, 4]]);
        const sums = await this.each(`${name}.sums`, kk.level, GRADIENT_BOUNDS.activation * 64, 1, kk, async (g) => [await this.t.kernels.attentionHeadSums(Trainer.all(kk, g))]);
        const scaled = await this.product(xx, sums, `${name}.scaled`);
        const weighed = await this.each(`${name}.weighed`, Math.min(kk.level, oo.level - 2) - 1, GRADIENT_BOUNDS.activation, 1, oo, async (g) => [
          await this.t.kernels.attentionWeigh(Trainer.all(kk, g), Trainer.one(oo, g)),
        ]);
        return this.each(name, Math.min(scaled.level, weighed.level), GRADIENT_BOUNDS.activation, 1, scaled, async (g) => [await this.t.kernels.sub(Trainer.one(scaled, g), Trainer.one(weighed, g))]);
      };
      dq = await side(q, GG, k, `L${l}.dq`);
      dk = await side(k, GT, q, `L${l}.dk`);
      return [dq, dk];
    });
    return { dq, dk, dv };
  }

  /** The adapter's gradients (into `grads`) and dL/d(hPost) of its branch. */
  private async adapterBackward(dy: Value, tape: LayerTape, l: number, which: 'query' | 'key' | 'value', params: Value[], grads: Value[]): Promise<Value> {
    const rank = this.desc.layers[l][which].lora!.rank;
    const base = this.adapterIndex(l, which);
    const A = params.slice(base, base + rank);
    const B = params.slice(base + rank, base + 2 * rank);
    let dPost!: Value;
    await this.stage(`L${l}.${which}.adapter.backward`, async () => {
      const t = tape.t[which];
      // dB and dA are row totals of products (level >= 1 is enough); dt feeds dA, so dy needs one more
      await this.ensure([[dy, 3], [tape.h1Post, 2], ...t.map((v): [Value, number] => [v, 2]), ...A.map((v): [Value, number] => [v, 3]), ...B.map((v): [Value, number] => [v, 3])]);
      const dt: Value[] = [];
      for (let c = 0; c < rank; c++) {
        grads[base + rank + c] = await this.total(`grad.L${l}.${which}.b${c}`, await this.product(t[c], dy, `L${l}.${which}.dB`));
        dt.push(await this.each(`L${l}.${which}.dt${c}`, Math.min(dy.level, B[c].level) - 1, GRADIENT_BOUNDS.activation * 8, 1, dy, async (g) => this.t.kernels.featureDot(Trainer.one(dy, g), [Trainer.one(B[c], g)], [])));
        grads[base + c] = await this.total(`grad.L${l}.${which}.a${c}`, await this.product(tape.h1Post, dt[c], `L${l}.${which}.dA`));
      }
      dPost = await this.each(`L${l}.${which}.dhPost`, Math.min(...dt.map((v) => v.level), ...A.map((v) => v.level)) - 1, GRADIENT_BOUNDS.activation, 1, dy, async (g) => [
        await this.t.kernels.broadcastSum(dt.map((v) => Trainer.one(v, g)), A.map((v) => Trainer.one(v, g))),
      ]);
      return dPost;
    });
    return dPost;
  }

  private async lossGradient(logits: Value[], input: TrainingInputs, batch: number): Promise<Value[]> {
    const C = logits.length;
    const k = () => this.t.kernels;
    let out: Value[] = [];
    await this.stage('loss', async () => {
      await this.ensure(logits.map((v): [Value, number] => [v, 2]));
      const level = Math.min(...logits.map((v) => v.level)) - 1;
      // z_c / LOSS_B with z the centred logits: l_c / B - sum_k l_k / (C B)
      const centred: Value[] = [];
      for (let c = 0; c < C; c++)
        centred.push(await this.each(`loss.z${c}`, level, 1, 1, logits[c], async (g) => {
          let z = await k().lower(Trainer.one(logits[c], g), level, (1 - 1 / C) / P.LOSS_B);
          for (let j = 0; j < C; j++) if (j !== c) z = await k().add(z, await k().lower(Trainer.one(logits[j], g), level, -1 / (C * P.LOSS_B)));
          return [z];
        }));
      const expDepth = depthOfChebyshev(LOSS_EXP);
      await this.ensure(centred.map((v): [Value, number] => [v, expDepth + 1]));
      const exps: Value[] = [];
      for (const z of centred) exps.push(await this.each(`loss.exp`, z.level - expDepth, 64, 1, z, async (g) => [await k().chebyshev(Trainer.one(z, g), LOSS_EXP)]));
      let sum = exps[0];
      for (let c = 1; c < C; c++) sum = await this.add(sum, exps[c], 'loss.sum', 256);
      // 1 / sum: Chebyshev on [1, LOSS_MAX_CLASSES e^B], then Newton steps y <- 2y - s y^2
      const [lo, hi] = [P.LOSS_INV_CHEB.a, P.LOSS_INV_CHEB.b];
      const invDepth = depthOfChebyshev(LOSS_INV);
      [sum] = await this.ensure([[sum, 2]]);
      const ss = sum;
      let t = await this.each('loss.t', ss.level - 1, 1, 1, ss, async (g) => [await k().addScalar(await k().lower(Trainer.one(ss, g), ss.level - 1, 2 / (hi - lo)), -(hi + lo) / (hi - lo))]);
      [t] = await this.ensure([[t, invDepth + 1]]);
      const tt = t;
      let inv = await this.each('loss.inv', tt.level - invDepth, 1, 1, tt, async (g) => [await k().chebyshev(Trainer.one(tt, g), LOSS_INV)]);
      for (let i = 0; i < P.LOSS_INV_NEWTON; i++) {
        [inv, sum] = await this.ensure([[inv, 3], [sum, 2]]);
        const [y, s] = [inv, sum];
        const square = await this.product(y, y, 'loss.inv2', 1);
        const sy2 = await this.product(s, square, 'loss.sy2', 1);
        inv = await this.each('loss.inv', sy2.level, 1, 1, y, async (g) => [await k().sub(await k().lower(Trainer.one(y, g), Trainer.one(sy2, g).level, 2), Trainer.one(sy2, g))]);
      }
      out = [];
      for (let c = 0; c < C; c++) {
        const [e, y, real, label] = await this.ensure([[exps[c], 3], [inv, 3], [input.real, 3], [input.labels[c], 3]]);
        const p = await this.product(e, y, `loss.p${c}`, 1);
        const kept = await this.product(p, real, `loss.kept${c}`, 1);
        out.push(await this.each(`loss.dlogit${c}`, kept.level - 1, 1 / 8, 1, kept, async (g) => [
          await k().lower(await k().sub(Trainer.one(kept, g), Trainer.one(label, g)), Trainer.one(kept, g).level - 1, 1 / batch),
        ]));
      }
      return out;
    });
    return out;
  }

  private async optimizerStep(params: Value[], grads: Value[], state: OptimizerState, s: OptimizerSettings): Promise<{ params: Value[]; state: OptimizerState }> {
    const k = () => this.t.kernels;
    let updatedParams: Value[] = [];
    let next!: OptimizerState;
    await this.stage('optimizer', async () => {
      await this.ensure(params.map((p): [Value, number] => [p, 2]));
      const chunks = this.optimizerWidth;
      // Packed at level 0, a value is bootstrapped as it is (no room to scale it up first): the
      // gradients' absolute error is then 2^-21 or so, a relative 2e-3 on the smallest (LoRA A's),
      // well inside what AdamW's normalised step carries into the weights.
      const pack = (values: Value[], name: string, bound: number) => {
        const level = Math.min(...values.map((v) => v.level)) - 1;
        return this.each(name, level, level === 0 ? 1 : bound, chunks, values[0], async () =>
          Promise.all(Array.from({ length: chunks }, (_, c) => k().packRows(values.slice(c * this.rows, (c + 1) * this.rows).map((v) => Trainer.one(v, 0))))));
      };
      let theta = await pack(params, 'optimizer.theta', GRADIENT_BOUNDS.weight);
      let g = await pack(grads, 'optimizer.grad', GRADIENT_BOUNDS.parameter);
      let { m, v } = state;
      [g, m, v, theta] = await this.ensure([[g, 4], [m, 2], [v, 2], [theta, 3]]);
      // every packed ciphertext the same way
      const each = (name: string, level: number, bound: number, like: Value, fn: (c: number) => Promise<Ciphertext>) =>
        this.each(name, level, bound, chunks, like, async () => Promise.all(Array.from({ length: chunks }, (_, c) => fn(c))));
      const at = (v: Value, c: number) => v.groups![0][c];
      // m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
      const gg = g;
      const mm = m;
      const mLevel = Math.min(gg.level, mm.level) - 1;
      m = await each('optimizer.m', mLevel, GRADIENT_BOUNDS.moment, mm, async (c) => k().add(await k().lower(at(mm, c), mLevel, s.beta1), await k().lower(at(gg, c), mLevel, 1 - s.beta1)));
      const squared = await this.product(gg, gg, 'optimizer.g2', GRADIENT_BOUNDS.parameter);
      const vv = v;
      const vLevel = Math.min(squared.level, vv.level) - 1;
      v = await each('optimizer.v', vLevel, GRADIENT_BOUNDS.secondMoment, vv, async (c) => k().add(await k().lower(at(vv, c), vLevel, s.beta2), await k().lower(at(squared, c), vLevel, 1 - s.beta2)));
      // 1 / sqrt(v + eps) as in optim.ts: s = (v + eps) k in the LayerNorm's interval, k = ISQ_LO / eps
      const scaleK = P.ISQ_LO / s.eps;
      const a = P.ISQ_LO / P.ISQ_HI;
      const depth = depthOfChebyshev(INV_SQRT_CHEBYSHEV);
      [v] = await this.ensure([[v, depth + 3]]);
      const v0 = v;
      const halfS = await each('optimizer.halfS', v0.level - 1, 128, v0, async (c) => k().addScalar(await k().lower(at(v0, c), v0.level - 1, scaleK / 2), (s.eps * scaleK) / 2));
      const t = await each('optimizer.t', v0.level - 1, 1, v0, async (c) =>
        k().addScalar(await k().lower(at(v0, c), v0.level - 1, (2 * scaleK) / (P.ISQ_HI * (1 - a))), ((2 * s.eps * scaleK) / P.ISQ_HI - a - 1) / (1 - a)));
      let w = await each('optimizer.w', t.level - depth, 8, t, (c) => k().chebyshev(at(t, c), INV_SQRT_CHEBYSHEV));
      const approx = { ...INV_SQRT, eps: s.eps };
      for (let i = 0; i < P.ISQ_NEWTON; i++) {
        [w] = await this.ensure([[w, 3]]);
        const ww = w;
        w = await each('optimizer.w', Math.min(ww.level, halfS.level) - 2, 8, ww, (c) => k().newton(at(ww, c), at(halfS, c), approx));
      }
      // theta <- theta (1 - lr wd) - lr sqrt(k) m w  (no decay on biases)
      [m, w, theta] = await this.ensure([[m, 3], [w, 3], [theta, 3]]);
      const step = await this.product(m, w, 'optimizer.mw', GRADIENT_BOUNDS.moment * 8);
      const th = theta;
      const decay = Float64Array.from(this.slots, (slot) => (slot.decay ? 1 - s.lr * s.weightDecay : 1));
      const decayed = await each('optimizer.decayed', th.level - 1, GRADIENT_BOUNDS.weight, th, (c) => k().scaleRows(at(th, c), decay.subarray(c * this.rows, (c + 1) * this.rows)));
      const stepLevel = Math.min(step.level - 1, decayed.level);
      theta = await each('optimizer.theta', stepLevel, GRADIENT_BOUNDS.weight, decayed, async (c) => k().sub(at(decayed, c), await k().lower(at(step, c), stepLevel, s.lr * Math.sqrt(scaleK))));
      // Refreshed while packed (one bootstrap per two packed rows), so that every unpacked parameter
      // starts the next step with the PARAMETER_DEPTH levels its uses need.
      [theta] = await this.ensure([[theta, PARAMETER_DEPTH + 1]]);
      const packed = theta;
      updatedParams = [];
      for (let i = 0; i < params.length; i++)
        updatedParams.push(
          this.made(`param${i}`, packed.level - 1, GRADIENT_BOUNDS.weight, 1, packed, this.planning ? null : [[await k().unpackRow(at(packed, Math.floor(i / this.rows)), i % this.rows)]]),
        );
      next = { m, v };
      return updatedParams;
    });
    return { params: updatedParams, state: next };
  }
}

/** The polynomial softmax of the loss (poly.ts): exp on the centred logits / LOSS_B, and 1 / sum. */
const LOSS_EXP = Float64Array.from(P.LOSS_EXP_CHEB.c);
const LOSS_INV = Float64Array.from(P.LOSS_INV_CHEB.c);

/** d w0 / dv of the LayerNorm's Chebyshev start (w0 = p(t) / sqrt(hi), t affine in u = v / hi). */
export const INV_SQRT_DERIVATIVE = Float64Array.from(P.ISQ_CHEB.dc, (c) => c / (Math.sqrt(P.ISQ_HI) * P.ISQ_HI));
/** The pooler's tanh and its derivative by the pre-activation x (the interpolant's variable is x / TANH_B). */
export const TANH_VALUES = Float64Array.from(P.TANH_CHEB.c);
export const TANH_DERIVATIVE = Float64Array.from(P.TANH_CHEB.dc);
