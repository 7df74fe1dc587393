/**
 * The bytes client and server exchange. One message is:
 *
 *     "CLMP" | version u8 | kind u8 | 2 zero bytes | header length u32 LE | header (UTF-8 JSON)
 *     | entry bytes, one after another
 *
 * The header holds the message's own fields and `entries`: the name and byte length of every entry
 * (each a cipherlm object saved with save()). The parser checks the magic, version, kind, every
 * length against the buffer and the JSON's shape before anything is loaded; anything else is a
 * DeserializationError.
 */
import { DeserializationError } from '../api/errors';

const MAGIC = 'CLMP';
/** 2: every header carries the client's key id (headers.ts). */
const VERSION = 2;
const FIXED = 12;
/** Header JSON above this is refused before parsing (the headers here are a few kilobytes). */
const MAX_HEADER = 16 << 20;

export const MESSAGE_KINDS = ['plan', 'key', 'weights', 'request', 'response', 'state', 'batch', 'log'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export interface Entry {
  name: string;
  bytes: Uint8Array;
}
export interface Message<H> {
  kind: MessageKind;
  header: H;
  entries: Entry[];
}

export function encodeMessage<H extends object>(kind: MessageKind, header: H, entries: Entry[] = []): Uint8Array {
  const json = Buffer.from(JSON.stringify({ ...header, entries: entries.map((e) => ({ name: e.name, length: e.bytes.length })) }), 'utf8');
  const total = FIXED + json.length + entries.reduce((n, e) => n + e.bytes.length, 0);
  const out = Buffer.alloc(total);
  out.write(MAGIC, 0, 'ascii');
  out.writeUInt8(VERSION, 4);
  out.writeUInt8(MESSAGE_KINDS.indexOf(kind), 5);
  out.writeUInt32LE(json.length, 8);
  json.copy(out, FIXED);
  let offset = FIXED + json.length;
  for (const e of entries) {
    out.set(e.bytes, offset);
    offset += e.bytes.length;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

function fail(message: string): never {
  throw new DeserializationError(`message: ${message}`, 'ERR_DESERIALIZATION');
}

/** Parses a message of the expected kind; entry bytes are views into `bytes`. */
export function decodeMessage<H>(bytes: Uint8Array, expected: MessageKind): Message<H> {
  if (!(bytes instanceof Uint8Array)) fail('expected a Uint8Array');
  if (bytes.length < FIXED) fail('truncated');
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (view.toString('ascii', 0, 4) !== MAGIC) fail('not a cipherlm message');
  if (view.readUInt8(4) !== VERSION) fail(`unsupported version ${view.readUInt8(4)}`);
  const kind = MESSAGE_KINDS[view.readUInt8(5)];
  if (kind === undefined) fail('unknown message kind');
  if (kind !== expected) fail(`a ${kind} message where a ${expected} message was expected`);
  if (view.readUInt16LE(6) !== 0) fail('reserved bytes must be zero');
  const headerLength = view.readUInt32LE(8);
  if (headerLength > MAX_HEADER || FIXED + headerLength > bytes.length) fail('header length exceeds the message');
  let parsed: unknown;
  try {
    parsed = JSON.parse(view.toString('utf8', FIXED, FIXED + headerLength));
  } catch {
    fail('header is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail('header is not an object');
  const list = (parsed as { entries?: unknown }).entries;
  if (!Array.isArray(list)) fail('header lacks its entry list');
  const entries: Entry[] = [];
  let offset = FIXED + headerLength;
  for (const e of list) {
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || !Number.isSafeInteger(e.length) || e.length < 0) fail('malformed entry');
    if (offset + e.length > bytes.length) fail(`entry ${e.name} runs past the end`);
    entries.push({ name: e.name, bytes: bytes.subarray(offset, offset + e.length) });
    offset += e.length;
  }
  if (offset !== bytes.length) fail('bytes after the last entry');
  const { entries: _, ...header } = parsed as Record<string, unknown>;
  return { kind, header: header as H, entries };
}

/** The entry of a name, or a DeserializationError naming it. */
export function entry(message: Message<unknown>, name: string): Uint8Array {
  const found = message.entries.find((e) => e.name === name);
  if (!found) fail(`missing entry ${name}`);
  return found.bytes;
}
