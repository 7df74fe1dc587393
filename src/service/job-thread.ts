/**
 * Entry of a job thread: the encrypted pipeline runs here so that the process's event loop (HTTP
 * routes, queue locks) stays free. It opens its own database connection and blob store and runs the
 * jobs it is sent, one at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BlobStore } from './blobs';
import { databaseFile, loadBaseModel, readConfig } from './config';
import { loadJobKinds } from './jobs';
import { JobRunner } from './runner';
import { Store } from './store';
import type { ThreadData, ThreadReply } from './threads';

async function main(): Promise<void> {
  const data = workerData as ThreadData;
  const config = readConfig(data.dataDir);
  const store = new Store(databaseFile(data.dataDir));
  const runner = new JobRunner(store, await BlobStore.open(data.dataDir), config, loadBaseModel(config), loadJobKinds(data.kindModules, config.training === true), data.engineThreads);
  parentPort!.on('message', (jobId: string) => {
    runner.run(jobId).then(
      () => parentPort!.postMessage({ jobId } satisfies ThreadReply),
      (error: unknown) => parentPort!.postMessage({ jobId, error: error instanceof Error ? error.message : String(error) } satisfies ThreadReply),
    );
  });
  parentPort!.postMessage('ready');
}

void main();
