/**
 * The client of private inference: the data owner. It keeps the secret key, embeds its sequences
 * with the public embedding table, packs and encrypts them with an encrypted key mask (the lengths
 * stay hidden), encrypts its private weights (LoRA adapters and head of its fine-tuned checkpoint),
 * makes exactly the evaluation keys the server's plan lists, and decrypts the logits. Everything it
 * gives the server is bytes (protocol.ts).
 */
import { Ciphertext } from '../api/ciphertext';
import { CkksContext } from '../api/context';
import { CkksEncoder } from '../api/encoder';
import { Decryptor, Encryptor } from '../api/encryptor';
import { InvalidArgumentError, OutOfRangeError, ParameterMismatchError, UnsupportedError } from '../api/errors';
import { KeyGenerator, SecretKey } from '../api/keys';
import { PAD } from '../data/bpe';
import { describeModel, type ModelDescription } from '../model/description';
import type { Model } from '../model/model';
import { ActivationLayout } from './layout';
import { checkPlan, layoutFor, type PrivateInferencePlan } from './plan';
import { decodeMessage, encodeMessage, entry, type Entry } from './protocol';
import { KeyBinding, keyIdOf, type BatchHeader, type KeyHeader, type LogHeader, type RequestHeader, type ResponseHeader, type StateHeader, type WeightsHeader } from './headers';
import { parameterSlots, type OptimizerSettings } from './trainer';
import * as P from '../model/poly';
import { deserialize, serialize } from '../model/checkpoint';
import { clientWeightVectors, publicDigest, readTrainable, trainableVectors, weightsOf } from './weights';

export interface ClientOptions {
  threads?: number;
  allowInsecureParametersForTestsOnly?: boolean;
  /** A secret key saved by exportSecretKey() (a keystore), instead of a fresh one. */
  secretKey?: Uint8Array;
}

/** What the client remembers of a request to read its response. */
export interface Batch {
  count: number;
  lengths: number[];
  groups: number;
}

export class PrivateInferenceClient {
  private readonly encoder: CkksEncoder;
  private readonly encryptor: Encryptor;
  private readonly decryptor: Decryptor;
  /** Bound to this client's own key id: what the server returns must carry it too. */
  private readonly binding: KeyBinding;

  private constructor(
    readonly plan: PrivateInferencePlan,
    private readonly model: Model,
    private readonly desc: ModelDescription,
    readonly context: CkksContext,
    private readonly keys: KeyGenerator,
    readonly layout: ActivationLayout,
  ) {
    this.encoder = new CkksEncoder(context);
    this.encryptor = new Encryptor(context, keys.secretKey);
    this.decryptor = new Decryptor(context, keys.secretKey);
    const secretBytes = keys.secretKey.save();
    this.binding = new KeyBinding(keyIdOf(secretBytes));
    secretBytes.fill(0);
  }

  /** The key id every message of this client carries (a one-way hash of its secret key; headers.ts). */
  get keyId(): string {
    return this.binding.keyId!;
  }

