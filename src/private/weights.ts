/**
 * How the model's weights meet the encrypted executor, from the one description both executors
 * read. The server holds the public base weights as native matrix products; the client encrypts its
 * private weights (LoRA adapters and head) as slot vectors. Constants the kernels leave out are
 * folded in here, on both sides:
 *   - LayerNorm's gamma and beta go into the next product (x W -> x diag(gamma) W + beta W);
 *   - ReLU's sign input x / RELU_B goes into the up projection, its factor RELU_B / 2 into the down
 *     projection (the kernel computes t + t sign(t), t = x / RELU_B); the standard model's GELU
 *     input x / GELU_B goes into the up projection (its interpolant reads [-1, 1]);
 *   - the pooler's tanh input is divided by TANH_B (the interpolant's interval).
 */
import { createHash } from 'node:crypto';
import type { ModelDescription, LinearStep } from '../model/description';
import type { Model } from '../model/model';
import * as P from '../model/poly';
import { privateParameters } from '../model/description';
import type { Kernels, MatrixProduct } from './kernels';
import type { ActivationLayout } from './layout';
import type { ServerMatrices } from './executor';
import type { ParameterSlot, ServerTransposes, TrainingBackend } from './trainer';

export type Weights = (name: string) => Float64Array;

/**
 * Whether the encrypted run evaluates LoRA adapters, which the client then encrypts. The HE-friendly
 * model is the paper's LoRA model: its adapters (zero in a pretrained checkpoint) and its head are
 * the client's private weights. The standard model is the paper's baseline, which fine-tunes fully;
 * for inference its encoder is the server's public base (the bench runs the pretrained standard
 * encoder) with no adapters, and only its head is the client's, encrypted like the HE-friendly head
 * so that the two variants' runs differ only where the architectures do. A fully fine-tuned private
 * encoder would need every d x d product ciphertext x ciphertext, the cost the paper's LoRA design
 * removes, and is not an inference protocol offered here: such a client fails the public-weight
 * digest, and a standard model with non-zero adapters is refused rather than run without them.
 */
export function usesAdapters(desc: ModelDescription): boolean {
  return desc.variant === 'hefriendly';
}

/** The LoRA rank the plan announces: the model's, or 0 where the run has no adapters. */
export function adapterRank(desc: ModelDescription, loraRank: number): number {
  return usesAdapters(desc) ? loraRank : 0;
}

export function weightsOf(model: Model): Weights {
  return (name) => model.p(name).data;
}

