/**
 * Private fine-tuning benchmark: encrypted AdamW-HE steps of the HE-friendly model with LoRA, on
 * the training sentences of a task, each beside the plaintext trainer on the same batch.
 *
 *   npm run -s bench:finetune -- --json                      # rows as one JSON object on stdout
 *   npm run bench:finetune -- --batch 16 --steps 2 --threads 1,2 --preset secure
 *
 * Every row runs in its own process (its peak memory is its own): keys, the encrypted state, then
 * `steps` steps. A row: { task, variant, threads, batch, steps, secondsPerStep, bootstrapsPerStep,
 * keyMB, peakRssMB, lossError, stageSeconds }. The paper's baseline (the standard model fine-tuned
 * fully, softmax attention, every weight's gradient a ciphertext product) has no encrypted trainer
 * here: its rows are reported as missing, not estimated.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { loadTask } from '../src/data/datasets';
import { loadCheckpoint } from '../src/model/checkpoint';
import { ADAMW_HE, AdamW } from '../src/model/optim';
import { mulberry32, shuffleInPlace } from '../src/model/rng';
import { encodeSplit, getTokenizer, pretrainedFile, type TaskName } from '../src/model/setup';
import { PrivateInferenceClient } from '../src/private/client';
import { PIPELINE_PRESETS } from '../src/private/presets';
import { PrivateInferenceServer } from '../src/private/server';

interface Row {
  task: string;
  variant: string;
  preset: string;
  threads: number;
  batch: number;
  steps: number;
  secondsPerStep: number;
  bootstrapsPerStep: number;
  keyMB: number;
  peakRssMB: number;
  lossError: number;
  stageSeconds: Record<string, number>;
}

const argv = process.argv.slice(2);
const option = (name: string, fallback: string): string => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);

async function runRow(task: TaskName, presetName: string, threads: number, batch: number, steps: number): Promise<Row> {
  const preset = PIPELINE_PRESETS[presetName];
  const insecure = { allowInsecureParametersForTestsOnly: preset.insecure };
  const server = await PrivateInferenceServer.create({ model: loadCheckpoint(pretrainedFile('hefriendly')).model, preset, threads, training: true, maxGroups: 64, ...insecure });
  const { model } = loadCheckpoint(pretrainedFile('hefriendly'));
  model.setMode('lora');
  const client = PrivateInferenceClient.create(server.planBytes(), model, { threads, ...insecure });
  let keyBytes = 0;
  for await (const part of client.evaluationKeys()) {
    keyBytes += part.length;
    await server.acceptKey(part);
  }
  const lr = 1e-2;
  server.acceptTrainingState(await client.encryptTrainingState({ ...ADAMW_HE, lr, batch }));
  const plain = loadCheckpoint(pretrainedFile('hefriendly')).model;
  plain.setMode('lora');
  plain.cfg.approxLossSoftmax = true;
  const optimizer = new AdamW({ ...ADAMW_HE, lr, approxInvSqrt: true });
  const train = encodeSplit(getTokenizer(), loadTask(task).train, model.cfg.maxLen);
  const order = shuffleInPlace([...train.keys()], mulberry32(17 * 7919));
  const row: Row = { task, variant: 'hefriendly+lora', preset: preset.name, threads, batch, steps, secondsPerStep: 0, bootstrapsPerStep: 0, keyMB: keyBytes / 2 ** 20, peakRssMB: 0, lossError: 0, stageSeconds: {} };
  for (let step = 0; step < steps; step++) {
    const data = order.slice(step * batch, (step + 1) * batch).map((i) => train[i]);
    const { batch: bytes, info } = await client.encryptTrainingBatch(data.map((e) => e.ids), data.map((e) => e.label));
    const log = await client.readTrainingLog(
      await server.trainStep(bytes, { onProgress: (p) => process.stderr.write(`\r${task} ${threads}t step ${step + 1}/${steps}: ${p.stage.padEnd(34)} bootstraps ${p.bootstrapsDone}/${p.bootstrapsTotal} eta ${Number.isFinite(p.eta) ? p.eta.toFixed(0) : '?'}s   `) }),
      info,
      data.map((e) => e.label),
    );
    plain.zeroGrad();
    let plainLoss = 0;
    for (const e of data) plainLoss += plain.classify(e.ids, e.label, true).loss / data.length;
    optimizer.step(plain, batch);
    row.lossError = Math.max(row.lossError, Math.abs(log.loss - plainLoss));
    row.secondsPerStep += log.header.seconds / steps;
    row.bootstrapsPerStep += log.header.bootstraps / steps;
    for (const s of log.header.stages) {
      const kind = s.stage.replace(/^L\d+\./, '').replace(/\d+$/, '');
      row.stageSeconds[kind] = (row.stageSeconds[kind] ?? 0) + s.seconds / steps;
    }
  }
  process.stderr.write('\n');
  row.peakRssMB = process.resourceUsage().maxRSS / 1024;
  return row;
}

async function main(): Promise<void> {
  if (argv[0] === '--row') {
    const [task, preset, threads, batch, steps] = argv.slice(1);
    process.stdout.write(JSON.stringify(await runRow(task as TaskName, preset, Number(threads), Number(batch), Number(steps))) + '\n');
    return;
  }
  const json = argv.includes('--json');
  const presetName = option('preset', 'secure' in PIPELINE_PRESETS ? 'secure' : 'test');
  if (!PIPELINE_PRESETS[presetName]) throw new Error(`--preset must be one of ${Object.keys(PIPELINE_PRESETS).join(', ')}`);
  const task = option('task', 'spam') as TaskName;
  const threads = option('threads', String(Math.min(2, os.availableParallelism()))).split(',').map(Number);
  const batch = Number(option('batch', '16'));
  const steps = Number(option('steps', '1'));
  const log = (line: string) => (json ? process.stderr : process.stdout).write(line + '\n');
  log(`cipherlm private fine-tuning benchmark: ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, preset ${presetName}, batch ${batch}, ${steps} step(s) per row`);
  const rows: Row[] = [];
  const missing = [{ variant: 'standard+full', reason: 'no encrypted trainer for the softmax model with full fine-tuning' }];
  for (const t of threads) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', __filename, '--row', task, presetName, String(t), String(batch), String(steps)], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
    const row = JSON.parse(out.toString().trim().split('\n').pop()!) as Row;
    rows.push(row);
    log(`${task} ${row.variant} ${t} threads, batch ${batch}: ${row.secondsPerStep.toFixed(1)} s/step, ${row.bootstrapsPerStep.toFixed(0)} bootstraps/step, keys ${row.keyMB.toFixed(0)} MiB, peak ${row.peakRssMB.toFixed(0)} MiB, loss error ${row.lossError.toExponential(2)}`);
  }
  for (const m of missing) log(`${m.variant}: not measured (${m.reason})`);
  if (json) process.stdout.write(JSON.stringify({ preset: presetName, rows, missing }) + '\n');
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
