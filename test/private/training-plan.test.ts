/**
 * The encrypted trainer's level bookkeeping, checked in planning mode (levels only, no ciphertexts):
 * whatever levels a step starts from, every parameter it returns keeps the levels its uses need, so
 * the next step refreshes none of them one by one (47 bootstraps per step at the 8-step run's shape,
 * before the packed parameters were refreshed ahead of unpacking).
 */
import { describe, expect, it } from 'vitest';
import { describeModel } from '../../src/model/description';
import { modelConfig } from '../../src/model/setup';
import { layoutFor, planningStep } from '../../src/private/plan';
import { PIPELINE_PRESETS } from '../../src/private/presets';
import { Trainer } from '../../src/private/trainer';

// the shipped HE-friendly model's shape (the vocabulary does not change the encrypted step)
const CONFIG = modelConfig('hefriendly', 1000);
const PARAMETER_DEPTH = 4;

describe('encrypted training, planned', () => {
  const desc = describeModel(CONFIG);
  const preset = PIPELINE_PRESETS.test;
  const top = preset.levelsLeft;
  const rows = layoutFor(preset.context.ringDegree / 2, desc).rows;

  it.each([
    ['at the top level', top, top],
    ['at the lowest level a step takes without refreshing them', PARAMETER_DEPTH, top],
    ['with the moments low too', PARAMETER_DEPTH, 3],
  ])('parameters %s leave the step with at least four levels; a second step refreshes none', async (_name, paramLevel, momentLevel) => {
    const first = new Trainer(desc, top, 1, rows, null);
    const [inputs, params, state, settings] = planningStep(first, desc);
    for (const p of params) p.level = paramLevel;
    state.m.level = state.v.level = momentLevel;
    const out = await first.step(inputs, params, state, settings);
    expect(first.stages.find((s) => s.stage === 'parameters.refresh')!.bootstraps).toBe(0);
    expect(Math.min(...out.params.map((p) => p.level))).toBeGreaterThanOrEqual(PARAMETER_DEPTH);

    const second = new Trainer(desc, top, 1, rows, null);
    const [inputs2, params2, , settings2] = planningStep(second, desc);
    params2.forEach((p, i) => (p.level = out.params[i].level));
    await second.step(inputs2, params2, out.state, settings2);
    expect(second.stages.find((s) => s.stage === 'parameters.refresh')!.bootstraps).toBe(0);
  });
});
