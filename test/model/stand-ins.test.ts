/**
 * The standard model's polynomial stand-ins (poly.ts) in the plaintext model: what the encrypted
 * standard run computes, up to its noise. The exact model is what the accuracy table measures and
 * must stay untouched; the stand-ins must change its logits only slightly.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/api/errors';
import { loadTask } from '../../src/data/datasets';
import { loadCheckpoint } from '../../src/model/checkpoint';
import * as P from '../../src/model/poly';
import { encodeSplit, getTokenizer, pretrainedFile } from '../../src/model/setup';

describe('standard model stand-ins', () => {
  it('change no prediction and the logits by less than 5e-5 on test sentences of both tasks, padded or not', () => {
    const { model } = loadCheckpoint(pretrainedFile('standard'));
    model.setMode('frozen');
    const tok = getTokenizer();
    let worst = 0;
    let compared = 0;
    for (const task of ['spam', 'genre'] as const)
      for (const { ids } of encodeSplit(tok, loadTask(task).test.slice(0, 40), model.cfg.maxLen)) {
        const padded = [...ids, ...Array(model.cfg.maxLen - ids.length).fill(0)];
        model.standIns = false;
        const exact = model.classify(ids).logits;
        model.standIns = true;
        for (const approx of [model.classify(ids).logits, model.classify(padded, undefined, false, ids.length).logits]) {
          exact.forEach((x, c) => (worst = Math.max(worst, Math.abs(x - approx[c]))));
          expect(Math.sign(approx[1] - approx[0])).toBe(Math.sign(exact[1] - exact[0]));
          compared++;
        }
      }
    expect(compared).toBe(160);
    expect(worst).toBeGreaterThan(0); // the stand-ins are evaluated, not the exact functions
    expect(worst).toBeLessThan(5e-5);
  });

  it('record the input ranges of every approximated function, inside the stand-ins\' intervals, and refuse backward passes', () => {
    const { model } = loadCheckpoint(pretrainedFile('standard'));
    model.setMode('frozen');
    const [{ ids, label }] = encodeSplit(getTokenizer(), loadTask('spam').validation.slice(0, 1), model.cfg.maxLen);
    model.classify(ids);
    const bounds: Record<string, number> = { 'layernorm.var': P.ISQ_HI, 'softmax.score': P.SMX_SCORE_B, gelu: P.GELU_B, 'pooler.tanh': P.TANH_B };
    for (const [kind, bound] of Object.entries(bounds)) {
      const r = model.ranges[kind];
      expect(r.total, kind).toBeGreaterThan(0);
      expect(r.outside, kind).toBe(0);
      expect(Math.max(-r.min, r.max), kind).toBeLessThan(bound);
    }
    expect(model.penaltyLoss).toBe(0); // recording only: no interval penalty in the standard model
    model.standIns = true;
    expect(() => model.classify(ids, label, true)).toThrow(InvalidArgumentError);
  });
});
