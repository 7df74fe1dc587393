/**
 * The model description: the one layer list that both executors read. The plaintext executor
 * (Model.encode / Model.classify) walks it in float64; the encrypted executor (src/private) walks
 * it on ciphertexts. Weights are referenced by parameter name, the non-linear steps name the
 * approximation of poly.ts they use, so the two executors cannot drift apart.
 */
import type { ModelConfig } from './model';

/** A dense product x W (+ the LoRA branch (x A) B * scale when `lora` is set and adapters are on). */
export interface LinearStep {
  weight: string;
  inputs: number;
  outputs: number;
  lora?: { a: string; b: string; rank: number; scale: number };
}

export interface NormStep {
  gamma: string;
  beta: string;
}

export interface LayerDescription {
  ln1: NormStep;
  query: LinearStep;
  key: LinearStep;
  value: LinearStep;
  output: LinearStep;
  ln2: NormStep;
  up: LinearStep;
  down: LinearStep;
}

export interface ModelDescription {
  variant: ModelConfig['variant'];
  dim: number;
  heads: number;
  headDim: number;
  ffn: number;
  maxLen: number;
  numLabels: number;
  /** 'gaussian': exp(-|q - k|^2 / (2 sqrt(d_h))) by poly.expPoly, no row normalisation; 'softmax': exact. */
  attention: 'gaussian' | 'softmax';
  /** 1/sqrt of the LayerNorm variance: 'poly' is poly.invSqrtApprox, 'exact' is Math.sqrt. */
  norm: 'poly' | 'exact';
  /** Feed-forward activation: 'relu-poly' is poly.reluApprox, 'gelu' the tanh form of GELU. */
  activation: 'relu-poly' | 'gelu';
  /** Pooler: 'tanh-poly' is poly.tanhApprox, 'tanh' is Math.tanh. */
  pooler: 'tanh-poly' | 'tanh';
  lnEps: number;
  embedding: { token: string; position: string };
  layers: LayerDescription[];
  finalNorm: NormStep;
  head: { pooler: LinearStep & { bias: string }; classifier: LinearStep & { bias: string } };
}

export function describeModel(cfg: ModelConfig): ModelDescription {
  const { dim: D, ffn: F, loraRank: rank, loraScale: scale } = cfg;
  const he = cfg.variant === 'hefriendly';
  const linear = (weight: string, inputs: number, outputs: number, lora?: string): LinearStep =>
    lora ? { weight, inputs, outputs, lora: { a: `${lora}.loraA`, b: `${lora}.loraB`, rank, scale } } : { weight, inputs, outputs };
  const layers: LayerDescription[] = [];
  for (let l = 0; l < cfg.layers; l++) {
    const p = `L${l}`;
    layers.push({
      ln1: { gamma: `${p}.ln1.g`, beta: `${p}.ln1.b` },
      query: linear(`${p}.wq`, D, D, `${p}.q`),
      key: linear(`${p}.wk`, D, D, `${p}.k`),
      value: linear(`${p}.wv`, D, D, `${p}.v`),
      output: linear(`${p}.wo`, D, D),
      ln2: { gamma: `${p}.ln2.g`, beta: `${p}.ln2.b` },
      up: linear(`${p}.w1`, D, F),
      down: linear(`${p}.w2`, F, D),
    });
  }
  return {
    variant: cfg.variant,
    dim: D,
    heads: cfg.heads,
    headDim: D / cfg.heads,
    ffn: F,
    maxLen: cfg.maxLen,
    numLabels: cfg.numLabels,
    attention: he ? 'gaussian' : 'softmax',
    norm: he ? 'poly' : 'exact',
    activation: he ? 'relu-poly' : 'gelu',
    pooler: he ? 'tanh-poly' : 'tanh',
    lnEps: cfg.lnEps,
    embedding: { token: 'emb.tok', position: 'emb.pos' },
    layers,
    finalNorm: { gamma: 'lnf.g', beta: 'lnf.b' },
    head: {
      pooler: { ...linear('head.wp', D, D), bias: 'head.bp' },
      classifier: { ...linear('head.wc', D, cfg.numLabels), bias: 'head.bc' },
    },
  };
}

/** Parameter names a LoRA-fine-tuned model keeps private (the client encrypts them): adapters and head. */
export function privateParameters(desc: ModelDescription): string[] {
  const names: string[] = [];
  for (const layer of desc.layers)
    for (const step of [layer.query, layer.key, layer.value, layer.output, layer.up, layer.down]) if (step.lora) names.push(step.lora.a, step.lora.b);
  const { pooler, classifier } = desc.head;
  names.push(pooler.weight, pooler.bias, classifier.weight, classifier.bias);
  return names;
}
