/**
 * Every uploaded object is loaded by the engine's own loaders before it is stored: the message
 * framing (protocol.ts), then each key or ciphertext under the service's parameters, which checks
 * sizes, the parameter fingerprint and every coefficient. Key parts must hold keys the plan asks for;
 * ciphertexts must be fresh at the plan's level and scale. What is kept of each (its meta) includes
 * the client's key id, which the service checks against the context's. Failures are the loaders'
 * typed errors.
 */
import { Ciphertext } from '../api/ciphertext';
import type { CkksContext } from '../api/context';
import { DeserializationError, InvalidArgumentError, LevelMismatchError, ScaleMismatchError } from '../api/errors';
import { GaloisKeys, RelinKey } from '../api/keys';
import type { PrivateInferencePlan } from '../private/plan';
import { decodeMessage, type Message } from '../private/protocol';
import { checkGroups, checkStateHeader, keyIdIn, type BatchHeader, type KeyHeader, type RequestHeader, type StateHeader, type WeightsHeader } from '../private/headers';
import type { UploadKind } from './store';

/** The Galois elements a context must upload keys for (the client makes exactly these). */
export function neededGaloisElements(context: CkksContext, plan: PrivateInferencePlan): number[] {
  return [...new Set([...plan.rotationSteps.map((s) => context.galoisElement(s)), ...plan.bootstrapGaloisElements])].filter((e) => e !== 1);
}

/** A validated upload's header (for its key id) and what the service keeps of it. */
interface Validated {
  header: unknown;
  kept: Record<string, unknown>;
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

  /** Validates an upload's bytes; returns what the service keeps of them (the key id, the key part's elements, ...). */
  validate(kind: UploadKind, bytes: Uint8Array): Record<string, unknown> & { keyId: string } {
    const meta = kind === 'key' ? this.key(bytes) : kind === 'weights' ? this.weights(bytes) : kind === 'state' ? this.state(bytes) : kind === 'batch' ? this.batch(bytes) : this.request(bytes);
    return { keyId: keyIdIn(meta.header, `the ${kind} upload`), ...meta.kept };
  }

  private key(bytes: Uint8Array): Validated {
    const message = decodeMessage<KeyHeader>(bytes, 'key');
    const key = this.only(message, 'key');
    if (message.header.part === 'relin') {
      RelinKey.load(this.context, key).dispose();
      return { header: message.header, kept: { part: 'relin' } };
    }
    if (message.header.part !== 'galois') throw new DeserializationError('key message: part must be relin or galois', 'ERR_DESERIALIZATION');
    const keys = GaloisKeys.load(this.context, key);
    const elements = keys.elements;
    keys.dispose();
    const unneeded = elements.filter((e) => !this.needed.has(e));
    if (unneeded.length > 0) throw new InvalidArgumentError(`Galois elements the plan does not use: ${unneeded.join(', ')}`, 'ERR_INVALID_ARGUMENT');
    return { header: message.header, kept: { part: 'galois', elements } };
  }

  private weights(bytes: Uint8Array): Validated {
    const message = decodeMessage<WeightsHeader>(bytes, 'weights');
    const { layers, rank, labels } = message.header;
    const m = this.plan.model;
    if (layers !== m.layers || rank !== m.loraRank || labels !== m.numLabels)
      throw new InvalidArgumentError(`weights for ${layers} layers, rank ${rank}, ${labels} labels; the model has ${m.layers}, ${m.loraRank}, ${m.numLabels}`, 'ERR_INVALID_ARGUMENT');
    // query, key and value adapters (a, aBias, b per rank) per layer, pooler diagonals and bias, classifier rows and biases
    const expected = 3 * 3 * rank * layers + this.plan.layout.width + 1 + 2 * labels;
    if (message.entries.length !== expected) throw new InvalidArgumentError(`weights message has ${message.entries.length} entries, expected ${expected}`, 'ERR_INVALID_ARGUMENT');
    this.freshCiphertexts(message);
    return { header: message.header, kept: {} };
  }

  private request(bytes: Uint8Array): Validated {
    const message = decodeMessage<RequestHeader>(bytes, 'request');
    const groups = checkGroups(message.header.groups, this.maxGroups, 'request');
    const names = Array.from({ length: groups }, (_, g) => [`group${g}.embeddings`, `group${g}.keyMask`]).flat();
    if (message.entries.length !== names.length || message.entries.some((e, i) => e.name !== names[i]))
      throw new InvalidArgumentError('request entries must be each group\'s embeddings and key mask, in order', 'ERR_INVALID_ARGUMENT');
    this.freshCiphertexts(message);
    return { header: message.header, kept: { groups } };
  }

  /** An initial training state (client.encryptTrainingState()): the plan's parameters and optimizer width, sane settings, fresh ciphertexts. */
  private state(bytes: Uint8Array): Validated {
    const training = this.plan.training;
    if (!training) throw new InvalidArgumentError('this service does not fine-tune', 'ERR_INVALID_ARGUMENT');
    const message = decodeMessage<StateHeader>(bytes, 'state');
    checkStateHeader(message.header, training);
    const { step, parameters, optimizerWidth, settings } = message.header;
    const names = [...Array.from({ length: parameters }, (_, i) => `param${i}`), ...['m', 'v'].flatMap((m) => Array.from({ length: optimizerWidth }, (_, c) => `${m}${c}`))];
    this.names(message, names, 'state entries must be the parameters, then the first and second moments, in order');
    this.freshCiphertexts(message);
    return { header: message.header, kept: { step, settings } };
  }

  /** A training batch (client.encryptTrainingBatch()): each group's embeddings and key mask, one label mask per class, the real-sequence mask. */
  private batch(bytes: Uint8Array): Validated {
    if (!this.plan.training) throw new InvalidArgumentError('this service does not fine-tune', 'ERR_INVALID_ARGUMENT');
    const message = decodeMessage<BatchHeader>(bytes, 'batch');
    const groups = checkGroups(message.header.groups, this.maxGroups, 'batch');
    const names = [
      ...Array.from({ length: groups }, (_, g) => [`group${g}.embeddings`, `group${g}.keyMask`]).flat(),
      ...Array.from({ length: this.plan.model.numLabels }, (_, c) => `label${c}`),
      'real',
    ];
    this.names(message, names, "batch entries must be each group's embeddings and key mask, the label masks and the real-sequence mask, in order");
    this.freshCiphertexts(message);
    return { header: message.header, kept: { groups } };
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
