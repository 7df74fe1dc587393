/**
 * The server of private inference. It holds the public base weights and the client's evaluation keys
 * and encrypted weights, never a secret key: it is made from a model and a preset only, and takes
 * everything else as bytes (protocol.ts), validated before use. It learns the number of row groups
 * in a request and nothing else: sequence lengths travel inside the encrypted key mask.
 */
import { Bootstrapper, type BootstrapPreset } from '../api/bootstrap';
import { Ciphertext } from '../api/ciphertext';
import { CkksContext } from '../api/context';
import { DeserializationError, InsecureParametersError, InvalidArgumentError, LevelMismatchError, MissingKeyError, ScaleMismatchError } from '../api/errors';
import { GaloisKeys, KeyGenerator, RelinKey, SecretKey } from '../api/keys';
import { describeModel, type ModelDescription } from '../model/description';
import type { Model } from '../model/model';
import { Executor, VALUE_BOUNDS, type EncryptedWeights, type ProgressEvent, type StageRecord } from './executor';
import { Kernels } from './kernels';
import { ActivationLayout } from './layout';
import { layoutFor, makePlan, type PrivateInferencePlan } from './plan';
import { MIN_PIPELINE_LEVELS } from './presets';
import { decodeMessage, encodeMessage, entry, type Entry } from './protocol';
import { adapterRank, publicDigest, serverMatrices, weightsOf } from './weights';

export interface ServerOptions {
  /** The public base model (a pretrained checkpoint; its adapters and head are not used). */
  model: Model;
  preset: BootstrapPreset;
  threads?: number;
  allowInsecureParametersForTestsOnly?: boolean;
  /** Most row groups one request may hold. Default 8. */
  maxGroups?: number;
}

export interface InferenceProgress extends ProgressEvent {
  stagesTotal: number;
  bootstrapsTotal: number;
  seconds: number;
  /** Seconds left, estimated from the plan (bootstraps weigh most), or NaN before the first estimate. */
  eta: number;
}

export interface KeyHeader {
  part: 'relin' | 'galois';
}
export interface WeightsHeader {
  layers: number;
  rank: number;
  labels: number;
}
export interface RequestHeader {
  groups: number;
}
export interface ResponseHeader {
  groups: number;
  labels: number;
  bootstraps: number;
  seconds: number;
  stages: StageRecord[];
}

export class PrivateInferenceServer {
  private relinKey: RelinKey | null = null;
  private readonly galoisKeys: GaloisKeys;
  private weights: EncryptedWeights | null = null;
  private kernels: Kernels | null = null;
  private matrices: ReturnType<typeof serverMatrices> | null = null;

  private constructor(
    readonly plan: PrivateInferencePlan,
    private readonly desc: ModelDescription,
    private readonly model: Model,
    readonly context: CkksContext,
    private readonly bootstrapper: Bootstrapper,
    readonly layout: ActivationLayout,
    private readonly maxGroups: number,
  ) {
    this.galoisKeys = GaloisKeys.empty(context);
  }

  static async create(options: ServerOptions): Promise<PrivateInferenceServer> {
    for (const value of Object.values(options))
      if (value instanceof SecretKey || value instanceof KeyGenerator)
        throw new InvalidArgumentError('the server never holds a secret key: pass evaluation keys as bytes', 'ERR_INVALID_ARGUMENT');
    const { model, preset } = options;
    if (preset.insecure && options.allowInsecureParametersForTestsOnly !== true)
      throw new InsecureParametersError(`preset ${preset.name} is insecure (${preset.security}); allowInsecureParametersForTestsOnly is required`, 'ERR_INSECURE_PARAMETERS');
    const desc = describeModel(model.cfg);
    const context = CkksContext.create({ ...preset.context, threads: options.threads ?? 1, allowInsecureParametersForTestsOnly: preset.insecure });
    const bootstrapper = Bootstrapper.create(context, preset.bootstrap);
    if (bootstrapper.outputLevel < MIN_PIPELINE_LEVELS)
      throw new InvalidArgumentError(`preset ${preset.name} leaves ${bootstrapper.outputLevel} levels after bootstrapping; the pipeline needs ${MIN_PIPELINE_LEVELS}`, 'ERR_INVALID_ARGUMENT');
    const topScale = preset.context.scale ?? 2 ** 40;
    const plan = await makePlan(desc, preset, bootstrapper, topScale, publicDigest(desc, model), adapterRank(desc, model.cfg.loraRank));
    const layout = layoutFor(context.ringDegree / 2, desc);
    return new PrivateInferenceServer(plan, desc, model, context, bootstrapper, layout, options.maxGroups ?? 8);
  }

