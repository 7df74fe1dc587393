/**
 * The service's HTTP surface in one process, without running the encrypted pipeline: tokens,
 * tenants, resumable uploads, the loaders' validation, limits and bad input. Every bad request is
 * answered with its 4xx and stable code, and the stored state (tenants, contexts, objects, jobs and
 * blob files) is compared before and after to show that nothing changed. The server has no job
 * threads here, so submitted jobs stay queued and the per-tenant limit is reached deterministically.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksContext, CkksEncoder, Encryptor, KeyGenerator } from '../../src';
import { PrivateInferenceClient } from '../../src/private/client';
import { PIPELINE_PRESETS } from '../../src/private/presets';
import { decodeMessage, encodeMessage } from '../../src/private/protocol';
import { startService, type Service } from '../../src/service/app';
import { BlobStore } from '../../src/service/blobs';
import { CipherlmClient } from '../../src/service/client';
import { readKeystore, writeKeystore } from '../../src/service/keystore';
import { OPT_IN, sha256, spamModel, tempDir, TEST_CONFIG } from './helpers';

const DIGEST_KIND = path.join(__dirname, 'fixtures', 'digest-kind.js');

let service: Service;
let base: string;
let dataDir: string;
let alice: { token: string; http: CipherlmClient };
let bob: { token: string; http: CipherlmClient };
let client: PrivateInferenceClient;
let keyParts: Uint8Array[];
let request: Uint8Array;

const LIMITS = { maxUploadBytes: 32 << 20, maxChunkBytes: 1 << 20, maxActiveJobsPerTenant: 3 };

beforeAll(async () => {
  dataDir = tempDir('http');
  service = await startService({ dataDir, config: TEST_CONFIG, concurrency: 0, kindModules: [DIGEST_KIND], limits: LIMITS, logger: false });
  await service.app.listen({ host: '127.0.0.1', port: 0 });
  const address = service.app.server.address() as net.AddressInfo;
  base = `http://127.0.0.1:${address.port}`;
  const tenant = (name: string) => {
    const { token } = service.store.createTenant(name);
    return { token, http: new CipherlmClient({ baseUrl: base, token, retries: 2 }) };
  };
  alice = tenant('alice');
  bob = tenant('bob');
  client = PrivateInferenceClient.create(await alice.http.plan(), spamModel(), { threads: 2, ...OPT_IN });
  keyParts = [];
  for await (const part of client.evaluationKeys()) {
    keyParts.push(part);
    if (keyParts.length === 2) break; // the relinearization key and one Galois part
  }
  request = (await client.encryptBatch([[2, 100, 200, 3]])).request;
}, 300_000);

afterAll(async () => {
  await service?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const call = (method: string, route: string, init: { token?: string; body?: string | Uint8Array; type?: string } = {}) =>
  fetch(`${base}${route}`, {
    method,
    headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.type ? { 'content-type': init.type } : {}) },
    body: init.body,
  });

async function expectError(response: Response | Promise<Response>, status: number, code: string): Promise<void> {
  const r = await response;
  const body = (await r.json()) as { error: { code: string } };
  expect({ status: r.status, code: body.error?.code }).toEqual({ status, code });
}

/** What the service has stored: the rows of its durable tables and the files of its blob store. */
function storedState() {
  const rows = (table: string) => service.store.db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all();
  const files = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort() : []);
  return { tenants: rows('tenants'), contexts: rows('contexts'), objects: rows('objects'), jobs: rows('jobs'), blobs: files(path.join(dataDir, 'blobs')) };
}

