import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deserialize, loadCheckpoint, saveCheckpoint, serialize } from '../../src/model/checkpoint';
import { Model, ModelConfig } from '../../src/model/model';
import { AdamW, ADAMW_HE } from '../../src/model/optim';
import { finetune } from '../../src/model/train';
import { pretrainedFile, WEIGHTS } from '../../src/model/setup';

const cfg: ModelConfig = { vocab: 30, dim: 8, heads: 2, layers: 2, ffn: 12, maxLen: 10, variant: 'hefriendly', numLabels: 2, loraRank: 2, loraScale: 1, penalty: 0.1, lnEps: 1e-5 };

function toyData(n: number, seed: number) {
  const out = [];
  let s = seed;
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const ids = [2];
    for (let t = 0; t < 6; t++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      ids.push(5 + ((s >> 8) % 10) + (label ? 10 : 0) * (t % 2));
    }
    ids.push(3);
    out.push({ ids, label });
  }
  return out;
}

describe('checkpoints', () => {
  it('reload bit-identically (parameters, optimizer state, outputs)', () => {
    const m = new Model(cfg, 5);
    m.setMode('lora');
    const opt = new AdamW({ ...ADAMW_HE, lr: 1e-2 });
    m.zeroGrad();
    m.classify([2, 7, 8, 9, 3], 1, true);
    opt.step(m, 1);
    const buf = serialize(m, opt, { step: 1 });
    const { model: r, optState, extra } = deserialize(buf);
    expect(extra.step).toBe(1);
    for (const p of m.params.values()) expect(Buffer.from(r.p(p.name).data.buffer).equals(Buffer.from(p.data.buffer))).toBe(true);
    expect(serialize(r, (() => { const o = new AdamW(opt.opts); o.restore(optState!.header as any, optState!.moments); return o; })(), { step: 1 }).equals(buf)).toBe(true);
    const a = m.classify([2, 11, 4, 3]).logits;
    const b = r.classify([2, 11, 4, 3]).logits;
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('a fine-tuning run interrupted and resumed ends bit-identical to an uninterrupted one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clm-'));
    const train = toyData(24, 1);
    const val = toyData(8, 2);
    const opts = { mode: 'full' as const, epochs: 2, batch: 4, opt: { ...ADAMW_HE, lr: 1e-2 }, seed: 3, quiet: true, evalEvery: 2 };
    const a = new Model(cfg, 9);
    finetune(a, train, val, { ...opts, checkpoint: path.join(dir, 'a.ckpt') });
    // "crash" after 1 epoch, then resume from the checkpoint with a fresh process-like model
    const b = new Model(cfg, 9);
    finetune(b, train, val, { ...opts, epochs: 1, checkpoint: path.join(dir, 'b.ckpt') });
    const b2 = new Model(cfg, 9);
    finetune(b2, train, val, { ...opts, checkpoint: path.join(dir, 'b.ckpt') });
    for (const p of a.params.values()) expect(Array.from(b2.p(p.name).data)).toEqual(Array.from(p.data));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a diverged run (NaN weights) stops, keeps its best point, and a continuation of it resumes and stops', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clm-'));
    const train = toyData(24, 1);
    const val = toyData(8, 2);
    const opts = { mode: 'full' as const, epochs: 2, batch: 4, opt: { ...ADAMW_HE, lr: 1e-2 }, seed: 3, quiet: true, evalEvery: 2, checkpoint: path.join(dir, 'd.ckpt') };
    const m = new Model(cfg, 9);
    m.setMode('full');
    // 2 healthy steps, then a weight becomes NaN: every later loss and update is NaN
    const first = finetune(m, train, val, { ...opts, epochs: 1 / 3 });
    expect(first.curve.length).toBe(1);
    const ck = loadCheckpoint(opts.checkpoint);
    ck.model.p('L0.wq').data[0] = NaN;
    saveCheckpoint(opts.checkpoint, ck.model, undefined, ck.extra);
    const res = finetune(new Model(cfg, 9), train, val, opts);
    expect(res.curve.length).toBe(2); // stopped at the first evaluation after the NaN, not after 12 steps
    expect(Number.isNaN(res.curve[1].loss)).toBe(true);
    expect(res.bestStep).toBe(2);
    // the curve went through JSON (NaN -> null); a continuation reads it back and stops after one step
    const again = finetune(new Model(cfg, 9), train, val, opts);
    expect(again.curve.length).toBe(2);
    expect(Number.isNaN(again.curve[1].loss)).toBe(true);
    expect(again.bestStep).toBe(2);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!fs.existsSync(pretrainedFile('hefriendly')))('the shipped pretrained and fine-tuned checkpoints reload bit-identically', () => {
    const files = [pretrainedFile('standard'), pretrainedFile('hefriendly'), ...['spam', 'genre'].map((t) => path.join(WEIGHTS, `finetuned-${t}-hefriendly-lora.ckpt`))];
    for (const [v, f] of files.entries()) {
      if (!fs.existsSync(f)) continue;
      const raw = fs.readFileSync(f);
      const { model, extra } = loadCheckpoint(f);
      expect(serialize(model, undefined, extra).equals(raw)).toBe(true);
      const tmp = path.join(os.tmpdir(), `clm-${process.pid}-${v}.ckpt`);
      saveCheckpoint(tmp, model, undefined, extra);
      expect(fs.readFileSync(tmp).equals(raw)).toBe(true);
      fs.rmSync(tmp);
    }
  });
});
