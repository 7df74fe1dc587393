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
import { Executor, VALUE_BOUNDS, type EncryptedWeights, type ProgressEvent, type StageRecord, type Value } from './executor';
import { Trainer, GRADIENT_BOUNDS, type OptimizerSettings, type TrainingBackend } from './trainer';
import { writeFileAtomic } from './atomic-file';
import { Kernels } from './kernels';
import { ActivationLayout } from './layout';
import { layoutFor, makePlan, planningStep, type PrivateInferencePlan } from './plan';
import { MIN_PIPELINE_LEVELS } from './presets';
import { checkGroups, checkStateHeader, KeyBinding, type BatchHeader, type KeyHeader, type LogHeader, type ProbeRecord, type RequestHeader, type ResponseHeader, type StateHeader, type WeightsHeader } from './headers';
import { decodeMessage, encodeMessage, entry, type Entry } from './protocol';
import { adapterRank, normParameters, publicDigest, serverMatrices, serverTransposes, weightsOf } from './weights';

export interface ServerOptions {
  /** The public base model (a pretrained checkpoint; its adapters and head are not used). */
  model: Model;
  preset: BootstrapPreset;
  threads?: number;
  allowInsecureParametersForTestsOnly?: boolean;
  /** Most row groups one request may hold. Default 8. */
  maxGroups?: number;
  /** Offer private fine-tuning (its keys are in the plan). Default false. */
  training?: boolean;
  /** Where the encrypted training state is written after every step (atomically). */
  checkpoint?: string;
}

export interface InferenceProgress extends ProgressEvent {
  stagesTotal: number;
  bootstrapsTotal: number;
  seconds: number;
  /** Seconds left, estimated from the plan (bootstraps weigh most), or NaN before the first estimate. */
  eta: number;
}

export class PrivateInferenceServer {
  private relinKey: RelinKey | null = null;
  private readonly galoisKeys: GaloisKeys;
  private weights: EncryptedWeights | null = null;
  private kernels: Kernels | null = null;
  private matrices: ReturnType<typeof serverMatrices> | null = null;
  private trainingBackend: TrainingBackend | null = null;
  private state: { step: number; settings: OptimizerSettings; params: Ciphertext[]; m: Ciphertext[]; v: Ciphertext[] } | null = null;
  /** The client's key id: the first accepted key part, weights or state binds the server to it. */
  private readonly binding = new KeyBinding();

  private constructor(
    readonly plan: PrivateInferencePlan,
    private readonly desc: ModelDescription,
    private readonly model: Model,
    readonly context: CkksContext,
    private readonly bootstrapper: Bootstrapper,
    readonly layout: ActivationLayout,
    private readonly maxGroups: number,
    private readonly checkpoint: string | undefined,
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
    const plan = await makePlan(desc, preset, bootstrapper, topScale, publicDigest(desc, model), adapterRank(desc, model.cfg.loraRank), options.training === true);
    const layout = layoutFor(context.ringDegree / 2, desc);
    return new PrivateInferenceServer(plan, desc, model, context, bootstrapper, layout, options.maxGroups ?? 8, options.checkpoint);
  }

  planBytes(): Uint8Array {
    return encodeMessage('plan', this.plan);
  }

  /** One part of the client's evaluation keys: the relinearization key or some Galois keys. */
  async acceptKey(bytes: Uint8Array): Promise<void> {
    const message = decodeMessage<KeyHeader>(bytes, 'key');
    const keyId = this.binding.check(message.header, 'the key part');
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
    this.binding.bind(keyId);
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
    const keyId = this.binding.check(message.header, 'the weights');
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
    if (message.entries.length !== 3 * 3 * rank * layers + diagonals + 1 + 2 * labels)
      throw new InvalidArgumentError('weights message has unexpected entries', 'ERR_INVALID_ARGUMENT');
    this.weights = {
      adapters: desc.layers.map((_, l) => ({ query: adapter(`L${l}.query`), key: adapter(`L${l}.key`), value: adapter(`L${l}.value`) })),
      head: {
        poolerDiagonals: Array.from({ length: diagonals }, (_, i) => load(`head.pooler.${i}`)),
        poolerBias: load('head.poolerBias'),
        classifier: Array.from({ length: labels }, (_, c) => load(`head.classifier.${c}`)),
        classifierBias: Array.from({ length: labels }, (_, c) => load(`head.classifierBias.${c}`)),
      },
    };
    this.binding.bind(keyId);
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
    if (this.bootstrapper.encapsulation && !this.galoisKeys.hasSparseSecretKeys)
      throw new MissingKeyError('the sparse-secret keys of the bootstrapper (encapsulation) have not arrived', 'ERR_MISSING_KEY');
    this.kernels = new Kernels(this.context, this.layout, this.plan.topLevel, this.plan.topScale, this.relinKey, this.galoisKeys);
    this.matrices = serverMatrices(this.kernels, this.desc, weightsOf(this.model));
  }