/** SHA-256 over the public (base) parameters: client and server must hold the same ones. */
export function publicDigest(desc: ModelDescription, model: Model): string {
  const secret = new Set(privateParameters(desc));
  const hash = createHash('sha256');
  for (const p of model.params.values()) {
    if (secret.has(p.name)) continue;
    hash.update(p.name);
    hash.update(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
  }
  return hash.digest('hex');
}

/** diag(gamma) W and beta W for a product that follows a LayerNorm. */
function foldNorm(w: Float64Array, inputs: number, outputs: number, gamma: Float64Array, beta: Float64Array, factor = 1): { weight: Float64Array; bias: Float64Array } {
  const weight = new Float64Array(inputs * outputs);
  const bias = new Float64Array(outputs);
  for (let i = 0; i < inputs; i++)
    for (let o = 0; o < outputs; o++) {
      weight[i * outputs + o] = factor * gamma[i] * w[i * outputs + o];
      bias[o] += factor * beta[i] * w[i * outputs + o];
    }
  return { weight, bias };
}

/** The server's products for every layer (public weights only). */
export function serverMatrices(kernels: Kernels, desc: ModelDescription, w: Weights): ServerMatrices {
  const D = desc.dim;
  const model = { order: 'model' as const, count: D };
  const hidden = { order: 'plain' as const, count: desc.ffn };
  return {
    layers: desc.layers.map((layer) => {
      const [g1, b1, g2, b2] = [w(layer.ln1.gamma), w(layer.ln1.beta), w(layer.ln2.gamma), w(layer.ln2.beta)];
      const afterNorm1 = (step: LinearStep): MatrixProduct => {
        const { weight, bias } = foldNorm(w(step.weight), D, D, g1, b1);
        return kernels.matrix(weight, model, model, bias);
      };
      const gelu = desc.activation === 'gelu';
      const up = foldNorm(w(layer.up.weight), D, desc.ffn, g2, b2, 1 / (gelu ? P.GELU_B : P.RELU_B));
      const down = gelu ? Float64Array.from(w(layer.down.weight)) : Float64Array.from(w(layer.down.weight), (x) => (x * P.RELU_B) / 2);
      return {
        query: afterNorm1(layer.query),
        key: afterNorm1(layer.key),
        value: afterNorm1(layer.value),
        output: kernels.matrix(Float64Array.from(w(layer.output.weight)), model, model),
        up: kernels.matrix(up.weight, model, hidden, up.bias),
        down: kernels.matrix(down, hidden, model),
      };
    }),
  };
}

function transposed(w: Float64Array, inputs: number, outputs: number): Float64Array {
  const out = new Float64Array(inputs * outputs);
  for (let i = 0; i < inputs; i++) for (let o = 0; o < outputs; o++) out[o * inputs + i] = w[i * outputs + o];
  return out;
}

/** The transposes of serverMatrices' products (the backward pass), folded the same way, without biases. */
export function serverTransposes(kernels: Kernels, desc: ModelDescription, w: Weights): ServerTransposes {
  const D = desc.dim;
  const model = { order: 'model' as const, count: D };
  const hidden = { order: 'plain' as const, count: desc.ffn };
  return {
    layers: desc.layers.map((layer) => {
      const [g1, b1, g2, b2] = [w(layer.ln1.gamma), w(layer.ln1.beta), w(layer.ln2.gamma), w(layer.ln2.beta)];
      const afterNorm1 = (step: LinearStep): MatrixProduct => kernels.matrix(transposed(foldNorm(w(step.weight), D, D, g1, b1).weight, D, D), model, model);
      const up = foldNorm(w(layer.up.weight), D, desc.ffn, g2, b2, 1 / P.RELU_B).weight;
      const down = Float64Array.from(w(layer.down.weight), (x) => (x * P.RELU_B) / 2);
      return {
        query: afterNorm1(layer.query),
        key: afterNorm1(layer.key),
        value: afterNorm1(layer.value),
        output: kernels.matrix(transposed(w(layer.output.weight), D, D), model, model),
        up: kernels.matrix(transposed(up, D, desc.ffn), hidden, model),
        down: kernels.matrix(transposed(down, desc.ffn, D), model, hidden),
      };
    }),
  };
}

/** The public LayerNorm gains and biases the training pass applies itself (first norms and the final one). */
export function normParameters(desc: ModelDescription, w: Weights): TrainingBackend['norms'] {
  return {
    ln1: desc.layers.map((layer) => ({ gamma: Float64Array.from(w(layer.ln1.gamma)), beta: Float64Array.from(w(layer.ln1.beta)) })),
    final: { gamma: Float64Array.from(w(desc.finalNorm.gamma)), beta: Float64Array.from(w(desc.finalNorm.beta)) },
  };
}

/** The slot vector of every trainable ciphertext (natural parameters), in parameterSlots' order. */
export function trainableVectors(layout: ActivationLayout, desc: ModelDescription, w: Weights, slots: ParameterSlot[]): Float64Array[] {
  const D = desc.dim;
  const C = desc.numLabels;
  const rank = desc.layers[0].query.lora!.rank;
  const pooler = layout.cipherDiagonals(w(desc.head.pooler.weight));
  return slots.map((slot) => {
    const p = w(slot.param);
    switch (slot.kind) {
      case 'adapterA':
        return layout.blockConstant(Float64Array.from({ length: D }, (_, f) => p[f * rank + slot.index]));
      case 'adapterB':
        return layout.blockConstant(p.subarray(slot.index * D, (slot.index + 1) * D));
      case 'poolerDiagonal':
        return pooler[slot.index];
      case 'poolerBias':
        return layout.blockConstant(p);
      case 'classifier':
        return layout.blockConstant(Float64Array.from({ length: D }, (_, f) => p[f * C + slot.index]));
      case 'classifierBias':
        return new Float64Array(layout.slots).fill(p[slot.index]);
    }
  });
}

/** The inverse of trainableVectors on decrypted slots: writes the natural parameters into `out`. */
export function readTrainable(layout: ActivationLayout, desc: ModelDescription, slots: ParameterSlot[], values: Float64Array[], out: (name: string) => Float64Array): void {
  const D = desc.dim;
  const C = desc.numLabels;
  const rank = desc.layers[0].query.lora!.rank;
  const featureAt = new Int32Array(D);
  for (let f = 0; f < D; f++) featureAt[layout.modelBlock(f)] = f;
  const block = (v: Float64Array, f: number) => v[layout.slot(layout.modelBlock(f), 0)];
  const diagonals: Float64Array[] = [];
  slots.forEach((slot, i) => {
    const p = out(slot.param);
    const v = values[i];
    switch (slot.kind) {
      case 'adapterA':
        for (let f = 0; f < D; f++) p[f * rank + slot.index] = block(v, f);
        break;
      case 'adapterB':
        for (let f = 0; f < D; f++) p[slot.index * D + f] = block(v, f);
        break;
      case 'poolerDiagonal':
        diagonals[slot.index] = v;
        break;
      case 'poolerBias':
        for (let f = 0; f < D; f++) p[f] = block(v, f);
        break;
      case 'classifier':
        for (let f = 0; f < D; f++) p[f * C + slot.index] = block(v, f);
        break;
      case 'classifierBias':
        p[slot.index] = v[0];
        break;
    }
  });
  // the pooler from its pre-rotated diagonals (ActivationLayout.cipherDiagonals, inverted)
  const wp = out(desc.head.pooler.weight);
  const giant = layout.giant;
  for (let g = 0; g < D / giant; g++)
    for (let j = 0; j < giant; j++) {
      const k = g * giant + j;
      for (let b = 0; b < D; b++) {
        const source = (b - g * giant + D) % D;
        wp[featureAt[(source + k) % D] * D + featureAt[source]] = diagonals[k][layout.slot(b, 0)];
      }
    }
}

/** Slot vectors of the client's encrypted weights, in EncryptedWeights' order. */
export interface WeightVectors {
  adapters: { query: AdapterVectors; key: AdapterVectors; value: AdapterVectors }[];
  head: { poolerDiagonals: Float64Array[]; poolerBias: Float64Array; classifier: Float64Array[]; classifierBias: Float64Array[] };
}
export interface AdapterVectors {
  a: Float64Array[];
  aBias: Float64Array[];
  b: Float64Array[];
}

export function clientWeightVectors(layout: ActivationLayout, desc: ModelDescription, w: Weights): WeightVectors {
  const D = desc.dim;
  const constant = (v: number) => new Float64Array(layout.slots).fill(v);
  const adapter = (step: LinearStep, gamma: Float64Array, beta: Float64Array): AdapterVectors => {
    if (!step.lora) throw new Error(`internal: ${step.weight} has no adapter`);
    const { rank, scale } = step.lora;
    const { weight: A, bias: betaA } = foldNorm(w(step.lora.a), D, rank, gamma, beta);
    const B = w(step.lora.b);
    const out: AdapterVectors = { a: [], aBias: [], b: [] };
    for (let c = 0; c < rank; c++) {
      out.a.push(layout.blockConstant(Float64Array.from({ length: D }, (_, f) => A[f * rank + c])));
      out.aBias.push(constant(betaA[c]));
      out.b.push(layout.blockConstant(Float64Array.from({ length: D }, (_, f) => scale * B[c * D + f])));
    }
    return out;
  };
  const adapters = usesAdapters(desc) ? desc.layers.map((layer) => {
    const [g, b] = [w(layer.ln1.gamma), w(layer.ln1.beta)];
    return { query: adapter(layer.query, g, b), key: adapter(layer.key, g, b), value: adapter(layer.value, g, b) };
  }) : [];
  const { pooler, classifier } = desc.head;
  const pool = foldNorm(w(pooler.weight), D, D, w(desc.finalNorm.gamma), w(desc.finalNorm.beta), 1 / P.TANH_B);
  const poolerBias = Float64Array.from(pool.bias, (x, f) => x + w(pooler.bias)[f] / P.TANH_B);
  const C = desc.numLabels;
  const wc = w(classifier.weight);
  return {
    adapters,
    head: {
      poolerDiagonals: layout.cipherDiagonals(pool.weight),
      poolerBias: layout.blockConstant(poolerBias),
      classifier: Array.from({ length: C }, (_, c) => layout.blockConstant(Float64Array.from({ length: D }, (_, f) => wc[f * C + c]))),
      classifierBias: Array.from({ length: C }, (_, c) => constant(w(classifier.bias)[c])),
    },
  };
}
