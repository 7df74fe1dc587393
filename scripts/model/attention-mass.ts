/**
 * Attention mass of an encoder: for each layer and head, the mean over query rows of
 * sum_j S_ij (a softmax fixes it at 1; the Gaussian kernel does not), and the same for the [CLS]
 * row that the classifier reads, on the first 50 validation sentences of each task.
 *   node --import tsx scripts/model/attention-mass.ts [checkpoint] (default: the shipped HE-friendly encoder)
 */
import { loadTask } from '../../src/data/datasets';
import { loadCheckpoint } from '../../src/model/checkpoint';
import { encodeSplit, getTokenizer, pretrainedFile, TASKS } from '../../src/model/setup';

const file = process.argv[2] ?? pretrainedFile('hefriendly');
const { model } = loadCheckpoint(file);
model.setMode('frozen');
const tok = getTokenizer();
const { layers: L, heads: H } = model.cfg;
console.log(`${file}\n| task | layer | head | mean row mass | [CLS] row mass |\n| --- | --- | --- | --- | --- |`);
for (const task of TASKS) {
  const sentences = encodeSplit(tok, loadTask(task).validation.slice(0, 50), model.cfg.maxLen);
  const row = new Float64Array(L * H);
  const cls = new Float64Array(L * H);
  let rows = 0;
  for (const { ids } of sentences) {
    const n = ids.length;
    const { cache } = model.encode(ids);
    cache.layers.forEach((layer: { heads: { S: Float64Array }[] }, l: number) =>
      layer.heads.forEach(({ S }, h) => {
        for (let i = 0; i < n; i++) {
          let mass = 0;
          for (let j = 0; j < n; j++) mass += S[i * n + j];
          row[l * H + h] += mass;
          if (i === 0) cls[l * H + h] += mass;
        }
      }),
    );
    rows += n;
  }
  for (let l = 0; l < L; l++)
    for (let h = 0; h < H; h++)
      console.log(`| ${task} | ${l + 1} | ${h + 1} | ${(row[l * H + h] / rows).toPrecision(3)} | ${(cls[l * H + h] / sentences.length).toPrecision(3)} |`);
}
