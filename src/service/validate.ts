/**
 * Every uploaded object is loaded by the engine's own loaders before it is stored: the message
 * framing (protocol.ts), then each key or ciphertext under the service's parameters, which checks
 * sizes, the parameter fingerprint and every coefficient. Key parts must hold keys the plan asks for;
 * ciphertexts must be fresh at the plan's level and scale. The client's key id is checked first,
 * against the context's, before any key or ciphertext is loaded (as src/private's server does), so
 * bytes under another key cost no loading. What is kept of each (its meta) includes the key id.
 * Failures are the loaders' typed errors.
 */
import { Ciphertext } from '../api/ciphertext';
import type { CkksContext } from '../api/context';
import { DeserializationError, InvalidArgumentError, LevelMismatchError, ScaleMismatchError } from '../api/errors';
import { GaloisKeys, RelinKey } from '../api/keys';
import type { PrivateInferencePlan } from '../private/plan';
import { decodeMessage, type Message } from '../private/protocol';
import { checkGroups, checkStateHeader, KeyBinding, type BatchHeader, type KeyHeader, type RequestHeader, type StateHeader, type WeightsHeader } from '../private/headers';
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

  /**
   * Validates an upload's bytes for a context bound to `contextKeyId` (null: none yet); returns what
   * the service keeps of them (the key id, the key part's elements, ...).
   */
  validate(kind: UploadKind, bytes: Uint8Array, contextKeyId: string | null): Record<string, unknown> & { keyId: string } {
    if ((kind === 'state' || kind === 'batch') && !this.plan.training) throw new InvalidArgumentError('this service does not fine-tune', 'ERR_INVALID_ARGUMENT');
    const message = decodeMessage<unknown>(bytes, kind);
    const keyId = new KeyBinding(contextKeyId).check(message.header, `this ${kind} upload`);
    const kept =
      kind === 'key' ? this.key(message as Message<KeyHeader>)
      : kind === 'weights' ? this.weights(message as Message<WeightsHeader>)
      : kind === 'state' ? this.state(message as Message<StateHeader>)
      : kind === 'batch' ? this.batch(message as Message<BatchHeader>)
      : this.request(message as Message<RequestHeader>);
    return { keyId, ...kept };
  }

  private key(message: Message<KeyHeader>): Record<string, unknown> {
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

  private weights(message: Message<WeightsHeader>): Record<string, unknown> {
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

  private request(message: Message<RequestHeader>): Record<string, unknown> {
    const groups = checkGroups(message.header.groups, this.maxGroups, 'request');
    const names = Array.from({ length: groups }, (_, g) => [`group${g}.embeddings`, `group${g}.keyMask`]).flat();
    if (message.entries.length !== names.length || message.entries.some((e, i) => e.name !== names[i]))
      throw new InvalidArgumentError('request entries must be each group\'s embeddings and key mask, in order', 'ERR_INVALID_ARGUMENT');
    this.freshCiphertexts(message);
    return { groups };
  }

  /** An initial training state (client.encryptTrainingState()): the plan's parameters and optimizer width, sane settings, fresh ciphertexts. */
  private state(message: Message<StateHeader>): Record<string, unknown> {
    const training = this.plan.training!;
    checkStateHeader(message.header, training);
    const { step, parameters, optimizerWidth, settings } = message.header;
    const names = [...Array.from({ length: parameters }, (_, i) => `param${i}`), ...['m', 'v'].flatMap((m) => Array.from({ length: optimizerWidth }, (_, c) => `${m}${c}`))];
    this.names(message, names, 'state entries must be the parameters, then the first and second moments, in order');
    this.freshCiphertexts(message);
    return { step, settings };
  }

  /** A training batch (client.encryptTrainingBatch()): each group's embeddings and key mask, one label mask per class, the real-sequence mask. */
  private batch(message: Message<BatchHeader>): Record<string, unknown> {
    const groups = checkGroups(message.header.groups, this.maxGroups, 'batch');
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
