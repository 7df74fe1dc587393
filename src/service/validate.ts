/**
 * Every uploaded object is loaded by the engine's own loaders before it is stored: the message
 * framing (protocol.ts), then each key or ciphertext under the service's parameters, which checks
 * sizes, the parameter fingerprint and every coefficient. Key parts must hold keys the plan asks for;
 * ciphertexts must be fresh at the plan's level and scale. Failures are the loaders' typed errors.
 */
import { Ciphertext } from '../api/ciphertext';
import type { CkksContext } from '../api/context';
import { DeserializationError, InvalidArgumentError, LevelMismatchError, ScaleMismatchError } from '../api/errors';
import { GaloisKeys, RelinKey } from '../api/keys';
import type { PrivateInferencePlan } from '../private/plan';
import { decodeMessage, type Message } from '../private/protocol';
import type { BatchHeader, KeyHeader, RequestHeader, StateHeader, WeightsHeader } from '../private/server';
import type { OptimizerSettings } from '../private/trainer';
import type { UploadKind } from './store';

/** The Galois elements a context must upload keys for (the client makes exactly these). */
export function neededGaloisElements(context: CkksContext, plan: PrivateInferencePlan): number[] {
  return [...new Set([...plan.rotationSteps.map((s) => context.galoisElement(s)), ...plan.bootstrapGaloisElements])].filter((e) => e !== 1);
}

export class UploadValidator {
  private readonly needed: Set<number>;

  constructor(
    private readonly context: CkksContext,
    private readonly plan: PrivateInferencePlan,
    private readonly maxGroups: number,
  ) {
    this.needed = new Set(neededGaloisElements(context, plan));
  }

  /** Validates an upload's bytes; returns what the service keeps of them (the key part's elements). */
  validate(kind: UploadKind, bytes: Uint8Array): Record<string, unknown> {
    if (kind === 'key') return this.key(bytes);
    if (kind === 'weights') return this.weights(bytes);
    if (kind === 'state') return this.state(bytes);
    if (kind === 'batch') return this.batch(bytes);
    return this.request(bytes);
  }

  private key(bytes: Uint8Array): Record<string, unknown> {
    const message = decodeMessage<KeyHeader>(bytes, 'key');
    const key = this.only(message, 'key');
    if (message.header.part === 'relin') {
      RelinKey.load(this.context, key).dispose();
      return { part: 'relin' };
    }
    if (message.header.part !== 'galois') throw new DeserializationError('key message: part must be relin or galois', 'ERR_DESERIALIZATION');
    const keys = GaloisKeys.load(this.context, key);
    const elements = keys.elements;
    keys.dispose();
    const unneeded = elements.filter((e) => !this.needed.has(e));
    if (unneeded.length > 0) throw new InvalidArgumentError(`Galois elements the plan does not use: ${unneeded.join(', ')}`, 'ERR_INVALID_ARGUMENT');
    return { part: 'galois', elements };
  }

  private weights(bytes: Uint8Array): Record<string, unknown> {
    const message = decodeMessage<WeightsHeader>(bytes, 'weights');
    const { layers, rank, labels } = message.header;
    const m = this.plan.model;
    if (layers !== m.layers || rank !== m.loraRank || labels !== m.numLabels)
      throw new InvalidArgumentError(`weights for ${layers} layers, rank ${rank}, ${labels} labels; the model has ${m.layers}, ${m.loraRank}, ${m.numLabels}`, 'ERR_INVALID_ARGUMENT');
    // query, key and value adapters (a, aBias, b per rank) per layer, pooler diagonals and bias, classifier rows and biases
    const expected = 3 * 3 * rank * layers + this.plan.layout.width + 1 + 2 * labels;
    if (message.entries.length !== expected) throw new InvalidArgumentError(`weights message has ${message.entries.length} entries, expected ${expected}`, 'ERR_INVALID_ARGUMENT');
    this.freshCiphertexts(message);
    return {};
  }

  private request(bytes: Uint8Array): Record<string, unknown> {
    const message = decodeMessage<RequestHeader>(bytes, 'request');
    const { groups } = message.header;
    if (!Number.isInteger(groups) || groups < 1 || groups > this.maxGroups)
      throw new InvalidArgumentError(`a request holds 1 to ${this.maxGroups} row groups, got ${groups}`, 'ERR_INVALID_ARGUMENT');
    const names = Array.from({ length: groups }, (_, g) => [`group${g}.embeddings`, `group${g}.keyMask`]).flat();
    if (message.entries.length !== names.length || message.entries.some((e, i) => e.name !== names[i]))
      throw new InvalidArgumentError('request entries must be each group\'s embeddings and key mask, in order', 'ERR_INVALID_ARGUMENT');
    this.freshCiphertexts(message);
    return { groups };
  }

