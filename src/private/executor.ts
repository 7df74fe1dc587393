/**
 * The encrypted executor: walks the model description (src/model/description.ts) on packed
 * ciphertexts, one native kernel call per stage and row group. The same code plans and runs: with no
 * backend it only tracks levels, so the plan (which stage bootstraps what, how many bootstraps, the
 * stage table) is exactly what a run does. Bootstraps are inserted greedily, just before a stage
 * whose inputs have too few levels left, and paired (two real ciphertexts per bootstrap).
 *
 * Stages of the HE-friendly model (poly.ts gives every approximation):
 *   LayerNorm   statistics (3 levels), 1/sqrt Chebyshev, Newton steps (2 each), normalize (1);
 *               gamma and beta are folded into the next weights
 *   projections x W (1) [+ LoRA (x A) B with encrypted A, B (2)]
 *   attention   Gaussian-kernel bases (3), squarings, kernel x values (key mask first)
 *   feed-forward up (1, the 1/16 of ReLU's sign input folded in), composite sign (3 per
 *               degree-7 step), t + t sign (1), down (1, ReLU's factor 8 folded in)
 *   head        pooler with encrypted diagonals (1), tanh Chebyshev, classifier (1)
 */
import type { Bootstrapper } from '../api/bootstrap';
import type { Ciphertext } from '../api/ciphertext';
import { InvalidArgumentError, LevelMismatchError, UnsupportedError } from '../api/errors';
import type { ModelDescription } from '../model/description';
import * as P from '../model/poly';
import { callNative } from '../api/native';
import type { Kernels, MatrixProduct } from './kernels';

/** A value of the forward pass: its ciphertexts per row group (null while planning), at one level. */
export interface Value {
  name: string;
  level: number;
  /** Upper bound on |slot value|, a power of two: what a bootstrap divides by first. */
  bound: number;
  /** ciphertexts per row group */
  width: number;
  /** row groups (the batch's, or one after the last layer gathers its [CLS] rows) */
  count: number;
  groups: Ciphertext[][] | null;
}

/** Bounds of the values that may be bootstrapped (powers of two; measured maxima on the tasks' data at most half of them). */
export const VALUE_BOUNDS = {
  residual: 32,
  normalized: 8,
  projection: 16,
  attention: 64,
  invSqrt: 128,
  unit: 1,
} as const;

export interface StageRecord {
  stage: string;
  /** level of the stage's output */
  level: number;
  /** bootstraps run just before the stage (per batch of row groups) */
  bootstraps: number;
  seconds: number;
}

/** The encrypted weights a LoRA-fine-tuned client sends (see client.ts for their encodings). */
export interface EncryptedAdapter {
  a: Ciphertext[];
  aBias: Ciphertext[];
  b: Ciphertext[];
}
export interface EncryptedHead {
  poolerDiagonals: Ciphertext[];
  poolerBias: Ciphertext;
  classifier: Ciphertext[];
  classifierBias: Ciphertext[];
}
export interface EncryptedWeights {
  /** per layer: adapters of the query, key and value projections */
  adapters: { query: EncryptedAdapter; key: EncryptedAdapter; value: EncryptedAdapter }[];
  head: EncryptedHead;
}

/** The server's plaintext weights as native matrix products (gamma, beta and constants folded in). */
export interface ServerMatrices {
  layers: { query: MatrixProduct; key: MatrixProduct; value: MatrixProduct; output: MatrixProduct; up: MatrixProduct; down: MatrixProduct }[];
}

export interface RunBackend {
  kernels: Kernels;
  bootstrapper: Bootstrapper;
  matrices: ServerMatrices;
  weights: EncryptedWeights;
}

export interface ProgressEvent {
  stage: string;
  stagesDone: number;
  bootstrapsDone: number;
}

