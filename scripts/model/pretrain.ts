/**
 * Masked-LM pretraining of the small encoder (one variant), resumable.
 *   node --import tsx scripts/model/pretrain.ts --variant standard|hefriendly [--steps N] [--batch B]
 *     [--lr x] [--seed n] [--penalty λ] [--mass-floor m] [--mass-weight λ] [--out file.ckpt]
 * Writes weights/pretrained-<variant>.ckpt (or --out; + .json curve) and keeps its running
 * checkpoint in checkpoints/model/ (resumed if present).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTask } from '../../src/data/datasets';
import { saveCheckpoint } from '../../src/model/checkpoint';
import { Model, Variant } from '../../src/model/model';
import { getTokenizer, modelConfig, pretrainCorpus, pretrainedFile, ROOT, TASKS } from '../../src/model/setup';
import { pretrain } from '../../src/model/train';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}
const variant = arg('variant', 'standard') as Variant;
const steps = Number(arg('steps', '1800'));
const batch = Number(arg('batch', '16'));
const lr = Number(arg('lr', '2e-3'));
const seed = Number(arg('seed', '1'));
const out = path.resolve(arg('out', pretrainedFile(variant)));

const tasks = TASKS.map((t) => loadTask(t));
const tok = getTokenizer(tasks);
const cfg = modelConfig(variant, tok.size);
cfg.penalty = Number(arg('penalty', String(cfg.penalty)));
if (cfg.attnMassFloor)
  cfg.attnMassFloor = { floor: Number(arg('mass-floor', String(cfg.attnMassFloor.floor))), weight: Number(arg('mass-weight', String(cfg.attnMassFloor.weight))) };
const corpus = pretrainCorpus(tok, tasks, cfg.maxLen);
process.stderr.write(`corpus: ${corpus.length} sequences, ${corpus.reduce((a, s) => a + s.length, 0)} tokens; vocab ${tok.size}\n`);
const model = new Model(cfg, seed);
const ckdir = path.join(ROOT, 'checkpoints', 'model');
const t0 = Date.now();
const { curve } = pretrain(model, corpus, { steps, batch, lr, warmup: Math.min(100, steps / 10), maskProb: 0.15, seed, checkpoint: path.join(ckdir, `pretrain-${path.basename(out)}`), every: 50 });
model.setMode('frozen');
const info = { variant, steps, batch, lr, seed, penalty: cfg.penalty, attnInit: cfg.attnInit, attnMassFloor: cfg.attnMassFloor, corpusSequences: corpus.length, seconds: (Date.now() - t0) / 1000, ranges: model.ranges, final: curve[curve.length - 1] };
saveCheckpoint(out, model, undefined, { provenance: info });
fs.writeFileSync(out.replace(/\.ckpt$/, '.json'), JSON.stringify({ ...info, curve }, null, 1));
process.stderr.write(`wrote ${out}\n`);
