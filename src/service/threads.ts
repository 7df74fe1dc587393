/** A fixed set of job threads (job-thread.ts), each running one job at a time. */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CipherlmError } from '../api/errors';

export interface ThreadData {
  dataDir: string;
  kindModules: string[];
  /** Engine threads of each job thread's private-inference server. */
  engineThreads: number;
}
export interface ThreadReply {
  jobId: string;
  /** A failure outside the job (the job itself records its own errors). */
  error?: string;
}

/** The compiled entry: the same path from src/service (tests) and dist/service. */
const ENTRY = path.resolve(__dirname, '..', '..', 'dist', 'service', 'job-thread.js');

interface Slot {
  worker: Worker;
  busy: ((reply: ThreadReply) => void) | null;
}

export class JobThreads {
  private constructor(private readonly slots: Slot[]) {}

  static async start(count: number, data: ThreadData): Promise<JobThreads> {
    const slots = await Promise.all(
      Array.from({ length: count }, async () => {
        const worker = new Worker(ENTRY, { workerData: data });
        await new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
        });
        const slot: Slot = { worker, busy: null };
        worker.on('message', (reply: ThreadReply) => {
          const done = slot.busy;
          slot.busy = null;
          done?.(reply);
        });
        // a thread that dies takes the process down with it: its job's state would be unknown
        worker.on('error', (error) => {
          throw error;
        });
        return slot;
      }),
    );
    return new JobThreads(slots);
  }

  get idle(): number {
    return this.slots.filter((s) => !s.busy).length;
  }

  /** Runs a job on an idle thread; resolves when the thread reports it done. */
  run(jobId: string): Promise<void> {
    const slot = this.slots.find((s) => !s.busy);
    if (!slot) return Promise.reject(new CipherlmError('no idle job thread', 'ERR_INTERNAL'));
    return new Promise((resolve, reject) => {
      slot.busy = (reply) => (reply.error ? reject(new CipherlmError(reply.error, 'ERR_INTERNAL')) : resolve());
      slot.worker.postMessage(jobId);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