  planBytes(): Uint8Array {
    return encodeMessage('plan', this.plan);
  }

  /** One part of the client's evaluation keys: the relinearization key or some Galois keys. */
  async acceptKey(bytes: Uint8Array): Promise<void> {
    const message = decodeMessage<KeyHeader>(bytes, 'key');
    const key = entry(message, 'key');
    if (message.header.part === 'relin') {
      if (this.relinKey) throw new InvalidArgumentError('the relinearization key arrived twice', 'ERR_INVALID_ARGUMENT');
      this.relinKey = RelinKey.load(this.context, key);
    } else if (message.header.part === 'galois') {
      if (this.kernels) throw new InvalidArgumentError('Galois keys after the first inference', 'ERR_INVALID_ARGUMENT');
      await this.galoisKeys.append(key);
    } else {
      throw new DeserializationError('key message: part must be relin or galois', 'ERR_DESERIALIZATION');
    }
  }

  /** Galois elements the plan needs that have not arrived. */
  missingKeys(): number[] {
    const have = new Set(this.galoisKeys.elements);
    const need = new Set([...this.plan.rotationSteps.map((s) => this.context.galoisElement(s)), ...this.plan.bootstrapGaloisElements]);
    return [...need].filter((e) => e !== 1 && !have.has(e));
  }

  /** The client's encrypted adapters and head (client.encryptWeights()). */
  acceptWeights(bytes: Uint8Array): void {
    const message = decodeMessage<WeightsHeader>(bytes, 'weights');
    const { desc, plan } = this;
    const { layers, rank, labels } = message.header;
    if (layers !== desc.layers.length || rank !== plan.model.loraRank || labels !== desc.numLabels)
      throw new InvalidArgumentError(`weights for ${layers} layers, rank ${rank}, ${labels} labels; the model has ${desc.layers.length}, ${plan.model.loraRank}, ${desc.numLabels}`, 'ERR_INVALID_ARGUMENT');
    const load = (name: string) => this.loadInput(entry(message, name), name);
    const adapter = (prefix: string) => ({
      a: Array.from({ length: rank }, (_, c) => load(`${prefix}.a.${c}`)),
      aBias: Array.from({ length: rank }, (_, c) => load(`${prefix}.aBias.${c}`)),
      b: Array.from({ length: rank }, (_, c) => load(`${prefix}.b.${c}`)),
    });
    const diagonals = this.layout.width;
    this.weights = {
      adapters: desc.layers.map((_, l) => ({ query: adapter(`L${l}.query`), key: adapter(`L${l}.key`), value: adapter(`L${l}.value`) })),
      head: {
        poolerDiagonals: Array.from({ length: diagonals }, (_, i) => load(`head.pooler.${i}`)),
        poolerBias: load('head.poolerBias'),
        classifier: Array.from({ length: labels }, (_, c) => load(`head.classifier.${c}`)),
        classifierBias: Array.from({ length: labels }, (_, c) => load(`head.classifierBias.${c}`)),
      },
    };
    if (message.entries.length !== 3 * 3 * rank * layers + diagonals + 1 + 2 * labels)
      throw new InvalidArgumentError('weights message has unexpected entries', 'ERR_INVALID_ARGUMENT');
  }

  /** A client ciphertext: loaded (validated), then checked to be fresh at the plan's level and scale. */
  private loadInput(bytes: Uint8Array, name: string): Ciphertext {
    const ct = Ciphertext.load(this.context, bytes);
    if (ct.size !== 2) throw new InvalidArgumentError(`${name}: a ciphertext of size ${ct.size}, expected 2`, 'ERR_INVALID_ARGUMENT');
    if (ct.level !== this.plan.topLevel) throw new LevelMismatchError(`${name} is at level ${ct.level}; the plan says ${this.plan.topLevel}`, 'ERR_LEVEL_MISMATCH');
    if (Math.abs(ct.scale - this.plan.topScale) > 1e-9 * this.plan.topScale)
      throw new ScaleMismatchError(`${name} has scale 2^${Math.log2(ct.scale).toFixed(3)}; the plan says 2^${Math.log2(this.plan.topScale)}`, 'ERR_SCALE_MISMATCH');
    return ct;
  }