  /** Runs the encrypted forward pass on a request (client.encryptBatch()) and returns the encrypted logits. */
  /**
   * `probes`: also return every stage's output, still encrypted (diagnostics: the client decrypts
   * them and finds where precision was lost). Tens of megabytes per row group.
   */
  async infer(bytes: Uint8Array, options: { onProgress?: (p: InferenceProgress) => void; probes?: boolean } = {}): Promise<Uint8Array> {
    const message = decodeMessage<RequestHeader>(bytes, 'request');
    const keyId = this.binding.check(message.header, 'the request');
    const groups = checkGroups(message.header.groups, this.maxGroups, 'request');
    if (message.entries.length !== 2 * groups) throw new InvalidArgumentError('request has unexpected entries', 'ERR_INVALID_ARGUMENT');
    if (!this.weights) throw new InvalidArgumentError('no encrypted weights have arrived', 'ERR_INVALID_ARGUMENT');
    const embeddings = Array.from({ length: groups }, (_, g) => [this.loadInput(entry(message, `group${g}.embeddings`), `group ${g} embeddings`)]);
    const masks = Array.from({ length: groups }, (_, g) => [this.loadInput(entry(message, `group${g}.keyMask`), `group ${g} key mask`)]);
    this.prepare();
    const t0 = performance.now();
    // totals for this batch: the plan's per-group figures scale with the groups (bootstraps pair up)
    const planned = await this.planFor(groups);
    const probes: Entry[] = [];
    const probeList: ProbeRecord[] = [];
    const executor = new Executor(
      this.desc,
      this.plan.topLevel,
      groups,
      { kernels: this.kernels!, bootstrapper: this.bootstrapper, matrices: this.matrices!, weights: this.weights },
      {
        onProgress: (event) => {
          if (!options.onProgress) return;
          const seconds = (performance.now() - t0) / 1000;
          const weight = (stages: number, boots: number) => stages + BOOTSTRAP_WEIGHT * boots;
          const done = weight(event.stagesDone, event.bootstrapsDone) / weight(planned.stages, planned.bootstraps);
          options.onProgress({ ...event, stagesTotal: planned.stages, bootstrapsTotal: planned.bootstraps, seconds, eta: done > 0 ? seconds / done - seconds : NaN });
        },
        onStageOutput: options.probes
          ? (stage, value) => {
              const k = probeList.length;
              probeList.push({ stage: value.name === stage ? stage : `${stage}:${value.name}`, width: value.width, count: value.count });
              value.groups!.forEach((cts, g) => cts.forEach((ct, i) => probes.push({ name: `probe${k}.group${g}.${i}`, bytes: ct.save() })));
            }
          : undefined,
      },
    );
    const logits = await executor.forward(
      executor.input('embeddings', VALUE_BOUNDS.residual, embeddings, 1),
      executor.input('keyMask', VALUE_BOUNDS.unit, masks, 1),
    );
    const entries: Entry[] = [];
    logits.groups!.forEach((cts, g) => cts.forEach((ct, c) => entries.push({ name: `group${g}.logit${c}`, bytes: ct.save() })));
    entries.push(...probes);
    const header: ResponseHeader = { keyId, groups, labels: this.desc.numLabels, bootstraps: executor.bootstraps, seconds: (performance.now() - t0) / 1000, stages: executor.stages, probes: probeList, gathered: logits.count < groups };
    return encodeMessage('response', header, entries);
  }

  // ------------------------------------------------------------------------------------------
  // private fine-tuning

  private requireTraining(): NonNullable<PrivateInferencePlan['training']> {
    if (!this.plan.training) throw new InvalidArgumentError('this server does not offer fine-tuning (create it with training: true)', 'ERR_INVALID_ARGUMENT');
    return this.plan.training;
  }

  private trainer(groups: number, hooks: ConstructorParameters<typeof Executor>[4] = {}): Trainer {
    this.prepare();
    this.trainingBackend ??= {
      kernels: this.kernels!,
      bootstrapper: this.bootstrapper,
      matrices: this.matrices!,
      transposes: serverTransposes(this.kernels!, this.desc, weightsOf(this.model)),
      norms: normParameters(this.desc, weightsOf(this.model)),
    };
    return new Trainer(this.desc, this.plan.topLevel, groups, this.layout.rows, this.trainingBackend, hooks);
  }

