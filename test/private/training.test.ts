/**
 * Private LoRA fine-tuning against the plaintext trainer on the same batches (test parameters,
 * N = 8192, insecure opt-in): one step of the shipped pretrained model; two steps of a small
 * one-layer model in a server process killed in the middle of the second step and resumed; refused
 * batches leave the encrypted state as it was.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CkksContext, CkksEncoder, Encryptor, Evaluator, KeyGenerator, Ciphertext } from '../../src';
import { loadTask } from '../../src/data/datasets';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint';
import { Model, type ModelConfig } from '../../src/model/model';
import { ADAMW_HE } from '../../src/model/optim';
import { mulberry32 } from '../../src/model/rng';
import { encodeSplit, getTokenizer, pretrainedFile } from '../../src/model/setup';
import { PrivateInferenceClient } from '../../src/private/client';
import { PIPELINE_PRESETS } from '../../src/private/presets';
import { decodeMessage, encodeMessage } from '../../src/private/protocol';
import { PrivateInferenceServer } from '../../src/private/server';
import { largestRelativeDifference, plaintextSteps } from './plaintext-reference';

const PRESET = PIPELINE_PRESETS.test;
const OPT_IN = { allowInsecureParametersForTestsOnly: true } as const;
const LR = 1e-2;

describe('private fine-tuning of the shipped pretrained model', () => {
  let server: PrivateInferenceServer;
  let client: PrivateInferenceClient;
  beforeAll(async () => {
    const pretrained = loadCheckpoint(pretrainedFile('hefriendly')).model;
    server = await PrivateInferenceServer.create({ model: pretrained, preset: PRESET, threads: 2, training: true, ...OPT_IN });
    const clientModel = loadCheckpoint(pretrainedFile('hefriendly')).model;
    clientModel.setMode('lora');
    client = PrivateInferenceClient.create(server.planBytes(), clientModel, { threads: 2, ...OPT_IN });
    for await (const part of client.evaluationKeys()) await server.acceptKey(part);
    server.acceptTrainingState(await client.encryptTrainingState({ ...ADAMW_HE, lr: LR, batch: 1 }));
  }, 300_000);

  it('refuses bad batches with typed errors and leaves the encrypted state unchanged', async () => {
    const before = server.trainingStateBytes();
    const sentence = encodeSplit(getTokenizer(), loadTask('spam').train.slice(0, 1), 40)[0];
    const { batch } = await client.encryptTrainingBatch([sentence.ids], [sentence.label]);
    await expect(server.trainStep(batch.subarray(0, batch.length - 1))).rejects.toMatchObject({ code: 'ERR_DESERIALIZATION' });
    const message = decodeMessage<{ keyId: string; groups: number }>(batch, 'batch');
    await expect(server.trainStep(encodeMessage('batch', message.header, message.entries.slice(1)))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    // a batch from another client (another secret key under the same parameters), and one without a key id
    const stranger = PrivateInferenceClient.create(server.planBytes(), loadCheckpoint(pretrainedFile('hefriendly')).model, { threads: 2, ...OPT_IN });
    const strangers = (await stranger.encryptTrainingBatch([sentence.ids], [sentence.label])).batch;
    await expect(server.trainStep(strangers)).rejects.toMatchObject({ code: 'ERR_KEY_MISMATCH' });
    await expect(server.trainStep(encodeMessage('batch', { groups: 1 }, message.entries))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    // a ciphertext one level down, and one from another context
    const lowered = new Evaluator(client.context).dropToLevel(Ciphertext.load(client.context, message.entries[0].bytes), server.plan.topLevel - 1);
    const swap = (bytes: Uint8Array) => encodeMessage('batch', message.header, [{ name: message.entries[0].name, bytes }, ...message.entries.slice(1)]);
    await expect(server.trainStep(swap(lowered.save()))).rejects.toMatchObject({ code: 'ERR_LEVEL_MISMATCH' });
    const other = CkksContext.create({ ...PRESET.context, dataBits: PRESET.context.dataBits!.map((b, i) => (i === 1 ? 41 : b)), ...OPT_IN });
    const foreign = new Encryptor(other, new KeyGenerator(other).secretKey).encrypt(new CkksEncoder(other).encode([1], { level: server.plan.topLevel }));
    await expect(server.trainStep(swap(foreign.save()))).rejects.toMatchObject({ code: 'ERR_PARAMETER_MISMATCH' });
    // values outside a polynomial's interval never get encrypted: a private head blown up
    const blown = loadCheckpoint(pretrainedFile('hefriendly')).model;
    blown.setMode('lora');
    blown.p('head.wp').data.forEach((v, i, a) => (a[i] = v * 100));
    const careless = PrivateInferenceClient.create(server.planBytes(), blown, { threads: 2, ...OPT_IN });
    await expect(careless.encryptTrainingBatch([sentence.ids], [sentence.label])).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(Buffer.from(server.trainingStateBytes()).equals(Buffer.from(before))).toBe(true);
  }, 120_000);

  it('one step matches the plaintext trainer: loss within 1e-3, every adapter and head value within 1e-3 of its matrix', async () => {
    const batch = encodeSplit(getTokenizer(), loadTask('spam').train.slice(3, 4), 40);
    const { batch: bytes, info } = await client.encryptTrainingBatch(batch.map((e) => e.ids), batch.map((e) => e.label));
    const log = await client.readTrainingLog(await server.trainStep(bytes), info, batch.map((e) => e.label));
    const plain = loadCheckpoint(pretrainedFile('hefriendly')).model;
    const [plainLoss] = plaintextSteps(plain, [batch], LR);
    expect(log.step).toBe(1);
    expect(Math.abs(log.loss - plainLoss)).toBeLessThan(1e-3);
    // the update refreshes the packed parameters before unpacking them: every parameter leaves the
    // step with the levels its uses need, so the next step refreshes none of them
    const optimizer = log.header.stages.find((s) => s.stage === 'optimizer')!;
    expect(optimizer.level).toBeGreaterThanOrEqual(4);
    const { model: trained, step } = await client.decryptTrainingState(server.trainingStateBytes());
    expect(step).toBe(1);
    expect(largestRelativeDifference(trained, plain)).toBeLessThan(1e-3);
  }, 900_000);
});

describe('a killed training server resumes from its last finished step', () => {
  // one layer, 16 tokens: four sequences per row group at N = 8192, so a batch of 8 is two groups
  const config: ModelConfig = { vocab: 40, dim: 64, heads: 2, layers: 1, ffn: 64, maxLen: 16, variant: 'hefriendly', numLabels: 2, loraRank: 2, loraScale: 1, penalty: 0.1, lnEps: 1e-5 };

  it('is killed in the middle of step 2, restarted, and ends where the plaintext trainer does; its adapters then serve inference', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cipherlm-train-'));
    const model = new Model(config, 3);
    saveCheckpoint(path.join(dir, 'model.ckpt'), model);
    const rng = mulberry32(5);
    const batches = [0, 1].map(() => Array.from({ length: 8 }, () => ({ ids: [2, ...Array.from({ length: 3 + Math.floor(rng() * 10) }, () => 5 + Math.floor(rng() * 30)), 3], label: rng() < 0.5 ? 0 : 1 })));
    // the client writes everything the server will read
    const server = await PrivateInferenceServer.create({ model, preset: PRESET, threads: 1, training: true, ...OPT_IN });
    const clientModel = loadCheckpoint(path.join(dir, 'model.ckpt')).model;
    clientModel.setMode('lora');
    const client = PrivateInferenceClient.create(server.planBytes(), clientModel, { threads: 2, ...OPT_IN });
    for (const sub of ['keys', 'batch', 'log']) fs.mkdirSync(path.join(dir, sub));
    let part = 0;
    for await (const bytes of client.evaluationKeys()) fs.writeFileSync(path.join(dir, 'keys', `${part++}.bin`), bytes);
    fs.writeFileSync(path.join(dir, 'state.bin'), await client.encryptTrainingState({ ...ADAMW_HE, lr: LR, batch: 8 }));
    const infos = [];
    for (const [step, batch] of batches.entries()) {
      const { batch: bytes, info } = await client.encryptTrainingBatch(batch.map((e) => e.ids), batch.map((e) => e.label));
      fs.writeFileSync(path.join(dir, 'batch', `${step}.bin`), bytes);
      infos.push(info);
    }
    const run = (killWhen?: string) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'fixtures', 'training-server.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (killWhen && output.includes(killWhen)) setTimeout(() => child.kill('SIGKILL'), 5000);
        });
        child.on('exit', (code) => resolve({ code, output }));
      });
    const first = await run('step 2 start');
    expect(first.code).toBeNull(); // killed
    expect(first.output).toContain('step 1 done');
    expect(first.output).not.toContain('step 2 done');
    const second = await run();
    expect(second.code).toBe(0);
    expect(second.output).toContain('resumed 1');
    expect(second.output).not.toContain('step 1 start');
    expect(second.output).toContain('step 2 done');
    // the state after two steps, and both steps' losses, against the plaintext trainer
    const plain = loadCheckpoint(path.join(dir, 'model.ckpt')).model;
    const plainLosses = plaintextSteps(plain, batches, LR);
    for (const [step, batch] of batches.entries()) {
      const log = await client.readTrainingLog(fs.readFileSync(path.join(dir, 'log', `${step}.bin`)), infos[step], batch.map((e) => e.label));
      expect(Math.abs(log.loss - plainLosses[step]), `loss of step ${step + 1}`).toBeLessThan(1e-3);
    }
    const { model: trained, step } = await client.decryptTrainingState(fs.readFileSync(path.join(dir, 'checkpoint.bin')));
    expect(step).toBe(2);
    expect(largestRelativeDifference(trained, plain)).toBeLessThan(1e-3);
    // the trained adapters serve inference as they are, never decrypted
    for (const f of fs.readdirSync(path.join(dir, 'keys')).sort((a, b) => parseInt(a) - parseInt(b))) await server.acceptKey(fs.readFileSync(path.join(dir, 'keys', f)));
    server.acceptTrainingState(fs.readFileSync(path.join(dir, 'checkpoint.bin')));
    const sentences = batches[0].slice(0, 3).map((e) => e.ids);
    const { request, batch } = await client.encryptBatch(sentences);
    const logits = await client.decryptLogits(await server.inferTrained(request), batch);
    plain.setMode('frozen');
    sentences.forEach((ids, i) => {
      const expected = plain.classify(ids).logits;
      for (let c = 0; c < expected.length; c++) expect(Math.abs(logits[i][c] - expected[c])).toBeLessThan(1e-2);
    });
    fs.rmSync(dir, { recursive: true, force: true });
  }, 900_000);
});
