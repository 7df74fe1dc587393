/**
 * The service's state in SQLite (better-sqlite3): tenants with hashed tokens, contexts, stored
 * objects (their bytes live in the blob store), uploads, jobs and fine-tuning checkpoints. Every
 * query that takes an id also takes the tenant, so another tenant's ids simply do not exist. WAL
 * mode lets the server and worker processes on this machine share one database file.
 */
import { createHash, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';

export type ObjectKind = 'key' | 'weights' | 'request' | 'state' | 'batch' | 'result' | 'checkpoint' | 'log';
export type UploadKind = 'key' | 'weights' | 'request' | 'state' | 'batch';
export type UploadState = 'open' | 'complete' | 'discarded';
export type JobState = 'queued' | 'running' | 'completed' | 'failed' | 'canceled';

export interface Tenant {
  id: string;
  name: string;
}
export interface StoredObject {
  id: string;
  tenantId: string;
  contextId: string;
  kind: ObjectKind;
  bytes: number;
  sha256: string;
  /** What validation learnt of it: { part, elements } for key parts. */
  meta: Record<string, unknown>;
  createdAt: number;
}
export interface Upload {
  id: string;
  tenantId: string;
  contextId: string;
  kind: UploadKind;
  total: number;
  sha256: string;
  received: number;
  state: UploadState;
  objectId: string | null;
  errorCode: string | null;
}
export interface Job {
  id: string;
  tenantId: string;
  contextId: string;
  kind: string;
  params: Record<string, unknown>;
  state: JobState;
  attempt: number;
  maxAttempts: number;
  progress: Record<string, unknown> | null;
  resultObjectId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
/** API tokens are 256 random bits, so one SHA-256 is enough to store them (no dictionary to slow down). */
export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS contexts (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, tenant_id TEXT NOT NULL, context_id TEXT NOT NULL,
  kind TEXT NOT NULL, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL, meta TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, context_id TEXT NOT NULL, kind TEXT NOT NULL, total INTEGER NOT NULL,
  sha256 TEXT NOT NULL, received INTEGER NOT NULL, state TEXT NOT NULL, object_id TEXT, error_code TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, tenant_id TEXT NOT NULL, context_id TEXT NOT NULL,
  kind TEXT NOT NULL, params TEXT NOT NULL, state TEXT NOT NULL, attempt INTEGER NOT NULL, max_attempts INTEGER NOT NULL,
  progress TEXT, result_object TEXT, error_code TEXT, error_message TEXT,
  created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, seq);
CREATE TABLE IF NOT EXISTS checkpoints (job_id TEXT NOT NULL, step INTEGER NOT NULL, object_id TEXT NOT NULL, PRIMARY KEY (job_id, step));
`;

type Row = Record<string, unknown>;
const parse = (text: unknown) => (typeof text === 'string' ? JSON.parse(text) : null);

function toObject(r: Row): StoredObject {
  return { id: r.id as string, tenantId: r.tenant_id as string, contextId: r.context_id as string, kind: r.kind as ObjectKind, bytes: r.bytes as number, sha256: r.sha256 as string, meta: parse(r.meta), createdAt: r.created_at as number };
}
function toUpload(r: Row): Upload {
  return { id: r.id as string, tenantId: r.tenant_id as string, contextId: r.context_id as string, kind: r.kind as UploadKind, total: r.total as number, sha256: r.sha256 as string, received: r.received as number, state: r.state as UploadState, objectId: (r.object_id as string) ?? null, errorCode: (r.error_code as string) ?? null };
}
function toJob(r: Row): Job {
  return {
    id: r.id as string, tenantId: r.tenant_id as string, contextId: r.context_id as string, kind: r.kind as string, params: parse(r.params),
    state: r.state as JobState, attempt: r.attempt as number, maxAttempts: r.max_attempts as number, progress: parse(r.progress),
    resultObjectId: (r.result_object as string) ?? null, errorCode: (r.error_code as string) ?? null, errorMessage: (r.error_message as string) ?? null,
    createdAt: r.created_at as number, startedAt: (r.started_at as number) ?? null, finishedAt: (r.finished_at as number) ?? null,
  };
}

export class Store {
  readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  // tenants

  /** A new tenant and its token; only the token's hash is kept. */
  createTenant(name: string): { tenant: Tenant; token: string } {
    const token = `clm_${randomBytes(32).toString('base64url')}`;
    const tenant = { id: newId('ten'), name };
    this.db.prepare('INSERT INTO tenants (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)').run(tenant.id, name, hashToken(token), Date.now());
    return { tenant, token };
  }

  tenantByName(name: string): Tenant | null {
    const r = this.db.prepare('SELECT id, name FROM tenants WHERE name = ?').get(name) as Tenant | undefined;
    return r ?? null;
  }

  tenantByToken(token: string): Tenant | null {
    const r = this.db.prepare('SELECT id, name FROM tenants WHERE token_hash = ?').get(hashToken(token)) as Tenant | undefined;
    return r ?? null;
  }

  // contexts

  createContext(tenantId: string): string {
    const id = newId('ctx');
    this.db.prepare('INSERT INTO contexts (id, tenant_id, created_at) VALUES (?, ?, ?)').run(id, tenantId, Date.now());
    return id;
  }

  hasContext(tenantId: string, id: string): boolean {
    return this.db.prepare('SELECT 1 FROM contexts WHERE id = ? AND tenant_id = ?').get(id, tenantId) !== undefined;
  }

  /** Removes a context's rows; returns the object ids and open upload ids whose files the caller deletes. */
  deleteContext(tenantId: string, id: string): { objects: string[]; uploads: string[] } {
    return this.db.transaction(() => {
      const objects = (this.db.prepare('SELECT id FROM objects WHERE context_id = ? AND tenant_id = ?').all(id, tenantId) as { id: string }[]).map((r) => r.id);
      const uploads = (this.db.prepare("SELECT id FROM uploads WHERE context_id = ? AND tenant_id = ? AND state = 'open'").all(id, tenantId) as { id: string }[]).map((r) => r.id);
      this.db.prepare('DELETE FROM checkpoints WHERE job_id IN (SELECT id FROM jobs WHERE context_id = ? AND tenant_id = ?)').run(id, tenantId);
      this.db.prepare('DELETE FROM jobs WHERE context_id = ? AND tenant_id = ?').run(id, tenantId);
      this.db.prepare('DELETE FROM uploads WHERE context_id = ? AND tenant_id = ?').run(id, tenantId);
      this.db.prepare('DELETE FROM objects WHERE context_id = ? AND tenant_id = ?').run(id, tenantId);
      this.db.prepare('DELETE FROM contexts WHERE id = ? AND tenant_id = ?').run(id, tenantId);
      return { objects, uploads };
    })();
  }

  // objects

  insertObject(o: Omit<StoredObject, 'createdAt'>): StoredObject {
    const createdAt = Date.now();
    this.db.prepare('INSERT INTO objects (id, tenant_id, context_id, kind, bytes, sha256, meta, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(o.id, o.tenantId, o.contextId, o.kind, o.bytes, o.sha256, JSON.stringify(o.meta), createdAt);
    return { ...o, createdAt };
  }

  object(tenantId: string, id: string): StoredObject | null {
    const r = this.db.prepare('SELECT * FROM objects WHERE id = ? AND tenant_id = ?').get(id, tenantId) as Row | undefined;
    return r ? toObject(r) : null;
  }

  /** A context's objects of a kind, in the order they were stored. */
  objectsOf(tenantId: string, contextId: string, kind: ObjectKind): StoredObject[] {
    return (this.db.prepare('SELECT * FROM objects WHERE tenant_id = ? AND context_id = ? AND kind = ? ORDER BY seq').all(tenantId, contextId, kind) as Row[]).map(toObject);
  }

  // uploads

  createUpload(u: Pick<Upload, 'tenantId' | 'contextId' | 'kind' | 'total' | 'sha256'>): Upload {
    const id = newId('upl');
    const now = Date.now();
    this.db.prepare("INSERT INTO uploads (id, tenant_id, context_id, kind, total, sha256, received, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, 'open', ?, ?)").run(id, u.tenantId, u.contextId, u.kind, u.total, u.sha256, now, now);
    return this.upload(u.tenantId, id)!;
  }

  upload(tenantId: string, id: string): Upload | null {
    const r = this.db.prepare('SELECT * FROM uploads WHERE id = ? AND tenant_id = ?').get(id, tenantId) as Row | undefined;
    return r ? toUpload(r) : null;
  }

  /** Records a chunk only if the upload is still open at the offset the chunk was written at. */
  advanceUpload(id: string, from: number, to: number): boolean {
    return this.db.prepare("UPDATE uploads SET received = ?, updated_at = ? WHERE id = ? AND state = 'open' AND received = ?").run(to, Date.now(), id, from).changes === 1;
  }

  /** Stores the validated object and closes its upload, atomically. */
  completeUpload(id: string, object: Omit<StoredObject, 'createdAt'>): boolean {
    return this.db.transaction(() => {
      const closed = this.db.prepare("UPDATE uploads SET state = 'complete', object_id = ?, updated_at = ? WHERE id = ? AND state = 'open'").run(object.id, Date.now(), id).changes === 1;
      if (closed) this.insertObject(object);
      return closed;
    })();
  }

  /** Closes an open upload whose bytes were refused (checksum, validation); its code stays on it. */
  discardUpload(id: string, errorCode: string): void {
    this.db.prepare("UPDATE uploads SET state = 'discarded', error_code = ?, updated_at = ? WHERE id = ? AND state = 'open'").run(errorCode, Date.now(), id);
  }

  /** Open uploads left by a process that died: discarded (they cannot be trusted), and listed. */
  discardOpenUploads(errorCode: string): Upload[] {
    return this.db.transaction(() => {
      const open = (this.db.prepare("SELECT * FROM uploads WHERE state = 'open'").all() as Row[]).map(toUpload);
      this.db.prepare("UPDATE uploads SET state = 'discarded', error_code = ?, updated_at = ? WHERE state = 'open'").run(errorCode, Date.now());
      return open;
    })();
  }

  // jobs

  createJob(j: Pick<Job, 'tenantId' | 'contextId' | 'kind' | 'params' | 'maxAttempts'>, maxActivePerTenant: number): Job | null {
    return this.db.transaction(() => {
      const active = this.db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE tenant_id = ? AND state IN ('queued', 'running')").get(j.tenantId) as { n: number };
      if (active.n >= maxActivePerTenant) return null;
      const id = newId('job');
      this.db.prepare("INSERT INTO jobs (id, tenant_id, context_id, kind, params, state, attempt, max_attempts, created_at) VALUES (?, ?, ?, ?, ?, 'queued', 0, ?, ?)").run(id, j.tenantId, j.contextId, j.kind, JSON.stringify(j.params), j.maxAttempts, Date.now());
      return this.job(j.tenantId, id);
    }).immediate();
  }

  job(tenantId: string, id: string): Job | null {
    const r = this.db.prepare('SELECT * FROM jobs WHERE id = ? AND tenant_id = ?').get(id, tenantId) as Row | undefined;
    return r ? toJob(r) : null;
  }

  /** For workers, which get only a job id from the queue. */
  jobById(id: string): Job | null {
    const r = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return r ? toJob(r) : null;
  }

  jobsOf(tenantId: string, limit: number): Job[] {
    return (this.db.prepare('SELECT * FROM jobs WHERE tenant_id = ? ORDER BY seq DESC LIMIT ?').all(tenantId, limit) as Row[]).map(toJob);
  }

  /** Queued jobs in submission order (the embedded dispatcher's queue). */
  queuedJobIds(limit: number): string[] {
    return (this.db.prepare("SELECT id FROM jobs WHERE state = 'queued' ORDER BY seq LIMIT ?").all(limit) as { id: string }[]).map((r) => r.id);
  }

  /**
   * Takes a job for one run: a queued job, or a running one whose runner died (the queue hands it
   * out again only then). Returns the attempt number that owns it, or null when it is not runnable;
   * a job out of attempts is failed here.
   */
  claimJob(id: string): number | null {
    return this.db.transaction(() => {
      const job = this.jobById(id);
      if (!job || (job.state !== 'queued' && job.state !== 'running')) return null;
      if (job.attempt >= job.maxAttempts) {
        this.db.prepare("UPDATE jobs SET state = 'failed', error_code = 'ERR_JOB_INTERRUPTED', error_message = ?, finished_at = ? WHERE id = ?").run(`interrupted ${job.attempt} times`, Date.now(), id);
        return null;
      }
      this.db.prepare("UPDATE jobs SET state = 'running', attempt = attempt + 1, started_at = ?, progress = NULL WHERE id = ?").run(Date.now(), id);
      return job.attempt + 1;
    }).immediate();
  }

  setProgress(id: string, attempt: number, progress: Record<string, unknown>): void {
    this.db.prepare("UPDATE jobs SET progress = ? WHERE id = ? AND attempt = ? AND state = 'running'").run(JSON.stringify(progress), id, attempt);
  }

  /** Ends the run that owns the job; a stale run (another attempt took over) changes nothing. */
  finishJob(id: string, attempt: number, outcome: { result: Omit<StoredObject, 'createdAt'> } | { errorCode: string; errorMessage: string }): boolean {
    return this.db.transaction(() => {
      const now = Date.now();
      if ('result' in outcome) {
        const done = this.db.prepare("UPDATE jobs SET state = 'completed', result_object = ?, finished_at = ? WHERE id = ? AND attempt = ? AND state = 'running'").run(outcome.result.id, now, id, attempt).changes === 1;
        if (done) this.insertObject(outcome.result);
        return done;
      }
      return this.db.prepare("UPDATE jobs SET state = 'failed', error_code = ?, error_message = ?, finished_at = ? WHERE id = ? AND attempt = ? AND state = 'running'").run(outcome.errorCode, outcome.errorMessage, now, id, attempt).changes === 1;
    }).immediate();
  }

  /** Jobs whose run was cut off by a crash of the only process that runs them (embedded mode). */
  requeueRunningJobs(): string[] {
    return this.db.transaction(() => {
      const ids = (this.db.prepare("SELECT id FROM jobs WHERE state = 'running' ORDER BY seq").all() as { id: string }[]).map((r) => r.id);
      this.db.prepare("UPDATE jobs SET state = 'queued', progress = NULL WHERE state = 'running'").run();
      return ids;
    })();
  }

  // checkpoints of resumable jobs

  /** The state after `step`, and that step's log when there is one (both or neither). */
  saveCheckpoint(jobId: string, step: number, object: Omit<StoredObject, 'createdAt'>, log?: Omit<StoredObject, 'createdAt'>): void {
    this.db.transaction(() => {
      this.insertObject(object);
      if (log) this.insertObject(log);
      this.db.prepare('INSERT INTO checkpoints (job_id, step, object_id) VALUES (?, ?, ?)').run(jobId, step, object.id);
    })();
  }

  latestCheckpoint(jobId: string): { step: number; objectId: string } | null {
    const r = this.db.prepare('SELECT step, object_id FROM checkpoints WHERE job_id = ? ORDER BY step DESC LIMIT 1').get(jobId) as { step: number; object_id: string } | undefined;
    return r ? { step: r.step, objectId: r.object_id } : null;
  }

  /** The log a job's `step` left (the last, should an interrupted attempt have run it before), or null. */
  logOf(tenantId: string, jobId: string, step: number): StoredObject | null {
    const r = this.db
      .prepare("SELECT * FROM objects WHERE tenant_id = ? AND kind = 'log' AND json_extract(meta, '$.job') = ? AND json_extract(meta, '$.step') = ? ORDER BY seq DESC LIMIT 1")
      .get(tenantId, jobId, step) as Row | undefined;
    return r ? toObject(r) : null;
  }

  objectById(id: string): StoredObject | null {
    const r = this.db.prepare('SELECT * FROM objects WHERE id = ?').get(id) as Row | undefined;
    return r ? toObject(r) : null;
  }
}
