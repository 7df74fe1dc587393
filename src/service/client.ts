/**
 * CipherlmClient: the data owner's side of the service over HTTP. It registers a context with the
 * evaluation keys of a PrivateInferenceClient (one key part per upload, never the whole set at
 * once), uploads in chunks that resume where the server says they stopped, submits jobs, follows
 * them by server-sent events, and downloads and decrypts results. Its secret key never leaves it.
 */
import { createHash } from 'node:crypto';
import { CipherlmError } from '../api/errors';
import type { Model } from '../model/model';
import type { Batch, PrivateInferenceClient } from '../private/client';
import type { OptimizerSettings } from '../private/trainer';

/** An error answer of the service (its status and stable code), or a request that kept failing. */
export class ServiceRequestError extends CipherlmError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(message, code);
  }
}

export interface JobView {
  id: string;
  contextId: string;
  kind: string;
  state: 'queued' | 'running' | 'completed' | 'failed' | 'canceled';
  attempt: number;
  progress: Record<string, unknown> | null;
  result: string | null;
  error: { code: string; message: string } | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}
export interface UploadView {
  id: string;
  kind: string;
  total: number;
  received: number;
  state: 'open' | 'complete' | 'discarded';
  object: string | null;
  chunkBytes: number;
}
export interface ContextView {
  id: string;
  relinKey: boolean;
  galoisKeysMissing: number;
  weights: string | null;
  requests: string[];
}
export interface UploadProgress {
  kind: string;
  sent: number;
  total: number;
}

export interface CipherlmClientOptions {
  baseUrl: string;
  token: string;
  /** Tries of an idempotent request (and of each chunk) before giving up. Default 5. */
  retries?: number;
  /** Upload chunk size; the server's limit caps it. Default 8 MiB. */
  chunkBytes?: number;
}

