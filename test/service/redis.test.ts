/**
 * Scale-out on Redis: a local redis-server, `cipherlm serve --queue redis://…` and two
 * `cipherlm worker` processes sharing its data directory. The worker that takes an inference job is
 * killed with SIGKILL mid-job; the other takes it over when its lock expires and finishes it, and
 * the client decrypts the logits of the plaintext model.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadTask } from '../../src/data/datasets';
import { encodeSplit, getTokenizer } from '../../src/model/setup';
import { PrivateInferenceClient } from '../../src/private/client';
import { CipherlmClient } from '../../src/service/client';
import { CliProcess, leftOutOfQuickSuite, OPT_IN, portFor, spamModel, startServer, tempDir, waitFor } from './helpers';

const port = portFor(22000);
const redisPort = portFor(23000);
const queue = `redis://127.0.0.1:${redisPort}`;
let redis: ChildProcess | null = null;
const processes: CliProcess[] = [];
// .ci/run installs the Debian package; where there is none (macOS, Windows runners) this test is skipped
const haveRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!haveRedis) console.warn('redis.test.ts: no redis-server on PATH, the BullMQ scale-out test is skipped');
const skipped = !haveRedis || leftOutOfQuickSuite('redis.test.ts');
const dataDir = skipped ? '' : tempDir('redis');

afterAll(async () => {
  for (const p of processes) await p.stop();
  redis?.kill('SIGKILL');
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

it.skipIf(skipped)('kill -9 of the worker running a job: the other worker finishes it', async () => {
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor('redis-server', () => new Promise<true | undefined>((resolve) => {
    const probe = net.connect(redisPort, '127.0.0.1', () => { probe.end(); resolve(true); });
    probe.on('error', () => resolve(undefined));
  }), 30_000);
  const server = await startServer(dataDir, port, ['--queue', queue]);
  processes.push(server);
  const workers = [0, 1].map(() => new CliProcess(['worker', '--queue', queue, '--data', dataDir, '--lock-ms', '4000', '--stalled-ms', '2000']));
  processes.push(...workers);
  for (const w of workers) await waitFor(`worker ${w.pid}`, () => (w.output.includes('taking jobs') ? true : undefined), 120_000);

  const http = new CipherlmClient({ baseUrl: `http://127.0.0.1:${port}`, token: fs.readFileSync(path.join(dataDir, 'alice.token'), 'utf8').trim() });
  expect((await http.info()).queue).toBe('redis');
  const spam = spamModel();
  const client = PrivateInferenceClient.create(await http.plan(), spam, { threads: 2, ...OPT_IN });
  const contextId = await http.createContext();
  await http.registerContext(contextId, client);
  const sentences = encodeSplit(getTokenizer(), loadTask('spam').test.slice(2, 3), spam.cfg.maxLen);
  const { request, batch } = await client.encryptBatch(sentences.map((e) => e.ids));
  const job = await http.submit(contextId, 'inference', { request: await http.uploadObject(contextId, 'request', request) });

  const running = await waitFor('a worker a few stages into the job', async () => {
    const view = await http.job(job.id);
    return view.state === 'running' && ((view.progress?.stagesDone as number) ?? 0) >= 3 ? view : undefined;
  }, 600_000, 500);
  const victim = workers.find((w) => w.pid === running.progress!.worker)!;
  const survivor = workers.find((w) => w !== victim)!;
  expect(victim).toBeDefined();
  await victim.crash();

  const done = await http.follow(job.id);
  expect(done).toMatchObject({ state: 'completed', attempt: 2 });
  expect(done.progress!.worker).toBe(survivor.pid);
  const logits = await client.decryptLogits(await http.result(job.id), batch);
  const plain = spam.classify(sentences[0].ids).logits;
  for (let c = 0; c < plain.length; c++) expect(Math.abs(logits[0][c] - plain[c])).toBeLessThan(1e-2);
}, 1_200_000);
