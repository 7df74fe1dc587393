/**
 * Private inference of the standard model, the paper's baseline (softmax attention by comparison
 * max, exp by squarings and Goldschmidt inverse; GELU, LayerNorm and the pooler by their stand-ins),
 * client and server exchanging bytes, against the plaintext standard model. Tolerance: the
 * decrypted logits within 1e-2 of the exact plaintext model's (the HE-friendly pipeline's bound)
 * and 1e-3 of the plaintext model with the stand-ins (what remains is CKKS and bootstrapping
 * noise), the predictions the same. Test parameters (N = 8192, insecure, opt-in).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedError } from '../../src/api/errors';
import { loadTask } from '../../src/data/datasets';
import { loadCheckpoint } from '../../src/model/checkpoint';
import { describeModel } from '../../src/model/description';
import type { Model } from '../../src/model/model';
import { encodeSplit, getTokenizer, pretrainedFile } from '../../src/model/setup';
import { PrivateInferenceClient } from '../../src/private/client';
import { PIPELINE_PRESETS } from '../../src/private/presets';
import { PrivateInferenceServer } from '../../src/private/server';
import { Trainer } from '../../src/private/trainer';

const PRESET = PIPELINE_PRESETS.test;
const OPT_IN = { allowInsecureParametersForTestsOnly: true } as const;
/** Largest logit differences allowed against the exact plaintext model and against its stand-ins. */
const TOLERANCE_EXACT = 1e-2;
const TOLERANCE_STAND_INS = 1e-3;

let model: Model;
let server: PrivateInferenceServer;
beforeAll(async () => {
  // the bench's standard model: the pretrained encoder (public) with its head (the client's)
  model = loadCheckpoint(pretrainedFile('standard')).model;
  model.setMode('frozen');
  server = await PrivateInferenceServer.create({ model: loadCheckpoint(pretrainedFile('standard')).model, preset: PRESET, threads: 2, ...OPT_IN });
}, 120_000);

describe('private inference of the standard model (softmax attention)', () => {
  it('plans no adapters, and the client refuses a standard model whose adapters the run would drop', () => {
    expect(server.plan.model.variant).toBe('standard');
    expect(server.plan.model.loraRank).toBe(0);
    const adapted = loadCheckpoint(pretrainedFile('standard')).model;
    adapted.p('L0.q.loraB').data[3] = 0.25;
    adapted.setMode('frozen');
    expect(() => PrivateInferenceClient.create(server.planBytes(), adapted, OPT_IN)).toThrow(UnsupportedError);
  });

  it('refuses encrypted fine-tuning of the standard model (the trainer is written for the HE-friendly one)', () => {
    expect(() => new Trainer(describeModel(model.cfg), server.plan.topLevel, 1, server.plan.layout.rows, null)).toThrow(UnsupportedError);
  });

  it('the decrypted logits of a test sentence match the plaintext standard model within the stated tolerance, prediction the same', async () => {
    const client = PrivateInferenceClient.create(server.planBytes(), model, { threads: 2, ...OPT_IN });
    for await (const part of client.evaluationKeys()) await server.acceptKey(part);
    server.acceptWeights(await client.encryptWeights());
    const sentences = encodeSplit(getTokenizer(), loadTask('spam').test.slice(0, 1), model.cfg.maxLen);
    const { request, batch } = await client.encryptBatch(sentences.map((e) => e.ids));
    const response = await server.infer(request);
    const logits = await client.decryptLogits(response, batch);
    const summary = PrivateInferenceClient.responseSummary(response);
    expect(summary.bootstraps).toBe(server.plan.bootstrapsPerGroup);
    expect(summary.stages.some((s) => s.stage.endsWith('softmax.max'))).toBe(true);
    sentences.forEach((e, i) => {
      model.standIns = false;
      const exact = model.classify(e.ids).logits;
      model.standIns = true;
      const standIns = model.classify(e.ids).logits;
      for (let c = 0; c < exact.length; c++) {
        expect(Math.abs(logits[i][c] - exact[c]), `sentence ${i} logit ${c} against the exact model`).toBeLessThan(TOLERANCE_EXACT);
        expect(Math.abs(logits[i][c] - standIns[c]), `sentence ${i} logit ${c} against the stand-ins`).toBeLessThan(TOLERANCE_STAND_INS);
      }
      expect(Math.sign(logits[i][1] - logits[i][0])).toBe(Math.sign(exact[1] - exact[0]));
    });
  }, 600_000);
});