  /** An initial training state (client.encryptTrainingState()): the plan's parameters and optimizer width, sane settings, fresh ciphertexts. */
  private state(bytes: Uint8Array): Record<string, unknown> {
    const training = this.plan.training;
    if (!training) throw new InvalidArgumentError('this service does not fine-tune', 'ERR_INVALID_ARGUMENT');
    const message = decodeMessage<StateHeader>(bytes, 'state');
    const { step, parameters, optimizerWidth, settings } = message.header;
    if (parameters !== training.parameters || optimizerWidth !== training.optimizerWidth)
      throw new InvalidArgumentError(`a state of ${parameters} parameters in ${optimizerWidth} packed ciphertexts; the plan says ${training.parameters} in ${training.optimizerWidth}`, 'ERR_INVALID_ARGUMENT');
    if (!Number.isInteger(step) || step < 0) throw new InvalidArgumentError("the state's step must be a non-negative integer", 'ERR_INVALID_ARGUMENT');
    const s = settings as OptimizerSettings | undefined;
    const within = (x: unknown, lo: number, hi: number) => typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi;
    if (!s || !within(s.lr, 0, 1) || !within(s.beta1, 0, 1) || !within(s.beta2, 0, 1) || !within(s.eps, 1e-12, 1) || !within(s.weightDecay, 0, 1) || !Number.isInteger(s.batch) || s.batch < 1)
      throw new InvalidArgumentError('invalid optimizer settings', 'ERR_INVALID_ARGUMENT');
    const names = [...Array.from({ length: parameters }, (_, i) => `param${i}`), ...['m', 'v'].flatMap((m) => Array.from({ length: optimizerWidth }, (_, c) => `${m}${c}`))];
    this.names(message, names, 'state entries must be the parameters, then the first and second moments, in order');
    this.freshCiphertexts(message);
    return { step, settings: s };
  }

  /** A training batch (client.encryptTrainingBatch()): each group's embeddings and key mask, one label mask per class, the real-sequence mask. */
  private batch(bytes: Uint8Array): Record<string, unknown> {
    if (!this.plan.training) throw new InvalidArgumentError('this service does not fine-tune', 'ERR_INVALID_ARGUMENT');
    const message = decodeMessage<BatchHeader>(bytes, 'batch');
    const { groups } = message.header;
    if (!Number.isInteger(groups) || groups < 1 || groups > this.maxGroups)
      throw new InvalidArgumentError(`a batch holds 1 to ${this.maxGroups} row groups, got ${groups}`, 'ERR_INVALID_ARGUMENT');
    const names = [
      ...Array.from({ length: groups }, (_, g) => [`group${g}.embeddings`, `group${g}.keyMask`]).flat(),
      ...Array.from({ length: this.plan.model.numLabels }, (_, c) => `label${c}`),
      'real',
    ];
    this.names(message, names, "batch entries must be each group's embeddings and key mask, the label masks and the real-sequence mask, in order");
    this.freshCiphertexts(message);
    return { groups };
  }

  private names(message: Message<unknown>, names: string[], what: string): void {
    if (message.entries.length !== names.length || message.entries.some((e, i) => e.name !== names[i])) throw new InvalidArgumentError(what, 'ERR_INVALID_ARGUMENT');
  }

  private only(message: Message<unknown>, name: string): Uint8Array {
    if (message.entries.length !== 1 || message.entries[0].name !== name) throw new DeserializationError(`message must hold exactly one entry named ${name}`, 'ERR_DESERIALIZATION');
    return message.entries[0].bytes;
  }

  private freshCiphertexts(message: Message<unknown>): void {
    for (const e of message.entries) {
      const ct = Ciphertext.load(this.context, e.bytes);
      try {
        if (ct.size !== 2) throw new InvalidArgumentError(`${e.name}: a ciphertext of size ${ct.size}, expected 2`, 'ERR_INVALID_ARGUMENT');
        if (ct.level !== this.plan.topLevel) throw new LevelMismatchError(`${e.name} is at level ${ct.level}; the plan says ${this.plan.topLevel}`, 'ERR_LEVEL_MISMATCH');
        if (Math.abs(ct.scale - this.plan.topScale) > 1e-9 * this.plan.topScale) throw new ScaleMismatchError(`${e.name} is not at the plan's scale`, 'ERR_SCALE_MISMATCH');
      } finally {
        ct.dispose();
      }
    }
  }
}
