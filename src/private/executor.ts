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
 *
 * Stages of the standard model (the paper's baseline; its exact functions by poly.ts's stand-ins):
 *   LayerNorm and head as above (its 1/sqrt and tanh stand-ins are the HE-friendly approximations)
 *   projections x W (1): no adapters (weights.ts usesAdapters says why)
 *   attention   packed key mask (2, once per forward pass), scores (4), row max by comparison
 *               (per round: difference, the sign steps (3 each), combine (1); one round across the
 *               packed ciphertexts, then one per halving of the block pairs), exp input (1),
 *               Chebyshev (4), squarings, masked row sums (1), Goldschmidt start (1) and iterations
 *               (1 each), weights (1), weights x values (as the Gaussian kernel's)
 *   feed-forward up (1, GELU's 1/GELU_B folded in), GELU Chebyshev, down (1)
 */
import type { Bootstrapper } from '../api/bootstrap';
import type { Ciphertext } from '../api/ciphertext';
import { InvalidArgumentError, LevelMismatchError, UnsupportedError } from '../api/errors';
import type { ModelDescription } from '../model/description';
import * as P from '../model/poly';
import { callNative } from '../api/native';
import type { Kernels, MatrixProduct, SoftmaxConstants } from './kernels';
import { usesAdapters } from './weights';

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
  /** softmax: the packed key mask, normalised scores and signs (within +-1) */
  signed: 2,
  /** softmax: exponentials, at most e^SMX_EXP_HI (before the squarings' end: expBound) */
  exponential: 16,
  /** softmax: row sums (at most SMX_SUM_MAX) and their Goldschmidt inverse c / sum */
  rowSum: 512,
  inverse: 256,
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
/** Depths of native kernels (softmax_attention.hpp, polynomials.hpp). */
const SOFTMAX_PACKED_MASK_DEPTH = 2;
const SOFTMAX_SCORES_DEPTH = 4;
const ODD_DEGREE7_DEPTH = 3;

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
    const heFriendly = desc.attention === 'gaussian' && desc.norm === 'poly' && desc.activation === 'relu-poly' && desc.pooler === 'tanh-poly';
    const standard = desc.attention === 'softmax' && desc.norm === 'exact' && desc.activation === 'gelu' && desc.pooler === 'tanh';
    if (!heFriendly && !standard)
      throw new UnsupportedError(`the encrypted executor runs the HE-friendly and the standard variant; this description mixes them`, 'ERR_UNSUPPORTED');
    if (standard && (desc.maxLen > P.SMX_MAX_KEYS || maxRounds(this.packedCount(), desc.headDim) > P.SMX_MAX_ROUNDS))
      throw new UnsupportedError(`the softmax stand-in covers rows of ${P.SMX_MAX_KEYS} keys in ${P.SMX_MAX_ROUNDS} max rounds; this model has ${desc.maxLen} tokens`, 'ERR_UNSUPPORTED');
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
    if (!step.lora || !usesAdapters(this.desc)) return this.linear(h, (b) => b.matrices.layers[l][which], name, 1, VALUE_BOUNDS.projection);
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

  // ------------------------------------------------------------------------------------------
  // the standard model: softmax attention and GELU by poly.ts's stand-ins
  // (every output is kept at level 1 or above: a bootstrap divides by the value's bound first)

  /** The key mask shifted and placed like the scores (packed_count ciphertexts), once per forward pass. */
  private async packedKeyMask(mask: Value): Promise<Value> {
    let out!: Value;
    await this.stage('keyMask.packed', async () => {
      [mask] = await this.ensure([[mask, SOFTMAX_PACKED_MASK_DEPTH]]);
      const constants = softmaxConstants(this.desc.headDim);
      out = this.made('keyMask.packed', mask.level - SOFTMAX_PACKED_MASK_DEPTH, VALUE_BOUNDS.signed, this.packedCount(), mask,
        this.planning ? null : await this.perGroup(mask, (g) => this.run.kernels.softmaxPackedMask(mask.groups![g][0], constants)));
      return out;
    });
    return out;
  }

  private async softmaxAttention(q: Value, k: Value, v: Value, mask: Value, packedMask: Value, l: number): Promise<Value> {
    const name = `L${l}.softmax`;
    const constants = softmaxConstants(this.desc.headDim);
    const kernels = () => this.run.kernels;
    let scores!: Value;
    await this.stage(`${name}.scores`, async () => {
      [q, k, mask] = await this.ensure([[q, SOFTMAX_SCORES_DEPTH + 1], [k, SOFTMAX_SCORES_DEPTH + 1], [mask, SOFTMAX_SCORES_DEPTH + 1]]);
      const level = Math.min(q.level, k.level, mask.level) - SOFTMAX_SCORES_DEPTH;
      [packedMask] = await this.ensure([[packedMask, level + 1]]);
      scores = this.made(`${name}.scores`, level, VALUE_BOUNDS.signed, this.packedCount(), q,
        this.planning ? null : await this.perGroup(q, (g) => kernels().softmaxScores(q.groups![g][0], k.groups![g][0], mask.groups![g][0], packedMask.groups![g], constants)));
      return scores;
    });
    const rowMax = await this.rowMax(scores, name);
    // exp(x), x = 2B (u - max): the Chebyshev input, the interpolant of exp(x / 2^k), k squarings
    let e!: Value;
    await this.stage(`${name}.exp`, async () => {
      let m = rowMax;
      [scores, m] = await this.ensure([[scores, 2], [m, 2]]);
      const { factor, offset } = softmaxExpAffine();
      const [sc, mx] = [scores, m];
      const t = this.made(`${name}.expInput`, Math.min(sc.level, mx.level) - 1, VALUE_BOUNDS.signed, sc.width, sc,
        this.planning ? null : await this.perGroup(sc, (g) => kernels().softmaxExpInput(sc.groups![g], mx.groups![g][0], factor, offset, constants)));
      e = await this.chebyshevValue(t, SOFTMAX_EXP_CHEBYSHEV, `${name}.exp`, expBound(P.SMX_EXP_SQUARINGS));
      return e;
    });
    let remaining = P.SMX_EXP_SQUARINGS;
    while (remaining > 0) {
      await this.stage(`${name}.exp`, async () => {
        [e] = await this.ensure([[e, 2]]);
        const count = Math.min(remaining, e.level - 1);
        const input = e;
        e = this.made(`${name}.exp`, input.level - count, expBound(remaining - count), input.width, input,
          this.planning ? null : await this.perGroup(input, (g) => Promise.all(input.groups![g].map((c) => kernels().squarings(c, count)))));
        remaining -= count;
        return e;
      });
    }
    // masked exponentials and their row sums (e at 3 levels, so that the sum reaches the inverse unrefreshed)
    let masked!: Value;
    let sum!: Value;
    await this.stage(`${name}.sum`, async () => {
      [e, packedMask] = await this.ensure([[e, 3], [packedMask, 3]]);
      const [ee, pm] = [e, packedMask];
      const level = Math.min(ee.level, pm.level) - 1;
      const out = this.planning ? null : await this.perGroup(ee, (g) => kernels().softmaxRowSums(ee.groups![g], pm.groups![g], constants));
      masked = this.made(`${name}.masked`, level, VALUE_BOUNDS.exponential, ee.width, ee, out && out.map((cts) => cts.slice(0, -1)));
      sum = this.made(`${name}.sum`, level, VALUE_BOUNDS.rowSum, 1, ee, out && out.map((cts) => cts.slice(-1)));
      return [masked, sum];
    });
    const inverse = await this.goldschmidt(sum, name);
    let weights!: Value;
    await this.stage(`${name}.weights`, async () => {
      let a = inverse;
      [masked, a] = await this.ensure([[masked, 3], [a, 2]]);
      const [mk, ia] = [masked, a];
      weights = this.made(`${name}.weights`, Math.min(mk.level - 1, ia.level) - 1, VALUE_BOUNDS.signed, mk.width, mk,
        this.planning ? null : await this.perGroup(mk, (g) => kernels().softmaxNormalize(mk.groups![g], ia.groups![g][0], 1 / P.SMX_INV_CENTER, constants)));
      return weights;
    });
    let out!: Value;
    await this.stage(`${name}.values`, async () => {
      [weights, v, mask] = await this.ensure([[weights, 2], [v, VALUES_INPUT_LEVELS], [mask, VALUES_INPUT_LEVELS]]);
      const [w, vv, m] = [weights, v, mask];
      const level = Math.min(Math.min(vv.level, m.level) - 3, w.level) - 1;
      out = this.made(`L${l}.attention`, level, VALUE_BOUNDS.attention, 1, vv,
        this.planning ? null : await this.perGroup(vv, async (g) => [await kernels().attentionValues(w.groups![g], vv.groups![g][0], m.groups![g][0])]));
      return out;
    });
    return out;
  }

  /** A Chebyshev interpolant on every ciphertext of t (already in [-1, 1]), bootstrapping t first if needed. */
  private async chebyshevValue(t: Value, coefficients: Float64Array, name: string, bound: number): Promise<Value> {
    const depth = depthOfChebyshev(coefficients);
    [t] = await this.ensure([[t, depth + 1]]);
    const input = t;
    return this.made(name, input.level - depth, bound, input.width, input,
      this.planning ? null : await this.perGroup(input, (g) => Promise.all(input.groups![g].map((c) => this.run.kernels.chebyshev(c, coefficients)))));
  }

  /**
   * The row max of the packed scores by pairwise maxima: across the packed ciphertexts, then against
   * the block pair half, a quarter, ... of the way round (every block pair of a head ends with its max).
   */
  private async rowMax(scores: Value, name: string): Promise<Value> {
    let list: Operand[] = Array.from({ length: scores.width }, (_, p) => ({ value: scores, index: p }));
    while (list.length > 1) {
      const next: Operand[] = [];
      for (let i = 0; i < list.length; i += 2) next.push(i + 1 < list.length ? { value: await this.pairMax(list[i], list[i + 1], 0, name), index: 0 } : list[i]);
      list = next;
    }
    let max = list[0];
    const stride = this.desc.heads * this.layoutRows;
    for (let span = this.desc.headDim / 2; span >= 1; span /= 2) max = { value: await this.pairMax(max, null, span * stride, name), index: 0 };
    return max.value;
  }

  /** Rows of the layout, the block size the max's rotations move by (planning tracks levels only). */
  private get layoutRows(): number {
    return this.backend ? this.run.kernels.layout.rows : 0;
  }

  /** max(a, b) (b null: a against a rotated by `step`): difference, the sign steps, combine. */
  private async pairMax(a: Operand, b: Operand | null, step: number, name: string): Promise<Value> {
    const kernels = () => this.run.kernels;
    const at = (x: Operand, g: number) => x.value.groups![g][x.index];
    let out!: Value;
    await this.stage(`${name}.max`, async () => {
      let d = this.made(`${name}.difference`, Math.min(a.value.level, b ? b.value.level : Infinity), VALUE_BOUNDS.signed, 1, a.value,
        this.planning ? null : await this.perGroup(a.value, async (g) => [await kernels().maxDifference(at(a, g), b ? at(b, g) : null, step)]));
      let s = d;
      for (const coefficients of comparisonSteps()) {
        // the running max may ride along in a bootstrap of the sign (two real ciphertexts per bootstrap)
        [s] = await this.ensure([[s, ODD_DEGREE7_DEPTH + 1], [a.value, 0]]);
        const input = s;
        s = this.made(`${name}.sign`, input.level - ODD_DEGREE7_DEPTH, VALUE_BOUNDS.signed, 1, input,
          this.planning ? null : await this.perGroup(input, async (g) => [await kernels().oddDegree7(input.groups![g][0], coefficients)]));
      }
      [d, s] = await this.ensure([[d, 2], [s, 2], [a.value, 1]]);
      const [dd, ss] = [d, s];
      out = this.made(`${name}.max`, Math.min(a.value.level, Math.min(dd.level, ss.level) - 1), VALUE_BOUNDS.signed, 1, dd,
        this.planning ? null : await this.perGroup(dd, async (g) => [await kernels().maxCombine(at(a, g), dd.groups![g][0], ss.groups![g][0])]));
      return out;
    });
    return out;
  }

  /** c / sum by Goldschmidt iterations, bootstrapping the pair (a, b) between them where needed. */
  private async goldschmidt(sum: Value, name: string): Promise<Value> {
    const kernels = () => this.run.kernels;
    let a!: Value;
    let b!: Value;
    await this.stage(`${name}.inverse`, async () => {
      [sum] = await this.ensure([[sum, 2]]);
      const x = sum;
      const start = this.planning ? null : await this.perGroup(x, (g) => kernels().goldschmidtStart(x.groups![g][0], P.SMX_INV_CENTER));
      a = this.made(`${name}.inverse`, x.level - 1, VALUE_BOUNDS.inverse, 1, x, start && start.map((ab) => [ab[0]]));
      b = this.made(`${name}.inverseError`, x.level - 1, VALUE_BOUNDS.signed, 1, x, start && start.map((ab) => [ab[1]]));
      return [a, b];
    });
    let remaining = P.SMX_INV_ITERATIONS;
    while (remaining > 0) {
      await this.stage(`${name}.inverse`, async () => {
        [a, b] = await this.ensure([[a, 2], [b, 3]]);
        const count = Math.min(remaining, a.level - 1, b.level - 2);
        const [ia, ib] = [a, b];
        const out = this.planning ? null : await this.perGroup(ia, (g) => kernels().goldschmidtSteps(ia.groups![g][0], ib.groups![g][0], count));
        a = this.made(`${name}.inverse`, Math.min(ia.level - count, ib.level - count - 1), VALUE_BOUNDS.inverse, 1, ia, out && out.map((ab) => [ab[0]]));
        b = this.made(`${name}.inverseError`, ib.level - count, VALUE_BOUNDS.signed, 1, ib, out && out.map((ab) => [ab[1]]));
        remaining -= count;
        return [a, b];
      });
    }
    return a;
  }

  /** x + W2 GELU(x W1): GELU's input divided by GELU_B in W1, so that its interpolant reads [-1, 1]. */
  private async geluFeedForward(x1: Value, h2: Value, l: number): Promise<Value> {
    const t = await this.linear(h2, (b) => b.matrices.layers[l].up, `L${l}.up`, Math.ceil(this.desc.ffn / this.desc.dim), VALUE_BOUNDS.unit);
    let z!: Value;
    await this.stage(`L${l}.gelu`, async () => {
      z = await this.chebyshevValue(t, GELU_CHEBYSHEV, `L${l}.gelu`, VALUE_BOUNDS.projection);
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
    const softmax = this.desc.attention === 'softmax';
    const packedMask = softmax ? await this.packedKeyMask(keyMask) : null;
    for (let l = 0; l < this.desc.layers.length; l++) {
      const h = await this.layerNorm(x, `L${l}.ln1`);
      // q, k and v come from h: refresh h once if the projections would leave them too low for attention
      if (softmax) await this.ensure([[h, 1 + SOFTMAX_SCORES_DEPTH]]);
      else await this.ensure([[h, PROJECTION_DEPTH + VALUES_INPUT_LEVELS]]);
      const q = await this.projection(h, l, 'query');
      const k = await this.projection(h, l, 'key');
      const v = await this.projection(h, l, 'value');
      const att = packedMask ? await this.softmaxAttention(q, k, v, keyMask, packedMask, l) : await this.attention(q, k, v, keyMask, l);
      const o = await this.linear(att, (b) => b.matrices.layers[l].output, `L${l}.output`, 1, VALUE_BOUNDS.residual);
      let x1 = await this.add(x, o, `L${l}.residual1`, VALUE_BOUNDS.residual);
      if (l === this.desc.layers.length - 1 && x1.count > 1) x1 = await this.gatherFirstRows(x1);
      const h2 = await this.layerNorm(x1, `L${l}.ln2`);
      x = this.desc.activation === 'gelu' ? await this.geluFeedForward(x1, h2, l) : await this.feedForward(x1, h2, l);
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
  gelu: { cheb: number[] };
  softmax: { sign: number[][]; expInterval: [number, number]; expSquarings: number; expCheb: number[] };
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

// ------------------------------------------------------------------------------------------------
// The standard model's softmax attention (poly.ts's softmax stand-in)

/** The comparison's sign steps (poly.ts SMX_SIGN), the last one halved: the max combination takes sgn(d) / 2. */
export function comparisonSteps(): number[][] {
  const sign = POLYS.softmax.sign;
  return sign.map((c, i) => (i === sign.length - 1 ? c.map((x) => x / 2) : [...c]));
}

/** Scores normalised into [-1/2, 1/2] (q.k / (sqrt(d_h) 2B)); masked keys and empty slots at -1/2. */
export function softmaxConstants(headDim: number): SoftmaxConstants {
  return { scoreFactor: 1 / (Math.sqrt(headDim) * 2 * P.SMX_SCORE_B), maskedScore: -0.5 };
}

/** t = factor (u - max) + offset: the Chebyshev input of exp(x / 2^k) for x = 2B (u - max). */
export function softmaxExpAffine(): { factor: number; offset: number } {
  // the interpolant's interval: exp's interval divided by 2^k
  const k = 2 ** POLYS.softmax.expSquarings;
  const [a, b] = POLYS.softmax.expInterval.map((x) => x / k);
  return { factor: (4 * P.SMX_SCORE_B) / (k * (b - a)), offset: -(a + b) / (b - a) };
}

/** Bound of exp(x / 2^k)^(2^j), j = SMX_EXP_SQUARINGS - k squarings done: twice its largest value, a power of two. */
function expBound(squaringsLeft: number): number {
  return 2 ** Math.ceil(Math.log2(2 * Math.exp(P.SMX_EXP_HI / 2 ** squaringsLeft)));
}

/** Pairwise max rounds of a row: across the packed ciphertexts, then halving the head's block pairs. */
function maxRounds(packed: number, headDim: number): number {
  return Math.ceil(Math.log2(packed)) + Math.log2(headDim);
}

/** exp(x / 2^k) on the softmax stand-in's interval, and GELU on [-GELU_B, GELU_B] (inputs scaled into [-1, 1]). */
export const SOFTMAX_EXP_CHEBYSHEV = Float64Array.from(POLYS.softmax.expCheb);
export const GELU_CHEBYSHEV = Float64Array.from(POLYS.gelu.cheb);

/** A ciphertext of a value: the value's `index`-th per row group (a packed ciphertext of the scores). */
interface Operand {
  value: Value;
  index: number;
}
