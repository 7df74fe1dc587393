/**
 * Private inference end to end: the server runs in a worker thread and receives nothing but bytes
 * (its plan goes out, key parts, encrypted weights and requests come in, encrypted logits go out);
 * the client in this thread decrypts and compares with the plaintext executor. Then the server's
 * input validation and its secret-key refusal. Test parameters (N = 8192, insecure, opt-in).
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksContext, KeyGenerator, KeyMismatchError } from '../../src';
import { loadTask } from '../../src/data/datasets';
import { loadCheckpoint } from '../../src/model/checkpoint';
import type { Model } from '../../src/model/model';
import { encodeSplit, getTokenizer, pretrainedFile, WEIGHTS } from '../../src/model/setup';
import { PrivateInferenceClient } from '../../src/private/client';
import type { RequestHeader, ResponseHeader } from '../../src/private/headers';
import { PIPELINE_PRESETS } from '../../src/private/presets';
import { decodeMessage, encodeMessage } from '../../src/private/protocol';
import { PrivateInferenceServer } from '../../src/private/server';

const PRESET = PIPELINE_PRESETS.test;
const OPT_IN = { allowInsecureParametersForTestsOnly: true } as const;

/** The server side of the worker: every message in and out is a Uint8Array (or a plain error record). */
const workerScript = `
const { parentPort, workerData } = require('node:worker_threads');
const cipherlm = require(workerData.entry);
(async () => {
  const { model } = cipherlm.loadCheckpoint(workerData.pretrained);
  const server = await cipherlm.PrivateInferenceServer.create({ model, preset: cipherlm.PIPELINE_PRESETS.test, threads: 2, allowInsecureParametersForTestsOnly: true });
  parentPort.postMessage(server.planBytes());
  parentPort.on('message', async ({ kind, bytes }) => {
    try {
      if (kind === 'key') await server.acceptKey(bytes);
      else if (kind === 'weights') server.acceptWeights(bytes);
      else if (kind === 'request') return parentPort.postMessage(await server.infer(bytes));
      parentPort.postMessage(new Uint8Array(0));
    } catch (e) {
      parentPort.postMessage({ error: e.code ?? e.message });
    }
  });
})();
`;

