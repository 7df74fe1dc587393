/**
 * Private inference on one machine, client and server apart (they exchange only bytes):
 *   npm run demo:inference -- --task spam --count 24 [--preset secure|test] [--threads 2] [--diagnose]
 * The client makes its keys and encrypts test sentences and its fine-tuned adapters and head; the
 * server (public pretrained weights, evaluation keys only) runs the encrypted forward pass with a
 * progress line; the client decrypts and prints each prediction beside the plaintext model's.
 */
import { loadTask } from '../../src/data/datasets';
import { loadCheckpoint } from '../../src/model/checkpoint';
import { encodeSplit, getTokenizer, pretrainedFile, TASKS, WEIGHTS, type TaskName } from '../../src/model/setup';
import { PrivateInferenceClient } from '../../src/private/client';
import { stageErrors, worstStage } from '../../src/private/diagnose';
import { PIPELINE_PRESETS } from '../../src/private/presets';
import { PrivateInferenceServer, type InferenceProgress } from '../../src/private/server';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const task = option('task', 'spam') as TaskName;
const count = Number(option('count', '24'));
const presetName = option('preset', 'secure' in PIPELINE_PRESETS ? 'secure' : 'test');
const threads = Number(option('threads', '2'));
const diagnose = process.argv.includes('--diagnose');
if (!TASKS.includes(task)) throw new Error(`--task must be one of ${TASKS.join(', ')}`);
if (!Number.isInteger(count) || count < 1) throw new Error('--count must be a positive integer');
const preset = PIPELINE_PRESETS[presetName];
if (!preset) throw new Error(`--preset must be one of ${Object.keys(PIPELINE_PRESETS).join(', ')}`);

const log = (line: string) => process.stdout.write(`${line}\n`);
const t0 = Date.now();
const clock = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function progressLine(p: InferenceProgress, request: number, requests: number): void {
  const frac = Math.min(1, (p.stagesDone + 8 * p.bootstrapsDone) / (p.stagesTotal + 8 * p.bootstrapsTotal));
  const bar = '#'.repeat(Math.round(frac * 24)).padEnd(24, '.');
  const eta = Number.isFinite(p.eta) ? `${p.eta.toFixed(0)}s` : '?';
  const line = `request ${request}/${requests} [${bar}] ${p.stage.padEnd(22)} stages ${p.stagesDone}/${p.stagesTotal} bootstraps ${p.bootstrapsDone}/${p.bootstrapsTotal} ${p.seconds.toFixed(0)}s eta ${eta}`;
  process.stderr.write(process.stderr.isTTY ? `\r${line}  ` : `${line}\n`);
}

async function main(): Promise<void> {
  if (preset.insecure) log(`!! preset '${presetName}' is INSECURE (${preset.security}): a demonstration of the protocol, not of privacy`);
  log(`[${clock()}] server: loading the public pretrained model and the ${preset.name} parameters`);
  const server = await PrivateInferenceServer.create({ model: loadCheckpoint(pretrainedFile('hefriendly')).model, preset, threads, allowInsecureParametersForTestsOnly: preset.insecure });
  const plan = server.planBytes();
  log(`[${clock()}] server: plan of ${server.plan.stages.length} stages, ${server.plan.bootstrapsPerGroup} bootstraps per row group of ${server.plan.layout.sequences} sequences, top level ${server.plan.topLevel}`);

  const { model } = loadCheckpoint(`${WEIGHTS}/finetuned-${task}-hefriendly-lora.ckpt`);
  model.setMode('frozen');
  const client = PrivateInferenceClient.create(plan, model, { threads, allowInsecureParametersForTestsOnly: preset.insecure });
  const keysStart = Date.now();
  let keyBytes = 0;
  let parts = 0;
  for await (const part of client.evaluationKeys()) {
    keyBytes += part.length;
    parts++;
    await server.acceptKey(part);
    process.stderr.write(process.stderr.isTTY ? `\rkeys: ${parts} parts, ${mb(keyBytes)}  ` : '');
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  log(`[${clock()}] client: evaluation keys made in ${((Date.now() - keysStart) / 1000).toFixed(1)}s: ${parts} parts, ${mb(keyBytes)} (relinearization + ${server.plan.rotationSteps.length} rotation + ${server.plan.bootstrapGaloisElements.length} bootstrapping Galois keys)`);
  const weights = await client.encryptWeights();
  server.acceptWeights(weights);
  log(`[${clock()}] client: encrypted LoRA adapters and head: ${mb(weights.length)}`);

  const sentences = encodeSplit(getTokenizer(), loadTask(task).test.slice(0, count), model.cfg.maxLen);
  const perRequest = client.sequencesPerGroup * 8;
  const requests = Math.ceil(sentences.length / perRequest);
  let agree = 0;
  let correctPlain = 0;
  let correctEnc = 0;
  let worst = 0;
  let seconds = 0;
  log(`[${clock()}] ${sentences.length} test sentences of '${task}', ${requests} request(s) of up to ${perRequest}`);
  log('  #  label  plaintext (logit 1 - logit 0)  encrypted (logit 1 - logit 0)  max |dlogit|');
  for (let r = 0; r < requests; r++) {
    const chunk = sentences.slice(r * perRequest, (r + 1) * perRequest);
    const { request, batch } = await client.encryptBatch(chunk.map((e) => e.ids));
    const response = await server.infer(request, { onProgress: (p) => progressLine(p, r + 1, requests), probes: diagnose });
    if (process.stderr.isTTY) process.stderr.write('\n');
    seconds += PrivateInferenceClient.responseSummary(response).seconds;
    const logits = await client.decryptLogits(response, batch);
    const errors = diagnose ? await stageErrors(client, model, response, batch, chunk.map((e) => e.ids)) : null;
    chunk.forEach((e, i) => {
      const plain = model.classify(e.ids).logits;
      const [pPred, ePred] = [plain[1] > plain[0] ? 1 : 0, logits[i][1] > logits[i][0] ? 1 : 0];
      const d = Math.max(...Array.from(plain, (v, c) => Math.abs(v - logits[i][c])));
      worst = Math.max(worst, d);
      agree += pPred === ePred ? 1 : 0;
      correctPlain += pPred === e.label ? 1 : 0;
      correctEnc += ePred === e.label ? 1 : 0;
      const n = r * perRequest + i + 1;
      log(`${String(n).padStart(3)}  ${e.label}      ${pPred} (${(plain[1] - plain[0]).toFixed(5).padStart(9)})              ${ePred} (${(logits[i][1] - logits[i][0]).toFixed(5).padStart(9)})             ${d.toExponential(2)}`);
      // --diagnose: every sentence's stage errors (the report names the stage where they grew most)
      if (errors) {
        const w = worstStage(errors[i]);
        log(`       precision: largest growth at ${w.stage} (x${w.growth.toFixed(1)}, error ${w.maxError.toExponential(2)}); stages: ${errors[i].map((s) => `${s.stage} ${s.maxError.toExponential(1)}`).join(', ')}`);
      }
    });
  }
  const n = sentences.length;
  log(`[${clock()}] predictions equal: ${agree}/${n}; accuracy plaintext ${((100 * correctPlain) / n).toFixed(1)}%, encrypted ${((100 * correctEnc) / n).toFixed(1)}%; largest logit error ${worst.toExponential(2)}`);
  log(`[${clock()}] encrypted inference: ${seconds.toFixed(1)}s for ${n} sequences (${(seconds / n).toFixed(2)}s per sequence on ${threads} threads)`);
}

main().catch((error) => {
  process.stderr.write(`\n${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
  process.exit(1);
});
