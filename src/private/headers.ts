/**
 * The public headers of the messages client and server exchange (protocol.ts frames them), and the
 * checks both the server and the service's upload validation apply to them before any ciphertext is
 * loaded.
 *
 * Every message a client makes, and every message the server makes for it, carries the client's
 * key id: a keyed hash of its secret key (keyIdOf). CKKS ciphertexts under two keys look alike and
 * compute garbage together, so a server binds to the first key id it sees and refuses bytes under
 * any other with a KeyMismatchError, leaving what it holds unchanged. The id guards against
 * mistakes (a batch from another client, a stale keystore), not against a client that lies about it.
 */
import { createHmac } from 'node:crypto';
import { InvalidArgumentError, KeyMismatchError } from '../api/errors';
import type { StageRecord } from './executor';
import type { OptimizerSettings } from './trainer';

/** Hex digits of a key id (128 bits). */
const KEY_ID_PATTERN = /^[0-9a-f]{32}$/;
const KEY_ID_LABEL = 'cipherlm key id v1';

/**
 * The key id of a secret key's saved bytes: HMAC-SHA-256 keyed by them over a fixed label, cut to
 * 128 bits. One-way, so it reveals nothing of the key; the same key always gives the same id, so a
 * client restored from its keystore keeps its id.
 */
export function keyIdOf(secretKeyBytes: Uint8Array): string {
  return createHmac('sha256', secretKeyBytes).update(KEY_ID_LABEL).digest('hex').slice(0, 32);
}

/** What every client message carries. */
export interface KeyBound {
  keyId: string;
}
export interface KeyHeader extends KeyBound {
  part: 'relin' | 'galois';
}
export interface WeightsHeader extends KeyBound {
  layers: number;
  rank: number;
  labels: number;
}
export interface RequestHeader extends KeyBound {
  groups: number;
}
export interface BatchHeader extends KeyBound {
  groups: number;
}
/** Public fields of the encrypted training state. */
export interface StateHeader extends KeyBound {
  step: number;
  parameters: number;
  optimizerWidth: number;
  settings: OptimizerSettings;
}
export interface LogHeader extends KeyBound {
  step: number;
  groups: number;
  labels: number;
  bootstraps: number;
  seconds: number;
  stages: StageRecord[];
}
export interface ProbeRecord {
  stage: string;
  /** ciphertexts per row group */
  width: number;
  /** row groups returned (1 once the [CLS] rows are gathered) */
  count: number;
}
export interface ResponseHeader extends KeyBound {
  groups: number;
  labels: number;
  bootstraps: number;
  seconds: number;
  stages: StageRecord[];
  /** stage outputs returned (encrypted) when the request asked for probes */
  probes: ProbeRecord[];
  /**
   * Whether the last layer gathered the [CLS] rows of all row groups into one ciphertext: then
   * sequence s of group g is at row s * tokens + g of group 0's outputs.
   */
  gathered: boolean;
}

/** The header's key id, checked to be 32 hex digits. */
export function keyIdIn(header: unknown, what: string): string {
  const keyId = (header as Partial<KeyBound> | null)?.keyId;
  if (typeof keyId !== 'string' || !KEY_ID_PATTERN.test(keyId)) throw new InvalidArgumentError(`${what} lacks the client's key id`, 'ERR_INVALID_ARGUMENT');
  return keyId;
}

/**
 * The key id a party is bound to: the first one it accepts (or the one it is given), after which
 * bytes under any other are refused.
 */
export class KeyBinding {
  constructor(private bound: string | null = null) {}

  get keyId(): string | null {
    return this.bound;
  }

  /** The header's key id, refused if the binding is to another. */
  check(header: unknown, what: string): string {
    const keyId = keyIdIn(header, what);
    if (this.bound !== null && keyId !== this.bound)
      throw new KeyMismatchError(`${what} was made under another secret key (key id ${keyId}) than this party's (${this.bound})`, 'ERR_KEY_MISMATCH');
    return keyId;
  }

  /** Binds to a key id that check() passed, once what carried it has been accepted. */
  bind(keyId: string): void {
    this.bound = keyId;
  }
}

/** A request's or batch's row-group count: an integer from 1 to maxGroups. */
export function checkGroups(groups: unknown, maxGroups: number, what: 'request' | 'batch'): number {
  if (!Number.isInteger(groups) || (groups as number) < 1 || (groups as number) > maxGroups)
    throw new InvalidArgumentError(`a ${what} holds 1 to ${maxGroups} row groups, got ${String(groups)}`, 'ERR_INVALID_ARGUMENT');
  return groups as number;
}

/** A training state's header against the plan's training figures: counts, step and sane optimizer settings. */
export function checkStateHeader(header: StateHeader, training: { parameters: number; optimizerWidth: number }): void {
  const { step, parameters, optimizerWidth, settings } = header;
  if (parameters !== training.parameters || optimizerWidth !== training.optimizerWidth)
    throw new InvalidArgumentError(`a state of ${parameters} parameters in ${optimizerWidth} packed ciphertexts; the plan says ${training.parameters} in ${training.optimizerWidth}`, 'ERR_INVALID_ARGUMENT');
  if (!Number.isInteger(step) || step < 0) throw new InvalidArgumentError("the state's step must be a non-negative integer", 'ERR_INVALID_ARGUMENT');
  const s = settings as OptimizerSettings | undefined;
  const within = (x: unknown, lo: number, hi: number) => typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi;
  if (!s || !within(s.lr, 0, 1) || !within(s.beta1, 0, 1) || !within(s.beta2, 0, 1) || !within(s.eps, 1e-12, 1) || !within(s.weightDecay, 0, 1) || !Number.isInteger(s.batch) || s.batch < 1)
    throw new InvalidArgumentError('invalid optimizer settings', 'ERR_INVALID_ARGUMENT');
}
