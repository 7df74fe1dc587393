/**
 * Private inference benchmark: encrypted forward passes of test sentences, client and server apart,
 * for the HE-friendly model (shipped fine-tuned LoRA weights) and the standard model (softmax
 * attention, the paper's baseline), side by side, with their time ratio.
 *
 *   npm run -s bench:inference -- --json                  # rows as one JSON object on stdout
 *   npm run bench:inference -- --tasks spam,genre --count 96 --threads 1,2 --preset secure
 *
 * Every row runs in its own process (so that its peak resident memory is its own): key generation,
 * encryption of the adapters and head, then `count` sentences in requests of up to 8 row groups.
 * A row: { task, variant, threads, sequences, seconds, secondsPerSequence, bootstraps, keyMB,
 * peakRssMB, maxLogitError, agreement, accuracyPlain, accuracyEncrypted, stageSeconds, differences }, with
 * agreement the fraction of equal predictions and maxLogitError the largest |encrypted - plaintext|.
 * `differences` lists every sentence whose logits are off by more than `--tolerance` (default 1e-2, the
 * issue's bound) or whose prediction differs, with the stage that lost the precision: its request is
 * run once more with the stage outputs returned (not timed) and set beside the plaintext executor's.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { loadTask } from '../src/data/datasets';
import { loadCheckpoint } from '../src/model/checkpoint';
import type { Variant } from '../src/model/model';
import { encodeSplit, getTokenizer, pretrainedFile, TASKS, WEIGHTS, type TaskName } from '../src/model/setup';
import { PrivateInferenceClient } from '../src/private/client';
import { stageErrors, worstStage } from '../src/private/diagnose';
import { PIPELINE_PRESETS } from '../src/private/presets';
import { PrivateInferenceServer } from '../src/private/server';

interface Row {
  task: string;
  variant: Variant;
  preset: string;
  threads: number;
  sequences: number;
  seconds: number;
  secondsPerSequence: number;
  bootstraps: number;
  keyMB: number;
  peakRssMB: number;
  maxLogitError: number;
  agreement: number;
  accuracyPlain: number;
  accuracyEncrypted: number;
  stageSeconds: Record<string, number>;
  differences: Difference[];
}

/** A sentence beyond the tolerance or with another prediction, and where its error grew most. */
interface Difference {
  sentence: number;
  logitError: number;
  samePrediction: boolean;
  stage: string;
  stageError: number;
}

const argv = process.argv.slice(2);
const option = (name: string, fallback: string): string => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);

/** One row, in this process. */
async function runRow(task: TaskName, variant: Variant, presetName: string, threads: number, count: number, tolerance: number): Promise<Row> {
  const preset = PIPELINE_PRESETS[presetName];
  const insecure = { allowInsecureParametersForTestsOnly: preset.insecure };
  const server = await PrivateInferenceServer.create({ model: loadCheckpoint(pretrainedFile(variant)).model, preset, threads, ...insecure });
  // the client's model: the shipped fine-tuned weights (HE-friendly); the standard baseline uses its
  // pretrained encoder with its (untrained) head, which is enough to time it and check agreement
  const clientFile = variant === 'hefriendly' ? `${WEIGHTS}/finetuned-${task}-hefriendly-lora.ckpt` : pretrainedFile(variant);
  const { model } = loadCheckpoint(clientFile);
  model.setMode('frozen');
  const client = PrivateInferenceClient.create(server.planBytes(), model, { threads, ...insecure });
  let keyBytes = 0;
  for await (const part of client.evaluationKeys()) {
    keyBytes += part.length;
    await server.acceptKey(part);
  }
  server.acceptWeights(await client.encryptWeights());
  const sentences = encodeSplit(getTokenizer(), loadTask(task).test.slice(0, count), model.cfg.maxLen);
  const perRequest = client.sequencesPerGroup * 8;
  const row: Row = { task, variant, preset: preset.name, threads, sequences: sentences.length, seconds: 0, secondsPerSequence: 0, bootstraps: 0, keyMB: keyBytes / 2 ** 20, peakRssMB: 0, maxLogitError: 0, agreement: 0, accuracyPlain: 0, accuracyEncrypted: 0, stageSeconds: {}, differences: [] };
  for (let start = 0; start < sentences.length; start += perRequest) {
    const chunk = sentences.slice(start, start + perRequest);
    const { request, batch } = await client.encryptBatch(chunk.map((e) => e.ids));
    const response = await server.infer(request, {
      onProgress: (p) => process.stderr.write(`\r${task}/${variant}/${threads}t: sentences ${start}+${chunk.length}/${sentences.length} ${p.stage.padEnd(22)} bootstraps ${p.bootstrapsDone}/${p.bootstrapsTotal} eta ${Number.isFinite(p.eta) ? p.eta.toFixed(0) : '?'}s   `),
    });
    const summary = PrivateInferenceClient.responseSummary(response);
    row.seconds += summary.seconds;
    row.bootstraps += summary.bootstraps;
    for (const s of summary.stages) {
      const kind = s.stage.replace(/^L\d+\./, '');
      row.stageSeconds[kind] = (row.stageSeconds[kind] ?? 0) + s.seconds;
    }
    const logits = await client.decryptLogits(response, batch);
    const differing: Omit<Difference, 'stage' | 'stageError'>[] = [];
    chunk.forEach((e, i) => {
      const plain = model.classify(e.ids).logits;
      const argmax = (v: ArrayLike<number>) => Array.from(v).reduce((best, x, c, a) => (x > a[best] ? c : best), 0);
      const logitError = Math.max(...Array.from(plain, (v, c) => Math.abs(v - logits[i][c])));
      const samePrediction = argmax(plain) === argmax(logits[i]);
      row.maxLogitError = Math.max(row.maxLogitError, logitError);
      row.agreement += samePrediction ? 1 : 0;
      row.accuracyPlain += argmax(plain) === e.label ? 1 : 0;
      row.accuracyEncrypted += argmax(logits[i]) === e.label ? 1 : 0;
      if (logitError > tolerance || !samePrediction) differing.push({ sentence: start + i, logitError, samePrediction });
    });
    if (differing.length > 0) {
      const probed = await server.infer(request, { probes: true });
      const errors = await stageErrors(client, model, probed, batch, chunk.map((e) => e.ids));
      for (const d of differing) {
        const worst = worstStage(errors[d.sentence - start]);
        row.differences.push({ ...d, stage: worst.stage, stageError: worst.maxError });
      }
    }
  }
  process.stderr.write('\n');
  for (const k of ['agreement', 'accuracyPlain', 'accuracyEncrypted'] as const) row[k] /= sentences.length;
  row.secondsPerSequence = row.seconds / sentences.length;
  row.peakRssMB = process.resourceUsage().maxRSS / 1024;
  return row;
}

