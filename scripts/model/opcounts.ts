/**
 * Count, from the model code itself, the matrix products (ciphertext x ciphertext, ciphertext x
 * plaintext) and the non-polynomial / approximated evaluations of one fine-tuning step (one
 * sequence: forward, backward, optimizer) and one inference, for every variant x mode.
 * Activations and trained weights count as ciphertexts; frozen weights as plaintexts.
 *   node --import tsx scripts/model/opcounts.ts  -> experiments/opcounts.json
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Model, ModelConfig, DEFAULT_CONFIG, Mode, Variant } from '../../src/model/model';
import { counter } from '../../src/model/ops';
import { AdamW, ADAMW_HE } from '../../src/model/optim';
import { ROOT } from '../../src/model/setup';

function measure(cfg: ModelConfig, mode: Exclude<Mode, 'pretrain'>) {
  // the HE-friendly step as the encrypted pipeline runs it: polynomial loss softmax and optimizer 1/sqrt
  const he = cfg.variant === 'hefriendly';
  const m = new Model({ ...cfg, approxLossSoftmax: he }, 1);
  m.setMode(mode === 'frozen' ? 'lora' : mode);
  const ids = Array.from({ length: cfg.maxLen }, (_, i) => (i * 37) % cfg.vocab);
  const opt = new AdamW({ ...ADAMW_HE, lr: 1e-3, approxInvSqrt: he });
  counter.enabled = true;
  counter.dryRun = cfg.dim > 128; // the paper's shape: count without doing the arithmetic
  counter.reset();
  m.zeroGrad();
  m.classify(ids, 1, true);
  opt.step(m, 1);
  const step = structuredClone(counter.c);
  counter.reset();
  m.classify(ids);
  const infer = structuredClone(counter.c);
  counter.enabled = false;
  counter.dryRun = false;
  return { step, infer };
}

const rows: unknown[] = [];
const shapes: Record<string, Omit<ModelConfig, 'variant'>> = {
  ours: { ...DEFAULT_CONFIG, vocab: 2000 },
  // the paper's shape (2 layers, d 768, 12 heads, seq 128) run through the same code
  paperShape: { ...DEFAULT_CONFIG, vocab: 64, dim: 768, heads: 12, ffn: 3072, maxLen: 128 },
};
for (const [shape, base] of Object.entries(shapes))
  for (const variant of ['standard', 'hefriendly'] as Variant[])
    for (const mode of ['full', 'lora'] as const) {
      const { step, infer } = measure({ ...base, variant }, mode);
      rows.push({ shape, variant, mode, dim: base.dim, heads: base.heads, seq: base.maxLen, step, inference: infer });
      process.stderr.write(`${shape} ${variant}/${mode}: step ctct ${step.ctct} ctpt ${step.ctpt}; inference ctct ${infer.ctct} ctpt ${infer.ctpt}\n`);
    }
const out = path.join(ROOT, 'experiments', 'opcounts.json');
fs.writeFileSync(out, JSON.stringify(rows, null, 1));
process.stderr.write(`wrote ${out}\n`);
