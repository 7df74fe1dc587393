/**
 * How submitted jobs reach job threads. Embedded (the default): the server's own threads take
 * queued jobs from SQLite in submission order. Redis: the server adds each job id to a BullMQ queue
 * and `cipherlm worker` processes take them; BullMQ's locks hand a dead worker's job to another.
 * The database stays the record of every job's state in both modes.
 */
import { Queue, Worker } from 'bullmq';
import type { Store } from './store';
import type { JobThreads } from './threads';

export interface JobQueue {
  /** Puts back whatever a previous process left: called once at startup. */
  start(): Promise<void>;
  enqueue(jobId: string): Promise<void>;
  close(): Promise<void>;
}

export class EmbeddedQueue implements JobQueue {
  private readonly inFlight = new Set<string>();
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly threads: JobThreads,
    private readonly onError: (error: unknown) => void,
    private readonly onRequeue: (jobIds: string[]) => void,
  ) {}

  /** Jobs that were running when the process died are queued again (their attempt counts). */
  async start(): Promise<void> {
    const requeued = this.store.requeueRunningJobs();
    if (requeued.length > 0) this.onRequeue(requeued);
    this.pump();
  }

  async enqueue(): Promise<void> {
    this.pump();
  }

  private pump(): void {
    if (this.closed) return;
    let idle = this.threads.idle;
    if (idle === 0) return;
    for (const id of this.store.queuedJobIds(idle + this.inFlight.size)) {
      if (idle === 0) break;
      if (this.inFlight.has(id)) continue;
      idle--;
      this.inFlight.add(id);
      this.threads
        .run(id)
        .catch(this.onError)
        .finally(() => {
          this.inFlight.delete(id);
          this.pump();
        });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export const QUEUE_NAME = 'cipherlm-jobs';

export interface RedisLocking {
  /** How long a worker's lock on a job lasts without renewal (ms); a killed worker's job waits this long. */
  lockDurationMs: number;
  /** How often workers look for jobs whose lock expired (ms). */
  stalledIntervalMs: number;
}
export const DEFAULT_LOCKING: RedisLocking = { lockDurationMs: 30_000, stalledIntervalMs: 15_000 };

export function redisConnection(url: string): { host: string; port: number; db: number; password?: string; username?: string } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379), db: Number(u.pathname.slice(1) || 0), ...(u.password ? { password: decodeURIComponent(u.password) } : {}), ...(u.username ? { username: decodeURIComponent(u.username) } : {}) };
}

export class RedisQueue implements JobQueue {
  private readonly queue: Queue;

  constructor(
    url: string,
    private readonly store: Store,
  ) {
    this.queue = new Queue(QUEUE_NAME, { connection: redisConnection(url) });
  }

  /** Queued jobs are added again: BullMQ ignores an id it already holds, and a claim runs a job once. */
  async start(): Promise<void> {
    for (const id of this.store.queuedJobIds(Number.MAX_SAFE_INTEGER)) await this.enqueue(id);
  }

  async enqueue(jobId: string): Promise<void> {
    await this.queue.add('run', { jobId }, { jobId, removeOnComplete: true, removeOnFail: true });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** The worker side: takes job ids from Redis and runs them on this process's job threads. */
export class RedisJobWorker {
  private readonly worker: Worker;

  constructor(url: string, threads: JobThreads, concurrency: number, locking: RedisLocking) {
    this.worker = new Worker(QUEUE_NAME, async (job) => threads.run((job.data as { jobId: string }).jobId), {
      connection: redisConnection(url),
      concurrency,
      lockDuration: locking.lockDurationMs,
      stalledInterval: locking.stalledIntervalMs,
      // our own attempt count (Store.claimJob) decides when an interrupted job has failed
      maxStalledCount: 1000,
    });
  }

  async close(): Promise<void> {
    await this.worker.close();
  }
}