  /**
   * A client for a server's plan (its planBytes()) and the client's own fine-tuned model. The plan's
   * parameters must be secure (checked by the context) unless the caller opts in for tests, and the
   * model's public weights must be those the server runs.
   */
  static create(planBytes: Uint8Array, model: Model, options: ClientOptions = {}): PrivateInferenceClient {
    const plan = checkPlan(decodeMessage<PrivateInferencePlan>(planBytes, 'plan').header);
    const desc = describeModel(model.cfg);
    const m = plan.model;
    if (m.dim !== desc.dim || m.heads !== desc.heads || m.ffn !== desc.ffn || m.layers !== desc.layers.length || m.maxLen !== desc.maxLen || m.numLabels !== desc.numLabels || m.variant !== desc.variant)
      throw new ParameterMismatchError('the plan is for a different model architecture', 'ERR_PARAMETER_MISMATCH');
    if (m.publicDigest !== publicDigest(desc, model))
      throw new ParameterMismatchError('the server runs different public base weights than this model', 'ERR_PARAMETER_MISMATCH');
    if (m.loraRank === 0 && model.hasAdapters())
      throw new UnsupportedError(`the encrypted ${m.variant} run has no LoRA adapters (weights.ts usesAdapters); this model's would be dropped`, 'ERR_UNSUPPORTED');
    const context = CkksContext.create({
      ...plan.preset.context,
      threads: options.threads ?? 1,
      allowInsecureParametersForTestsOnly: options.allowInsecureParametersForTestsOnly === true,
    });
    const keys = options.secretKey ? new KeyGenerator(context, SecretKey.load(context, options.secretKey)) : new KeyGenerator(context, { hammingWeight: plan.preset.hammingWeight });
    if (keys.secretKey.hammingWeight !== plan.preset.hammingWeight)
      throw new ParameterMismatchError(`the secret key has Hamming weight ${keys.secretKey.hammingWeight}; the plan needs ${plan.preset.hammingWeight}`, 'ERR_PARAMETER_MISMATCH');
    const layout = layoutFor(context.ringDegree / 2, desc);
    if (layout.sequences !== plan.layout.sequences) throw new ParameterMismatchError('the plan\'s layout differs from this model\'s', 'ERR_PARAMETER_MISMATCH');
    return new PrivateInferenceClient(plan, model, desc, context, keys, layout);
  }

  /** The secret key's bytes, for the client's own encrypted keystore: never give them to a server. */
  exportSecretKey(): Uint8Array {
    return this.keys.secretKey.save();
  }

  /** Sequences per row group (one ciphertext each). */
  get sequencesPerGroup(): number {
    return this.layout.sequences;
  }

  /**
   * The evaluation keys, one message per part: the relinearization key, then the Galois keys of the
   * plan, a few elements per part, so that no part (and no buffer) holds the whole set.
   */
  async *evaluationKeys(elementsPerPart = 1): AsyncGenerator<Uint8Array> {
    const relin = await this.keys.createRelinKeyAsync();
    yield encodeMessage<KeyHeader>('key', { keyId: this.keyId, part: 'relin' }, [{ name: 'key', bytes: relin.save() }]);
    relin.dispose();
    const elements = [...new Set([...this.plan.rotationSteps.map((s) => this.context.galoisElement(s)), ...this.plan.bootstrapGaloisElements])].filter((e) => e !== 1);
    for (let i = 0; i < elements.length; i += elementsPerPart) {
      const part = await this.keys.createGaloisKeysForElementsAsync(elements.slice(i, i + elementsPerPart));
      yield encodeMessage<KeyHeader>('key', { keyId: this.keyId, part: 'galois' }, [{ name: 'key', bytes: part.save() }]);
      part.dispose();
    }
    // A bootstrapper with sparse-secret encapsulation (a dense main secret) also needs the keys to
    // and from its ephemeral sparse secret: one more Galois part.
    const ephemeral = this.plan.preset.bootstrap.ephemeralHammingWeight ?? 0;
    if (ephemeral > 0) {
      const part = await this.keys.createSparseSecretKeysAsync(ephemeral);
      yield encodeMessage<KeyHeader>('key', { keyId: this.keyId, part: 'galois' }, [{ name: 'key', bytes: part.save() }]);
      part.dispose();
    }
  }

  private async encrypt(values: Float64Array): Promise<Uint8Array> {
    const plain = await this.encoder.encodeAsync(values, { level: this.plan.topLevel, scale: this.plan.topScale });
    const ct = await this.encryptor.encryptAsync(plain);
    plain.dispose();
    const bytes = ct.save();
    ct.dispose();
    return bytes;
  }

