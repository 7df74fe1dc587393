/**
 * Private LoRA fine-tuning on one machine, client and server apart (they exchange only bytes):
 *   npm run demo:finetune -- --task spam --steps 4 [--batch 16] [--lr 1e-2] [--preset secure|test]
 *     [--threads 2] [--checkpoint state.bin] [--save out.ckpt] [--evaluate N] [--curve losses.json]
 * The client encrypts the pretrained adapters and head and each batch (with its labels); the server
 * trains on ciphertexts with a progress line, writing its encrypted state after every step (rerun
 * with the same --checkpoint to resume after a kill). With --checkpoint the client keeps its secret
 * key beside it in `<checkpoint>.keystore`, encrypted under CIPHERLM_PASSPHRASE: a resumed run must
 * encrypt its batches under the key the saved state was encrypted under. The plaintext trainer runs the same batches
 * beside it; each step prints both losses (--curve keeps them, with an SVG plot beside the JSON),
 * and the end the largest difference of every adapter.
 */
import * as fs from 'node:fs';
import { loadTask } from '../../src/data/datasets';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint';
import { ADAMW_HE, AdamW } from '../../src/model/optim';
import { mulberry32, shuffleInPlace } from '../../src/model/rng';
import { encodeSplit, getTokenizer, pretrainedFile, TASKS, type TaskName } from '../../src/model/setup';
import { evaluate } from '../../src/model/train';
import { PrivateInferenceClient } from '../../src/private/client';
import { PIPELINE_PRESETS } from '../../src/private/presets';
import { PrivateInferenceServer, type InferenceProgress } from '../../src/private/server';
import { parameterSlots } from '../../src/private/trainer';
import { readKeystore, writeKeystore } from '../../src/service/keystore';
import { appendCurve, curveSvg } from './loss-curve';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const task = option('task', 'spam') as TaskName;
const steps = Number(option('steps', '4'));
const batchSize = Number(option('batch', '16'));
const lr = Number(option('lr', '1e-2'));
const presetName = option('preset', 'secure' in PIPELINE_PRESETS ? 'secure' : 'test');
const threads = Number(option('threads', '2'));
const checkpoint = option('checkpoint', '');
const evaluateCount = Number(option('evaluate', '0'));
const curveFile = option('curve', '');
const seed = 17;
if (!TASKS.includes(task)) throw new Error(`--task must be one of ${TASKS.join(', ')}`);
const preset = PIPELINE_PRESETS[presetName];
if (!preset) throw new Error(`--preset must be one of ${Object.keys(PIPELINE_PRESETS).join(', ')}`);

const log = (line: string) => process.stdout.write(`${line}\n`);
const t0 = Date.now();
const clock = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

function progressLine(p: InferenceProgress, step: number): void {
  const eta = Number.isFinite(p.eta) ? `${p.eta.toFixed(0)}s` : '?';
  const line = `step ${step + 1}/${steps} ${p.stage.padEnd(34)} stages ${p.stagesDone}/${p.stagesTotal} bootstraps ${p.bootstrapsDone}/${p.bootstrapsTotal} ${p.seconds.toFixed(0)}s eta ${eta}`;
  process.stderr.write(process.stderr.isTTY ? `\r${line}  ` : `${line}\n`);
}