export interface ExecutorHooks {
  /** After every stage. */
  onProgress?: (event: ProgressEvent) => void;
  /** As each bootstrap's stages end. */
  onBootstrapStage?: (stage: string, seconds: number) => void;
  /** Every stage's output value (for diagnostics: the client can decrypt them and compare). */
  onStageOutput?: (stage: string, value: Value) => void;
}

export const INV_SQRT = { lo: P.ISQ_LO, hi: P.ISQ_HI } as const;

/** Levels of a projection with its LoRA branch, and the levels the attention's value stage needs. */
const PROJECTION_DEPTH = 2;
const VALUES_INPUT_LEVELS = 5;

export class Executor {
  readonly stages: StageRecord[] = [];
  bootstraps = 0;
  protected pendingBootstraps = 0;

  constructor(
    readonly desc: ModelDescription,
    /** level of fresh inputs and of bootstrap outputs */
    readonly topLevel: number,
    /** row groups (ciphertexts of sequences) in the batch */
    readonly groupCount: number,
    protected readonly backend: RunBackend | null,
    protected readonly hooks: ExecutorHooks = {},
  ) {
    if (desc.attention !== 'gaussian' || desc.norm !== 'poly' || desc.activation !== 'relu-poly' || desc.pooler !== 'tanh-poly')
      throw new UnsupportedError(`the encrypted executor runs the HE-friendly variant; '${desc.variant}' is not supported`, 'ERR_UNSUPPORTED');
  }

  get planning(): boolean {
    return this.backend === null;
  }
  protected get run(): RunBackend {
    if (!this.backend) throw new Error('internal: no backend while planning');
    return this.backend;
  }

  /** A value of fresh ciphertexts (the client's inputs), at the top level. */
  input(name: string, bound: number, groups: Ciphertext[][] | null, width: number): Value {
    if (groups && groups.length !== this.groupCount) throw new InvalidArgumentError(`${name}: ${groups.length} row groups, expected ${this.groupCount}`);
    return { name, level: this.topLevel, bound, width, count: this.groupCount, groups };
  }

  // ------------------------------------------------------------------------------------------
  // level management

  /**
   * Bootstraps every value below its required level (all together, two ciphertexts per bootstrap).
   * A value is refreshed in place, so its later consumers see the refreshed ciphertexts.
   */
  protected async ensure(requests: [Value, number][]): Promise<Value[]> {
    const unique = requests.filter(([v], i) => requests.findIndex(([w]) => w === v) === i);
    const low = unique.filter(([v, need]) => v.level < need);
    for (const [v, need] of low)
      if (need > this.topLevel)
        throw new LevelMismatchError(`stage needs ${need} levels of ${v.name}; a bootstrap leaves ${this.topLevel}`, 'ERR_LEVEL_MISMATCH');
    if (low.length === 0) return requests.map(([v]) => v);
    // two ciphertexts per bootstrap, paired with others of the same bound (a pair is divided by the
    // larger bound, which would cost the smaller value precision); an odd one out takes along the
    // stage's lowest other input of its bound for free
    const entries: { value: Value; group: number; index: number }[] = [];
    for (const [v] of low) for (let g = 0; g < v.count; g++) for (let i = 0; i < v.width; i++) entries.push({ value: v, group: g, index: i });
    const odd = entries.filter((e) => entries.filter((f) => f.value.bound === e.value.bound).length % 2 === 1);
    if (odd.length > 0) {
      const spare = unique.filter(([v]) => v.level < this.topLevel && v.width * v.count === 1 && v.bound === odd[0].value.bound && !low.some(([w]) => w === v));
      if (spare.length > 0) {
        const [v] = spare.reduce((a, b) => (b[0].level < a[0].level ? b : a));
        low.push([v, v.level]);
        entries.push({ value: v, group: 0, index: 0 });
      }
    }
    entries.sort((a, b) => a.value.bound - b.value.bound);
    const calls = Math.ceil(entries.length / 2);
    this.pendingBootstraps += calls;
    if (!this.planning) {
      const out = await this.run.kernels.refresh(this.run.bootstrapper, entries.map((e) => e.value.groups![e.group][e.index]), entries.map((e) => e.value.bound), this.hooks.onBootstrapStage);
      const fresh = new Map<Value, Ciphertext[][]>();
      for (const [v] of low) fresh.set(v, v.groups!.map((g) => g.slice()));
      entries.forEach((e, i) => (fresh.get(e.value)![e.group][e.index] = out[i]));
      for (const [v] of low) v.groups = fresh.get(v)!;
    }
    for (const [v] of low) v.level = this.topLevel;
    this.bootstraps += calls;
    return requests.map(([v]) => v);
  }

