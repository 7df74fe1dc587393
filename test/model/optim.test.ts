import { describe, expect, it } from 'vitest';
import { Model } from '../../src/model/model';
import { ADAMW_HE, AdamW } from '../../src/model/optim';
import { ISQ_MAX_REL_ERR } from '../../src/model/poly';
import { mulberry32 } from '../../src/model/rng';

const tiny = () => new Model({ vocab: 23, dim: 8, heads: 2, layers: 2, ffn: 12, maxLen: 7, variant: 'hefriendly', numLabels: 2, loraRank: 2, loraScale: 1, penalty: 0.1, lnEps: 1e-5 }, 5);

/**
 * The parameter changes of one AdamW-HE step (no weight decay, so the change is lr m / sqrt(v + eps)
 * alone), fed fresh random gradients of size up to `gradScale`, the same for both optimizers.
 */
function updates(approxInvSqrt: boolean, gradScale: number, seed: number) {
  const m = tiny();
  m.setMode('lora');
  const opt = new AdamW({ ...ADAMW_HE, weightDecay: 0, lr: 1e-2, approxInvSqrt });
  const before = [...m.params.values()].map((p) => p.data.slice());
  const rng = mulberry32(seed);
  for (const p of m.params.values()) for (let i = 0; i < p.grad.length; i++) p.grad[i] = gradScale * (2 * rng() - 1);
  opt.step(m, 1);
  return { delta: [...m.params.values()].flatMap((p, k) => Array.from(p.data, (x, i) => x - before[k][i])), clamped: opt.clamped };
}

describe('AdamW-HE with the polynomial 1/sqrt(v + eps)', () => {
  // gradient sizes from 0.01 to 20 put v + eps across the whole interval of the approximation
  it.each([0.01, 0.5, 5, 20])('matches the exact update within the stated relative error, fresh random gradients up to %s', (gradScale) => {
    const seed = 1 + Math.floor(Math.random() * 1e6);
    const exact = updates(false, gradScale, seed);
    const approx = updates(true, gradScale, seed);
    expect(approx.clamped).toBe(0);
    let worst = 0;
    exact.delta.forEach((d, i) => {
      if (d !== 0) worst = Math.max(worst, Math.abs(approx.delta[i] - d) / Math.abs(d));
    });
    expect(exact.delta.some((d) => d !== 0)).toBe(true);
    expect(worst, `seed ${seed}`).toBeLessThan(ISQ_MAX_REL_ERR);
  });
  it('counts the updates whose v + eps lies above the interval (the encrypted pipeline cannot clamp)', () => {
    expect(updates(true, 100, 7).clamped).toBeGreaterThan(0);
    expect(updates(false, 100, 7).clamped).toBe(0);
  });
});
