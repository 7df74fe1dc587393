import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { makeKit, precisionBits, randomVector } from './helpers';

// Workers load the compiled JavaScript of the package (dist/ is built by `npm run build:ts`, which
// `npm test` runs first) through its CommonJS entry, exactly as a user's worker would.
const script = `
const { parentPort, workerData } = require('node:worker_threads');
const cipherlm = require(workerData.entry);
const context = cipherlm.CkksContext.create({ ringDegree: 8192, dataBits: [45, 40, 40], specialBits: [50], threads: 2 });
const encoder = new cipherlm.CkksEncoder(context);
const keys = new cipherlm.KeyGenerator(context);
const encryptor = new cipherlm.Encryptor(context, keys.createPublicKey());
const decryptor = new cipherlm.Decryptor(context, keys.secretKey);
const evaluator = new cipherlm.Evaluator(context);
const x = Float64Array.from(workerData.values);
const ct = encryptor.encrypt(encoder.encode(x));
const product = evaluator.rescale(evaluator.multiplyRelinearize(ct, ct, keys.createRelinKey()));
parentPort.postMessage(Array.from(encoder.decode(decryptor.decrypt(product)).subarray(0, x.length)));
`;

function runWorker(values: number[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { eval: true, workerData: { entry: join(__dirname, '..', 'dist', 'index.js'), values } });
    let result: number[] | undefined;
    worker.once('message', (message) => (result = message));
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`worker exited with ${code}`))));
  });
}

describe('worker_threads', () => {
  it('several workers load the addon, compute, exit, and the main thread carries on', async () => {
    const inputs = [0, 1, 2].map(() => Array.from(randomVector(64)));
    const outputs = await Promise.all(inputs.map(runWorker));
    outputs.forEach((out, k) => expect(precisionBits(out, inputs[k].map((v) => v * v))).toBeGreaterThanOrEqual(20));
    // A second wave after the first workers have unloaded their addon instances.
    const again = await runWorker(inputs[0]);
    expect(precisionBits(again, inputs[0].map((v) => v * v))).toBeGreaterThanOrEqual(20);
    const kit = makeKit(undefined, [1]);
    const x = randomVector(16);
    expect(precisionBits(kit.decrypt(kit.encrypt(x)), x)).toBeGreaterThanOrEqual(20);
  });
});