  /** Runs `body` on every row group (the kernels parallelize inside each call). */
  protected async perGroup<T>(like: Value, body: (g: number) => Promise<T>): Promise<T[]> {
    const out: T[] = [];
    for (let g = 0; g < like.count; g++) out.push(await body(g));
    return out;
  }

  protected async stage(name: string, body: () => Promise<Value | Value[]>): Promise<void> {
    const t0 = performance.now();
    const bootstrapsBefore = this.pendingBootstraps;
    this.pendingBootstraps = 0;
    const result = await body();
    const out = Array.isArray(result) ? result : [result];
    this.stages.push({ stage: name, level: Math.min(...out.map((v) => v.level)), bootstraps: bootstrapsBefore + this.pendingBootstraps, seconds: (performance.now() - t0) / 1000 });
    this.pendingBootstraps = 0;
    for (const v of out) this.hooks.onStageOutput?.(name, v);
    this.hooks.onProgress?.({ stage: name, stagesDone: this.stages.length, bootstrapsDone: this.bootstraps });
  }

  protected made(name: string, level: number, bound: number, width: number, like: Value, groups: Ciphertext[][] | null): Value {
    // a value at level 0 can only be bootstrapped as it is, which needs bound 1
    if (level < 0 || (level === 0 && bound !== 1)) throw new LevelMismatchError(`internal: ${name} planned at level ${level} with bound ${bound}`, 'ERR_LEVEL_MISMATCH');
    return { name, level, bound, width, count: like.count, groups };
  }

  // ------------------------------------------------------------------------------------------
  // stages

  private async layerNorm(x: Value, name: string): Promise<Value> {
    let out!: Value;
    await this.stage(name, async () => {
      const approx = { ...INV_SQRT, eps: this.desc.lnEps };
      // v/2 is never bootstrapped: a bootstrap's absolute error would cost a small variance its
      // relative precision, which the Newton steps cannot restore. So the input starts high enough
      // for the statistics and the Chebyshev step, and v/2 serves every Newton step from there.
      const cheb = INV_SQRT_CHEBYSHEV;
      const depth = depthOfChebyshev(cheb);
      [x] = await this.ensure([[x, depth + 3]]);
      const stats = this.planning ? null : await this.perGroup(x, (g) => this.run.kernels.normStatistics(x.groups![g][0], approx));
      const pick = (i: number) => (stats ? stats.map((s) => [s[i]]) : null);
      let centred = this.made(`${name}.centred`, x.level - 1, 2 * VALUE_BOUNDS.residual, 1, x, pick(0));
      let t = this.made(`${name}.t`, x.level - 2, VALUE_BOUNDS.unit, 1, x, pick(1));
      const halfV = this.made(`${name}.halfV`, x.level - 2, VALUE_BOUNDS.invSqrt, 1, x, pick(2));
      // w ~ 1/sqrt(var + eps): the Chebyshev interpolant of poly.ts divided by sqrt(hi), then Newton steps
      [t] = await this.ensure([[t, depth + 1]]);
      const tt = t;
      let w = this.made(`${name}.w`, t.level - depth, VALUE_BOUNDS.normalized, 1, t,
        this.planning ? null : await this.perGroup(tt, async (g) => [await this.run.kernels.chebyshev(tt.groups![g][0], cheb)]));
      for (let i = 0; i < P.ISQ_NEWTON; i++) {
        [w] = await this.ensure([[w, 3]]);
        const [ww, hv] = [w, halfV];
        w = this.made(`${name}.w`, Math.min(ww.level, hv.level) - 2, VALUE_BOUNDS.normalized, 1, ww,
          this.planning ? null : await this.perGroup(ww, async (g) => [await this.run.kernels.newton(ww.groups![g][0], hv.groups![g][0], approx)]));
      }
      [centred, w] = await this.ensure([[centred, 2], [w, 2]]);
      const [c, ww] = [centred, w];
      out = this.made(name, Math.min(c.level, ww.level) - 1, VALUE_BOUNDS.normalized, 1, c,
        this.planning ? null : await this.perGroup(c, async (g) => [await this.run.kernels.multiply(c.groups![g][0], ww.groups![g][0])]));
      return out;
    });
    return out;
  }