const TERMINAL = new Set(['completed', 'failed', 'canceled']);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class CipherlmClient {
  private readonly baseUrl: string;
  private readonly retries: number;
  private readonly chunkBytes: number;

  constructor(private readonly options: CipherlmClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, '');
    this.retries = options.retries ?? 5;
    this.chunkBytes = options.chunkBytes ?? 8 << 20;
  }

  private async send(method: string, path: string, init: { json?: unknown; body?: Uint8Array; retry?: boolean } = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}` };
    let body: string | Uint8Array | undefined;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.body) {
      headers['content-type'] = 'application/octet-stream';
      body = init.body;
    }
    const tries = init.retry === false ? 1 : this.retries;
    for (let attempt = 1; ; attempt++) {
      let response: Response | null = null;
      let failure: unknown;
      try {
        response = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
      } catch (error) {
        failure = error;
      }
      if (response && response.status < 500) {
        if (response.ok) return response;
        const answer = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
        throw new ServiceRequestError(response.status, answer?.error?.code ?? `HTTP_${response.status}`, answer?.error?.message ?? response.statusText);
      }
      if (attempt >= tries) {
        if (response) throw new ServiceRequestError(response.status, `HTTP_${response.status}`, `${method} ${path}: ${response.status} after ${attempt} tries`);
        throw new ServiceRequestError(0, 'ERR_UNREACHABLE', `${method} ${path}: ${(failure as Error)?.message ?? failure} after ${attempt} tries`);
      }
      await sleep(Math.min(200 * 2 ** (attempt - 1), 5000));
    }
  }

  private async json<T>(method: string, path: string, init: { json?: unknown; body?: Uint8Array; retry?: boolean } = {}): Promise<T> {
    return (await (await this.send(method, path, init)).json()) as T;
  }

  async plan(): Promise<Uint8Array> {
    return new Uint8Array(await (await this.send('GET', '/v1/plan')).arrayBuffer());
  }

  info(): Promise<{ preset: string; insecure: boolean; training: boolean; jobKinds: string[]; queue: string }> {
    return this.json('GET', '/v1/info');
  }

  async createContext(): Promise<string> {
    return (await this.json<{ id: string }>('POST', '/v1/contexts', { retry: false })).id;
  }

  context(id: string): Promise<ContextView> {
    return this.json('GET', `/v1/contexts/${id}`);
  }

  async deleteContext(id: string): Promise<void> {
    await this.send('DELETE', `/v1/contexts/${id}`);
  }

  upload(id: string): Promise<UploadView> {
    return this.json('GET', `/v1/uploads/${id}`);
  }

  /**
   * Uploads one object in chunks and returns its object id. A chunk that fails is retried from the
   * offset the server reports, so a dropped connection resends only what did not arrive.
   */
  async uploadObject(contextId: string, kind: 'key' | 'weights' | 'request' | 'state' | 'batch', bytes: Uint8Array, onProgress?: (p: UploadProgress) => void): Promise<string> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const created = await this.json<UploadView>('POST', `/v1/contexts/${contextId}/uploads`, { json: { kind, bytes: bytes.length, sha256 }, retry: false });
    const chunk = Math.min(this.chunkBytes, created.chunkBytes);
    let offset = 0;
    let failures = 0;
    while (offset < bytes.length) {
      try {
        const answer = await this.json<{ received: number }>('PUT', `/v1/uploads/${created.id}?offset=${offset}`, { body: bytes.subarray(offset, offset + chunk), retry: false });
        offset = answer.received;
        failures = 0;
        onProgress?.({ kind, sent: offset, total: bytes.length });
      } catch (error) {
        const retriable = !(error instanceof ServiceRequestError) || error.status === 0 || error.status >= 500 || error.code === 'ERR_UPLOAD_OFFSET';
        if (!retriable || ++failures >= this.retries) throw error;
        await sleep(Math.min(200 * 2 ** failures, 5000));
        offset = (await this.upload(created.id)).received;
      }
    }
    try {
      return (await this.json<{ object: string }>('POST', `/v1/uploads/${created.id}/complete`)).object;
    } catch (error) {
      // an answer lost after the server completed it: the upload knows its object
      if (error instanceof ServiceRequestError && error.code === 'ERR_UPLOAD_COMPLETE') return (await this.upload(created.id)).object!;
      throw error;
    }
  }

  /** Uploads the client's evaluation keys part by part, then its encrypted weights. */
  async registerContext(contextId: string, client: PrivateInferenceClient, onProgress?: (p: UploadProgress & { part: number }) => void): Promise<void> {
    let part = 0;
    for await (const bytes of client.evaluationKeys()) {
      part++;
      await this.uploadObject(contextId, 'key', bytes, (p) => onProgress?.({ ...p, part }));
    }
    await this.uploadObject(contextId, 'weights', await client.encryptWeights(), (p) => onProgress?.({ ...p, part: part + 1 }));
  }

  submit(contextId: string, kind: string, params: Record<string, unknown>): Promise<JobView> {
    return this.json('POST', `/v1/contexts/${contextId}/jobs`, { json: { kind, params }, retry: false });
  }

  job(id: string): Promise<JobView> {
    return this.json('GET', `/v1/jobs/${id}`);
  }

  async jobs(limit = 100): Promise<JobView[]> {
    return (await this.json<{ jobs: JobView[] }>('GET', `/v1/jobs?limit=${limit}`)).jobs;
  }

  /** Follows a job by server-sent events until it ends (reconnecting if the stream drops); returns its last view. */
  async follow(id: string, onEvent?: (job: JobView) => void): Promise<JobView> {
    for (let drops = 0; ; drops++) {
      let last: JobView | null = null;
      try {
        const response = await this.send('GET', `/v1/jobs/${id}/events`);
        const decoder = new TextDecoder();
        let buffered = '';
        for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffered += decoder.decode(piece, { stream: true });
          let end: number;
          while ((end = buffered.indexOf('\n\n')) >= 0) {
            const event = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            const data = event.split('\n').find((line) => line.startsWith('data: '));
            if (event.startsWith('event: job') && data) {
              last = JSON.parse(data.slice(6)) as JobView;
              onEvent?.(last);
            } else if (event.startsWith('event: gone')) {
              throw new ServiceRequestError(404, 'ERR_NOT_FOUND', `job ${id} was deleted`);
            }
          }
        }
      } catch (error) {
        if (error instanceof ServiceRequestError && error.status >= 400 && error.status < 500) throw error;
        if (drops >= this.retries) throw error;
      }
      if (last && TERMINAL.has(last.state)) return last;
      await sleep(Math.min(200 * 2 ** drops, 5000));
    }
  }

  /** A completed job's result, checked against the SHA-256 the server sends with it. */
  async result(id: string): Promise<Uint8Array> {
    const response = await this.send('GET', `/v1/jobs/${id}/result`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (createHash('sha256').update(bytes).digest('hex') !== response.headers.get('x-cipherlm-sha256'))
      throw new ServiceRequestError(response.status, 'ERR_CHECKSUM_MISMATCH', `job ${id}'s result arrived damaged`);
    return bytes;
  }

  /** A fine-tuning job's log of one step (counted from 0), checked against its SHA-256. */
  async trainingLog(jobId: string, step: number): Promise<Uint8Array> {
    const response = await this.send('GET', `/v1/jobs/${jobId}/logs/${step}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (createHash('sha256').update(bytes).digest('hex') !== response.headers.get('x-cipherlm-sha256'))
      throw new ServiceRequestError(response.status, 'ERR_CHECKSUM_MISMATCH', `job ${jobId}'s log of step ${step} arrived damaged`);
    return bytes;
  }

  /**
   * Encrypted inference of token-id sequences: encrypts, uploads, submits, follows and decrypts.
   * With `adapters` (a completed finetune job's id) the server uses the adapters that job trained,
   * still encrypted. Returns the logits per sequence and the finished job.
   */
  async infer(contextId: string, client: PrivateInferenceClient, sequences: number[][], onEvent?: (job: JobView) => void, options: { adapters?: string } = {}): Promise<{ logits: Float64Array[]; job: JobView }> {
    const { request, batch } = await client.encryptBatch(sequences);
    const requestId = await this.uploadObject(contextId, 'request', request);
    const submitted = await this.submit(contextId, 'inference', { request: requestId, ...(options.adapters ? { adapters: options.adapters } : {}) });
    const job = await this.follow(submitted.id, onEvent);
    if (job.state !== 'completed') throw new ServiceRequestError(200, job.error?.code ?? 'ERR_JOB_FAILED', `job ${job.id} ${job.state}: ${job.error?.message ?? ''}`);
    return { logits: await client.decryptLogits(await this.result(job.id), batch), job };
  }

  /**
   * Encrypted fine-tuning: encrypts the client's adapters and head as the initial state and each
   * batch (token ids and labels), uploads them, runs `steps` steps (batch k mod count at step k),
   * follows the job, reads every step's loss from its log and decrypts the trained adapters into a
   * copy of the client's model. The trained state also stays on the server: pass the job's id as
   * `adapters` to `infer`.
   */
  async finetune(
    contextId: string,
    client: PrivateInferenceClient,
    options: { batches: { sequences: number[][]; labels: number[] }[]; steps: number; settings: OptimizerSettings },
    onEvent?: (job: JobView) => void,
  ): Promise<{ job: JobView; losses: number[]; model: Model; state: Uint8Array }> {
    const state = await this.uploadObject(contextId, 'state', await client.encryptTrainingState(options.settings));
    const infos: Batch[] = [];
    const batchIds: string[] = [];
    for (const b of options.batches) {
      const { batch, info } = await client.encryptTrainingBatch(b.sequences, b.labels);
      batchIds.push(await this.uploadObject(contextId, 'batch', batch));
      infos.push(info);
    }
    const submitted = await this.submit(contextId, 'finetune', { state, batches: batchIds, steps: options.steps });
    const job = await this.follow(submitted.id, onEvent);
    if (job.state !== 'completed') throw new ServiceRequestError(200, job.error?.code ?? 'ERR_JOB_FAILED', `job ${job.id} ${job.state}: ${job.error?.message ?? ''}`);
    const losses: number[] = [];
    for (let step = 0; step < options.steps; step++) {
      const k = step % options.batches.length;
      losses.push((await client.readTrainingLog(await this.trainingLog(job.id, step), infos[k], options.batches[k].labels)).loss);
    }
    const trained = await this.result(job.id);
    return { job, losses, model: (await client.decryptTrainingState(trained)).model, state: trained };
  }
}
