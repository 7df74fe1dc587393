/**
 * Job kinds. A kind checks a submission's parameters in the server and runs in a job thread, where
 * it reads its context's stored objects, reports progress, may checkpoint, and returns the result
 * bytes (stored as the job's result object). `inference` is built in, `finetune` too when the
 * service offers fine-tuning; further kinds come from modules (`--kind-module`).
 */
import { InvalidArgumentError } from '../api/errors';
import type { InferenceProgress, PrivateInferenceServer } from '../private/server';
import { badRequest, conflict } from './errors';
import type { Job, ObjectKind, StoredObject } from './store';

export interface SubmissionScope {
  /** An object of the job's own tenant and context, or null. */
  object(id: string): StoredObject | null;
  /** A job of the same tenant and context, or null. */
  job(id: string): Job | null;
  /** The evaluation keys the context still lacks, or nothing. */
  missing: string[];
  /** Whether the context has its encrypted weights (plain inference needs them). */
  weights: boolean;
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
    /** Saves the state after `step` (and that step's log, when there is one), durably, before the job goes on. */
    save(step: number, bytes: Uint8Array, log?: Uint8Array): Promise<void>;
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

/**
 * Encrypted inference on an uploaded request (client.encryptBatch()); the result is the encrypted
 * logits. With `adapters` (the id of a completed `finetune` job of the context) it runs with the
 * adapters and head that job trained, still encrypted; else with the context's uploaded weights.
 */
export const inferenceJobKind: JobKind = {
  name: 'inference',
  checkSubmission(params, scope) {
    requireEvaluationKeys(scope);
    const request = ownObject(scope, params, 'request', 'request');
    if (params.adapters === undefined) {
      if (!scope.weights) throw conflict('ERR_CONTEXT_INCOMPLETE', 'the context lacks encrypted weights (or name a finetune job in adapters)');
      return { request };
    }
    if (typeof params.adapters !== 'string') throw badRequest('ERR_VALIDATION', 'adapters must be a job id');
    const trained = scope.job(params.adapters);
    if (!trained || trained.kind !== 'finetune') throw badRequest('ERR_UNKNOWN_JOB', `adapters: no finetune job ${params.adapters} in this context`);
    if (trained.state !== 'completed' || !trained.resultObjectId) throw conflict('ERR_JOB_NOT_COMPLETED', `adapters: job ${params.adapters} is ${trained.state}`);
    return { request, adapters: trained.id, state: trained.resultObjectId };
  },
  async run(context) {
    const server = await context.inferenceServer();
    const { request: requestId, state } = context.job.params as { request: string; state?: string };
    const request = await context.read(requestId);
    const onProgress = (p: InferenceProgress) =>
      context.progress({ stage: p.stage, stagesDone: p.stagesDone, stagesTotal: p.stagesTotal, bootstrapsDone: p.bootstrapsDone, bootstrapsTotal: p.bootstrapsTotal, seconds: p.seconds, eta: Number.isFinite(p.eta) ? p.eta : null });
    if (state === undefined) return server.infer(request, { onProgress });
    server.acceptTrainingState(await context.read(state));
    return server.inferTrained(request, { onProgress });
  },
};

/**
 * Trains for `steps` steps, one batch per step (step k, counted from 0, uses `batch(k)`), starting
 * after `resume.step` from `resume.state` or else from `initialState()`, awaiting `checkpoint`
 * after every step, and returns the final state. `encryptedTrainer` is the real one; the job
 * system's own tests put a stand-in here.
 */
export interface FineTuneRunner {
  train(input: {
    server: PrivateInferenceServer;
    steps: number;
    initialState(): Promise<Uint8Array>;
    batch(step: number): Promise<Uint8Array>;
    resume: { step: number; state: Uint8Array } | null;
    /** Awaited after every step with the state after it and the step's log: the job resumes from the last one saved. */
    checkpoint(step: number, state: Uint8Array, log: Uint8Array): Promise<void>;
    onProgress(event: Record<string, unknown> & { step: number; steps: number }): void;
  }): Promise<Uint8Array>;
}

/**
 * The encrypted trainer of src/private: the context's server takes the encrypted training state
 * (the client's initial one, or the job's last checkpoint), runs `trainStep` on each encrypted
 * batch and hands back `trainingStateBytes()` after every step. Nothing is decrypted here: the
 * server holds the client's evaluation keys only.
 */
export const encryptedTrainer: FineTuneRunner = {
  async train({ server, steps, initialState, batch, resume, checkpoint, onProgress }) {
    server.acceptTrainingState(resume ? resume.state : await initialState());
    const first = resume ? resume.step + 1 : 0;
    onProgress({ step: first, steps, resumedFrom: resume ? resume.step : null });
    for (let step = first; step < steps; step++) {
      const log = await server.trainStep(await batch(step), {
        onProgress: (p) => onProgress({ step, steps, resumedFrom: resume ? resume.step : null, stage: p.stage, stagesDone: p.stagesDone, stagesTotal: p.stagesTotal, bootstrapsDone: p.bootstrapsDone, bootstrapsTotal: p.bootstrapsTotal, seconds: p.seconds, eta: Number.isFinite(p.eta) ? p.eta : null }),
      });
      await checkpoint(step, server.trainingStateBytes(), log);
    }
    return server.trainingStateBytes();
  },
};

/**
 * The `finetune` kind: `{ state, batches, steps }`: `state` an uploaded encrypted training state
 * (client.encryptTrainingState()), `batches` uploaded encrypted training batches
 * (client.encryptTrainingBatch()), batch k mod count used at step k. The result is the encrypted
 * state after the last step (its adapters stay usable on the server: an inference job's
 * `adapters`); every step's encrypted log (the batch's logits, for the client's loss) is kept.
 */
export function finetuneJobKind(runner: FineTuneRunner = encryptedTrainer): JobKind {
  return {
    name: 'finetune',
    checkSubmission(params, scope) {
      requireEvaluationKeys(scope);
      const { steps, batches } = params;
      if (!Number.isInteger(steps) || (steps as number) < 1) throw badRequest('ERR_VALIDATION', 'steps must be a positive integer');
      if (!Array.isArray(batches) || batches.length === 0) throw badRequest('ERR_VALIDATION', 'batches must list at least one object id');
      return {
        steps,
        state: ownObject(scope, params, 'state', 'state'),
        batches: batches.map((id, i) => ownObject(scope, { [`batches[${i}]`]: id }, `batches[${i}]`, 'batch')),
      };
    },
    async run(context) {
      const { steps, state, batches } = context.job.params as { steps: number; state: string; batches: string[] };
      const latest = await context.checkpoints.latest();
      return runner.train({
        server: await context.inferenceServer(),
        steps,
        initialState: () => context.read(state),
        batch: (step) => context.read(batches[step % batches.length]),
        resume: latest && { step: latest.step, state: latest.bytes },
        checkpoint: (step, bytes, log) => context.checkpoints.save(step, bytes, log),
        onProgress: (event) => context.progress(event),
      });
    },
  };
}

/** The built-in kinds (`finetune` with `training`) plus those of `modules` (each exporting `jobKind`), by name. */
export function loadJobKinds(modules: readonly string[], training: boolean): Map<string, JobKind> {
  const kinds = new Map<string, JobKind>([[inferenceJobKind.name, inferenceJobKind]]);
  if (training) kinds.set('finetune', finetuneJobKind());
  for (const file of modules) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const kind = (require(file) as { jobKind?: JobKind }).jobKind;
    if (!kind || typeof kind.name !== 'string' || typeof kind.run !== 'function' || typeof kind.checkSubmission !== 'function')
      throw new InvalidArgumentError(`${file} does not export a jobKind`, 'ERR_INVALID_ARGUMENT');
    kinds.set(kind.name, kind);
  }
  return kinds;
}
