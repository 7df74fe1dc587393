/**
 * The accuracy experiment: for each task and each of standard+full, standard+LoRA,
 * hefriendly+full, hefriendly+LoRA, fine-tune from the shipped pretrained checkpoint (model picked
 * by validation accuracy), evaluate on the test split.
 *   node --import tsx scripts/model/accuracy.ts [--task spam|genre] [--variant v] [--only variant/mode] [--report]
 * Each run writes experiments/runs/<task>-<variant>-<mode>.json (skipped if present, resumable
 * through checkpoints/model/); the last step assembles experiments/accuracy.json and the SVG
 * curves in experiments/curves/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTask } from '../../src/data/datasets';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint';
import { Mode, Variant } from '../../src/model/model';
import { ADAMW_HE } from '../../src/model/optim';
import { encodeSplit, getTokenizer, pretrainedFile, ROOT, TASKS, TaskName } from '../../src/model/setup';
import { lineChart } from '../../src/model/svg';
import { evaluate, finetune } from '../../src/model/train';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const EXP = path.join(ROOT, 'experiments');
const RUNS = path.join(EXP, 'runs');
const VARIANTS: Variant[] = ['standard', 'hefriendly'];
const MODES: Exclude<Mode, 'pretrain' | 'frozen'>[] = ['full', 'lora'];
export const HYPER = {
  epochs: Number(arg('epochs') ?? 4),
  batch: 16,
  lr: { full: 2e-3, lora: 1e-2 } as Record<string, number>,
  loraRank: 2,
  seed: 17,
};

function run(task: TaskName, variant: Variant, mode: (typeof MODES)[number]): void {
  const out = path.join(RUNS, `${task}-${variant}-${mode}.json`);
  if (fs.existsSync(out)) return;
  const tok = getTokenizer();
  const t = loadTask(task);
  const { model, extra } = loadCheckpoint(pretrainedFile(variant));
  const L = model.cfg.maxLen;
  const train = encodeSplit(tok, t.train, L);
  const val = encodeSplit(tok, t.validation, L);
  const test = encodeSplit(tok, t.test, L);
  const t0 = Date.now();
  model.ranges = {};
  const res = finetune(model, train, val, {
    mode,
    epochs: HYPER.epochs,
    batch: HYPER.batch,
    opt: { ...ADAMW_HE, lr: HYPER.lr[mode] },
    seed: HYPER.seed,
    checkpoint: path.join(ROOT, 'checkpoints', 'model', `ft-${task}-${variant}-${mode}.ckpt`),
    evalEvery: Math.ceil(train.length / HYPER.batch / 4),
  });
  const trainRanges = model.ranges;
  const testAcc = evaluate(model, test);
  // ship the HE-friendly LoRA models: the reference for encrypted inference
  if (variant === 'hefriendly' && mode === 'lora') saveCheckpoint(path.join(ROOT, 'weights', `finetuned-${task}-hefriendly-lora.ckpt`), model, undefined, { task, testAccuracy: testAcc, bestStep: res.bestStep });
  const trainable = [...model.params.values()].filter((p) => p.trainable).reduce((a, p) => a + p.data.length, 0);
  const rec = {
    task, variant, mode, testAccuracy: testAcc, bestValidation: res.bestVal, bestStep: res.bestStep,
    sizes: { train: train.length, validation: val.length, test: test.length }, trainableParams: trainable,
    hyper: { ...HYPER, lr: HYPER.lr[mode], optimizer: ADAMW_HE }, seconds: (Date.now() - t0) / 1000,
    pretrained: (extra.provenance as { steps?: number })?.steps, ranges: trainRanges, curve: res.curve,
  };
  fs.mkdirSync(RUNS, { recursive: true });
  fs.writeFileSync(out, JSON.stringify(rec, null, 1));
  process.stderr.write(`${task} ${variant}/${mode}: test accuracy ${(100 * testAcc).toFixed(2)}%\n`);
}

function report(): void {
  const rows: { task: string; variant: string; metric: string; value: number }[] = [];
  fs.mkdirSync(path.join(EXP, 'curves'), { recursive: true });
  for (const task of TASKS) {
    const series = [];
    for (const variant of VARIANTS)
      for (const mode of MODES) {
        const f = path.join(RUNS, `${task}-${variant}-${mode}.json`);
        if (!fs.existsSync(f)) continue;
        const r = JSON.parse(fs.readFileSync(f, 'utf8'));
        rows.push({ task, variant: `${variant}+${mode}`, metric: 'test accuracy (%)', value: Number((100 * r.testAccuracy).toFixed(2)) });
        series.push({ name: `${variant}+${mode}`, points: r.curve.map((c: { step: number; val: number }) => [c.step, 100 * c.val] as [number, number]) });
      }
    fs.writeFileSync(path.join(EXP, 'curves', `finetune-${task}.svg`), lineChart(`Fine-tuning on ${task}: validation accuracy`, 'step (batch 16)', 'validation accuracy (%)', series));
  }
  const pre = VARIANTS.filter((v) => fs.existsSync(pretrainedFile(v).replace(/\.ckpt$/, '.json'))).map((v) => {
    const j = JSON.parse(fs.readFileSync(pretrainedFile(v).replace(/\.ckpt$/, '.json'), 'utf8'));
    return { name: v, points: j.curve.map((c: { step: number; loss: number }) => [c.step, c.loss] as [number, number]) };
  });
  fs.writeFileSync(path.join(EXP, 'curves', 'pretrain-mlm.svg'), lineChart('Masked-LM pretraining loss', 'step (batch 16)', 'MLM cross-entropy', pre));
  fs.writeFileSync(path.join(EXP, 'accuracy.json'), `${JSON.stringify(rows, null, 1)}\n`);
  for (const r of rows) process.stdout.write(`${r.task.padEnd(6)} ${r.variant.padEnd(16)} ${r.value.toFixed(2)}\n`);
}

const only = arg('only');
const tasks = arg('task') ? [arg('task') as TaskName] : [...TASKS];
if (!process.argv.includes('--report'))
  for (const task of tasks)
    for (const variant of VARIANTS)
      for (const mode of MODES)
        if ((!only || only === `${variant}/${mode}`) && (!arg('variant') || arg('variant') === variant)) run(task, variant, mode);
if ((!arg('task') && !arg('variant') && !only) || process.argv.includes('--report')) report();
