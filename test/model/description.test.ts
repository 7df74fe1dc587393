import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/api/errors';
import { PAD } from '../../src/data/bpe';
import { loadTask } from '../../src/data/datasets';
import { loadCheckpoint } from '../../src/model/checkpoint';
import { describeModel, privateParameters } from '../../src/model/description';
import { encodeSplit, getTokenizer, WEIGHTS } from '../../src/model/setup';
import { evaluate } from '../../src/model/train';

const spamFile = `${WEIGHTS}/finetuned-spam-hefriendly-lora.ckpt`;

describe('model description', () => {
  it('names every parameter the encoder and head read, and the private ones exist', () => {
    const { model } = loadCheckpoint(spamFile);
    const desc = describeModel(model.cfg);
    const named = new Set<string>([desc.embedding.token, desc.embedding.position, desc.finalNorm.gamma, desc.finalNorm.beta]);
    for (const layer of desc.layers) {
      for (const norm of [layer.ln1, layer.ln2]) named.add(norm.gamma).add(norm.beta);
      for (const step of [layer.query, layer.key, layer.value, layer.output, layer.up, layer.down]) {
        named.add(step.weight);
        if (step.lora) named.add(step.lora.a).add(step.lora.b);
        expect(model.p(step.weight).shape).toEqual([step.inputs, step.outputs]);
      }
    }
    for (const name of privateParameters(desc)) {
      named.add(name);
      expect(model.p(name)).toBeDefined();
    }
    // everything but the MLM output bias (pretraining only) is read by classification
    expect([...model.params.keys()].filter((k) => !named.has(k))).toEqual(['mlm.bias']);
  });

  it("a loaded LoRA checkpoint keeps its adapters in 'frozen' mode and refuses modes that would drop them", () => {
    const { model } = loadCheckpoint(spamFile);
    const test = encodeSplit(getTokenizer(), loadTask('spam').test.slice(0, 300), model.cfg.maxLen);
    const withAdapters = evaluate(model, test);
    model.setMode('frozen');
    expect(evaluate(model, test)).toBe(withAdapters);
    expect(withAdapters).toBeGreaterThan(0.85);
    expect(() => model.setMode('full')).toThrow(InvalidArgumentError);
    expect(() => model.setMode('pretrain')).toThrow(InvalidArgumentError);
  });

  it('padded positions with masked keys leave the real rows and the logits unchanged', () => {
    const { model } = loadCheckpoint(spamFile);
    const test = encodeSplit(getTokenizer(), loadTask('spam').test.slice(0, 20), model.cfg.maxLen);
    for (const { ids } of test) {
      const padded = [...ids, ...Array(model.cfg.maxLen - ids.length).fill(PAD)];
      const a = model.classify(ids).logits;
      const b = model.classify(padded, undefined, false, ids.length).logits;
      for (let c = 0; c < a.length; c++) expect(Math.abs(a[c] - b[c])).toBeLessThan(1e-12);
    }
  });
});