class RemoteServer {
  private readonly worker: Worker;
  private readonly replies: ((value: unknown) => void)[] = [];
  readonly plan: Promise<Uint8Array>;
  constructor() {
    this.worker = new Worker(workerScript, { eval: true, workerData: { entry: join(__dirname, '..', '..', 'dist', 'index.js'), pretrained: pretrainedFile('hefriendly') } });
    this.plan = new Promise((resolve) => this.replies.push(resolve as (v: unknown) => void));
    this.worker.on('message', (m) => this.replies.shift()?.(m));
  }
  async send(kind: 'key' | 'weights' | 'request', bytes: Uint8Array): Promise<Uint8Array> {
    const reply = new Promise((resolve) => this.replies.push(resolve));
    this.worker.postMessage({ kind, bytes });
    const answer = await reply;
    if (!(answer instanceof Uint8Array)) throw new Error(`server error: ${(answer as { error: string }).error}`);
    return answer;
  }
  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

let spam: Model;
beforeAll(() => {
  spam = loadCheckpoint(`${WEIGHTS}/finetuned-spam-hefriendly-lora.ckpt`).model;
  spam.setMode('frozen');
});

describe('private inference, client and server apart', () => {
  let remote: RemoteServer;
  afterAll(async () => {
    await remote?.stop();
  });

  it('the decrypted logits of test sentences match the plaintext executor within 1e-2, predictions equal', async () => {
    remote = new RemoteServer();
    const client = PrivateInferenceClient.create(await remote.plan, spam, { threads: 2, ...OPT_IN });
    for await (const part of client.evaluationKeys()) await remote.send('key', part);
    await remote.send('weights', await client.encryptWeights());
    // two row groups (one sequence each at N = 8192): bootstraps pair across them
    const sentences = encodeSplit(getTokenizer(), loadTask('spam').test.slice(0, 2), spam.cfg.maxLen);
    const { request, batch } = await client.encryptBatch(sentences.map((e) => e.ids));
    const response = await remote.send('request', request);
    const logits = await client.decryptLogits(response, batch);
    const summary = PrivateInferenceClient.responseSummary(response);
    expect(summary.bootstraps).toBeGreaterThan(0);
    expect(summary.keyId).toBe(client.keyId);
    // a response for another client's key is refused before anything is decrypted
    const stranger = PrivateInferenceClient.create(await remote.plan, spam, { threads: 2, ...OPT_IN });
    const relabelled = decodeMessage<ResponseHeader>(response, 'response');
    await expect(client.decryptLogits(encodeMessage('response', { ...relabelled.header, keyId: stranger.keyId }, relabelled.entries), batch)).rejects.toMatchObject({ code: 'ERR_KEY_MISMATCH' });
    sentences.forEach((e, i) => {
      const plain = spam.classify(e.ids).logits;
      for (let c = 0; c < plain.length; c++) expect(Math.abs(logits[i][c] - plain[c]), `sentence ${i} logit ${c}`).toBeLessThan(1e-2);
      expect(Math.sign(logits[i][1] - logits[i][0])).toBe(Math.sign(plain[1] - plain[0]));
    });
  }, 600_000);
});

describe('the server validates what it receives and never holds a secret key', () => {
  let server: PrivateInferenceServer;
  let client: PrivateInferenceClient;
  beforeAll(async () => {
    server = await PrivateInferenceServer.create({ model: loadCheckpoint(pretrainedFile('hefriendly')).model, preset: PRESET, threads: 2, ...OPT_IN });
    client = PrivateInferenceClient.create(server.planBytes(), spam, { threads: 2, ...OPT_IN });
  }, 120_000);

  it('refuses a secret key, as an option or as key bytes', async () => {
    const context = CkksContext.create({ ...PRESET.context, ...OPT_IN });
    const keys = new KeyGenerator(context);
    await expect(PrivateInferenceServer.create({ model: spam, preset: PRESET, ...OPT_IN, secret: keys.secretKey } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const secretBytes = encodeMessage('key', { keyId: client.keyId, part: 'relin' }, [{ name: 'key', bytes: keys.secretKey.save() }]);
    await expect(server.acceptKey(secretBytes)).rejects.toMatchObject({ code: 'ERR_DESERIALIZATION' });
    const secretAsGalois = encodeMessage('key', { keyId: client.keyId, part: 'galois' }, [{ name: 'key', bytes: keys.secretKey.save() }]);
    await expect(server.acceptKey(secretAsGalois)).rejects.toMatchObject({ code: 'ERR_DESERIALIZATION' });
    // nothing reachable from the server object is a secret key
    const seen = new Set<unknown>();
    const walk = (value: unknown): void => {
      if (typeof value !== 'object' || value === null || seen.has(value)) return;
      seen.add(value);
      expect(value.constructor?.name).not.toBe('SecretKey');
      for (const v of Object.values(value)) walk(v);
    };
    walk(server);
  });

  it('answers bad inputs with typed errors: malformed bytes, wrong kind, other contexts, missing keys, wrong level or scale', async () => {
    const { request } = await client.encryptBatch([[2, 100, 200, 3]]);
    // malformed and truncated messages, a message of another kind
    await expect(server.infer(request.subarray(0, request.length - 7))).rejects.toMatchObject({ code: 'ERR_DESERIALIZATION' });
    await expect(server.infer(new Uint8Array([1, 2, 3]))).rejects.toMatchObject({ code: 'ERR_DESERIALIZATION' });
    await expect(server.infer(server.planBytes())).rejects.toMatchObject({ code: 'ERR_DESERIALIZATION' });
    // no weights yet, then no keys yet
    await expect(server.infer(request)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    server.acceptWeights(await client.encryptWeights());
    await expect(server.infer(request)).rejects.toMatchObject({ code: 'ERR_MISSING_KEY' });
    // a key made under another context (different primes)
    const other = CkksContext.create({ ...PRESET.context, dataBits: PRESET.context.dataBits!.map((b, i) => (i === 1 ? 41 : b)), ...OPT_IN });
    const otherRelin = encodeMessage('key', { keyId: client.keyId, part: 'relin' }, [{ name: 'key', bytes: new KeyGenerator(other).createRelinKey().save() }]);
    await expect(server.acceptKey(otherRelin)).rejects.toMatchObject({ code: 'ERR_PARAMETER_MISMATCH' });
    // a ciphertext at the wrong level or scale, in an otherwise valid request
    const message = decodeMessage<RequestHeader>(request, 'request');
    const ctBytes = message.entries[0].bytes;
    const { Ciphertext, Evaluator } = await import('../../src');
    const ct = Ciphertext.load(client.context, ctBytes);
    const evaluator = new Evaluator(client.context);
    const lowered = encodeMessage('request', message.header, [{ name: 'group0.embeddings', bytes: evaluator.dropToLevel(ct, ct.level - 1).save() }, message.entries[1]]);
    await expect(server.infer(lowered)).rejects.toMatchObject({ code: 'ERR_LEVEL_MISMATCH' });
    const { CkksEncoder, Encryptor } = await import('../../src');
    const encoder = new CkksEncoder(client.context);
    const wrongScale = new Encryptor(client.context, new KeyGenerator(client.context).secretKey).encrypt(encoder.encode([1], { level: ct.level, scale: ct.scale / 2 }));
    const badScale = encodeMessage('request', message.header, [{ name: 'group0.embeddings', bytes: wrongScale.save() }, message.entries[1]]);
    await expect(server.infer(badScale)).rejects.toMatchObject({ code: 'ERR_SCALE_MISMATCH' });
    // more row groups than the server takes, and entries that do not match the header
    await expect(server.infer(encodeMessage('request', { ...message.header, groups: 99 }, []))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(server.infer(encodeMessage('request', { ...message.header, groups: 2 }, message.entries))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    // the server is bound to the key id of the weights it accepted: another client's request (same
    // parameters, another secret key) and a request without a key id are refused
    const stranger = PrivateInferenceClient.create(server.planBytes(), spam, { threads: 2, ...OPT_IN });
    await expect(server.infer((await stranger.encryptBatch([[2, 100, 200, 3]])).request)).rejects.toMatchObject({ code: 'ERR_KEY_MISMATCH' });
    const strangerWeights = await stranger.encryptWeights();
    expect(() => server.acceptWeights(strangerWeights)).toThrow(KeyMismatchError);
    const strangerRelin = (await stranger.evaluationKeys().next()).value as Uint8Array;
    await expect(server.acceptKey(strangerRelin)).rejects.toMatchObject({ code: 'ERR_KEY_MISMATCH' });
    await expect(server.infer(encodeMessage('request', { groups: 1 }, message.entries))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    // the client refuses sequences it cannot pack, before encrypting anything
    await expect(client.encryptBatch([Array(spam.cfg.maxLen + 1).fill(5)])).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(client.encryptBatch([[2, spam.cfg.vocab + 3]])).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  }, 120_000);
});
