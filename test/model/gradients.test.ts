import { describe, expect, it } from 'vitest';
import { Model, ModelConfig, Mode, Variant } from '../../src/model/model';
import { mulberry32 } from '../../src/model/rng';
import { LOSS_B, LOSS_SOFTMAX_MAX_ERR, TANH_B } from '../../src/model/poly';

function tiny(variant: Variant): ModelConfig {
  return { vocab: 23, dim: 8, heads: 2, layers: 2, ffn: 12, maxLen: 7, variant, numLabels: 3, loraRank: 2, loraScale: 1, penalty: 0.1, lnEps: 1e-5 };
}

function objective(m: Model, f: () => number): number {
  m.penaltyLoss = 0;
  const l = f();
  return l + m.penaltyLoss;
}

/** compare analytic gradients with central differences on a few entries of every trainable param */
function check(m: Model, f: (backward: boolean) => number, filter: (n: string) => boolean) {
  m.zeroGrad();
  objective(m, () => f(true));
  const rng = mulberry32(7);
  let checked = 0;
  for (const p of m.params.values()) {
    if (!p.trainable || !filter(p.name)) continue;
    for (let t = 0; t < 3; t++) {
      const i = Math.floor(rng() * p.data.length);
      const x0 = p.data[i];
      const h = 1e-5;
      p.data[i] = x0 + h;
      const fp = objective(m, () => f(false));
      p.data[i] = x0 - h;
      const fm = objective(m, () => f(false));
      p.data[i] = x0;
      const num = (fp - fm) / (2 * h);
      const ana = p.grad[i];
      expect(Math.abs(num - ana), `${p.name}[${i}] num ${num} ana ${ana}`).toBeLessThan(1e-6 + 1e-4 * Math.abs(num));
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(0);
}

function randomize(m: Model, what: (n: string) => boolean, seed = 3) {
  const rng = mulberry32(seed);
  for (const p of m.params.values()) if (what(p.name)) for (let i = 0; i < p.data.length; i++) p.data[i] = (rng() - 0.5) * 0.6 + (p.name.endsWith('.g') ? 1 : 0);
}

describe.each(['standard', 'hefriendly'] as Variant[])('gradients vs finite differences (%s)', (variant) => {
  const ids = [2, 5, 9, 11, 4, 3];
  for (const mode of ['full', 'lora'] as Mode[]) {
    it(`classification, ${mode}: attention, layernorm, ffn, lora, head, loss`, () => {
      const m = new Model(tiny(variant), 11);
      // non-trivial LayerNorm affine (and LoRA B, which only 'lora' evaluates) so every path carries gradient
      randomize(m, (n) => n.includes('.ln') || (mode === 'lora' && n.includes('loraB')) || n.startsWith('lnf'));
      m.setMode(mode);
      check(m, (b) => m.classify(ids, 1, b).loss, () => true);
    });
  }
  it('masked LM, pretraining (embeddings, tied output)', () => {
    const m = new Model(tiny(variant), 12);
    m.setMode('pretrain');
    check(m, (b) => m.mlm(ids, [1, 3], [5, 11], b).loss, () => true);
  });
  if (variant === 'hefriendly') {
    /**
     * Scale the head weights `scaled`, in which the tracked input `kind` is linear, so that its
     * largest magnitude is `fraction` of `bound`; ranges and penalty reset.
     */
    const scaleInputTo = (m: Model, kind: string, scaled: string[], bound: number, fraction: number): Model => {
      m.setMode('full');
      m.ranges = {};
      m.classify(ids, 0, false);
      const r0 = m.ranges[kind];
      const f = (fraction * bound) / Math.max(Math.abs(r0.min), Math.abs(r0.max));
      for (const v of scaled) for (let i = 0; i < m.p(v).data.length; i++) m.p(v).data[i] *= f;
      m.ranges = {};
      m.penaltyLoss = 0;
      return m;
    };
    /** a model whose largest pooler tanh input is `fraction` of TANH_B */
    const poolerAt = (fraction: number, penalty: number): Model =>
      scaleInputTo(new Model({ ...tiny(variant), penalty }, 13), 'pooler.tanh', ['head.wp', 'head.bp'], TANH_B, fraction);
    it('interval penalties (inputs pushed outside the approximation intervals)', () => {
      const m = poolerAt(1.05, 0.05);
      m.classify(ids, 0, false);
      expect(m.ranges['pooler.tanh'].outside).toBeGreaterThan(0);
      check(m, (b) => m.classify(ids, 0, b).loss, () => true);
    });
    it('attention-mass floor penalty: its gradient, and only in pretraining', () => {
      // a floor of 50 exceeds every row's mass here (at most n = 6 keys), so every row is penalised
      const m = new Model({ ...tiny(variant), attnMassFloor: { floor: 50, weight: 0.3 } }, 12);
      m.setMode('pretrain');
      check(m, (b) => m.mlm(ids, [1, 3], [5, 11], b).loss, () => true);
      m.penaltyLoss = 0;
      m.mlm(ids, [1, 3], [5, 11], false);
      expect(m.penaltyLoss).toBeGreaterThan(0);
      m.setMode('full');
      m.penaltyLoss = 0;
      m.classify(ids, 0, false);
      expect(m.penaltyLoss).toBe(0);
    });
    it('polynomial loss softmax: gradients, including the penalty on centred logits outside their interval', () => {
      const m = new Model({ ...tiny(variant), approxLossSoftmax: true }, 14);
      randomize(m, (n) => n === 'head.bc');
      scaleInputTo(m, 'loss.logit', ['head.wc', 'head.bc'], LOSS_B, 1.05);
      m.classify(ids, 0, false);
      expect(m.ranges['loss.logit'].outside).toBeGreaterThan(0);
      check(m, (b) => m.classify(ids, 0, b).loss, () => true);
    });
    it('polynomial loss softmax: gradients within the stated error of the exact softmax', () => {
      const grads = (approxLossSoftmax: boolean) => {
        const m = new Model({ ...tiny(variant), approxLossSoftmax }, 15);
        m.setMode('lora');
        randomize(m, (n) => n.includes('loraB') || n.startsWith('head.wc'));
        m.zeroGrad();
        m.classify(ids, 2, true);
        expect(m.penaltyLoss).toBe(0); // logits inside the interval
        return [...m.params.values()].filter((p) => p.trainable).map((p) => Array.from(p.grad));
      };
      const [exact, approx] = [grads(false), grads(true)];
      let scale = 0;
      let diff = 0;
      exact.flat().forEach((g, i) => {
        scale = Math.max(scale, Math.abs(g));
        diff = Math.max(diff, Math.abs(g - approx.flat()[i]));
      });
      expect(scale).toBeGreaterThan(1e-3);
      expect(diff).toBeLessThan(10 * LOSS_SOFTMAX_MAX_ERR * scale);
    });
    it('the penalty acts inside the interval, before the edge where the polynomial explodes', () => {
      const m = poolerAt(0.95, 0.1);
      m.classify(ids, 0, false);
      expect(m.ranges['pooler.tanh'].outside).toBe(0);
      expect(m.penaltyLoss).toBeGreaterThan(0);
    });
  }
});
