#!/usr/bin/env node
/**
 * `cipherlm`: both sides of the service from a shell. Server side: `serve`, `worker`, `tenants add`.
 * Client side: `keys create`, `infer`, `finetune`, `jobs`. The client's secret key lives in an
 * encrypted keystore (passphrase from CIPHERLM_PASSPHRASE or a prompt); tokens come from
 * --token, CIPHERLM_TOKEN or --token-file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { SingleBar, Presets } from 'cli-progress';
import { Command, Option } from 'commander';
import { CipherlmError } from '../api/errors';
import { loadTask } from '../data/datasets';
import { loadCheckpoint, saveCheckpoint } from '../model/checkpoint';
import { ADAMW_HE } from '../model/optim';
import { mulberry32, shuffleInPlace } from '../model/rng';
import { encodeSplit, getTokenizer, WEIGHTS, type TaskName } from '../model/setup';
import { PrivateInferenceClient } from '../private/client';
import { startService, DEFAULT_LIMITS } from '../service/app';
import { CipherlmClient, type JobView } from '../service/client';
import { DEFAULT_CONFIG, databaseFile, loadBaseModel, readConfig } from '../service/config';
import { readKeystore, writeKeystore, type KeystoreContents } from '../service/keystore';
import { DEFAULT_LOCKING, RedisJobWorker } from '../service/queue';
import { Store } from '../service/store';
import { JobThreads } from '../service/threads';

const DEFAULT_SERVER = 'http://127.0.0.1:8080';
const DEFAULT_KEYSTORE = 'cipherlm-keystore.json';
const DEFAULT_CLIENT_MODEL = path.join(WEIGHTS, 'finetuned-spam-hefriendly-lora.ckpt');

const int = (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new CipherlmError(`not a non-negative integer: ${value}`, 'ERR_INVALID_ARGUMENT');
  return n;
};
const collect = (value: string, previous: string[]) => [...previous, value];

/** The tenant's token for `serve --tenant`: created once, written to the token file (mode 600). */
function ensureTenant(store: Store, name: string, tokenFile: string | undefined): void {
  if (store.tenantByName(name)) return;
  const { token } = store.createTenant(name);
  if (tokenFile) fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  else process.stderr.write(`tenant ${name} token: ${token}\n`);
}

async function passphrase(): Promise<string> {
  const fromEnv = process.env.CIPHERLM_PASSPHRASE;
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) throw new CipherlmError('set CIPHERLM_PASSPHRASE or run in a terminal to be asked for the keystore passphrase', 'ERR_KEYSTORE_PASSPHRASE');
  process.stderr.write('keystore passphrase: ');
  // a muted output stream: the passphrase is not echoed
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

interface ClientFlags {
  server: string;
  token?: string;
  tokenFile?: string;
  keystore: string;
  model: string;
  threads: number;
  allowInsecureTestPreset?: boolean;
}

function clientCommand(command: Command): Command {
  return command
    .option('--server <url>', 'service base URL', DEFAULT_SERVER)
    .option('--token <token>', 'API token (or CIPHERLM_TOKEN, or --token-file)')
    .option('--token-file <file>', 'file holding the API token')
    .option('--keystore <file>', 'encrypted keystore of the secret key', DEFAULT_KEYSTORE)
    .option('--model <file>', 'your fine-tuned checkpoint (its adapters and head are private)', DEFAULT_CLIENT_MODEL)
    .option('--threads <n>', 'engine threads', int, 2)
    .option('--allow-insecure-test-preset', 'accept a server that runs the insecure test preset');
}

function httpClient(flags: ClientFlags, server = flags.server): CipherlmClient {
  const token = flags.token ?? process.env.CIPHERLM_TOKEN ?? (flags.tokenFile ? fs.readFileSync(flags.tokenFile, 'utf8').trim() : undefined);
  if (!token) throw new CipherlmError('an API token is needed: --token, CIPHERLM_TOKEN or --token-file', 'ERR_UNAUTHORIZED');
  return new CipherlmClient({ baseUrl: server, token });
}

function clientModel(file: string) {
  const { model } = loadCheckpoint(file);
  model.setMode('frozen');
  return model;
}

