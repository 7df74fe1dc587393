/**
 * Private LoRA fine-tuning against the plaintext trainer on the same batches (test parameters,
 * N = 8192, insecure opt-in): one step of the shipped pretrained model; refused batches leave the
 * encrypted state as it was. training-resume.test.ts kills and resumes a training server.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CkksContext, CkksEncoder, Encryptor, Evaluator, KeyGenerator, Ciphertext } from '../../src';
import { loadTask } from '../../src/data/datasets';
import { loadCheckpoint } from '../../src/model/checkpoint';
import { ADAMW_HE } from '../../src/model/optim';
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