  /** The client's encrypted training state (initial adapters and head, moments, step, settings), or a saved checkpoint. */
  acceptTrainingState(bytes: Uint8Array): void {
    const training = this.requireTraining();
    const message = decodeMessage<StateHeader>(bytes, 'state');
    const keyId = this.binding.check(message.header, 'the training state');
    checkStateHeader(message.header, training);
    const { step, parameters, optimizerWidth, settings } = message.header;
    if (message.entries.length !== parameters + 2 * optimizerWidth) throw new InvalidArgumentError('state message has unexpected entries', 'ERR_INVALID_ARGUMENT');
    const load = (name: string) => this.loadStateCiphertext(entry(message, name), name);
    this.state = {
      step,
      settings,
      params: Array.from({ length: parameters }, (_, i) => load(`param${i}`)),
      m: Array.from({ length: optimizerWidth }, (_, c) => load(`m${c}`)),
      v: Array.from({ length: optimizerWidth }, (_, c) => load(`v${c}`)),
    };
    this.binding.bind(keyId);
  }

  /** A state ciphertext: validated, of size 2, at the canonical scale of its level (it may be below the top). */
  private loadStateCiphertext(bytes: Uint8Array, name: string): Ciphertext {
    const ct = Ciphertext.load(this.context, bytes);
    if (ct.size !== 2) throw new InvalidArgumentError(`${name}: a ciphertext of size ${ct.size}, expected 2`, 'ERR_INVALID_ARGUMENT');
    if (ct.level > this.plan.topLevel) throw new LevelMismatchError(`${name} is at level ${ct.level}, above the plan's ${this.plan.topLevel}`, 'ERR_LEVEL_MISMATCH');
    this.prepare();
    const canonical = this.kernels!.scaleAt(ct.level);
    if (Math.abs(ct.scale - canonical) > 1e-9 * canonical) throw new ScaleMismatchError(`${name} has a scale that is not the pipeline's at level ${ct.level}`, 'ERR_SCALE_MISMATCH');
    return ct;
  }

  /** The encrypted training state as bytes (the client decrypts its adapters from it). */
  trainingStateBytes(): Uint8Array {
    if (!this.state) throw new InvalidArgumentError('no training state', 'ERR_INVALID_ARGUMENT');
    const { step, settings, params, m, v } = this.state;
    const entries: Entry[] = [
      ...params.map((ct, i) => ({ name: `param${i}`, bytes: ct.save() })),
      ...m.map((ct, c) => ({ name: `m${c}`, bytes: ct.save() })),
      ...v.map((ct, c) => ({ name: `v${c}`, bytes: ct.save() })),
    ];
    return encodeMessage<StateHeader>('state', { keyId: this.binding.keyId!, step, parameters: params.length, optimizerWidth: m.length, settings }, entries);
  }

  get trainingStep(): number {
    return this.state?.step ?? 0;
  }

  /**
   * One private fine-tuning step on a batch (client.encryptTrainingBatch()). The state advances and,
   * with a checkpoint file, is written there (atomically) before this returns; the log holds the
   * batch's encrypted logits for the client's loss, and public timings.
   */
  async trainStep(bytes: Uint8Array, options: { onProgress?: (p: InferenceProgress) => void } = {}): Promise<Uint8Array> {
    this.requireTraining();
    if (!this.state) throw new InvalidArgumentError('no training state has arrived', 'ERR_INVALID_ARGUMENT');
    const message = decodeMessage<BatchHeader>(bytes, 'batch');
    const keyId = this.binding.check(message.header, 'the batch');
    const groups = checkGroups(message.header.groups, this.maxGroups, 'batch');
    const labels = this.desc.numLabels;
    if (message.entries.length !== 2 * groups + labels + 1) throw new InvalidArgumentError('batch has unexpected entries', 'ERR_INVALID_ARGUMENT');
    const embeddings = Array.from({ length: groups }, (_, g) => [this.loadInput(entry(message, `group${g}.embeddings`), `group ${g} embeddings`)]);
    const masks = Array.from({ length: groups }, (_, g) => [this.loadInput(entry(message, `group${g}.keyMask`), `group ${g} key mask`)]);
    const labelCts = Array.from({ length: labels }, (_, c) => this.loadInput(entry(message, `label${c}`), `label ${c}`));
    const real = this.loadInput(entry(message, 'real'), 'real sequences');
    const t0 = performance.now();
    const planned = new Trainer(this.desc, this.plan.topLevel, groups, this.layout.rows, null);
    await planned.step(...planningStep(planned, this.desc));
    const trainer = this.trainer(groups, { onProgress: this.progress(options.onProgress, t0, { stages: planned.stages.length, bootstraps: planned.bootstraps }) });
    const state = this.state;
    const param = (ct: Ciphertext, i: number): Value => ({ ...trainer.parameter(`parameter${i}`, [[ct]]), level: ct.level });
    const packed = (cts: Ciphertext[], name: string, bound: number): Value => ({ name, level: cts[0].level, bound, width: cts.length, count: 1, groups: [cts] });
    const result = await trainer.step(
      {
        embeddings: trainer.input('embeddings', VALUE_BOUNDS.residual, embeddings, 1),
        keyMask: trainer.input('keyMask', VALUE_BOUNDS.unit, masks, 1),
        labels: labelCts.map((ct, c) => trainer.parameter(`label${c}`, [[ct]], 1)),
        real: trainer.parameter('real', [[real]], 1),
      },
      state.params.map(param),
      { m: packed(state.m, 'm', GRADIENT_BOUNDS.moment), v: packed(state.v, 'v', GRADIENT_BOUNDS.secondMoment) },
      state.settings,
    );
    this.state = {
      step: state.step + 1,
      settings: state.settings,
      params: result.params.map((p) => p.groups![0][0]),
      m: result.state.m.groups![0],
      v: result.state.v.groups![0],
    };
    if (this.checkpoint) writeFileAtomic(this.checkpoint, this.trainingStateBytes());
    const entries: Entry[] = result.logits.map((l, c) => ({ name: `logit${c}`, bytes: l.groups![0][0].save() }));
    const header: LogHeader = { keyId, step: this.state.step, groups, labels, bootstraps: trainer.bootstraps, seconds: (performance.now() - t0) / 1000, stages: trainer.stages };
    return encodeMessage<LogHeader>('log', header, entries);
  }