  private prepare(): void {
    if (this.kernels) return;
    if (!this.relinKey) throw new MissingKeyError('no relinearization key has arrived', 'ERR_MISSING_KEY');
    const missing = this.missingKeys();
    if (missing.length > 0) throw new MissingKeyError(`${missing.length} Galois keys the plan lists have not arrived (e.g. element ${missing[0]})`, 'ERR_MISSING_KEY');
    this.kernels = new Kernels(this.context, this.layout, this.plan.topLevel, this.plan.topScale, this.relinKey, this.galoisKeys);
    this.matrices = serverMatrices(this.kernels, this.desc, weightsOf(this.model));
  }

  /** Runs the encrypted forward pass on a request (client.encryptBatch()) and returns the encrypted logits. */
  async infer(bytes: Uint8Array, options: { onProgress?: (p: InferenceProgress) => void } = {}): Promise<Uint8Array> {
    const message = decodeMessage<RequestHeader>(bytes, 'request');
    const groups = message.header.groups;
    if (!Number.isInteger(groups) || groups < 1 || groups > this.maxGroups)
      throw new InvalidArgumentError(`a request holds 1 to ${this.maxGroups} row groups, got ${groups}`, 'ERR_INVALID_ARGUMENT');
    if (message.entries.length !== 2 * groups) throw new InvalidArgumentError('request has unexpected entries', 'ERR_INVALID_ARGUMENT');
    if (!this.weights) throw new InvalidArgumentError('no encrypted weights have arrived', 'ERR_INVALID_ARGUMENT');
    const embeddings = Array.from({ length: groups }, (_, g) => [this.loadInput(entry(message, `group${g}.embeddings`), `group ${g} embeddings`)]);
    const masks = Array.from({ length: groups }, (_, g) => [this.loadInput(entry(message, `group${g}.keyMask`), `group ${g} key mask`)]);
    this.prepare();
    const t0 = performance.now();
    // totals for this batch: the plan's per-group figures scale with the groups (bootstraps pair up)
    const planned = await this.planFor(groups);
    const executor = new Executor(this.desc, this.plan.topLevel, groups, { kernels: this.kernels!, bootstrapper: this.bootstrapper, matrices: this.matrices!, weights: this.weights }, (event) => {
      if (!options.onProgress) return;
      const seconds = (performance.now() - t0) / 1000;
      const weight = (stages: number, boots: number) => stages + BOOTSTRAP_WEIGHT * boots;
      const done = weight(event.stagesDone, event.bootstrapsDone) / weight(planned.stages, planned.bootstraps);
      options.onProgress({ ...event, stagesTotal: planned.stages, bootstrapsTotal: planned.bootstraps, seconds, eta: done > 0 ? seconds / done - seconds : NaN });
    });
    const logits = await executor.forward(
      executor.input('embeddings', VALUE_BOUNDS.residual, embeddings, 1),
      executor.input('keyMask', VALUE_BOUNDS.unit, masks, 1),
    );
    const entries: Entry[] = [];
    logits.groups!.forEach((cts, g) => cts.forEach((ct, c) => entries.push({ name: `group${g}.logit${c}`, bytes: ct.save() })));
    const header: ResponseHeader = { groups, labels: this.desc.numLabels, bootstraps: executor.bootstraps, seconds: (performance.now() - t0) / 1000, stages: executor.stages };
    return encodeMessage('response', header, entries);
  }

  private async planFor(groups: number): Promise<{ stages: number; bootstraps: number }> {
    const executor = new Executor(this.desc, this.plan.topLevel, groups, null);
    await executor.forward(executor.input('embeddings', VALUE_BOUNDS.residual, null, 1), executor.input('keyMask', VALUE_BOUNDS.unit, null, 1));
    return { stages: executor.stages.length, bootstraps: executor.bootstraps };
  }
}

/** A bootstrap costs about as much as this many other stages (for the progress estimate). */
const BOOTSTRAP_WEIGHT = 8;