  /** x W (+ bias) for a plaintext weight; one level. */
  protected async linear(x: Value, product: (b: RunBackend) => MatrixProduct, name: string, outWidth: number, bound: number): Promise<Value> {
    let out!: Value;
    await this.stage(name, async () => {
      [x] = await this.ensure([[x, 2]]);
      out = this.made(name, x.level - 1, bound, outWidth, x,
        this.planning ? null : await this.perGroup(x, (g) => this.run.kernels.applyMatrix(product(this.run), x.groups![g])));
      return out;
    });
    return out;
  }

  /** A projection with its LoRA branch: x W + (x A) B; two levels. */
  private async projection(h: Value, l: number, which: 'query' | 'key' | 'value'): Promise<Value> {
    const step = this.desc.layers[l][which];
    const name = `L${l}.${which}`;
    if (!step.lora) return this.linear(h, (b) => b.matrices.layers[l][which], name, 1, VALUE_BOUNDS.projection);
    let out!: Value;
    await this.stage(name, async () => {
      [h] = await this.ensure([[h, 3]]);
      const level = h.level - 2;
      out = this.made(name, level, VALUE_BOUNDS.projection, 1, h,
        this.planning ? null : await this.perGroup(h, async (g) => {
          const k = this.run.kernels;
          const x = h.groups![g][0];
          const adapter = this.run.weights.adapters[l][which];
          const [base] = await k.applyMatrix(this.run.matrices.layers[l][which], [x]);
          const t = await k.featureDot(x, adapter.a, adapter.aBias);
          const lora = await k.broadcastSum(t, adapter.b);
          return [await k.add(base, lora)];
        }));
      return out;
    });
    return out;
  }

  private async attention(q: Value, k: Value, v: Value, mask: Value, l: number): Promise<Value> {
    const name = `L${l}.attention`;
    const constant = 1 / (2 * Math.sqrt(this.desc.headDim));
    let out!: Value;
    await this.stage(`${name}.bases`, async () => {
      [q, k] = await this.ensure([[q, 4], [k, 4]]);
      const level = Math.min(q.level, k.level) - 3;
      const packed = this.packedCount();
      out = this.made(`${name}.bases`, level, VALUE_BOUNDS.unit, packed, q,
        this.planning ? null : await this.perGroup(q, (g) => this.run.kernels.attentionBases(q.groups![g][0], k.groups![g][0], constant, P.EXP_SQUARINGS)));
      return out;
    });
    let kernel = out;
    // the squarings, bootstrapping in between where the levels run out
    let remaining = P.EXP_SQUARINGS;
    while (remaining > 0) {
      await this.stage(`${name}.exp`, async () => {
        [kernel] = await this.ensure([[kernel, 2]]);
        const count = Math.min(remaining, kernel.level - 1);
        const input = kernel;
        kernel = this.made(`${name}.exp`, input.level - count, VALUE_BOUNDS.unit, input.width, input,
          this.planning ? null : await this.perGroup(input, (g) => Promise.all(input.groups![g].map((c) => this.run.kernels.squarings(c, count)))));
        remaining -= count;
        return kernel;
      });
    }
    await this.stage(`${name}.values`, async () => {
      [kernel, v, mask] = await this.ensure([[kernel, 2], [v, VALUES_INPUT_LEVELS], [mask, VALUES_INPUT_LEVELS]]);
      const level = Math.min(Math.min(v.level, mask.level) - 3, kernel.level) - 1;
      out = this.made(name, level, VALUE_BOUNDS.attention, 1, v,
        this.planning ? null : await this.perGroup(kernel, async (g) => [
          await this.run.kernels.attentionApply(kernel.groups![g], v.groups![g][0], mask.groups![g][0], constant, P.EXP_SQUARINGS),
        ]));
      return out;
    });
    return out;
  }