function bar(label: string): SingleBar {
  return new SingleBar({ format: `${label} [{bar}] {percentage}% {detail}`, stream: process.stderr, hideCursor: true }, Presets.shades_classic);
}

/** Makes a secret key for the server's plan, registers its evaluation keys and weights, writes the keystore. */
async function createKeys(flags: ClientFlags): Promise<KeystoreContents> {
  if (fs.existsSync(flags.keystore)) throw new CipherlmError(`${flags.keystore} exists: keys are made once per keystore`, 'ERR_INVALID_ARGUMENT');
  const http = httpClient(flags);
  const info = await http.info();
  const model = clientModel(flags.model);
  const client = PrivateInferenceClient.create(await http.plan(), model, { threads: flags.threads, allowInsecureParametersForTestsOnly: flags.allowInsecureTestPreset === true });
  const pass = await passphrase();
  const contextId = await http.createContext();
  const progress = bar('keys');
  progress.start(1, 0, { detail: '' });
  let parts = 0;
  await http.registerContext(contextId, client, (p) => {
    parts = p.part;
    progress.setTotal(p.total);
    progress.update(p.sent, { detail: `${p.kind} part ${p.part}` });
  });
  progress.stop();
  const contents = { public: { server: flags.server, contextId, modelFile: path.resolve(flags.model), preset: info.preset }, secretKey: client.exportSecretKey() };
  await writeKeystore(flags.keystore, pass, contents);
  process.stderr.write(`context ${contextId}: ${parts} parts uploaded; secret key in ${flags.keystore}\n`);
  return contents;
}

function printJob(job: JobView): void {
  const p = job.progress as { stagesDone?: number; stagesTotal?: number } | null;
  const progress = p?.stagesTotal ? ` ${p.stagesDone}/${p.stagesTotal} stages` : '';
  process.stdout.write(`${job.id}  ${job.kind.padEnd(9)} ${job.state.padEnd(9)} attempt ${job.attempt}${progress}${job.error ? `  ${job.error.code}: ${job.error.message}` : ''}\n`);
}

const program = new Command('cipherlm').description('private fine-tuning and inference service and client').showHelpAfterError();

