/**
 * The standard model's exact non-linear functions against the polynomial stand-ins its encrypted
 * run evaluates (src/model/poly.ts): the input ranges of every approximated function on every split
 * of both tasks (padded sequences' real keys only), which the stand-ins' intervals must cover, and
 * what the stand-ins cost on the test splits in plaintext (Model.standIns): prediction agreement and
 * the largest logit difference.
 *   node --import tsx scripts/model/standard-stand-ins.ts [checkpoint] (default: the shipped standard encoder)
 */
import { loadTask } from '../../src/data/datasets';
import { loadCheckpoint } from '../../src/model/checkpoint';
import * as P from '../../src/model/poly';
import { encodeSplit, getTokenizer, pretrainedFile, TASKS } from '../../src/model/setup';

const file = process.argv[2] ?? pretrainedFile('standard');
const { model } = loadCheckpoint(file);
if (model.cfg.variant !== 'standard') throw new Error(`${file} is not a standard-variant checkpoint`);
model.setMode('frozen');
const tok = getTokenizer();
const intervals: Record<string, [number, number]> = {
  'layernorm.var': [P.ISQ_LO, P.ISQ_HI],
  'softmax.score': [-P.SMX_SCORE_B, P.SMX_SCORE_B],
  gelu: [-P.GELU_B, P.GELU_B],
  'pooler.tanh': [-P.TANH_B, P.TANH_B],
};
console.log(`${file}\n\n| task | split | input | min | max | outside the stand-in's interval | interval |\n| --- | --- | --- | --- | --- | --- | --- |`);
const cost: string[] = [];
for (const task of TASKS) {
  const splits = loadTask(task);
  for (const split of ['train', 'validation', 'test'] as const) {
    const sentences = encodeSplit(tok, splits[split], model.cfg.maxLen);
    model.ranges = {};
    let agree = 0;
    let worst = 0;
    for (const { ids } of sentences) {
      model.standIns = false;
      const exact = model.classify(ids).logits;
      if (split !== 'test') continue;
      model.standIns = true;
      const approx = model.classify(ids).logits;
      exact.forEach((x, c) => (worst = Math.max(worst, Math.abs(x - approx[c]))));
      if (exact.indexOf(Math.max(...exact)) === approx.indexOf(Math.max(...approx))) agree++;
    }
    if (split === 'test') cost.push(`| ${task} | ${sentences.length} | ${agree} | ${worst.toExponential(2)} |`);
    for (const [kind, [lo, hi]] of Object.entries(intervals)) {
      const r = model.ranges[kind];
      console.log(`| ${task} | ${split} | ${kind} | ${r.min.toFixed(3)} | ${r.max.toFixed(3)} | ${r.outside} of ${r.total} | [${lo}, ${hi}] |`);
    }
  }
}
console.log(`\n| task | test sentences | same prediction with the stand-ins | largest logit difference |\n| --- | --- | --- | --- |\n${cost.join('\n')}`);