  /** The private adapters and head of the client's model, encrypted (server.acceptWeights()). */
  async encryptWeights(): Promise<Uint8Array> {
    const v = clientWeightVectors(this.layout, this.desc, weightsOf(this.model));
    const entries: Entry[] = [];
    const rank = this.plan.model.loraRank;
    for (const [l, layer] of v.adapters.entries())
      for (const which of ['query', 'key', 'value'] as const)
        for (const part of ['a', 'aBias', 'b'] as const)
          for (let c = 0; c < rank; c++) entries.push({ name: `L${l}.${which}.${part}.${c}`, bytes: await this.encrypt(layer[which][part][c]) });
    for (const [i, d] of v.head.poolerDiagonals.entries()) entries.push({ name: `head.pooler.${i}`, bytes: await this.encrypt(d) });
    entries.push({ name: 'head.poolerBias', bytes: await this.encrypt(v.head.poolerBias) });
    for (const [c, w] of v.head.classifier.entries()) entries.push({ name: `head.classifier.${c}`, bytes: await this.encrypt(w) });
    for (const [c, b] of v.head.classifierBias.entries()) entries.push({ name: `head.classifierBias.${c}`, bytes: await this.encrypt(b) });
    return encodeMessage<WeightsHeader>('weights', { keyId: this.keyId, layers: this.desc.layers.length, rank, labels: this.desc.numLabels }, entries);
  }

  /** tokens x dim embeddings of a sequence padded to the layout's tokens with [PAD]. */
  embed(ids: number[]): Float64Array {
    const { tokens } = this.layout;
    const D = this.desc.dim;
    const E = this.model.p(this.desc.embedding.token).data;
    const Pp = this.model.p(this.desc.embedding.position).data;
    const out = new Float64Array(tokens * D);
    for (let t = 0; t < tokens; t++) {
      const id = t < ids.length ? ids[t] : PAD;
      for (let j = 0; j < D; j++) out[t * D + j] = E[id * D + j] + Pp[t * D + j];
    }
    return out;
  }

