/**
 * Runs jobs: claims a job in the database, builds its run context (the context's inference server,
 * loaded key part by key part from the blob store), runs its kind and records the outcome. Only the
 * attempt that owns a job may finish it, so a job handed out twice (a worker presumed dead) still
 * gets exactly one result. Used inside job threads (threads.ts).
 */
import { CipherlmError } from '../api/errors';
import type { Model } from '../model/model';
import type { PrivateInferenceServer } from '../private/server';
import { BlobStore } from './blobs';
import { createInferenceServer, type ServiceConfig } from './config';
import type { JobKind, JobRunContext } from './jobs';
import { newId, type Job, type Store } from './store';

/** Progress is written to the database at most this often (and on every change of stage). */
const PROGRESS_INTERVAL_MS = 250;

export class JobRunner {
  /** One loaded context at a time: a context's keys take gigabytes under the secure preset. */
  private loaded: { key: string; server: PrivateInferenceServer } | null = null;

  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly config: ServiceConfig,
    private readonly model: Model,
    private readonly kinds: Map<string, JobKind>,
    private readonly threads: number,
  ) {}

  /** Runs one job if it can be claimed; resolves when its outcome is stored. */
  async run(jobId: string): Promise<void> {
    const attempt = this.store.claimJob(jobId);
    if (attempt === null) return;
    const job = this.store.jobById(jobId)!;
    const kind = this.kinds.get(job.kind);
    if (!kind) {
      this.store.finishJob(jobId, attempt, { errorCode: 'ERR_JOB_KIND_UNAVAILABLE', errorMessage: `this worker cannot run ${job.kind} jobs` });
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = await kind.run(this.contextFor(job, attempt));
    } catch (error) {
      const code = error instanceof CipherlmError ? error.code : 'ERR_INTERNAL';
      this.store.finishJob(jobId, attempt, { errorCode: code, errorMessage: error instanceof Error ? error.message : String(error) });
      return;
    }
    const resultId = newId('obj');
    const sha256 = await this.blobs.write(resultId, bytes);
    const finished = this.store.finishJob(jobId, attempt, { result: { id: resultId, tenantId: job.tenantId, contextId: job.contextId, kind: 'result', bytes: bytes.length, sha256, meta: { job: jobId } } });
    if (!finished) await this.blobs.remove(resultId);
  }

  private contextFor(job: Job, attempt: number): JobRunContext {
    let lastWrite = 0;
    let lastStage: unknown;
    return {
      job,
      inferenceServer: () => this.inferenceServer(job),
      read: (objectId) => this.read(job, objectId),
      progress: (event) => {
        const now = Date.now();
        if (now - lastWrite < PROGRESS_INTERVAL_MS && event.stage === lastStage) return;
        lastWrite = now;
        lastStage = event.stage;
        // the worker process, so that a fault test (and an operator) can tell who runs the job
        this.store.setProgress(job.id, attempt, { ...event, attempt, worker: process.pid });
      },
      checkpoints: {
        latest: async () => {
          const found = this.store.latestCheckpoint(job.id);
          return found ? { step: found.step, bytes: await this.read(job, found.objectId) } : null;
        },
        save: async (step, bytes, log) => {
          const stored = async (kind: 'checkpoint' | 'log', data: Uint8Array) => {
            const id = newId('obj');
            const sha256 = await this.blobs.write(id, data);
            return { id, tenantId: job.tenantId, contextId: job.contextId, kind, bytes: data.length, sha256, meta: { job: job.id, step } };
          };
          this.store.saveCheckpoint(job.id, step, await stored('checkpoint', bytes), log && (await stored('log', log)));
        },
      },
    };
  }

  private async read(job: Job, objectId: string): Promise<Uint8Array> {
    const object = this.store.object(job.tenantId, objectId);
    if (!object || object.contextId !== job.contextId) throw new CipherlmError(`object ${objectId} is gone (its context was deleted?)`, 'ERR_NOT_FOUND');
    return this.blobs.read(object.id, object.sha256);
  }

  /** The context's server with its key parts (relinearization first) and latest weights loaded, one part at a time. */
  private async inferenceServer(job: Job): Promise<PrivateInferenceServer> {
    const keys = this.store.objectsOf(job.tenantId, job.contextId, 'key');
    const weights = this.store.objectsOf(job.tenantId, job.contextId, 'weights').at(-1);
    const cacheKey = [job.contextId, ...keys.map((k) => k.id), weights?.id].join(':');
    if (this.loaded?.key === cacheKey) return this.loaded.server;
    this.loaded = null;
    const server = await createInferenceServer(this.config, this.model, this.threads);
    const ordered = [...keys.filter((k) => k.meta.part === 'relin'), ...keys.filter((k) => k.meta.part !== 'relin')];
    for (const key of ordered) await server.acceptKey(await this.blobs.read(key.id, key.sha256));
    if (weights) server.acceptWeights(await this.blobs.read(weights.id, weights.sha256));
    this.loaded = { key: cacheKey, server };
    return server;
  }
}
