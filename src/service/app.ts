/**
 * The HTTP service (Fastify): tenants' contexts, resumable uploads of evaluation keys, encrypted
 * weights and requests, jobs with progress (status route and server-sent events) and results. Every
 * route but /v1/health needs a tenant's token; every id is looked up within that tenant, so another
 * tenant's ids answer 404. Errors are `{ error: { code, message } }` (errors.ts).
 */
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { BlobStore } from './blobs';
import { createInferenceServer, databaseFile, loadBaseModel, readConfig, writeConfig, type ServiceConfig } from './config';
import { conflict, describeError, notFound, payloadTooLarge, ServiceError, tooManyJobs, unauthorized } from './errors';
import { loadJobKinds, type JobKind } from './jobs';
import { EmbeddedQueue, RedisQueue, type JobQueue } from './queue';
import { newId, Store, type Job, type Tenant, type Upload, type UploadKind } from './store';
import { JobThreads } from './threads';
import { neededGaloisElements, UploadValidator } from './validate';

export interface ServiceLimits {
  /** Largest object one upload may declare (a secure-preset key part is ~135 MB). */
  maxUploadBytes: number;
  /** Largest body of one upload chunk. */
  maxChunkBytes: number;
  /** Queued plus running jobs one tenant may have. */
  maxActiveJobsPerTenant: number;
  /** Largest JSON body. */
  maxJsonBytes: number;
}

export const DEFAULT_LIMITS: ServiceLimits = { maxUploadBytes: 512 << 20, maxChunkBytes: 16 << 20, maxActiveJobsPerTenant: 32, maxJsonBytes: 64 << 10 };

export interface ServiceOptions {
  dataDir: string;
  config: ServiceConfig;
  limits?: Partial<ServiceLimits>;
  /** redis://host:port: jobs go through BullMQ to `cipherlm worker` processes; else the server runs them. */
  queueUrl?: string;
  /** Job threads of the embedded mode (jobs run at once). */
  concurrency?: number;
  /** Engine threads per job. */
  engineThreads?: number;
  /** Modules exporting further job kinds (`jobKind`), loaded by the server and its job threads. */
  kindModules?: string[];
  /** pino options, or false. */
  logger?: boolean | { level: string };
}

export interface Service {
  app: FastifyInstance;
  store: Store;
  /** Uploads a previous process left half-written, discarded at startup. */
  discardedUploads: Upload[];
  close(): Promise<void>;
}

const ID = { type: 'string', pattern: '^[a-z]{3}_[0-9a-f]{24}$' } as const;
const idParams = (name: string) => ({ type: 'object', required: [name], properties: { [name]: ID } }) as const;
const TERMINAL = new Set(['completed', 'failed', 'canceled']);
const SSE_POLL_MS = 250;
const SSE_HEARTBEAT_MS = 15_000;

function jobView(job: Job) {
  return {
    id: job.id,
    contextId: job.contextId,
    kind: job.kind,
    state: job.state,
    attempt: job.attempt,
    progress: job.progress,
    result: job.resultObjectId,
    error: job.errorCode ? { code: job.errorCode, message: job.errorMessage } : null,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  };
}

function uploadView(u: Upload, chunkBytes: number) {
  return { id: u.id, contextId: u.contextId, kind: u.kind, total: u.total, received: u.received, state: u.state, object: u.objectId, error: u.errorCode, chunkBytes };
}