async function main(): Promise<void> {
  if (argv[0] === '--row') {
    const [task, variant, preset, threads, count, tolerance] = argv.slice(1);
    process.stdout.write(JSON.stringify(await runRow(task as TaskName, variant as Variant, preset, Number(threads), Number(count), Number(tolerance))) + '\n');
    return;
  }
  const json = argv.includes('--json');
  const presetName = option('preset', 'secure' in PIPELINE_PRESETS ? 'secure' : 'test');
  if (!PIPELINE_PRESETS[presetName]) throw new Error(`--preset must be one of ${Object.keys(PIPELINE_PRESETS).join(', ')}`);
  const tasks = option('tasks', 'spam').split(',') as TaskName[];
  for (const t of tasks) if (!TASKS.includes(t)) throw new Error(`--tasks: ${t} is not one of ${TASKS.join(', ')}`);
  const threads = option('threads', String(Math.min(2, os.availableParallelism()))).split(',').map(Number);
  const variants = option('variants', 'hefriendly,standard').split(',') as Variant[];
  const count = Number(option('count', '12'));
  const tolerance = Number(option('tolerance', '1e-2'));
  if (!(tolerance >= 0)) throw new Error('--tolerance must be a number at least 0');
  const log = (line: string) => (json ? process.stderr : process.stdout).write(line + '\n');
  log(`cipherlm private-inference benchmark: ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, preset ${presetName}, ${count} sentences per row`);
  const rows: Row[] = [];
  const failures: { task: string; variant: string; threads: number; error: string }[] = [];
  for (const task of tasks)
    for (const variant of variants)
      for (const t of threads) {
        try {
          const out = execFileSync(process.execPath, ['--import', 'tsx', __filename, '--row', task, variant, presetName, String(t), String(count), String(tolerance)], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
          const row = JSON.parse(out.toString().trim().split('\n').pop()!) as Row;
          rows.push(row);
          log(`${task} ${variant} ${t} threads: ${row.secondsPerSequence.toFixed(2)} s/sequence (${row.sequences} sequences, ${row.bootstraps} bootstraps), keys ${row.keyMB.toFixed(0)} MiB, peak ${row.peakRssMB.toFixed(0)} MiB, max logit error ${row.maxLogitError.toExponential(2)}, agreement ${(100 * row.agreement).toFixed(1)}%`);
          for (const d of row.differences)
            log(`  sentence ${d.sentence}: logit error ${d.logitError.toExponential(2)}, ${d.samePrediction ? 'same prediction' : 'another prediction'}; error grew most at ${d.stage} (${d.stageError.toExponential(2)})`);
        } catch (error) {
          failures.push({ task, variant, threads: t, error: String((error as Error).message).split('\n')[0] });
          log(`${task} ${variant} ${t} threads: failed (${failures[failures.length - 1].error})`);
        }
      }
  const ratios = rows
    .filter((r) => r.variant === 'standard')
    .flatMap((s) => rows.filter((h) => h.variant === 'hefriendly' && h.task === s.task && h.threads === s.threads).map((h) => ({ task: s.task, threads: s.threads, standardOverHefriendly: s.secondsPerSequence / h.secondsPerSequence })));
  for (const r of ratios) log(`ratio standard / HE-friendly (${r.task}, ${r.threads} threads): ${r.standardOverHefriendly.toFixed(2)}`);
  if (json) process.stdout.write(JSON.stringify({ preset: presetName, rows, ratios, failures }) + '\n');
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
