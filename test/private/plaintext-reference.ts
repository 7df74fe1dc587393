/**
 * The plaintext side of the encrypted-training tests: the plaintext trainer's AdamW-HE steps and
 * the comparison of trained matrices (test/private/training.test.ts, test/service/finetune.test.ts).
 */
import type { Model } from '../../src/model/model';
import { ADAMW_HE, AdamW } from '../../src/model/optim';
import { parameterSlots } from '../../src/private/trainer';

/** The plaintext trainer's AdamW-HE steps on the same batches (polynomial loss softmax and 1/sqrt). */
export function plaintextSteps(model: Model, batches: { ids: number[]; label: number }[][], lr: number): number[] {
  model.setMode('lora');
  model.cfg.approxLossSoftmax = true;
  const optimizer = new AdamW({ ...ADAMW_HE, lr, approxInvSqrt: true });
  return batches.map((batch) => {
    model.zeroGrad();
    let loss = 0;
    for (const e of batch) loss += model.classify(e.ids, e.label, true).loss / batch.length;
    optimizer.step(model, batch.length);
    return loss;
  });
}

/** Largest difference of every trained matrix, relative to the matrix's largest plaintext value. */
export function largestRelativeDifference(a: Model, b: Model): number {
  let worst = 0;
  for (const name of new Set(parameterSlots(a.desc, a.cfg.loraRank).map((s) => s.param))) {
    const [x, y] = [a.p(name).data, b.p(name).data];
    let diff = 0;
    let largest = 0;
    for (let i = 0; i < x.length; i++) {
      diff = Math.max(diff, Math.abs(x[i] - y[i]));
      largest = Math.max(largest, Math.abs(y[i]));
    }
    worst = Math.max(worst, diff / largest);
  }
  return worst;
}
