/**
 * Job kinds. A kind checks a submission's parameters in the server and runs in a job thread, where
 * it reads its context's stored objects, reports progress, may checkpoint, and returns the result
 * bytes (stored as the job's result object). Kinds are pluggable: `inference` is built in;
 * `finetune` is added with the encrypted training loop, through `finetuneJobKind(runner)`.
 */
import { InvalidArgumentError } from '../api/errors';
import type { PrivateInferenceServer } from '../private/server';
import { badRequest, conflict } from './errors';
import type { Job, ObjectKind, StoredObject } from './store';

export interface SubmissionScope {
  /** An object of the job's own tenant and context, or null. */
  object(id: string): StoredObject | null;
  /** What the context still lacks for encrypted evaluation (keys, weights), or nothing. */
  missing: string[];
}

export interface JobRunContext {
  job: Job;
  /** The private-inference server of the job's context, with its keys and encrypted weights loaded. */
  inferenceServer(): Promise<PrivateInferenceServer>;
  /** A stored object of the job's context, checksum verified. */
  read(objectId: string): Promise<Uint8Array>;
  progress(event: Record<string, unknown>): void;
  checkpoints: {
    /** The last saved checkpoint of this job (from any earlier attempt), or null. */
    latest(): Promise<{ step: number; bytes: Uint8Array } | null>;
    /** Saves the state after `step`, durably, before the job goes on. */
    save(step: number, bytes: Uint8Array): Promise<void>;
  };
}

export interface JobKind {
  readonly name: string;
  /** Validates parameters at submission (400 with a stable code when wrong); returns what is stored. */
  checkSubmission(params: Record<string, unknown>, scope: SubmissionScope): Record<string, unknown>;
  /** Runs the job; returns the result's bytes. Typed errors fail the job with their code. */
  run(context: JobRunContext): Promise<Uint8Array>;
}

/** A submitted object id that must name an object of this context, of the given kind. */
function requireEvaluationKeys(scope: SubmissionScope): void {
  if (scope.missing.length > 0) throw conflict('ERR_CONTEXT_INCOMPLETE', `the context lacks ${scope.missing.join(', ')}`);
}

function ownObject(scope: SubmissionScope, params: Record<string, unknown>, field: string, kind: ObjectKind): string {
  const id = params[field];
  if (typeof id !== 'string') throw badRequest('ERR_VALIDATION', `${field} must be an object id`);
  const found = scope.object(id);
  if (!found) throw badRequest('ERR_UNKNOWN_OBJECT', `${field}: no ${kind} object ${id} in this context`);
  if (found.kind !== kind) throw badRequest('ERR_WRONG_OBJECT_KIND', `${field}: object ${id} is a ${found.kind}, not a ${kind}`);
  return id;
}

/** Encrypted inference on an uploaded request (client.encryptBatch()); the result is the encrypted logits. */
export const inferenceJobKind: JobKind = {
  name: 'inference',
  checkSubmission(params, scope) {
    requireEvaluationKeys(scope);
    return { request: ownObject(scope, params, 'request', 'request') };
  },
  async run(context) {
    const server = await context.inferenceServer();
    const request = await context.read(context.job.params.request as string);
    return server.infer(request, {
      onProgress: (p) => context.progress({ stage: p.stage, stagesDone: p.stagesDone, stagesTotal: p.stagesTotal, bootstrapsDone: p.bootstrapsDone, bootstrapsTotal: p.bootstrapsTotal, seconds: p.seconds, eta: Number.isFinite(p.eta) ? p.eta : null }),
    });
  },
};

/**
 * What the encrypted training loop (issue 12) provides to become the `finetune` job kind. It trains
 * the context's encrypted adapters on encrypted batches for `steps` steps, one batch per step,
 * starting after `resume.step` from `resume.state` (encrypted adapters and optimizer state as saved
 * by `checkpoint`) or from the uploaded weights, and returns the final encrypted adapters.
 */
export interface FineTuneRunner {
  train(input: {
    server: PrivateInferenceServer;
    steps: number;
    batch(step: number): Promise<Uint8Array>;
    resume: { step: number; state: Uint8Array } | null;
    /** Awaited after every step: the job resumes from the last one saved. */
    checkpoint(step: number, state: Uint8Array): Promise<void>;
    onProgress(event: { step: number; steps: number; loss?: number }): void;
  }): Promise<Uint8Array>;
}

/** The `finetune` kind: `{ steps, batches: [request object ids] }`, batch i used at step i mod count. */
export function finetuneJobKind(runner: FineTuneRunner): JobKind {
  return {
    name: 'finetune',
    checkSubmission(params, scope) {
      requireEvaluationKeys(scope);
      const { steps, batches } = params;
      if (!Number.isInteger(steps) || (steps as number) < 1) throw badRequest('ERR_VALIDATION', 'steps must be a positive integer');
      if (!Array.isArray(batches) || batches.length === 0) throw badRequest('ERR_VALIDATION', 'batches must list at least one object id');
      return { steps, batches: batches.map((id, i) => ownObject(scope, { [`batches[${i}]`]: id }, `batches[${i}]`, 'request')) };
    },
    async run(context) {
      const { steps, batches } = context.job.params as { steps: number; batches: string[] };
      const latest = await context.checkpoints.latest();
      return runner.train({
        server: await context.inferenceServer(),
        steps,
        batch: (step) => context.read(batches[step % batches.length]),
        resume: latest && { step: latest.step, state: latest.bytes },
        checkpoint: (step, state) => context.checkpoints.save(step, state),
        onProgress: (event) => context.progress(event),
      });
    },
  };
}

/** The built-in kinds plus those of `modules` (each exporting `jobKind`), by name. */
export function loadJobKinds(modules: readonly string[]): Map<string, JobKind> {
  const kinds = new Map<string, JobKind>([[inferenceJobKind.name, inferenceJobKind]]);
  for (const file of modules) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const kind = (require(file) as { jobKind?: JobKind }).jobKind;
    if (!kind || typeof kind.name !== 'string' || typeof kind.run !== 'function' || typeof kind.checkSubmission !== 'function')
      throw new InvalidArgumentError(`${file} does not export a jobKind`, 'ERR_INVALID_ARGUMENT');
    kinds.set(kind.name, kind);
  }
  return kinds;
}
