/**
 * Checkpoints: one binary file = magic "CLMCKPT1", uint32 header length, JSON header, zero padding
 * to a multiple of 8, then raw little-endian float64 arrays (parameters, then optimizer moments).
 * Reloading is bit-identical. Writes go to a temporary file that is renamed into place, so a crash
 * never leaves a torn checkpoint.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Model, ModelConfig, Mode } from './model';
import { AdamW } from './optim';

const MAGIC = 'CLMCKPT1';

export interface CheckpointExtra {
  [k: string]: unknown;
}

interface Header {
  config: ModelConfig;
  mode: Mode;
  arrays: { name: string; shape: number[]; offset: number; length: number }[];
  optimizer?: ReturnType<AdamW['stateHeader']>;
  extra: CheckpointExtra;
}

export function serialize(model: Model, opt?: AdamW, extra: CheckpointExtra = {}): Buffer {
  const arrays: Header['arrays'] = [];
  const blobs: Float64Array[] = [];
  let offset = 0;
  const push = (name: string, shape: number[], a: Float64Array) => {
    arrays.push({ name, shape, offset, length: a.length });
    blobs.push(a);
    offset += a.length;
  };
  for (const p of model.params.values()) push(p.name, p.shape, p.data);
  if (opt) for (const [name, [m, v]] of opt.moments()) {
    push(`adam.m.${name}`, [m.length], m);
    push(`adam.v.${name}`, [v.length], v);
  }
  const header: Header = { config: model.cfg, mode: model.mode, arrays, optimizer: opt?.stateHeader(), extra };
  const hjson = Buffer.from(JSON.stringify(header), 'utf8');
  const pre = 8 + 4 + hjson.length;
  const pad = (8 - (pre % 8)) % 8;
  const out = Buffer.alloc(pre + pad + offset * 8);
  out.write(MAGIC, 0, 'ascii');
  out.writeUInt32LE(hjson.length, 8);
  hjson.copy(out, 12);
  let o = pre + pad;
  for (const a of blobs) {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, o);
    o += a.byteLength;
  }
  return out;
}

export function deserialize(buf: Buffer): { model: Model; optState?: { header: Header['optimizer']; moments: Map<string, [Float64Array, Float64Array]> }; extra: CheckpointExtra } {
  if (buf.toString('ascii', 0, 8) !== MAGIC) throw new Error('not a cipherlm checkpoint');
  const hlen = buf.readUInt32LE(8);
  const header = JSON.parse(buf.toString('utf8', 12, 12 + hlen)) as Header;
  const pre = 12 + hlen;
  const base = pre + ((8 - (pre % 8)) % 8);
  const model = new Model(header.config, 1);
  model.setMode(header.mode);
  const moments = new Map<string, [Float64Array, Float64Array]>();
  for (const a of header.arrays) {
    const data = new Float64Array(a.length);
    Buffer.from(data.buffer).set(buf.subarray(base + a.offset * 8, base + (a.offset + a.length) * 8));
    if (a.name.startsWith('adam.')) {
      const kind = a.name[5];
      const pname = a.name.slice(7);
      const cur = moments.get(pname) ?? [new Float64Array(0), new Float64Array(0)];
      cur[kind === 'm' ? 0 : 1] = data;
      moments.set(pname, cur);
    } else {
      const p = model.p(a.name);
      if (p.data.length !== data.length) throw new Error(`shape mismatch for ${a.name}`);
      p.data.set(data);
    }
  }
  return { model, optState: header.optimizer ? { header: header.optimizer, moments } : undefined, extra: header.extra };
}

export function saveCheckpoint(file: string, model: Model, opt?: AdamW, extra: CheckpointExtra = {}): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, serialize(model, opt, extra));
  fs.renameSync(tmp, file);
}

export function loadCheckpoint(file: string) {
  return deserialize(fs.readFileSync(file));
}