  /**
   * Token-id sequences (at most the plan's tokens each, ids within the vocabulary) as a request: the
   * embeddings and key masks of ceil(count / sequencesPerGroup) row groups, encrypted.
   */
  async encryptBatch(sequences: number[][]): Promise<{ request: Uint8Array; batch: Batch }> {
    const { tokens, sequences: perGroup } = this.layout;
    if (sequences.length === 0) throw new InvalidArgumentError('no sequences to encrypt', 'ERR_INVALID_ARGUMENT');
    for (const ids of sequences) {
      if (ids.length === 0 || ids.length > tokens) throw new OutOfRangeError(`a sequence must have 1 to ${tokens} tokens, got ${ids.length}`, 'ERR_OUT_OF_RANGE');
      for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= this.model.cfg.vocab) throw new OutOfRangeError(`token id ${id} outside the vocabulary`, 'ERR_OUT_OF_RANGE');
    }
    this.checkRanges(sequences);
    const groups = Math.ceil(sequences.length / perGroup);
    const entries: Entry[] = [];
    for (let g = 0; g < groups; g++) {
      const members = sequences.slice(g * perGroup, (g + 1) * perGroup);
      entries.push({ name: `group${g}.embeddings`, bytes: await this.encrypt(this.layout.packActivations(members.map((ids) => this.embed(ids)))) });
      entries.push({ name: `group${g}.keyMask`, bytes: await this.encrypt(this.layout.packKeyMask(members.map((ids) => ids.length))) });
    }
    return { request: encodeMessage<RequestHeader>('request', { keyId: this.keyId, groups }, entries), batch: { count: sequences.length, lengths: sequences.map((s) => s.length), groups } };
  }

  /**
   * Refuses sequences whose plaintext forward pass (this client's model, padded as the server will
   * see them, and as filler rows without keys) takes an approximated function outside its interval:
   * under encryption that would give garbage, since a polynomial explodes outside its interval.
   * With labels, the loss softmax's centred logits are checked too.
   */
  private checkRanges(sequences: number[][], labels?: number[]): void {
    const model = this.model;
    if (this.desc.variant !== 'hefriendly') return;
    const saved = { ranges: model.ranges, approx: model.cfg.approxLossSoftmax };
    model.ranges = {};
    model.cfg.approxLossSoftmax = true;
    try {
      sequences.forEach((ids, n) => {
        const padded = [...ids, ...Array(this.layout.tokens - ids.length).fill(PAD)];
        model.classify(padded, labels?.[n], false, ids.length);
        model.classify(padded, undefined, false, 0);
      });
      const outside = Object.entries(model.ranges).filter(([, r]) => r.outside > 0);
      if (outside.length > 0) {
        const [kind, r] = outside[0];
        throw new OutOfRangeError(`${kind} inputs reach [${r.min.toPrecision(4)}, ${r.max.toPrecision(4)}], outside the approximation's interval: refusing to encrypt`, 'ERR_OUT_OF_RANGE');
      }
    } finally {
      model.ranges = saved.ranges;
      model.cfg.approxLossSoftmax = saved.approx;
    }
  }

  /** Logits per sequence, in request order. */
  async decryptLogits(response: Uint8Array, batch: Batch): Promise<Float64Array[]> {
    const message = decodeMessage<ResponseHeader>(response, 'response');
    this.binding.check(message.header, 'the response');
    const { groups, labels } = message.header;
    if (groups !== batch.groups || labels !== this.desc.numLabels) throw new InvalidArgumentError('the response does not match the batch', 'ERR_INVALID_ARGUMENT');
    const out: Float64Array[] = Array.from({ length: batch.count }, () => new Float64Array(labels));
    const { sequences, tokens } = this.layout;
    // per sequence: which returned row group holds its logits, and at which row
    const where = (n: number) => {
      const [g, s] = [Math.floor(n / sequences), n % sequences];
      return message.header.gathered ? { group: 0, row: s * tokens + g } : { group: g, row: s * tokens };
    };
    for (let c = 0; c < labels; c++) {
      const slots = new Map<number, Float64Array>();
      for (let n = 0; n < batch.count; n++) {
        const { group, row } = where(n);
        if (!slots.has(group)) slots.set(group, await this.decryptSlots(Ciphertext.load(this.context, entry(message, `group${group}.logit${c}`))));
        out[n][c] = slots.get(group)![this.layout.slot(0, row)];
      }
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // private fine-tuning

  private trainingPlan(): NonNullable<PrivateInferencePlan['training']> {
    if (!this.plan.training) throw new InvalidArgumentError('the server does not offer fine-tuning', 'ERR_INVALID_ARGUMENT');
    return this.plan.training;
  }

  /**
   * The initial training state: the model's adapters and head (natural, as the plaintext trainer
   * holds them) and zero moments, encrypted, with the optimizer's public settings.
   */
  async encryptTrainingState(settings: OptimizerSettings): Promise<Uint8Array> {
    const training = this.trainingPlan();
    const slots = parameterSlots(this.desc, this.model.cfg.loraRank);
    if (slots.length !== training.parameters) throw new ParameterMismatchError('the plan trains a different set of parameters', 'ERR_PARAMETER_MISMATCH');
    const vectors = trainableVectors(this.layout, this.desc, weightsOf(this.model), slots);
    const entries: Entry[] = [];
    for (const [i, v] of vectors.entries()) entries.push({ name: `param${i}`, bytes: await this.encrypt(v) });
    const zero = new Float64Array(this.layout.slots);
    for (const moment of ['m', 'v'])
      for (let c = 0; c < training.optimizerWidth; c++) entries.push({ name: `${moment}${c}`, bytes: await this.encrypt(zero) });
    return encodeMessage<StateHeader>('state', { keyId: this.keyId, step: 0, parameters: slots.length, optimizerWidth: training.optimizerWidth, settings }, entries);
  }

  /** A training batch: embeddings and key masks as for inference, and the labels and real-sequence mask on the gathered [CLS] rows. */
  async encryptTrainingBatch(sequences: number[][], labels: number[]): Promise<{ batch: Uint8Array; info: Batch }> {
    const C = this.desc.numLabels;
    if (labels.length !== sequences.length) throw new InvalidArgumentError('one label per sequence', 'ERR_INVALID_ARGUMENT');
    for (const y of labels) if (!Number.isInteger(y) || y < 0 || y >= C) throw new OutOfRangeError(`label ${y} outside 0..${C - 1}`, 'ERR_OUT_OF_RANGE');
    this.checkRanges(sequences, labels);
    const { request, batch } = await this.encryptBatch(sequences);
    const message = decodeMessage<RequestHeader>(request, 'request');
    const gathered = (value: (n: number) => number) => {
      const v = new Float64Array(this.layout.slots);
      for (let n = 0; n < sequences.length; n++) {
        const row = (n % this.layout.sequences) * this.layout.tokens + Math.floor(n / this.layout.sequences);
        for (let b = 0; b < this.layout.width; b++) v[this.layout.slot(b, row)] = value(n);
      }
      return v;
    };
    const entries: Entry[] = [...message.entries];
    for (let c = 0; c < C; c++) entries.push({ name: `label${c}`, bytes: await this.encrypt(gathered((n) => (labels[n] === c ? 1 : 0))) });
    entries.push({ name: 'real', bytes: await this.encrypt(gathered(() => 1)) });
    return { batch: encodeMessage<BatchHeader>('batch', { keyId: this.keyId, groups: batch.groups }, entries), info: batch };
  }

  /** The batch's logits from a step log, and its mean loss (cross-entropy of the polynomial softmax, as the plaintext trainer). */
  async readTrainingLog(log: Uint8Array, batch: Batch, labels: number[]): Promise<{ step: number; logits: Float64Array[]; loss: number; header: LogHeader }> {
    const message = decodeMessage<LogHeader>(log, 'log');
    this.binding.check(message.header, 'the training log');
    const C = this.desc.numLabels;
    const slots = await Promise.all(Array.from({ length: C }, (_, c) => this.decryptSlots(Ciphertext.load(this.context, entry(message, `logit${c}`)))));
    const logits = Array.from({ length: batch.count }, (_, n) => {
      const row = (n % this.layout.sequences) * this.layout.tokens + Math.floor(n / this.layout.sequences);
      return Float64Array.from({ length: C }, (_, c) => slots[c][this.layout.slot(0, row)]);
    });
    const loss = logits.reduce((sum, l, n) => sum - Math.log(Math.max(P.softmaxApprox(P.centredLogits(l))[labels[n]], 1e-300)), 0) / batch.count;
    return { step: message.header.step, logits, loss, header: message.header };
  }

  /** The trained adapters and head, decrypted into a copy of the client's model (a plaintext checkpoint). */
  async decryptTrainingState(bytes: Uint8Array): Promise<{ model: Model; step: number }> {
    const message = decodeMessage<StateHeader>(bytes, 'state');
    this.binding.check(message.header, 'the training state');
    const slots = parameterSlots(this.desc, this.model.cfg.loraRank);
    if (message.header.parameters !== slots.length) throw new InvalidArgumentError('the state holds a different set of parameters', 'ERR_INVALID_ARGUMENT');
    const values = await Promise.all(slots.map((_, i) => this.decryptSlots(Ciphertext.load(this.context, entry(message, `param${i}`)))));
    const copy = deserialize(serialize(this.model)).model;
    copy.setMode('lora');
    readTrainable(this.layout, this.desc, slots, values, (name) => copy.p(name).data);
    return { model: copy, step: message.header.step };
  }

  /** Decrypts any ciphertext of this client's context to its slots (diagnostics). */
  async decryptSlots(ct: Ciphertext): Promise<Float64Array> {
    const plain = await this.decryptor.decryptAsync(ct);
    const slots = await this.encoder.decodeAsync(plain);
    plain.dispose();
    return slots;
  }

  /** The response's timing header (stages, bootstraps, seconds): public, no data. */
  static responseSummary(response: Uint8Array): ResponseHeader {
    return decodeMessage<ResponseHeader>(response, 'response').header;
  }

}