  /** Inference with the adapters and head as trained on the server (never decrypted). */
  async inferTrained(bytes: Uint8Array, options: { onProgress?: (p: InferenceProgress) => void } = {}): Promise<Uint8Array> {
    this.requireTraining();
    if (!this.state) throw new InvalidArgumentError('no training state', 'ERR_INVALID_ARGUMENT');
    const message = decodeMessage<RequestHeader>(bytes, 'request');
    const keyId = this.binding.check(message.header, 'the request');
    const groups = checkGroups(message.header.groups, this.maxGroups, 'request');
    if (message.entries.length !== 2 * groups) throw new InvalidArgumentError('request has unexpected entries', 'ERR_INVALID_ARGUMENT');
    const embeddings = Array.from({ length: groups }, (_, g) => [this.loadInput(entry(message, `group${g}.embeddings`), `group ${g} embeddings`)]);
    const masks = Array.from({ length: groups }, (_, g) => [this.loadInput(entry(message, `group${g}.keyMask`), `group ${g} key mask`)]);
    const t0 = performance.now();
    const trainer = this.trainer(groups, { onProgress: this.progress(options.onProgress, t0, { stages: NaN, bootstraps: NaN }) });
    const { logits } = await trainer.trainingForward(
      { embeddings: trainer.input('embeddings', VALUE_BOUNDS.residual, embeddings, 1), keyMask: trainer.input('keyMask', VALUE_BOUNDS.unit, masks, 1) },
      this.state.params.map((ct, i) => ({ ...trainer.parameter(`parameter${i}`, [[ct]]), level: ct.level })),
    );
    const entries: Entry[] = [];
    logits.forEach((l, c) => entries.push({ name: `group0.logit${c}`, bytes: l.groups![0][0].save() }));
    const header: ResponseHeader = { keyId, groups, labels: this.desc.numLabels, bootstraps: trainer.bootstraps, seconds: (performance.now() - t0) / 1000, stages: trainer.stages, probes: [], gathered: true };
    return encodeMessage('response', header, entries);
  }

  private progress(report: ((p: InferenceProgress) => void) | undefined, t0: number, planned: { stages: number; bootstraps: number }) {
    return (event: ProgressEvent) => {
      if (!report) return;
      const seconds = (performance.now() - t0) / 1000;
      const weight = (stages: number, boots: number) => stages + BOOTSTRAP_WEIGHT * boots;
      const done = weight(event.stagesDone, event.bootstrapsDone) / weight(planned.stages, planned.bootstraps);
      report({ ...event, stagesTotal: planned.stages, bootstrapsTotal: planned.bootstraps, seconds, eta: done > 0 ? seconds / done - seconds : NaN });
    };
  }

  private async planFor(groups: number): Promise<{ stages: number; bootstraps: number }> {
    const executor = new Executor(this.desc, this.plan.topLevel, groups, null);
    await executor.forward(executor.input('embeddings', VALUE_BOUNDS.residual, null, 1), executor.input('keyMask', VALUE_BOUNDS.unit, null, 1));
    return { stages: executor.stages.length, bootstraps: executor.bootstraps };
  }
}

/** A bootstrap costs about as much as this many other stages (for the progress estimate). */
const BOOTSTRAP_WEIGHT = 8;
