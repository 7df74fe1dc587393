/**
 * Resumable jobs through the job runner and its checkpoint store, with the `finetune` job kind's
 * wiring (finetuneJobKind) and a deterministic stand-in trainer whose state is a hash chain over
 * the batches it saw: a quick check of the job system alone (finetune.test.ts runs the encrypted
 * trainer itself through the service, killed and resumed):
 * a run cut off mid-way (its runner abandoned as in kill -9) resumes from the last saved step and
 * ends with the state of an uninterrupted run; a stale attempt cannot store a result.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BlobStore } from '../../src/service/blobs';
import { databaseFile, loadBaseModel, writeConfig } from '../../src/service/config';
import { finetuneJobKind, inferenceJobKind, type FineTuneRunner, type JobKind } from '../../src/service/jobs';
import { JobRunner } from '../../src/service/runner';
import { Store } from '../../src/service/store';
import { sha256, tempDir, TEST_CONFIG, waitFor } from './helpers';

const STEPS = 6;
let dataDir: string;
let store: Store;
let blobs: BlobStore;

beforeAll(async () => {
  dataDir = tempDir('resume');
  writeConfig(dataDir, TEST_CONFIG);
  store = new Store(databaseFile(dataDir));
  blobs = await BlobStore.open(dataDir);
});
afterAll(() => {
  store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Hash-chain "training": state_k = SHA-256(state_{k-1} | batch_k). `stallAt` never finishes that step. */
function chainTrainer(log: number[], stallAt?: number): FineTuneRunner {
  return {
    async train({ steps, initialState, batch, resume, checkpoint, onProgress }) {
      let state = resume ? Buffer.from(resume.state) : Buffer.from(await initialState());
      for (let step = resume ? resume.step + 1 : 0; step < steps; step++) {
        if (step === stallAt) await new Promise(() => {});
        log.push(step);
        state = createHash('sha256').update(state).update(await batch(step)).digest();
        await checkpoint(step, state, Buffer.from(`log ${step}`));
        onProgress({ step, steps });
      }
      return state;
    },
  };
}

async function submit(kind: JobKind): Promise<string> {
  const { tenant } = store.createTenant(`t${Math.random()}`);
  const contextId = store.createContext(tenant.id);
  const stored = async (kind: 'state' | 'batch', i: number) => {
    const id = `obj_${sha256(Buffer.from(`${contextId}${kind}${i}`)).slice(0, 24)}`;
    const bytes = Buffer.from(`${kind} ${i}`);
    store.insertObject({ id, tenantId: tenant.id, contextId, kind, bytes: bytes.length, sha256: await blobs.write(id, bytes), meta: {} });
    return id;
  };
  const state = await stored('state', 0);
  const batches = [await stored('batch', 0), await stored('batch', 1), await stored('batch', 2)];
  const params = kind.checkSubmission({ steps: STEPS, state, batches }, { missing: [], weights: false, object: (id) => store.object(tenant.id, id), job: () => null });
  return store.createJob({ tenantId: tenant.id, contextId, kind: kind.name, params, maxAttempts: 3 }, 10)!.id;
}

const runnerWith = (kind: JobKind) => new JobRunner(store, blobs, TEST_CONFIG, loadBaseModel(TEST_CONFIG), new Map([[inferenceJobKind.name, inferenceJobKind], [kind.name, kind]]), 1);
const resultOf = async (jobId: string) => {
  const job = store.jobById(jobId)!;
  expect(job.state).toBe('completed');
  const object = store.objectById(job.resultObjectId!)!;
  return sha256(await blobs.read(object.id, object.sha256));
};

it('a cut-off fine-tuning job resumes after its last saved step and ends where an uninterrupted run ends', async () => {
  const straightLog: number[] = [];
  const straight = await submit(finetuneJobKind(chainTrainer(straightLog)));
  await runnerWith(finetuneJobKind(chainTrainer(straightLog))).run(straight);
  expect(straightLog).toEqual([0, 1, 2, 3, 4, 5]);

  const firstLog: number[] = [];
  const cut = await submit(finetuneJobKind(chainTrainer(firstLog)));
  void runnerWith(finetuneJobKind(chainTrainer(firstLog, 4))).run(cut); // never finishes: the process "dies" at step 4
  await waitFor('steps 0-3', () => (store.latestCheckpoint(cut)?.step === 3 ? true : undefined), 60_000, 20);
  expect(store.jobById(cut)).toMatchObject({ state: 'running', attempt: 1 });

  expect(store.requeueRunningJobs()).toEqual([cut]); // what a restarted embedded server does
  const secondLog: number[] = [];
  await runnerWith(finetuneJobKind(chainTrainer(secondLog))).run(cut);
  expect(firstLog).toEqual([0, 1, 2, 3]);
  expect(secondLog).toEqual([4, 5]);
  expect(store.jobById(cut)).toMatchObject({ state: 'completed', attempt: 2 });
  expect(await resultOf(cut)).toBe(await resultOf(straight));
  // every step's log is kept, once per finished step
  const tenantId = store.jobById(cut)!.tenantId;
  for (let step = 0; step < STEPS; step++) expect(Buffer.from(await blobs.read(store.logOf(tenantId, cut, step)!.id, store.logOf(tenantId, cut, step)!.sha256)).toString()).toBe(`log ${step}`);
  expect(store.logOf(tenantId, cut, STEPS)).toBeNull();
});

it('only the attempt that owns a job stores its result', async () => {
  const job = await submit(finetuneJobKind(chainTrainer([])));
  const stale = store.claimJob(job)!;
  const current = store.claimJob(job)!; // handed out again (its worker presumed dead)
  expect(current).toBe(stale + 1);
  expect(store.finishJob(job, stale, { errorCode: 'ERR_X', errorMessage: 'stale' })).toBe(false);
  expect(store.jobById(job)!.state).toBe('running');
  expect(store.claimJob(job)).toBe(current + 1);
  expect(store.claimJob(job)).toBeNull(); // out of attempts: failed, not run a fourth time
  expect(store.jobById(job)).toMatchObject({ state: 'failed', errorCode: 'ERR_JOB_INTERRUPTED' });
});