  /** Only the [CLS] rows matter after the last attention: one ciphertext for every row group from here. */
  protected async gatherFirstRows(x: Value): Promise<Value> {
    let out!: Value;
    await this.stage('gather', async () => {
      [x] = await this.ensure([[x, 2]]);
      out = { name: 'gather', level: x.level - 1, bound: x.bound, width: x.width, count: 1, groups: this.planning ? null : [[await this.run.kernels.gatherFirstRows(x.groups!.map((g) => g[0]))]] };
      return out;
    });
    return out;
  }

  protected packedCount(): number {
    const per = this.desc.dim / this.desc.heads;
    return Math.ceil(this.desc.maxLen / per);
  }

  protected async add(a: Value, b: Value, name: string, bound: number): Promise<Value> {
    let out!: Value;
    await this.stage(name, async () => {
      out = this.made(name, Math.min(a.level, b.level), bound, a.width, a,
        this.planning ? null : await this.perGroup(a, (g) => Promise.all(a.groups![g].map((c, i) => this.run.kernels.add(c, b.groups![g][i])))));
      return out;
    });
    return out;
  }

  private async feedForward(x1: Value, h2: Value, l: number): Promise<Value> {
    const chunks = Math.ceil(this.desc.ffn / this.desc.dim);
    const t = await this.linear(h2, (b) => b.matrices.layers[l].up, `L${l}.up`, chunks, VALUE_BOUNDS.unit);
    // sign(t) by the composite of poly.ts (SIGN_COMPOSE degree-7 steps)
    let s = t;
    const coefficients = signCoefficients();
    for (let i = 0; i < P.SIGN_COMPOSE; i++) {
      await this.stage(`L${l}.sign`, async () => {
        [s] = await this.ensure([[s, 4]]);
        const input = s;
        s = this.made(`L${l}.sign`, input.level - 3, VALUE_BOUNDS.unit, chunks, input,
          this.planning ? null : await this.perGroup(input, (g) => Promise.all(input.groups![g].map((c) => this.run.kernels.oddDegree7(c, coefficients)))));
        return s;
      });
    }
    let z!: Value;
    await this.stage(`L${l}.relu`, async () => {
      let tt = t;
      [tt, s] = await this.ensure([[tt, 2], [s, 2]]);
      z = this.made(`L${l}.relu`, Math.min(tt.level, s.level) - 1, VALUE_BOUNDS.unit, chunks, tt,
        this.planning ? null : await this.perGroup(tt, (g) => Promise.all(tt.groups![g].map((c, i) => this.run.kernels.reluCombine(c, s.groups![g][i])))));
      return z;
    });
    const f = await this.linear(z, (b) => b.matrices.layers[l].down, `L${l}.down`, 1, VALUE_BOUNDS.residual);
    return this.add(x1, f, `L${l}.residual2`, VALUE_BOUNDS.residual);
  }