async function main(): Promise<void> {
  if (preset.insecure) log(`!! preset '${presetName}' is INSECURE (${preset.security}): a demonstration of the protocol, not of privacy`);
  const pretrained = pretrainedFile('hefriendly');
  const server = await PrivateInferenceServer.create({
    model: loadCheckpoint(pretrained).model,
    preset,
    threads,
    allowInsecureParametersForTestsOnly: preset.insecure,
    training: true,
    maxGroups: 64,
    ...(checkpoint ? { checkpoint } : {}),
  });
  const training = server.plan.training!;
  log(`[${clock()}] server: ${training.parameters} trainable ciphertexts, ${training.bootstrapsPerStep} bootstraps per step of one row group (${server.plan.layout.sequences} sequences)`);

  // the client starts from the pretrained encoder with fresh adapters and head, as the plaintext
  // trainer does; a resumed run reads back the secret key the saved state is encrypted under
  const { model } = loadCheckpoint(pretrained);
  model.setMode('lora');
  const keystore = checkpoint ? `${checkpoint}.keystore` : '';
  const resuming = checkpoint !== '' && fs.existsSync(checkpoint);
  const passphrase = process.env.CIPHERLM_PASSPHRASE ?? '';
  if (checkpoint && !passphrase) throw new Error('--checkpoint keeps the client\'s secret key encrypted beside the state: set CIPHERLM_PASSPHRASE');
  if (resuming && !fs.existsSync(keystore))
    throw new Error(`${checkpoint} was encrypted under a secret key that was not kept (no ${keystore}): delete the checkpoint to start over`);
  const secretKey = resuming ? (await readKeystore(keystore, passphrase)).secretKey : undefined;
  const client = PrivateInferenceClient.create(server.planBytes(), model, { threads, allowInsecureParametersForTestsOnly: preset.insecure, ...(secretKey ? { secretKey } : {}) });
  secretKey?.fill(0);
  if (checkpoint && !resuming) {
    const exported = client.exportSecretKey();
    await writeKeystore(keystore, passphrase, { public: { server: 'in-process', contextId: checkpoint, modelFile: pretrained, preset: preset.name }, secretKey: exported });
    exported.fill(0);
  }
  let keyBytes = 0;
  for await (const part of client.evaluationKeys()) {
    keyBytes += part.length;
    await server.acceptKey(part);
  }
  log(`[${clock()}] client: evaluation keys ${(keyBytes / 2 ** 20).toFixed(0)} MiB`);
  const settings = { ...ADAMW_HE, lr, batch: batchSize };
  if (resuming) {
    server.acceptTrainingState(fs.readFileSync(checkpoint));
    log(`[${clock()}] server: resumed from ${checkpoint} after step ${server.trainingStep}`);
  } else {
    server.acceptTrainingState(await client.encryptTrainingState(settings));
  }

  // the batches: the plaintext trainer's data order (finetune(): shuffled per epoch with the seed)
  const train = encodeSplit(getTokenizer(), loadTask(task).train, model.cfg.maxLen);
  const order = shuffleInPlace([...train.keys()], mulberry32(seed * 7919));
  const batchAt = (step: number) => order.slice(step * batchSize, (step + 1) * batchSize).map((i) => train[i]);
  // the plaintext trainer on the same batches
  const plain = loadCheckpoint(pretrained).model;
  plain.setMode('lora');
  plain.cfg.approxLossSoftmax = true;
  const optimizer = new AdamW({ ...ADAMW_HE, lr, approxInvSqrt: true });
  for (let step = 0; step < server.trainingStep; step++) {
    plain.zeroGrad();
    for (const e of batchAt(step)) plain.classify(e.ids, e.label, true);
    optimizer.step(plain, batchSize);
  }
  log('  step  loss (encrypted)  loss (plaintext)  seconds  bootstraps');
  for (let step = server.trainingStep; step < steps; step++) {
    const batch = batchAt(step);
    const { batch: bytes, info } = await client.encryptTrainingBatch(batch.map((e) => e.ids), batch.map((e) => e.label));
    const stepLog = await server.trainStep(bytes, { onProgress: (p) => progressLine(p, step) });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const read = await client.readTrainingLog(stepLog, info, batch.map((e) => e.label));
    plain.zeroGrad();
    let plainLoss = 0;
    for (const e of batch) plainLoss += plain.classify(e.ids, e.label, true).loss / batch.length;
    optimizer.step(plain, batchSize);
    log(`  ${String(step + 1).padStart(4)}  ${read.loss.toFixed(6).padStart(15)}  ${plainLoss.toFixed(6).padStart(16)}  ${read.header.seconds.toFixed(1).padStart(7)}  ${String(read.header.bootstraps).padStart(10)}`);
    if (!Number.isFinite(read.loss)) throw new Error(`step ${step + 1}: the decrypted loss is ${read.loss}: the encrypted state does not decrypt under this client's key, or left a polynomial's interval`);
    if (curveFile) {
      const rows = appendCurve(curveFile, { step: step + 1, encrypted: read.loss, plaintext: plainLoss, seconds: read.header.seconds, bootstraps: read.header.bootstraps });
      fs.writeFileSync(curveFile.replace(/\.json$/, '') + '.svg', curveSvg(rows, `private fine-tuning, ${task}, batch ${batchSize}, lr ${lr}`));
    }
  }
  const { model: trained, step } = await client.decryptTrainingState(server.trainingStateBytes());
  log(`[${clock()}] client: decrypted the adapters and head after step ${step}; largest difference to the plaintext trainer, relative to each matrix's largest value:`);
  const names = [...new Set(parameterSlots(trained.desc, trained.cfg.loraRank).map((s) => s.param))];
  for (const name of names) {
    const [a, b] = [trained.p(name).data, plain.p(name).data];
    let worst = 0;
    let largest = 0;
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
      largest = Math.max(largest, Math.abs(b[i]));
    }
    log(`  ${name.padEnd(14)} ${(worst / largest).toExponential(2)}`);
  }
  if (evaluateCount > 0) {
    const test = encodeSplit(getTokenizer(), loadTask(task).test.slice(0, evaluateCount), model.cfg.maxLen);
    trained.setMode('frozen');
    plain.setMode('frozen');
    log(`[${clock()}] test accuracy on ${test.length} sentences: decrypted encrypted-trained ${(100 * evaluate(trained, test)).toFixed(2)}%, plaintext-trained ${(100 * evaluate(plain, test)).toFixed(2)}%`);
  }
  const out = option('save', '');
  if (out) saveCheckpoint(out, trained, undefined, { step, kind: 'private-finetune', task });
}

main().catch((error) => {
  process.stderr.write(`\n${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}\n`);
  process.exit(1);
});