describe('tokens and tenants', () => {
  it('answers 401 without a valid token, and stores tokens only hashed', async () => {
    expect((await call('GET', '/v1/health')).status).toBe(200);
    await expectError(call('GET', '/v1/info'), 401, 'ERR_UNAUTHORIZED');
    await expectError(call('GET', '/v1/info', { token: `${alice.token}x` }), 401, 'ERR_UNAUTHORIZED');
    expect((await call('GET', '/v1/info', { token: alice.token })).status).toBe(200);
    const rows = JSON.stringify(service.store.db.prepare('SELECT * FROM tenants').all());
    expect(rows).not.toContain(alice.token);
    expect(rows).toContain(sha256(Buffer.from(alice.token)));
    service.store.db.pragma('wal_checkpoint(TRUNCATE)');
    expect(fs.readFileSync(path.join(dataDir, 'cipherlm.sqlite')).includes(alice.token)).toBe(false);
  });

  it("answers another tenant's ids with 404 and lists only a tenant's own jobs", async () => {
    const contextId = await alice.http.createContext();
    const requestId = await alice.http.uploadObject(contextId, 'request', request);
    const upload = (await (await call('POST', `/v1/contexts/${contextId}/uploads`, { token: alice.token, type: 'application/json', body: JSON.stringify({ kind: 'request', bytes: 10, sha256: 'a'.repeat(64) }) })).json()) as { id: string };
    for (const [method, route] of [
      ['GET', `/v1/contexts/${contextId}`],
      ['DELETE', `/v1/contexts/${contextId}`],
      ['GET', `/v1/uploads/${upload.id}`],
      ['POST', `/v1/uploads/${upload.id}/complete`],
    ])
      await expectError(call(method, route, { token: bob.token }), 404, 'ERR_NOT_FOUND');
    await expectError(call('PUT', `/v1/uploads/${upload.id}?offset=0`, { token: bob.token, type: 'application/octet-stream', body: new Uint8Array(10) }), 404, 'ERR_NOT_FOUND');
    await expectError(call('POST', `/v1/contexts/${contextId}/jobs`, { token: bob.token, type: 'application/json', body: JSON.stringify({ kind: 'inference', params: { request: requestId } }) }), 404, 'ERR_NOT_FOUND');
    // bob's own context cannot name alice's object either
    const bobContext = await bob.http.createContext();
    await expectError(call('POST', `/v1/contexts/${bobContext}/jobs`, { token: bob.token, type: 'application/json', body: JSON.stringify({ kind: 'digest', params: { request: requestId } }) }), 400, 'ERR_UNKNOWN_OBJECT');
    expect(await bob.http.jobs()).toEqual([]);
  });
});

describe('uploads', () => {
  it('stream in chunks, resume from the offset the server reports, refuse replays, and validate on completion', async () => {
    const contextId = await alice.http.createContext();
    const created = (await (await call('POST', `/v1/contexts/${contextId}/uploads`, { token: alice.token, type: 'application/json', body: JSON.stringify({ kind: 'request', bytes: request.length, sha256: sha256(request) }) })).json()) as { id: string; chunkBytes: number };
    expect(created.chunkBytes).toBe(LIMITS.maxChunkBytes);
    const put = (offset: number, bytes: Uint8Array) => call('PUT', `/v1/uploads/${created.id}?offset=${offset}`, { token: alice.token, type: 'application/octet-stream', body: bytes });
    const first = request.subarray(0, 600_000);
    expect(await (await put(0, first)).json()).toEqual({ received: first.length, total: request.length });
    // the same chunk again (a replay) and a gap are refused; the upload keeps what it had
    await expectError(put(0, first), 409, 'ERR_UPLOAD_OFFSET');
    await expectError(put(first.length + 10, request.subarray(first.length + 10)), 409, 'ERR_UPLOAD_OFFSET');
    await expectError(call('POST', `/v1/uploads/${created.id}/complete`, { token: alice.token }), 409, 'ERR_UPLOAD_INCOMPLETE');
    // a chunk cut off mid-body (the client dies): nothing of it counts
    await truncatedPut(created.id, first.length, request.subarray(first.length, first.length + 200_000), 400_000);
    expect((await alice.http.upload(created.id)).received).toBe(first.length);
    // resume where the server says
    const resumeAt = (await alice.http.upload(created.id)).received;
    await put(resumeAt, request.subarray(resumeAt));
    const done = (await (await call('POST', `/v1/uploads/${created.id}/complete`, { token: alice.token })).json()) as { object: string; meta: { groups: number } };
    expect(done.meta).toEqual({ keyId: client.keyId, groups: 1 });
    await expectError(call('POST', `/v1/uploads/${created.id}/complete`, { token: alice.token }), 409, 'ERR_UPLOAD_COMPLETE');
    await expectError(put(request.length, new Uint8Array(1)), 409, 'ERR_UPLOAD_COMPLETE');
    expect((await alice.http.context(contextId)).requests).toEqual([done.object]);
    // the stored blob is the uploaded bytes, under their checksum
    const blobs = await BlobStore.open(dataDir);
    expect(sha256(await blobs.read(done.object, sha256(request)))).toBe(sha256(request));
  });

  it('keeps key parts: a replayed key part is refused, the context tracks what is missing', async () => {
    const contextId = await alice.http.createContext();
    const before = await alice.http.context(contextId);
    expect(before).toMatchObject({ relinKey: false, weights: null });
    await alice.http.uploadObject(contextId, 'key', keyParts[0]);
    const galois = await alice.http.uploadObject(contextId, 'key', keyParts[1]);
    const after = await alice.http.context(contextId);
    expect(after.relinKey).toBe(true);
    expect(after.galoisKeysMissing).toBeLessThan(before.galoisKeysMissing);
    await expect(alice.http.uploadObject(contextId, 'key', keyParts[0])).rejects.toMatchObject({ status: 409, code: 'ERR_DUPLICATE_KEY' });
    await expect(alice.http.uploadObject(contextId, 'key', keyParts[1])).rejects.toMatchObject({ status: 409, code: 'ERR_DUPLICATE_KEY' });
    expect(galois).toMatch(/^obj_/);
  });
});

