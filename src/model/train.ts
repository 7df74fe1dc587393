/**
 * Training loops: masked-LM pretraining and classification fine-tuning, with a progress bar,
 * periodic checkpoints (model + optimizer + loop position + curves) that resume after a crash,
 * and deterministic data order (seeded per epoch).
 */
import * as fs from 'node:fs';
import { CLS, MASK, PAD, SEP, SPECIALS } from '../data/bpe';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { Model, Mode } from './model';
import { AdamW, AdamWOptions } from './optim';
import { mulberry32, shuffleInPlace } from './rng';

export class Progress {
  private t0 = Date.now();
  private last = 0;
  constructor(private label: string, private total: number, private quiet = false) {}
  tick(done: number, info = ''): void {
    if (this.quiet) return;
    const now = Date.now();
    if (now - this.last < 1000 && done < this.total) return;
    this.last = now;
    const frac = done / this.total;
    const w = 24;
    const bar = '#'.repeat(Math.round(frac * w)).padEnd(w, '.');
    const el = (now - this.t0) / 1000;
    const eta = frac > 0 ? el / frac - el : 0;
    const line = `${this.label} [${bar}] ${done}/${this.total} ${el.toFixed(0)}s eta ${eta.toFixed(0)}s ${info}`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}   `);
    else if (done === this.total || now - this.t0 > 0) process.stderr.write(`${line}\n`);
    if (done >= this.total && process.stderr.isTTY) process.stderr.write('\n');
  }
}

export interface CurvePoint {
  step: number;
  [k: string]: number;
}

// ---------------------------------------------------------------------------------------------
export interface PretrainOptions {
  steps: number;
  batch: number;
  lr: number;
  warmup: number;
  maskProb: number;
  seed: number;
  checkpoint: string;
  every: number;
  quiet?: boolean;
}

/** BERT masking: maskProb of the non-special tokens; 80% [MASK], 10% random, 10% kept. */
export function maskTokens(ids: number[], vocab: number, p: number, rng: () => number) {
  const cand: number[] = [];
  for (let i = 0; i < ids.length; i++) if (ids[i] !== CLS && ids[i] !== SEP && ids[i] !== PAD) cand.push(i);
  const positions = cand.filter(() => rng() < p);
  if (positions.length === 0 && cand.length > 0) positions.push(cand[Math.floor(rng() * cand.length)]);
  const out = ids.slice();
  const targets = positions.map((i) => ids[i]);
  for (const i of positions) {
    const r = rng();
    if (r < 0.8) out[i] = MASK;
    else if (r < 0.9) out[i] = SPECIALS.length + Math.floor(rng() * (vocab - SPECIALS.length));
  }
  return { ids: out, positions, targets };
}

export function pretrain(model: Model, corpus: number[][], o: PretrainOptions): { curve: CurvePoint[] } {
  let opt = new AdamW({ lr: o.lr, beta1: 0.9, beta2: 0.99, eps: 1e-12, weightDecay: 0.01, biasCorrection: true, approxInvSqrt: false });
  let curve: CurvePoint[] = [];
  let start = 0;
  model.setMode('pretrain');
  if (fs.existsSync(o.checkpoint)) {
    const ck = loadCheckpoint(o.checkpoint);
    for (const p of ck.model.params.values()) model.p(p.name).data.set(p.data);
    if (ck.optState) opt.restore(ck.optState.header as any, ck.optState.moments);
    start = Number(ck.extra.step ?? 0);
    curve = (ck.extra.curve as CurvePoint[]) ?? [];
    if (!o.quiet) process.stderr.write(`resuming pretraining at step ${start}\n`);
  }
  const prog = new Progress(`pretrain ${model.cfg.variant}`, o.steps, o.quiet);
  let accL = 0;
  let accC = 0;
  let accN = 0;
  for (let step = start; step < o.steps; step++) {
    const rng = mulberry32(o.seed * 1000003 + step); // data for step s depends only on s
    model.zeroGrad();
    model.penaltyLoss = 0;
    for (let b = 0; b < o.batch; b++) {
      const seq = corpus[Math.floor(rng() * corpus.length)];
      const mk = maskTokens(seq, model.cfg.vocab, o.maskProb, rng);
      const r = model.mlm(mk.ids, mk.positions, mk.targets, true);
      accL += r.loss;
      accC += r.correct / mk.positions.length;
      accN++;
    }
    const lr = o.lr * Math.min(1, (step + 1) / o.warmup) * Math.max(0.05, 1 - step / o.steps);
    opt.step(model, o.batch, lr);
    if ((step + 1) % 25 === 0 || step + 1 === o.steps) {
      curve.push({ step: step + 1, loss: accL / accN, acc: accC / accN, penalty: model.penaltyLoss / o.batch });
      accL = accC = accN = 0;
    }
    const last = curve[curve.length - 1];
    prog.tick(step + 1, last ? `mlm loss ${last.loss.toFixed(3)} acc ${last.acc.toFixed(3)}` : '');
    if ((step + 1) % o.every === 0 || step + 1 === o.steps) saveCheckpoint(o.checkpoint, model, opt, { step: step + 1, curve, kind: 'pretrain' });
  }
  return { curve };
}

// ---------------------------------------------------------------------------------------------
export interface FinetuneOptions {
  mode: Exclude<Mode, 'pretrain' | 'frozen'>;
  epochs: number;
  batch: number;
  opt: AdamWOptions;
  seed: number;
  checkpoint?: string;
  quiet?: boolean;
  evalEvery?: number;
}

export interface Encoded {
  ids: number[];
  label: number;
}

export function evaluate(model: Model, data: Encoded[]): number {
  let ok = 0;
  for (const e of data) {
    const { logits } = model.classify(e.ids);
    let arg = 0;
    for (let c = 1; c < logits.length; c++) if (logits[c] > logits[arg]) arg = c;
    if (arg === e.label) ok++;
  }
  return ok / Math.max(1, data.length);
}

/** Fine-tune; returns the validation-best parameters' test accuracy and the curves. */
export function finetune(model: Model, train: Encoded[], val: Encoded[], o: FinetuneOptions): { curve: CurvePoint[]; bestVal: number; bestStep: number; optimizerClamped: number } {
  model.setMode(o.mode);
  const opt = new AdamW(o.opt);
  let curve: CurvePoint[] = [];
  let startStep = 0;
  let best = { val: -1, step: 0, params: new Map<string, Float64Array>() };
  const stepsPerEpoch = Math.ceil(train.length / o.batch);
  const total = stepsPerEpoch * o.epochs;
  const evalEvery = o.evalEvery ?? stepsPerEpoch;
  if (o.checkpoint && fs.existsSync(o.checkpoint)) {
    const ck = loadCheckpoint(o.checkpoint);
    for (const p of ck.model.params.values()) model.p(p.name).data.set(p.data);
    if (ck.optState) opt.restore(ck.optState.header as any, ck.optState.moments);
    startStep = Number(ck.extra.step ?? 0);
    // JSON stores a diverged run's NaN losses as null
    curve = ((ck.extra.curve as CurvePoint[]) ?? []).map((c) => ({ ...c, loss: c.loss ?? NaN }));
    opt.clamped = Number(ck.extra.optimizerClamped ?? 0);
    const bp = ck.extra.best as { val: number; step: number } | undefined;
    if (bp && fs.existsSync(`${o.checkpoint}.best`)) {
      const bk = loadCheckpoint(`${o.checkpoint}.best`);
      best = { val: bp.val, step: bp.step, params: new Map([...bk.model.params.values()].filter((p) => model.p(p.name).trainable).map((p) => [p.name, p.data])) };
    }
    if (!o.quiet) process.stderr.write(`resuming fine-tuning at step ${startStep}\n`);
  }
  const prog = new Progress(`finetune ${model.cfg.variant}/${o.mode}`, total, o.quiet);
  let accL = 0;
  let accN = 0;
  let order: number[] = [];
  for (let step = startStep; step < total; step++) {
    const epoch = Math.floor(step / stepsPerEpoch);
    const within = step % stepsPerEpoch;
    if (order.length === 0 || within === 0 || step === startStep) order = shuffleInPlace([...train.keys()], mulberry32(o.seed * 7919 + epoch));
    model.zeroGrad();
    model.penaltyLoss = 0;
    const idx = order.slice(within * o.batch, (within + 1) * o.batch);
    for (const i of idx) {
      accL += model.classify(train[i].ids, train[i].label, true).loss;
      accN++;
    }
    opt.step(model, idx.length);
    if ((step + 1) % evalEvery === 0 || step + 1 === total) {
      const va = evaluate(model, val);
      curve.push({ step: step + 1, loss: accL / Math.max(1, accN), val: va, penalty: model.penaltyLoss / idx.length });
      accL = accN = 0;
      if (va > best.val) {
        best = { val: va, step: step + 1, params: new Map([...model.params.values()].filter((p) => p.trainable).map((p) => [p.name, p.data.slice()])) };
        if (o.checkpoint) saveCheckpoint(`${o.checkpoint}.best`, model, undefined, { step: step + 1 });
      }
      if (o.checkpoint) saveCheckpoint(o.checkpoint, model, opt, { step: step + 1, curve, best: { val: best.val, step: best.step }, optimizerClamped: opt.clamped });
    }
    const last = curve[curve.length - 1];
    prog.tick(step + 1, last ? `loss ${last.loss.toFixed(3)} val ${last.val.toFixed(3)}` : '');
    // NaN weights stay NaN: later steps cannot change the result, whose best validation point stands
    if (Number.isNaN(last?.loss) && [...model.params.values()].some((p) => p.trainable && p.data.some(Number.isNaN))) {
      if (!o.quiet) process.stderr.write(`\nweights are NaN after step ${step + 1}: the run stops; its best validation point is kept\n`);
      break;
    }
  }
  for (const [name, d] of best.params) model.p(name).data.set(d);
  return { curve, bestVal: best.val, bestStep: best.step, optimizerClamped: opt.clamped };
}
