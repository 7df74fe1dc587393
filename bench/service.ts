/**
 * Service benchmark on loopback, embedded queue, the real encrypted pipeline: key registration
 * (generation and upload), then `--jobs` inference jobs of one sentence each submitted at once and
 * run `--concurrency` at a time, and 64 autocannon connections on the status route while the
 * first job runs (the pipeline runs in job threads, so the routes stay fast).
 *
 *   npm run bench:service                                    # test preset, 3 jobs, concurrency 1
 *   npm run bench:service -- --jobs 4 --concurrency 2
 *
 * The test preset is insecure (N = 8192); it is what fits this machine's minutes.
 */
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import autocannon from 'autocannon';
import { loadTask } from '../src/data/datasets';
import { loadCheckpoint } from '../src/model/checkpoint';
import { encodeSplit, getTokenizer, pretrainedFile, WEIGHTS } from '../src/model/setup';
import { PrivateInferenceClient } from '../src/private/client';
import { startService } from '../src/service/app';
import { CipherlmClient } from '../src/service/client';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
const jobs = arg('--jobs', 3);
const concurrency = arg('--concurrency', 1);

(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cipherlm-bench-service-'));
  const service = await startService({
    dataDir,
    config: { preset: 'test', modelFile: pretrainedFile('hefriendly'), allowInsecureParametersForTestsOnly: true, maxGroups: 8 },
    concurrency,
    engineThreads: Math.max(1, Math.floor(os.cpus().length / concurrency)),
    logger: false,
  });
  try {
    await service.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(service.app.server.address() as net.AddressInfo).port}`;
    const { token } = service.store.createTenant('bench');
    const http = new CipherlmClient({ baseUrl: base, token });
    const { model } = loadCheckpoint(path.join(WEIGHTS, 'finetuned-spam-hefriendly-lora.ckpt'));
    model.setMode('frozen');
    const client = PrivateInferenceClient.create(await http.plan(), model, { threads: 2, allowInsecureParametersForTestsOnly: true });
    const contextId = await http.createContext();
    let bytes = 0;
    const t0 = performance.now();
    await http.registerContext(contextId, client, (p) => {
      if (p.sent === p.total) bytes += p.total;
    });
    const registerSeconds = (performance.now() - t0) / 1000;

    const sentences = encodeSplit(getTokenizer(), loadTask('spam').test.slice(0, jobs), model.cfg.maxLen);
    const t1 = performance.now();
    const submitted = await Promise.all(
      sentences.map(async (e) => {
        const { request, batch } = await client.encryptBatch([e.ids]);
        const job = await http.submit(contextId, 'inference', { request: await http.uploadObject(contextId, 'request', request) });
        return { job, batch };
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const load = await autocannon({ url: `${base}/v1/jobs/${submitted[0].job.id}`, connections: 64, duration: 10, headers: { authorization: `Bearer ${token}` } });
    const ended = await Promise.all(submitted.map(({ job }) => http.follow(job.id)));
    const wall = (performance.now() - t1) / 1000;
    for (const [i, { batch }] of submitted.entries()) await client.decryptLogits(await http.result(ended[i].id), batch);
    const figures = {
      preset: 'test (N = 8192, insecure)',
      keys: { megabytes: +(bytes / 2 ** 20).toFixed(0), seconds: +registerSeconds.toFixed(1), megabytesPerSecond: +(bytes / 2 ** 20 / registerSeconds).toFixed(0) },
      jobs: { count: jobs, concurrency, states: ended.map((j) => j.state), wallSeconds: +wall.toFixed(1), perJobSeconds: ended.map((j) => +(((j.finishedAt ?? 0) - (j.startedAt ?? 0)) / 1000).toFixed(1)), jobsPerMinute: +((jobs / wall) * 60).toFixed(2) },
      statusRouteDuringJob: { requests: load.requests.total, p50: load.latency.p50, p99: load.latency.p99, errors: load.errors, non2xx: load.non2xx },
    };
    console.log(JSON.stringify(figures, null, 2));
  } finally {
    await service.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
})();