/** Sends a chunk whose Content-Length promises more than is sent, then closes the connection. */
function truncatedPut(uploadId: string, offset: number, bytes: Uint8Array, promised: number): Promise<void> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), '127.0.0.1', () => {
      socket.write(`PUT /v1/uploads/${uploadId}?offset=${offset} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${alice.token}\r\ncontent-type: application/octet-stream\r\ncontent-length: ${promised}\r\n\r\n`);
      socket.write(bytes, () => setTimeout(() => socket.destroy(), 100));
    });
    socket.on('close', () => setTimeout(resolve, 200));
    socket.on('error', reject);
  });
}

describe('bad input', () => {
  it('is answered with the right 4xx and a stable code, the server keeps serving, and nothing stored changes', async () => {
    const contextId = await alice.http.createContext();
    const relinObject = await alice.http.uploadObject(contextId, 'key', keyParts[0]);
    const requestObject = await alice.http.uploadObject(contextId, 'request', request);
    const json = (route: string, body: string, token = alice.token) => call('POST', route, { token, type: 'application/json', body });
    const uploads = `/v1/contexts/${contextId}/uploads`;
    const state = storedState();

    // malformed JSON, wrong content types, schema violations, oversized bodies
    await expectError(json(uploads, '{"kind": "request", "bytes": '), 400, 'ERR_MALFORMED_JSON');
    await expectError(json(uploads, ''), 400, 'ERR_MALFORMED_JSON');
    await expectError(call('POST', uploads, { token: alice.token, type: 'text/plain', body: 'kind=request' }), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
    await expectError(json(uploads, JSON.stringify({ kind: 'secret-key', bytes: 10, sha256: 'a'.repeat(64) })), 400, 'ERR_VALIDATION');
    await expectError(json(uploads, JSON.stringify({ kind: 'request', bytes: 10, sha256: 'a'.repeat(64), extra: 'x'.repeat(70_000) })), 413, 'ERR_PAYLOAD_TOO_LARGE');
    await expectError(json(uploads, JSON.stringify({ kind: 'request', bytes: LIMITS.maxUploadBytes + 1, sha256: 'a'.repeat(64) })), 413, 'ERR_PAYLOAD_TOO_LARGE');
    await expectError(call('GET', '/v1/jobs/not-an-id', { token: alice.token }), 400, 'ERR_VALIDATION');
    await expectError(call('GET', '/v1/no-such-route', { token: alice.token }), 404, 'ERR_NOT_FOUND');

    // upload chunks: wrong type, larger than the chunk limit or than the upload
    const open = (await (await json(uploads, JSON.stringify({ kind: 'request', bytes: request.length, sha256: sha256(request) }))).json()) as { id: string };
    await expectError(call('PUT', `/v1/uploads/${open.id}?offset=0`, { token: alice.token, type: 'application/json', body: '{}' }), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
    await expectError(call('PUT', `/v1/uploads/${open.id}?offset=0`, { token: alice.token, type: 'application/octet-stream', body: new Uint8Array(LIMITS.maxChunkBytes + 1) }), 413, 'ERR_PAYLOAD_TOO_LARGE');
    const small = (await (await json(uploads, JSON.stringify({ kind: 'request', bytes: 100, sha256: 'c'.repeat(64) }))).json()) as { id: string };
    await expectError(call('PUT', `/v1/uploads/${small.id}?offset=0`, { token: alice.token, type: 'application/octet-stream', body: new Uint8Array(101) }), 413, 'ERR_PAYLOAD_TOO_LARGE');

    // objects the loaders refuse: truncated, of the wrong kind, from other parameters, a secret key, bytes that miss their checksum
    const uploadRefused = async (kind: 'key' | 'request' | 'weights', bytes: Uint8Array, status: number, code: string) =>
      expect(alice.http.uploadObject(contextId, kind, bytes)).rejects.toMatchObject({ status, code });
    await uploadRefused('request', request.subarray(0, request.length - 7), 400, 'ERR_DESERIALIZATION');
    await uploadRefused('key', request, 400, 'ERR_DESERIALIZATION');
    await uploadRefused('weights', keyParts[0], 400, 'ERR_DESERIALIZATION');
    const otherParameters = CkksContext.create({ ...PIPELINE_PRESETS.test.context, dataBits: PIPELINE_PRESETS.test.context.dataBits!.map((b, i) => (i === 1 ? 41 : b)), ...OPT_IN });
    const foreign = new Encryptor(otherParameters, new KeyGenerator(otherParameters).secretKey).encrypt(new CkksEncoder(otherParameters).encode([1], { level: client.plan.topLevel }));
    await uploadRefused('request', encodeMessage('request', { keyId: client.keyId, groups: 1 }, [{ name: 'group0.embeddings', bytes: foreign.save() }, { name: 'group0.keyMask', bytes: foreign.save() }]), 400, 'ERR_PARAMETER_MISMATCH');
    const secret = new KeyGenerator(client.context).secretKey.save();
    await uploadRefused('key', encodeMessage('key', { keyId: client.keyId, part: 'galois' }, [{ name: 'key', bytes: secret }]), 400, 'ERR_DESERIALIZATION');
    // the key id is checked before anything is loaded: missing or malformed, it is refused with the same code whether or not the entries would load
    const junk = new Uint8Array(64);
    const junkRequest = [{ name: 'group0.embeddings', bytes: junk }, { name: 'group0.keyMask', bytes: junk }];
    for (const entries of [decodeMessage(request, 'request').entries, junkRequest]) {
      await uploadRefused('request', encodeMessage('request', { groups: 1 }, entries), 400, 'ERR_INVALID_ARGUMENT');
      await uploadRefused('request', encodeMessage('request', { keyId: 'not-a-key-id', groups: 1 }, entries), 400, 'ERR_INVALID_ARGUMENT');
    }
    await uploadRefused('key', encodeMessage('key', { part: 'relin' }, [{ name: 'key', bytes: junk }]), 400, 'ERR_INVALID_ARGUMENT');
    await uploadRefused('request', encodeMessage('request', { keyId: 'f'.repeat(32), groups: 1 }, junkRequest), 400, 'ERR_KEY_MISMATCH');
    const mislabelled = (await (await json(uploads, JSON.stringify({ kind: 'request', bytes: request.length, sha256: 'd'.repeat(64) }))).json()) as { id: string };
    for (let offset = 0; offset < request.length; offset += LIMITS.maxChunkBytes)
      await call('PUT', `/v1/uploads/${mislabelled.id}?offset=${offset}`, { token: alice.token, type: 'application/octet-stream', body: request.subarray(offset, offset + LIMITS.maxChunkBytes) });
    await expectError(call('POST', `/v1/uploads/${mislabelled.id}/complete`, { token: alice.token }), 400, 'ERR_CHECKSUM_MISMATCH');
    expect(await alice.http.upload(mislabelled.id)).toMatchObject({ state: 'discarded' });

    // jobs: a kind the service lacks, a context without its keys, objects that are not this context's
    const jobs = `/v1/contexts/${contextId}/jobs`;
    await expectError(json(jobs, JSON.stringify({ kind: 'finetune', params: { steps: 2, batches: [requestObject] } })), 400, 'ERR_UNKNOWN_JOB_KIND');
    await expectError(json(jobs, JSON.stringify({ kind: 'inference', params: { request: requestObject } })), 409, 'ERR_CONTEXT_INCOMPLETE');
    await expectError(json(jobs, JSON.stringify({ kind: 'digest', params: { request: relinObject } })), 400, 'ERR_WRONG_OBJECT_KIND');
    await expectError(json(jobs, JSON.stringify({ kind: 'inference' })), 400, 'ERR_VALIDATION');
    const bobContext = await bob.http.createContext();
    await expectError(json(`/v1/contexts/${bobContext}/jobs`, JSON.stringify({ kind: 'digest', params: { request: requestObject } }), bob.token), 400, 'ERR_UNKNOWN_OBJECT');
    // a request made under another client's secret key (same parameters): the context is bound to the first key id it stored
    const stranger = PrivateInferenceClient.create(await alice.http.plan(), spamModel(), { threads: 2, ...OPT_IN });
    expect(stranger.keyId).not.toBe(client.keyId);
    await uploadRefused('request', (await stranger.encryptBatch([[2, 100, 200, 3]])).request, 400, 'ERR_KEY_MISMATCH');
    // replays of a stored key part
    await expect(alice.http.uploadObject(contextId, 'key', keyParts[0])).rejects.toMatchObject({ status: 409, code: 'ERR_DUPLICATE_KEY' });

    expect(storedState()).toEqual({ ...state, contexts: service.store.db.prepare('SELECT * FROM contexts ORDER BY rowid').all() });
    expect(storedState().contexts).toHaveLength(state.contexts.length + 1); // bob's new context, nothing else
    expect(await alice.http.context(contextId)).toMatchObject({ keyId: client.keyId, relinKey: true, requests: [requestObject] });
  });
});

describe('limits and deletion', () => {
  it('answers 429 past the active jobs per tenant; deleting a context removes its jobs, objects and blobs', async () => {
    const contextId = await alice.http.createContext();
    const requestId = await alice.http.uploadObject(contextId, 'request', request);
    const submit = () => alice.http.submit(contextId, 'digest', { request: requestId });
    const accepted = [await submit(), await submit(), await submit()];
    expect(accepted.map((j) => j.state)).toEqual(['queued', 'queued', 'queued']);
    await expect(submit()).rejects.toMatchObject({ status: 429, code: 'ERR_TOO_MANY_JOBS' });
    await expect(bob.http.submit(await bob.http.createContext(), 'digest', { request: requestId })).rejects.toMatchObject({ status: 400, code: 'ERR_UNKNOWN_OBJECT' });
    const blob = path.join(dataDir, 'blobs', requestId.slice(-2), requestId);
    expect(fs.existsSync(blob)).toBe(true);
    await alice.http.deleteContext(contextId);
    expect(fs.existsSync(blob)).toBe(false);
    await expect(alice.http.context(contextId)).rejects.toMatchObject({ status: 404 });
    await expect(alice.http.job(accepted[0].id)).rejects.toMatchObject({ status: 404 });
    // the tenant's slots are free again
    const next = await alice.http.createContext();
    const nextRequest = await alice.http.uploadObject(next, 'request', request);
    expect((await alice.http.submit(next, 'digest', { request: nextRequest })).state).toBe('queued');
  });
});

describe('keystore', () => {
  it('round-trips under its passphrase, and refuses a wrong one or an altered file', async () => {
    const file = path.join(dataDir, 'keystore.json');
    const secretKey = client.exportSecretKey();
    const contents = { public: { server: base, contextId: 'ctx_0', modelFile: 'm.ckpt', preset: 'test' }, secretKey };
    await writeKeystore(file, 'correct horse', contents);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain(Buffer.from(secretKey).toString('base64').slice(0, 64));
    const back = await readKeystore(file, 'correct horse');
    expect(sha256(back.secretKey)).toBe(sha256(secretKey));
    expect(back.public).toEqual(contents.public);
    await expect(readKeystore(file, 'wrong horse')).rejects.toMatchObject({ code: 'ERR_KEYSTORE_PASSPHRASE' });
    fs.writeFileSync(file, text.replace('"contextId": "ctx_0"', '"contextId": "ctx_1"'));
    await expect(readKeystore(file, 'correct horse')).rejects.toMatchObject({ code: 'ERR_KEYSTORE_PASSPHRASE' });
    // the saved key makes the same client: what one encrypts, the other decrypts
    const again = PrivateInferenceClient.create(await alice.http.plan(), spamModel(), { threads: 2, ...OPT_IN, secretKey: back.secretKey });
    expect(sha256(again.exportSecretKey())).toBe(sha256(secretKey));
  });
});

describe('blob store', () => {
  it('refuses bytes that no longer match their checksum', async () => {
    const blobs = await BlobStore.open(dataDir);
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const sum = await blobs.write('obj_test', bytes);
    expect(await blobs.read('obj_test', sum)).toEqual(Buffer.from(bytes));
    fs.writeFileSync(blobs.blobPath('obj_test'), new Uint8Array([1, 2, 3, 5]));
    await expect(blobs.read('obj_test', sum)).rejects.toMatchObject({ code: 'ERR_CORRUPT_BLOB' });
    expect(fs.readdirSync(path.join(dataDir, 'tmp'))).toEqual([]);
  });
});
