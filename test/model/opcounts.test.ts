import { describe, expect, it } from 'vitest';
import { Model, ModelConfig, Variant } from '../../src/model/model';
import { counter } from '../../src/model/ops';

const cfg = (variant: Variant): ModelConfig => ({ vocab: 20, dim: 16, heads: 2, layers: 2, ffn: 24, maxLen: 8, variant, numLabels: 2, loraRank: 2, loraScale: 1, penalty: 0.1, lnEps: 1e-5 });
const ids = [2, 5, 6, 7, 8, 9, 10, 3];

function count(variant: Variant, mode: 'full' | 'lora', train: boolean, approxLossSoftmax = false) {
  const m = new Model({ ...cfg(variant), approxLossSoftmax }, 1);
  m.setMode(mode);
  counter.enabled = true;
  counter.reset();
  m.classify(ids, train ? 1 : undefined, train);
  const c = structuredClone(counter.c);
  counter.enabled = false;
  return c;
}

describe('operation counts come from the instrumented model code', () => {
  it('LoRA keeps the big weight products ciphertext x plaintext; full fine-tuning makes them ciphertext x ciphertext', () => {
    const full = count('hefriendly', 'full', true);
    const lora = count('hefriendly', 'lora', true);
    // per layer: forward 6 weight products (q k v o w1 w2); LoRA: all ct x pt
    expect(full.ctpt).toBe(0);
    expect(lora.ctpt).toBe(2 * (6 + 6)); // forward + input-gradient products of the frozen weights
    // every large ct x ct product of LoRA is attention (QK^T/S V and their gradients)
    const attnFwd = 2 * 2 * 2; // layers x heads x (QK^T, SV)
    const attnBwd = 2 * 2 * 4;
    expect(lora.ctct - lora.ctctThin).toBe(attnFwd + attnBwd);
    expect(full.ctctMacs).toBeGreaterThan(lora.ctctMacs * 3);
  });
  it('the HE-friendly variant has no softmax / GELU / exact inverse square root in the network', () => {
    const he = count('hefriendly', 'lora', false).nonlin;
    const st = count('standard', 'lora', false).nonlin;
    expect(Object.keys(he).sort()).toEqual(['exp(poly)', 'invSqrt(poly)', 'relu(sign poly)', 'tanh(poly)']);
    expect(Object.keys(st).sort()).toEqual(['gelu', 'invSqrt', 'softmax(max,exp,inverse)', 'tanh']);
    expect(he['exp(poly)'].elements).toBe(2 * 2 * 8 * 8);
  });
  it('with the polynomial loss softmax, an HE-friendly training step evaluates only polynomials', () => {
    const step = count('hefriendly', 'lora', true, true).nonlin;
    expect(Object.keys(step).sort()).toEqual(['exp(poly)', 'invSqrt(poly)', 'loss softmax(poly)', 'relu(sign poly)', 'tanh(poly)']);
    expect(Object.keys(count('hefriendly', 'lora', true).nonlin)).toContain('loss softmax');
  });
});