program
  .command('serve')
  .description('run the HTTP service (embedded job queue, or BullMQ with --queue)')
  .option('--data <dir>', 'data directory (SQLite database and blobs)', 'cipherlm-data')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port', int, 8080)
  .addOption(new Option('--preset <name>', 'pipeline preset').choices(['secure', 'test']).default(DEFAULT_CONFIG.preset))
  .option('--allow-insecure-test-preset', 'allow the insecure test preset (tests and demos only)')
  .option('--model <file>', 'public base model checkpoint', DEFAULT_CONFIG.modelFile)
  .option('--no-training', 'offer inference only (smaller evaluation keys; no finetune jobs)')
  .option('--queue <url>', 'redis://host:port: hand jobs to `cipherlm worker` processes')
  .option('--concurrency <n>', 'jobs run at once (embedded queue)', int, 1)
  .option('--engine-threads <n>', 'engine threads per job', int, 2)
  .option('--max-groups <n>', 'most row groups per inference request', int, DEFAULT_CONFIG.maxGroups)
  .option('--max-upload-bytes <n>', 'largest upload', int, DEFAULT_LIMITS.maxUploadBytes)
  .option('--max-chunk-bytes <n>', 'largest upload chunk', int, DEFAULT_LIMITS.maxChunkBytes)
  .option('--max-active-jobs <n>', 'queued plus running jobs per tenant', int, DEFAULT_LIMITS.maxActiveJobsPerTenant)
  .option('--kind-module <file>', 'module exporting a further job kind (repeatable)', collect, [])
  .option('--tenant <name>', 'create this tenant if it does not exist')
  .option('--token-file <file>', "write the new tenant's token here (else it is printed)")
  .option('--log-level <level>', 'pino log level', 'info')
  .action(async (o) => {
    const config = { preset: o.preset, modelFile: path.resolve(o.model), allowInsecureParametersForTestsOnly: o.allowInsecureTestPreset === true, maxGroups: o.maxGroups, training: o.training !== false };
    const service = await startService({
      dataDir: o.data,
      config,
      queueUrl: o.queue,
      concurrency: o.concurrency,
      engineThreads: o.engineThreads,
      kindModules: o.kindModule.map((m: string) => path.resolve(m)),
      limits: { maxUploadBytes: o.maxUploadBytes, maxChunkBytes: o.maxChunkBytes, maxActiveJobsPerTenant: o.maxActiveJobs },
      logger: { level: o.logLevel },
    });
    if (o.tenant) ensureTenant(service.store, o.tenant, o.tokenFile);
    await service.app.listen({ host: o.host, port: o.port });
    const stop = () => void service.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('worker')
  .description('take jobs from Redis and run them (shares the data directory with `serve`)')
  .requiredOption('--queue <url>', 'redis://host:port')
  .option('--data <dir>', 'data directory of the service', 'cipherlm-data')
  .option('--concurrency <n>', 'jobs run at once', int, 1)
  .option('--engine-threads <n>', 'engine threads per job', int, 2)
  .option('--lock-ms <n>', 'job lock duration: a dead worker\'s job is taken over after this', int, DEFAULT_LOCKING.lockDurationMs)
  .option('--stalled-ms <n>', 'how often to look for jobs of dead workers', int, DEFAULT_LOCKING.stalledIntervalMs)
  .option('--kind-module <file>', 'module exporting a further job kind (repeatable)', collect, [])
  .action(async (o) => {
    loadBaseModel(readConfig(o.data)); // fails early on a data directory no server set up
    const threads = await JobThreads.start(o.concurrency, { dataDir: o.data, kindModules: o.kindModule.map((m: string) => path.resolve(m)), engineThreads: o.engineThreads });
    const worker = new RedisJobWorker(o.queue, threads, o.concurrency, { lockDurationMs: o.lockMs, stalledIntervalMs: o.stalledMs });
    process.stderr.write(`worker ${process.pid} taking jobs from ${o.queue}\n`);
    const stop = () => void worker.close().then(() => threads.close()).then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('tenants')
  .description('manage tenants')
  .command('add <name>')
  .description('create a tenant and print its API token (stored hashed)')
  .option('--data <dir>', 'data directory', 'cipherlm-data')
  .option('--token-file <file>', 'write the token here instead of printing it')
  .action((name: string, o) => {
    fs.mkdirSync(o.data, { recursive: true });
    const store = new Store(databaseFile(o.data));
    try {
      if (store.tenantByName(name)) throw new CipherlmError(`tenant ${name} exists`, 'ERR_INVALID_ARGUMENT');
      const { token } = store.createTenant(name);
      if (o.tokenFile) fs.writeFileSync(o.tokenFile, `${token}\n`, { mode: 0o600 });
      else process.stdout.write(`${token}\n`);
    } finally {
      store.close();
    }
  });

clientCommand(program.command('keys').description('client keys').command('create').description('make a secret key, register its evaluation keys and encrypted weights'))
  .action(async (o: ClientFlags) => {
    await createKeys(o);
  });

clientCommand(program.command('infer').description('classify texts under encryption (makes keys first if the keystore does not exist)'))
  .requiredOption('--text <text>', 'a text to classify (repeatable)', collect, [])
  .option('--adapters <job>', 'use the encrypted adapters and head a finetune job trained')
  .action(async (o: ClientFlags & { text: string[]; adapters?: string }) => {
    const keystore = fs.existsSync(o.keystore) ? await readKeystore(o.keystore, await passphrase()) : await createKeys(o);
    const http = httpClient(o, keystore.public.server);
    const model = clientModel(keystore.public.modelFile);
    const client = PrivateInferenceClient.create(await http.plan(), model, { threads: o.threads, allowInsecureParametersForTestsOnly: o.allowInsecureTestPreset === true, secretKey: keystore.secretKey });
    const tokenizer = getTokenizer();
    const sequences = o.text.map((t) => tokenizer.encode(t, model.cfg.maxLen));
    const progress = bar('inference');
    progress.start(1, 0, { detail: 'queued' });
    const { logits, job } = await http.infer(keystore.public.contextId, client, sequences, (j) => {
      const p = j.progress as { stagesDone?: number; stagesTotal?: number; eta?: number | null } | null;
      if (p?.stagesTotal) {
        progress.setTotal(p.stagesTotal);
        progress.update(p.stagesDone ?? 0, { detail: `${j.state}${p.eta ? `, ~${Math.round(p.eta)} s left` : ''}` });
      } else progress.update(0, { detail: j.state });
    }, { adapters: o.adapters });
    progress.stop();
    o.text.forEach((text, i) => process.stdout.write(`${JSON.stringify({ text, logits: [...logits[i]], predicted: logits[i].indexOf(Math.max(...logits[i])), job: job.id })}\n`));
  });

clientCommand(program.command('finetune').description("fine-tune your adapters and head under encryption on a task's training set"))
  .addOption(new Option('--task <task>', 'task').choices(['spam', 'genre']).makeOptionMandatory())
  .requiredOption('--steps <n>', 'training steps (one batch each)', int)
  .option('--batch <n>', 'sequences per batch', int, 4)
  .option('--lr <x>', 'learning rate', Number, 1e-2)
  .option('--seed <n>', 'which training examples, in which order', int, 17)
  .option('--out <file>', 'write the decrypted trained model (a checkpoint) here')
  .action(async (o: ClientFlags & { task: TaskName; steps: number; batch: number; lr: number; seed: number; out?: string }) => {
    const keystore = fs.existsSync(o.keystore) ? await readKeystore(o.keystore, await passphrase()) : await createKeys(o);
    const http = httpClient(o, keystore.public.server);
    const info = await http.info();
    if (!info.jobKinds.includes('finetune')) throw new CipherlmError(`the service runs ${info.jobKinds.join(', ')} jobs, not finetune (start it with fine-tuning on)`, 'ERR_JOB_KIND_UNAVAILABLE');
    const { model } = loadCheckpoint(keystore.public.modelFile);
    model.setMode('lora');
    const client = PrivateInferenceClient.create(await http.plan(), model, { threads: o.threads, allowInsecureParametersForTestsOnly: o.allowInsecureTestPreset === true, secretKey: keystore.secretKey });
    // as the plaintext trainer orders them: the training set shuffled with the seed, consecutive batches
    const train = encodeSplit(getTokenizer(), loadTask(o.task).train, model.cfg.maxLen);
    const order = shuffleInPlace([...train.keys()], mulberry32(o.seed * 7919));
    const batches = Array.from({ length: o.steps }, (_, step) => {
      const examples = order.slice(step * o.batch, (step + 1) * o.batch).map((i) => train[i]);
      return { sequences: examples.map((e) => e.ids), labels: examples.map((e) => e.label) };
    });
    const progress = bar('fine-tuning');
    progress.start(o.steps, 0, { detail: 'uploading' });
    const result = await http.finetune(keystore.public.contextId, client, { batches, steps: o.steps, settings: { ...ADAMW_HE, lr: o.lr, batch: o.batch } }, (j) => {
      const p = j.progress as { step?: number; stagesDone?: number; stagesTotal?: number } | null;
      progress.update(p?.step ?? 0, { detail: `${j.state}${p?.stagesTotal ? `, step ${(p.step ?? 0) + 1}: ${p.stagesDone}/${p.stagesTotal} stages` : ''}` });
    });
    progress.update(o.steps, { detail: 'done' });
    progress.stop();
    result.losses.forEach((loss, step) => process.stdout.write(`${JSON.stringify({ step: step + 1, loss })}\n`));
    if (o.out) {
      saveCheckpoint(o.out, result.model);
      process.stderr.write(`decrypted adapters and head written to ${o.out}\n`);
    }
    process.stderr.write(`job ${result.job.id}: its encrypted adapters stay on the server (cipherlm infer --adapters ${result.job.id})\n`);
  });

clientCommand(program.command('jobs').description('list your jobs'))
  .option('--limit <n>', 'most jobs to list', int, 20)
  .action(async (o: ClientFlags & { limit: number }) => {
    for (const job of await httpClient(o).jobs(o.limit)) printJob(job);
  });

program.parseAsync().catch((error: unknown) => {
  const code = error instanceof CipherlmError ? `${error.code}: ` : '';
  process.stderr.write(`cipherlm: ${code}${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
