/**
 * A private training server killed in the middle of a step resumes from its last finished step:
 * two steps of a small one-layer model (test parameters, N = 8192, insecure opt-in) in a server
 * process, against the plaintext trainer on the same batches; the trained adapters then serve
 * inference. In a file of its own so that the test runner can run it beside training.test.ts.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint';
import { Model, type ModelConfig } from '../../src/model/model';
import { ADAMW_HE } from '../../src/model/optim';
import { mulberry32 } from '../../src/model/rng';
import { PrivateInferenceClient } from '../../src/private/client';
import { PIPELINE_PRESETS } from '../../src/private/presets';
import { PrivateInferenceServer } from '../../src/private/server';
import { largestRelativeDifference, plaintextSteps } from './plaintext-reference';

const PRESET = PIPELINE_PRESETS.test;
const OPT_IN = { allowInsecureParametersForTestsOnly: true } as const;
const LR = 1e-2;

describe('a killed training server resumes from its last finished step', () => {
  // one layer, 16 tokens: four sequences per row group at N = 8192, so a batch of 8 is two groups
  const config: ModelConfig = { vocab: 40, dim: 64, heads: 2, layers: 1, ffn: 64, maxLen: 16, variant: 'hefriendly', numLabels: 2, loraRank: 2, loraScale: 1, penalty: 0.1, lnEps: 1e-5 };

  it('is killed in the middle of step 2, restarted, and ends where the plaintext trainer does; its adapters then serve inference', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cipherlm-train-'));
    const model = new Model(config, 3);
    saveCheckpoint(path.join(dir, 'model.ckpt'), model);
    const rng = mulberry32(5);
    const batches = [0, 1].map(() => Array.from({ length: 8 }, () => ({ ids: [2, ...Array.from({ length: 3 + Math.floor(rng() * 10) }, () => 5 + Math.floor(rng() * 30)), 3], label: rng() < 0.5 ? 0 : 1 })));
    // the client writes everything the server will read
    const server = await PrivateInferenceServer.create({ model, preset: PRESET, threads: 1, training: true, ...OPT_IN });
    const clientModel = loadCheckpoint(path.join(dir, 'model.ckpt')).model;
    clientModel.setMode('lora');
    const client = PrivateInferenceClient.create(server.planBytes(), clientModel, { threads: 2, ...OPT_IN });
    for (const sub of ['keys', 'batch', 'log']) fs.mkdirSync(path.join(dir, sub));
    let part = 0;
    for await (const bytes of client.evaluationKeys()) fs.writeFileSync(path.join(dir, 'keys', `${part++}.bin`), bytes);
    fs.writeFileSync(path.join(dir, 'state.bin'), await client.encryptTrainingState({ ...ADAMW_HE, lr: LR, batch: 8 }));
    const infos = [];
    for (const [step, batch] of batches.entries()) {
      const { batch: bytes, info } = await client.encryptTrainingBatch(batch.map((e) => e.ids), batch.map((e) => e.label));
      fs.writeFileSync(path.join(dir, 'batch', `${step}.bin`), bytes);
      infos.push(info);
    }
    const run = (killWhen?: string) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'fixtures', 'training-server.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (killWhen && output.includes(killWhen)) setTimeout(() => child.kill('SIGKILL'), 5000);
        });
        child.on('exit', (code) => resolve({ code, output }));
      });
    const first = await run('step 2 start');
    expect(first.code).toBeNull(); // killed
    expect(first.output).toContain('step 1 done');
    expect(first.output).not.toContain('step 2 done');
    const second = await run();
    expect(second.code).toBe(0);
    expect(second.output).toContain('resumed 1');
    expect(second.output).not.toContain('step 1 start');
    expect(second.output).toContain('step 2 done');
    // the state after two steps, and both steps' losses, against the plaintext trainer
    const plain = loadCheckpoint(path.join(dir, 'model.ckpt')).model;
    const plainLosses = plaintextSteps(plain, batches, LR);
    for (const [step, batch] of batches.entries()) {
      const log = await client.readTrainingLog(fs.readFileSync(path.join(dir, 'log', `${step}.bin`)), infos[step], batch.map((e) => e.label));
      expect(Math.abs(log.loss - plainLosses[step]), `loss of step ${step + 1}`).toBeLessThan(1e-3);
    }
    const { model: trained, step } = await client.decryptTrainingState(fs.readFileSync(path.join(dir, 'checkpoint.bin')));
    expect(step).toBe(2);
    expect(largestRelativeDifference(trained, plain)).toBeLessThan(1e-3);
    // the trained adapters serve inference as they are, never decrypted
    for (const f of fs.readdirSync(path.join(dir, 'keys')).sort((a, b) => parseInt(a) - parseInt(b))) await server.acceptKey(fs.readFileSync(path.join(dir, 'keys', f)));
    server.acceptTrainingState(fs.readFileSync(path.join(dir, 'checkpoint.bin')));
    const sentences = batches[0].slice(0, 3).map((e) => e.ids);
    const { request, batch } = await client.encryptBatch(sentences);
    const logits = await client.decryptLogits(await server.inferTrained(request), batch);
    plain.setMode('frozen');
    sentences.forEach((ids, i) => {
      const expected = plain.classify(ids).logits;
      for (let c = 0; c < expected.length; c++) expect(Math.abs(logits[i][c] - expected[c])).toBeLessThan(1e-2);
    });
    fs.rmSync(dir, { recursive: true, force: true });
  }, 900_000);
});
