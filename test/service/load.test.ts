/**
 * Load on one embedded server on loopback: autocannon with 64 connections on the status and
 * small-object routes for 30 s (no errors, p99 reported), then 200 concurrent job submissions from
 * 8 tenants: every accepted job ends completed or failed, exactly once, and no tenant sees another's.
 * The jobs here are the `digest` kind (fixtures/digest-kind.js), which reads its request through the
 * same store and queue; the encrypted pipeline, ~1 min a job, is run by the end-to-end test.
 */
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as path from 'node:path';
import autocannon from 'autocannon';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PrivateInferenceClient } from '../../src/private/client';
import { startService, type Service } from '../../src/service/app';
import { CipherlmClient, type JobView } from '../../src/service/client';
import { OPT_IN, sha256, spamModel, tempDir, TEST_CONFIG, waitFor } from './helpers';

const DIGEST_KIND = path.join(__dirname, 'fixtures', 'digest-kind.js');
const TENANTS = 8;
const SUBMISSIONS = 200;
const ACTIVE_LIMIT = 20;

let service: Service;
let base: string;
let dataDir: string;
let request: Uint8Array;
let client: PrivateInferenceClient;

beforeAll(async () => {
  dataDir = tempDir('load');
  service = await startService({ dataDir, config: TEST_CONFIG, concurrency: 2, kindModules: [DIGEST_KIND], limits: { maxActiveJobsPerTenant: ACTIVE_LIMIT }, logger: false });
  await service.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(service.app.server.address() as net.AddressInfo).port}`;
  const token = service.store.createTenant('probe').token;
  client = PrivateInferenceClient.create(await new CipherlmClient({ baseUrl: base, token }).plan(), spamModel(), { threads: 2, ...OPT_IN });
  request = (await client.encryptBatch([[2, 100, 200, 3]])).request;
}, 300_000);

afterAll(async () => {
  await service?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it('serves 64 connections on the status and small-object routes for 30 s without errors', async () => {
  const { token } = service.store.createTenant('load');
  const http = new CipherlmClient({ baseUrl: base, token });
  const contextId = await http.createContext();
  const requestId = await http.uploadObject(contextId, 'request', request);
  const job = await http.submit(contextId, 'digest', { request: requestId });
  await waitFor('the job', async () => ((await http.job(job.id)).state === 'completed' ? true : undefined), 60_000);
  const result = await autocannon({
    url: base,
    connections: 64,
    duration: 30,
    headers: { authorization: `Bearer ${token}` },
    requests: [
      { method: 'GET', path: `/v1/jobs/${job.id}` },
      { method: 'GET', path: `/v1/contexts/${contextId}` },
      { method: 'GET', path: `/v1/jobs/${job.id}/result` },
    ],
  });
  const figures = { requests: result.requests.total, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx };
  console.log(`autocannon, 64 connections, 30 s: ${JSON.stringify(figures)}`);
  expect(result.errors).toBe(0);
  expect(result.timeouts).toBe(0);
  expect(result.non2xx).toBe(0);
  expect(result.requests.total).toBeGreaterThan(1000);
}, 120_000);

it('200 concurrent submissions from 8 tenants: every accepted job ends once, on its own input, seen only by its tenant', async () => {
  const tenants = await Promise.all(
    Array.from({ length: TENANTS }, async (_, t) => {
      const { tenant, token } = service.store.createTenant(`tenant-${t}`);
      const http = new CipherlmClient({ baseUrl: base, token, retries: 1 });
      const contextId = await http.createContext();
      // each tenant encrypts its own tokens, so a result names the input it was computed on
      const own = (await client.encryptBatch([[2, 100 + t, 200, 3]])).request;
      const requestId = await http.uploadObject(contextId, 'request', own);
      return { id: tenant.id, http, contextId, requestId, digest: sha256(own) };
    }),
  );
  const outcomes = await Promise.all(
    Array.from({ length: SUBMISSIONS }, async (_, i) => {
      const t = tenants[i % TENANTS];
      try {
        return { tenant: t, job: await t.http.submit(t.contextId, 'digest', { request: t.requestId }) };
      } catch (error) {
        return { tenant: t, refused: (error as { code: string }).code };
      }
    }),
  );
  const accepted = outcomes.filter((o): o is { tenant: (typeof tenants)[number]; job: JobView } => 'job' in o);
  const refused = outcomes.filter((o) => 'refused' in o).map((o) => (o as { refused: string }).refused);
  expect(new Set(refused)).toEqual(new Set(refused.length ? ['ERR_TOO_MANY_JOBS'] : []));
  expect(accepted.length + refused.length).toBe(SUBMISSIONS);
  expect(new Set(accepted.map((a) => a.job.id)).size).toBe(accepted.length);
  console.log(`200 submissions: ${accepted.length} accepted, ${refused.length} refused with 429`);

  const started = Date.now();
  const ended = await Promise.all(accepted.map(({ tenant, job }) => tenant.http.follow(job.id)));
  console.log(`${accepted.length} digest jobs ran in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const [i, job] of ended.entries()) {
    const { tenant } = accepted[i];
    expect(job.state).toBe('completed');
    expect(job.attempt).toBe(1);
    const result = JSON.parse(Buffer.from(await tenant.http.result(job.id)).toString()) as { job: string; tenant: string; digest: string };
    expect(result).toEqual({ job: job.id, tenant: tenant.id, digest: tenant.digest });
  }
  // each tenant lists exactly its accepted jobs; another tenant's ids answer 404
  for (const [t, tenant] of tenants.entries()) {
    const mine = accepted.filter((a) => a.tenant === tenant).map((a) => a.job.id).sort();
    expect((await tenant.http.jobs(1000)).map((j) => j.id).sort()).toEqual(mine);
    const other = accepted.find((a) => a.tenant !== tenant)!;
    await expect(tenant.http.job(other.job.id)).rejects.toMatchObject({ status: 404 });
    await expect(tenants[(t + 1) % TENANTS].http.result(mine[0])).rejects.toMatchObject({ status: 404 });
  }
  // one result object per job, no strays
  const results = service.store.db.prepare("SELECT COUNT(*) AS n FROM objects WHERE kind = 'result'").get() as { n: number };
  expect(results.n).toBe(accepted.length + 1);
  expect(new Set(tenants.map((t) => t.digest)).size).toBe(TENANTS);
}, 300_000);