  private async head(x: Value): Promise<Value> {
    const z = await this.layerNorm(x, 'final.norm');
    let u!: Value;
    await this.stage('head.pooler', async () => {
      let zz = z;
      [zz] = await this.ensure([[zz, 2]]);
      u = this.made('head.pooler', zz.level - 1, VALUE_BOUNDS.unit, 1, zz,
        this.planning ? null : await this.perGroup(zz, async (g) => {
          const h = this.run.weights.head;
          return [await this.run.kernels.cipherMatrix(zz.groups![g][0], h.poolerDiagonals, h.poolerBias)];
        }));
      return u;
    });
    let th!: Value;
    await this.stage('head.tanh', async () => {
      const cheb = TANH_CHEBYSHEV;
      const depth = depthOfChebyshev(cheb);
      [u] = await this.ensure([[u, depth + 1]]);
      th = this.made('head.tanh', u.level - depth, VALUE_BOUNDS.unit, 1, u,
        this.planning ? null : await this.perGroup(u, async (g) => [await this.run.kernels.chebyshev(u.groups![g][0], cheb)]));
      return th;
    });
    let logits!: Value;
    await this.stage('head.classifier', async () => {
      [th] = await this.ensure([[th, 1]]);
      logits = this.made('logits', th.level - 1, VALUE_BOUNDS.residual, this.desc.numLabels, th,
        this.planning ? null : await this.perGroup(th, (g) => {
          const h = this.run.weights.head;
          return this.run.kernels.featureDot(th.groups![g][0], h.classifier, h.classifierBias);
        }));
      return logits;
    });
    return logits;
  }

  /** The whole forward pass: embeddings and key mask in, one logit ciphertext per label out (per row group). */
  async forward(embeddings: Value, keyMask: Value): Promise<Value> {
    let x = embeddings;
    for (let l = 0; l < this.desc.layers.length; l++) {
      const h = await this.layerNorm(x, `L${l}.ln1`);
      // q, k and v come from h: refresh h once if the projections would leave them too low for attention
      await this.ensure([[h, PROJECTION_DEPTH + VALUES_INPUT_LEVELS]]);
      const q = await this.projection(h, l, 'query');
      const k = await this.projection(h, l, 'key');
      const v = await this.projection(h, l, 'value');
      const att = await this.attention(q, k, v, keyMask, l);
      const o = await this.linear(att, (b) => b.matrices.layers[l].output, `L${l}.output`, 1, VALUE_BOUNDS.residual);
      let x1 = await this.add(x, o, `L${l}.residual1`, VALUE_BOUNDS.residual);
      if (l === this.desc.layers.length - 1 && x1.count > 1) x1 = await this.gatherFirstRows(x1);
      const h2 = await this.layerNorm(x1, `L${l}.ln2`);
      x = await this.feedForward(x1, h2, l);
    }
    return this.head(x);
  }
}

/** f(t) = (35 t - 35 t^3 + 21 t^5 - 5 t^7) / 16: the coefficients of t, t^3, t^5, t^7. */
export function signCoefficients(): number[] {
  return POLYS.relu.f;
}

/** The approximation table both executors share (poly.ts's exportPolys()). */
const POLYS = P.exportPolys() as {
  invSqrt: { cheb: number[]; interval: [number, number] };
  tanh: { cheb: number[] };
  relu: { f: number[] };
};

/** The pooler's tanh interpolant (its input is divided by TANH_B in the pooler weights). */
export const TANH_CHEBYSHEV = Float64Array.from(POLYS.tanh.cheb);

/** The LayerNorm's 1/sqrt interpolant, divided by sqrt(hi) so that it gives 1/sqrt(var + eps) directly. */
export const INV_SQRT_CHEBYSHEV = Float64Array.from(POLYS.invSqrt.cheb, (c) => c / Math.sqrt(POLYS.invSqrt.interval[1]));

const depths = new Map<Float64Array, number>();
/** Levels a Chebyshev evaluation of these coefficients consumes (native ChebyshevEvaluation). */
export function depthOfChebyshev(coefficients: Float64Array): number {
  let d = depths.get(coefficients);
  if (d === undefined) {
    d = callNative<number>('kernelChebyshevDepth', coefficients);
    depths.set(coefficients, d);
  }
  return d;
}