/** A config stored by an earlier run must match: stored keys and jobs belong to its parameters. */
function settleConfig(dataDir: string, config: ServiceConfig): void {
  let stored: ServiceConfig | null = null;
  try {
    stored = readConfig(dataDir);
  } catch {
    stored = null;
  }
  if (stored && (stored.preset !== config.preset || stored.modelFile !== config.modelFile || (stored.training === true) !== (config.training === true)))
    throw new ServiceError(500, 'ERR_CONFIG_MISMATCH', `${dataDir} was set up for preset ${stored.preset}, model ${stored.modelFile}${stored.training ? ' and fine-tuning' : ' without fine-tuning'}; use another data directory`);
  writeConfig(dataDir, config);
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  settleConfig(options.dataDir, options.config);
  const store = new Store(databaseFile(options.dataDir));
  const blobs = await BlobStore.open(options.dataDir);
  const discardedUploads = store.discardOpenUploads('ERR_UPLOAD_INTERRUPTED');
  for (const u of discardedUploads) await blobs.removePart(u.id);

  const planServer = await createInferenceServer(options.config, loadBaseModel(options.config), 1);
  const planBytes = Buffer.from(planServer.planBytes());
  const validator = new UploadValidator(planServer.context, planServer.plan, options.config.maxGroups);
  const neededElements = neededGaloisElements(planServer.context, planServer.plan);
  const kindModules = options.kindModules ?? [];
  // training states and batches only where the service fine-tunes
  const uploadKinds: UploadKind[] = options.config.training === true ? ['key', 'weights', 'request', 'state', 'batch'] : ['key', 'weights', 'request'];
  const kinds: Map<string, JobKind> = loadJobKinds(kindModules, options.config.training === true);

  const app = Fastify({ logger: options.logger ?? false, bodyLimit: limits.maxJsonBytes, return503OnClosing: true });
  app.log.info({ discarded: discardedUploads.map((u) => ({ id: u.id, received: u.received, total: u.total })) }, `discarded ${discardedUploads.length} half-written uploads`);

  let threads: JobThreads | null = null;
  let queue: JobQueue;
  if (options.queueUrl) {
    queue = new RedisQueue(options.queueUrl, store);
  } else {
    threads = await JobThreads.start(options.concurrency ?? 1, { dataDir: options.dataDir, kindModules, engineThreads: options.engineThreads ?? 2 });
    queue = new EmbeddedQueue(
      store,
      threads,
      (error) => app.log.error({ err: error }, 'job thread failure'),
      (jobIds) => app.log.warn({ jobIds }, `${jobIds.length} jobs were running when the server stopped: queued again`),
    );
  }
  await queue.start();

  // JSON and octet streams only: Fastify's default text/plain parser would let plain text reach the schemas
  app.removeContentTypeParser('text/plain');
  // Upload chunks stream to disk as they arrive: the parser hands the raw body stream to the route.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
  app.setErrorHandler((error, request, reply) => {
    const { status, body, internal } = describeError(error);
    if (internal) request.log.error({ err: error }, 'internal error');
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((_request, reply) => void reply.status(404).send({ error: { code: 'ERR_NOT_FOUND', message: 'no such route' } }));

  const tenants = new WeakMap<FastifyRequest, Tenant>();
  app.addHook('onRequest', async (request) => {
    if (request.url === '/v1/health') return;
    const header = request.headers.authorization;
    const tenant = header?.startsWith('Bearer ') ? store.tenantByToken(header.slice(7)) : null;
    if (!tenant) throw unauthorized();
    tenants.set(request, tenant);
  });
  const tenantOf = (request: FastifyRequest) => tenants.get(request)!;
  const requireContext = (tenant: Tenant, id: string) => {
    if (!store.hasContext(tenant.id, id)) throw notFound(`context ${id}`);
  };
  const requireUpload = (tenant: Tenant, id: string) => store.upload(tenant.id, id) ?? (() => { throw notFound(`upload ${id}`); })();
  const requireJob = (tenant: Tenant, id: string) => store.job(tenant.id, id) ?? (() => { throw notFound(`job ${id}`); })();

  /** What a context still lacks before it can run jobs. */
  // the client key id a context is bound to: that of its uploads (all agree: a mismatch is refused)
  const contextKeyId = (tenant: Tenant, contextId: string): string | null => {
    for (const kind of uploadKinds) for (const o of store.objectsOf(tenant.id, contextId, kind)) if (typeof o.meta.keyId === 'string') return o.meta.keyId;
    return null;
  };
  const contextState = (tenant: Tenant, contextId: string) => {
    const keys = store.objectsOf(tenant.id, contextId, 'key');
    const have = new Set(keys.flatMap((k) => (k.meta.elements as number[] | undefined) ?? []));
    const weights = store.objectsOf(tenant.id, contextId, 'weights').at(-1) ?? null;
    return {
      id: contextId,
      keyId: contextKeyId(tenant, contextId),
      relinKey: keys.some((k) => k.meta.part === 'relin'),
      galoisKeysMissing: neededElements.filter((e) => !have.has(e)).length,
      weights: weights?.id ?? null,
      requests: store.objectsOf(tenant.id, contextId, 'request').map((o) => o.id),
    };
  };

  app.get('/v1/health', async () => ({ ok: true }));

  app.get('/v1/info', async () => ({
    preset: options.config.preset,
    insecure: options.config.allowInsecureParametersForTestsOnly,
    training: options.config.training === true,
    jobKinds: [...kinds.keys()],
    queue: options.queueUrl ? 'redis' : 'embedded',
    limits,
  }));

  app.get('/v1/plan', async (_request, reply) => reply.type('application/octet-stream').send(planBytes));

  app.post('/v1/contexts', async (request, reply) => reply.status(201).send({ id: store.createContext(tenantOf(request).id) }));

  app.get('/v1/contexts/:contextId', { schema: { params: idParams('contextId') } }, async (request) => {
    const tenant = tenantOf(request);
    const { contextId } = request.params as { contextId: string };
    requireContext(tenant, contextId);
    return contextState(tenant, contextId);
  });

  app.delete('/v1/contexts/:contextId', { schema: { params: idParams('contextId') } }, async (request, reply) => {
    const tenant = tenantOf(request);
    const { contextId } = request.params as { contextId: string };
    requireContext(tenant, contextId);
    const removed = store.deleteContext(tenant.id, contextId);
    for (const id of removed.objects) await blobs.remove(id);
    for (const id of removed.uploads) await blobs.removePart(id);
    return reply.status(204).send();
  });

  app.post(
    '/v1/contexts/:contextId/uploads',
    {
      schema: {
        params: idParams('contextId'),
        body: {
          type: 'object',
          required: ['kind', 'bytes', 'sha256'],
          additionalProperties: false,
          properties: { kind: { enum: uploadKinds }, bytes: { type: 'integer', minimum: 1 }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
        },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const { contextId } = request.params as { contextId: string };
      const body = request.body as { kind: Upload['kind']; bytes: number; sha256: string };
      requireContext(tenant, contextId);
      if (body.bytes > limits.maxUploadBytes) throw payloadTooLarge(`an upload may hold ${limits.maxUploadBytes} bytes, ${body.bytes} declared`);
      const upload = store.createUpload({ tenantId: tenant.id, contextId, kind: body.kind, total: body.bytes, sha256: body.sha256 });
      return reply.status(201).send(uploadView(upload, limits.maxChunkBytes));
    },
  );

  app.get('/v1/uploads/:uploadId', { schema: { params: idParams('uploadId') } }, async (request) => {
    const { uploadId } = request.params as { uploadId: string };
    return uploadView(requireUpload(tenantOf(request), uploadId), limits.maxChunkBytes);
  });

  const closedUpload = (u: Upload) =>
    u.state === 'complete' ? conflict('ERR_UPLOAD_COMPLETE', `upload ${u.id} is already complete`) : conflict('ERR_UPLOAD_DISCARDED', `upload ${u.id} was discarded (${u.errorCode}); start a new one`);
  const busyUploads = new Set<string>();

  app.put(
    '/v1/uploads/:uploadId',
    {
      schema: { params: idParams('uploadId'), querystring: { type: 'object', required: ['offset'], properties: { offset: { type: 'integer', minimum: 0 } } } },
      // checked before the body is read, so a wrong body is never parsed
      onRequest: async (request) => {
        if (request.headers['content-type']?.split(';')[0].trim() !== 'application/octet-stream')
          throw new ServiceError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'upload chunks are application/octet-stream');
      },
    },
    async (request) => {
      const tenant = tenantOf(request);
      const { uploadId } = request.params as { uploadId: string };
      const { offset } = request.query as { offset: number };
      const upload = requireUpload(tenant, uploadId);
      if (upload.state !== 'open') throw closedUpload(upload);
      if (offset !== upload.received) throw conflict('ERR_UPLOAD_OFFSET', `upload ${uploadId} has ${upload.received} bytes; a chunk must start there, not at ${offset}`);
      const room = Math.min(limits.maxChunkBytes, upload.total - offset);
      const declared = Number(request.headers['content-length'] ?? NaN);
      const tooLarge = () => payloadTooLarge(`this chunk may hold at most ${room} bytes (chunk limit ${limits.maxChunkBytes}, ${upload.total - offset} left of the upload)`);
      if (declared > room) throw tooLarge();
      if (busyUploads.has(uploadId)) throw conflict('ERR_UPLOAD_BUSY', `another chunk of upload ${uploadId} is being written`);
      busyUploads.add(uploadId);
      try {
        const written = await blobs.writeChunk(uploadId, offset, request.body as Readable, room, tooLarge);
        if (!store.advanceUpload(uploadId, offset, offset + written)) throw closedUpload(store.upload(tenant.id, uploadId)!);
        return { received: offset + written, total: upload.total };
      } finally {
        busyUploads.delete(uploadId);
      }
    },
  );

  app.post('/v1/uploads/:uploadId/complete', { schema: { params: idParams('uploadId') } }, async (request) => {
    const tenant = tenantOf(request);
    const { uploadId } = request.params as { uploadId: string };
    const upload = requireUpload(tenant, uploadId);
    if (upload.state !== 'open') throw closedUpload(upload);
    if (upload.received !== upload.total) throw conflict('ERR_UPLOAD_INCOMPLETE', `upload ${uploadId} has ${upload.received} of ${upload.total} bytes`);
    if (busyUploads.has(uploadId)) throw conflict('ERR_UPLOAD_BUSY', `upload ${uploadId} is being written`);
    busyUploads.add(uploadId);
    try {
      const { bytes, sha256 } = await blobs.readPart(uploadId);
      let meta: Record<string, unknown>;
      try {
        if (sha256 !== upload.sha256) throw new ServiceError(400, 'ERR_CHECKSUM_MISMATCH', `upload ${uploadId}'s bytes do not hash to the declared SHA-256; send them again in a new upload`);
        meta = validator.validate(upload.kind, bytes, contextKeyId(tenant, upload.contextId));
        if (meta.part === 'relin' && contextState(tenant, upload.contextId).relinKey) throw conflict('ERR_DUPLICATE_KEY', 'this context already has its relinearization key');
        const held = new Set(store.objectsOf(tenant.id, upload.contextId, 'key').flatMap((k) => (k.meta.elements as number[] | undefined) ?? []));
        const repeated = ((meta.elements as number[] | undefined) ?? []).filter((e) => held.has(e));
        if (repeated.length > 0) throw conflict('ERR_DUPLICATE_KEY', `this context already has Galois keys for elements ${repeated.join(', ')}`);
      } catch (error) {
        // bytes that are not what was declared, that the loaders refuse or that repeat a stored key cannot become valid by resending chunks
        store.discardUpload(uploadId, describeError(error).body.error.code);
        await blobs.removePart(uploadId);
        throw error;
      }
      const objectId = newId('obj');
      await blobs.moveIntoPlace(blobs.partPath(uploadId), objectId);
      const object = { id: objectId, tenantId: tenant.id, contextId: upload.contextId, kind: upload.kind, bytes: bytes.length, sha256, meta };
      if (!store.completeUpload(uploadId, object)) {
        await blobs.remove(objectId);
        throw closedUpload(store.upload(tenant.id, uploadId)!);
      }
      return { object: objectId, kind: upload.kind, bytes: bytes.length, meta };
    } finally {
      busyUploads.delete(uploadId);
    }
  });

  app.post(
    '/v1/contexts/:contextId/jobs',
    {
      schema: {
        params: idParams('contextId'),
        body: { type: 'object', required: ['kind', 'params'], additionalProperties: false, properties: { kind: { type: 'string', maxLength: 64 }, params: { type: 'object' } } },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const { contextId } = request.params as { contextId: string };
      const body = request.body as { kind: string; params: Record<string, unknown> };
      requireContext(tenant, contextId);
      const kind = kinds.get(body.kind);
      if (!kind) throw new ServiceError(400, 'ERR_UNKNOWN_JOB_KIND', `this service runs ${[...kinds.keys()].join(', ')} jobs, not ${body.kind}`);
      const state = contextState(tenant, contextId);
      const missing = [!state.relinKey && 'its relinearization key', state.galoisKeysMissing > 0 && `${state.galoisKeysMissing} Galois keys`].filter((m): m is string => typeof m === 'string');
      const scope = {
        missing,
        weights: state.weights !== null,
        object: (id: string) => { const o = store.object(tenant.id, id); return o && o.contextId === contextId ? o : null; },
        job: (id: string) => { const j = store.job(tenant.id, id); return j && j.contextId === contextId ? j : null; },
      };
      const params = kind.checkSubmission(body.params, scope);
      const job = store.createJob({ tenantId: tenant.id, contextId, kind: kind.name, params, maxAttempts: 3 }, limits.maxActiveJobsPerTenant);
      if (!job) throw tooManyJobs(`a tenant may have ${limits.maxActiveJobsPerTenant} queued or running jobs`);
      await queue.enqueue(job.id);
      return reply.status(202).send(jobView(job));
    },
  );

  app.get('/v1/jobs', { schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } } } }, async (request) => {
    const { limit } = request.query as { limit: number };
    return { jobs: store.jobsOf(tenantOf(request).id, limit).map(jobView) };
  });

  app.get('/v1/jobs/:jobId', { schema: { params: idParams('jobId') } }, async (request) => {
    const { jobId } = request.params as { jobId: string };
    return jobView(requireJob(tenantOf(request), jobId));
  });

  app.get('/v1/jobs/:jobId/result', { schema: { params: idParams('jobId') } }, async (request, reply) => {
    const tenant = tenantOf(request);
    const { jobId } = request.params as { jobId: string };
    const job = requireJob(tenant, jobId);
    if (job.state !== 'completed' || !job.resultObjectId) throw conflict('ERR_JOB_NOT_COMPLETED', `job ${jobId} is ${job.state}`);
    const object = store.object(tenant.id, job.resultObjectId)!;
    const bytes = await blobs.read(object.id, object.sha256);
    return reply.type('application/octet-stream').header('x-cipherlm-sha256', object.sha256).send(bytes);
  });

  // a fine-tuning job's step log: the batch's encrypted logits (the client computes the loss) and public timings
  app.get(
    '/v1/jobs/:jobId/logs/:step',
    { schema: { params: { type: 'object', required: ['jobId', 'step'], properties: { jobId: ID, step: { type: 'integer', minimum: 0 } } } } },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const { jobId, step } = request.params as { jobId: string; step: number };
      requireJob(tenant, jobId);
      const log = store.logOf(tenant.id, jobId, step);
      if (!log) throw notFound(`log of step ${step} of job ${jobId}`);
      const bytes = await blobs.read(log.id, log.sha256);
      return reply.type('application/octet-stream').header('x-cipherlm-sha256', log.sha256).send(bytes);
    },
  );

  app.get('/v1/jobs/:jobId/events', { schema: { params: idParams('jobId') } }, async (request, reply) => {
    const tenant = tenantOf(request);
    const { jobId } = request.params as { jobId: string };
    requireJob(tenant, jobId);
    followJob(request, reply, () => store.job(tenant.id, jobId));
  });

  await app.ready();
  return {
    app,
    store,
    discardedUploads,
    async close() {
      await app.close();
      await queue.close();
      await threads?.close();
      store.close();
    },
  };
}

/** Server-sent events: the job's view each time it changes, until it ends (or the job is deleted). */
function followJob(request: FastifyRequest, reply: FastifyReply, read: () => Job | null): void {
  reply.hijack();
  const out = reply.raw;
  out.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let last = '';
  let lastWrite = Date.now();
  const tick = () => {
    const job = read();
    if (!job) {
      out.end('event: gone\ndata: {}\n\n');
      return stop();
    }
    const data = JSON.stringify(jobView(job));
    if (data !== last) {
      last = data;
      lastWrite = Date.now();
      out.write(`event: job\ndata: ${data}\n\n`);
    } else if (Date.now() - lastWrite > SSE_HEARTBEAT_MS) {
      lastWrite = Date.now();
      out.write(': heartbeat\n\n');
    }
    if (TERMINAL.has(job.state)) {
      out.end();
      stop();
    }
  };
  const timer = setInterval(tick, SSE_POLL_MS);
  const stop = () => clearInterval(timer);
  request.raw.on('close', stop);
  tick();
}
