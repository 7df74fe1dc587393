/**
 * The service as people run it: `cipherlm serve` in its own process on loopback, a CipherlmClient
 * registering real evaluation keys (test preset, ~1 GB in 50 parts), and an inference job on the
 * encrypted pipeline. The server is killed with SIGKILL in the middle of an upload and in the middle
 * of the job; after a restart the upload is discarded and refused, and the job runs again, once, to
 * logits that match the plaintext model as the in-process pipeline's test requires.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadTask } from '../../src/data/datasets';
import { encodeSplit, getTokenizer } from '../../src/model/setup';
import { PrivateInferenceClient } from '../../src/private/client';
import { CipherlmClient } from '../../src/service/client';
import { leftOutOfQuickSuite, OPT_IN, portFor, sha256, spamModel, startServer, tempDir, waitFor, type CliProcess } from './helpers';

const skipped = leftOutOfQuickSuite('e2e.test.ts');
const dataDir = skipped ? '' : tempDir('e2e');
const port = portFor(21000);
let server: CliProcess | null = null;

afterAll(async () => {
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

it.skipIf(skipped)('kill -9 mid-upload and mid-inference: the upload is refused after restart, the job re-runs once and decrypts to the plaintext logits', async () => {
  server = await startServer(dataDir, port, ['--max-chunk-bytes', String(1 << 20)]);
  const base = `http://127.0.0.1:${port}`;
  const token = fs.readFileSync(path.join(dataDir, 'alice.token'), 'utf8').trim();
  const http = new CipherlmClient({ baseUrl: base, token });
  const spam = spamModel();
  const client = PrivateInferenceClient.create(await http.plan(), spam, { threads: 2, ...OPT_IN });
  const contextId = await http.createContext();
  await http.registerContext(contextId, client);
  expect(await http.context(contextId)).toMatchObject({ relinKey: true, galoisKeysMissing: 0 });

  // two test sentences, one row group each at N = 8192
  const sentences = encodeSplit(getTokenizer(), loadTask('spam').test.slice(0, 2), spam.cfg.maxLen);
  const { request, batch } = await client.encryptBatch(sentences.map((e) => e.ids));
  const job = await http.submit(contextId, 'inference', { request: await http.uploadObject(contextId, 'request', request) });

  // an upload left half-way: one chunk of a second request
  const auth = { authorization: `Bearer ${token}` };
  const half = (await (await fetch(`${base}/v1/contexts/${contextId}/uploads`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'request', bytes: request.length, sha256: sha256(request) }) })).json()) as { id: string };
  await fetch(`${base}/v1/uploads/${half.id}?offset=0`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: request.subarray(0, 1 << 20) });
  expect(fs.existsSync(path.join(dataDir, 'uploads', `${half.id}.part`))).toBe(true);

  const running = await waitFor('the job to be a few stages in', async () => {
    const view = await http.job(job.id);
    return view.state === 'running' && ((view.progress?.stagesDone as number) ?? 0) >= 3 ? view : undefined;
  }, 600_000, 500);
  expect(running.attempt).toBe(1);
  await server.crash();

  server = await startServer(dataDir, port, ['--max-chunk-bytes', String(1 << 20)]);
  expect(await http.upload(half.id)).toMatchObject({ state: 'discarded', received: 1 << 20 });
  const again = await fetch(`${base}/v1/uploads/${half.id}?offset=${1 << 20}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: request.subarray(1 << 20) });
  expect(again.status).toBe(409);
  expect(((await again.json()) as { error: { code: string } }).error.code).toBe('ERR_UPLOAD_DISCARDED');
  expect(fs.existsSync(path.join(dataDir, 'uploads', `${half.id}.part`))).toBe(false);

  const done = await http.follow(job.id);
  expect(done, JSON.stringify(done.error)).toMatchObject({ state: 'completed', attempt: 2 });
  const logits = await client.decryptLogits(await http.result(job.id), batch);
  sentences.forEach((e, i) => {
    const plain = spam.classify(e.ids).logits;
    for (let c = 0; c < plain.length; c++) expect(Math.abs(logits[i][c] - plain[c]), `sentence ${i} logit ${c}`).toBeLessThan(1e-2);
    expect(Math.sign(logits[i][1] - logits[i][0])).toBe(Math.sign(plain[1] - plain[0]));
  });
  expect((await http.jobs()).map((j) => j.id)).toEqual([job.id]);
}, 1_200_000);
