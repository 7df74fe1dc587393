/** Shared by the service tests: data directories, tokens, processes of the CLI, waiting. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCheckpoint } from '../../src/model/checkpoint';
import type { Model } from '../../src/model/model';
import { pretrainedFile, WEIGHTS } from '../../src/model/setup';
import type { ServiceConfig } from '../../src/service/config';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
export const TEST_CONFIG: ServiceConfig = { preset: 'test', modelFile: pretrainedFile('hefriendly'), allowInsecureParametersForTestsOnly: true, maxGroups: 8 };
export const OPT_IN = { allowInsecureParametersForTestsOnly: true } as const;

/**
 * The service's process-level tests with encrypted jobs (e2e.test.ts, redis.test.ts,
 * finetune.test.ts: key registration and jobs of minutes each, about 15 minutes together on 2
 * shared cores; memory-scan.test.ts, 1 to 2 minutes) run with CIPHERLM_SERVICE_SUITE=full;
 * `npm test` leaves them out, with a warning, to keep .ci/run within its 30 minutes.
 */
export const FULL_SERVICE_SUITE = process.env.CIPHERLM_SERVICE_SUITE === 'full';
export function leftOutOfQuickSuite(file: string): boolean {
  if (!FULL_SERVICE_SUITE) console.warn(`${file}: left out of the quick suite (CIPHERLM_SERVICE_SUITE=full runs it)`);
  return !FULL_SERVICE_SUITE;
}

export const tempDir = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `cipherlm-${name}-`));
export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function spamModel(): Model {
  const { model } = loadCheckpoint(`${WEIGHTS}/finetuned-spam-hefriendly-lora.ckpt`);
  model.setMode('frozen');
  return model;
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A `cipherlm` CLI process (serve or worker) whose output is kept for failure messages. */
export class CliProcess {
  readonly child: ChildProcess;
  output = '';
  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
  }
  get pid(): number {
    return this.child.pid!;
  }
  /** kill -9: no cleanup runs. */
  async crash(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000).then(() => this.child.kill('SIGKILL'))]);
  }
}

/** `cipherlm serve` on 127.0.0.1 with the test preset; resolves once it answers. */
export async function startServer(dataDir: string, port: number, extra: string[] = []): Promise<CliProcess> {
  const server = new CliProcess(['serve', '--data', dataDir, '--port', String(port), '--preset', 'test', '--allow-insecure-test-preset', '--tenant', 'alice', '--token-file', path.join(dataDir, 'alice.token'), '--log-level', 'warn', ...extra]);
  await waitFor(`the server on port ${port} (${server.output})`, async () => {
    if (server.child.exitCode !== null) throw new Error(`serve exited: ${server.output}`);
    return (await fetch(`http://127.0.0.1:${port}/v1/health`).then((r) => r.ok).catch(() => false)) || undefined;
  }, 120_000);
  return server;
}

/** A port in a range no other test file uses (each file passes its own base). */
export const portFor = (base: number) => base + (process.pid % 500);
