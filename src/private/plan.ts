/**
 * The server's published plan: everything a client needs to make keys and inputs, and nothing
 * private. It is computed by running the encrypted executor without ciphertexts (levels only), so
 * the bootstraps and stages it lists are exactly what an inference does.
 */
import type { BootstrapOptions, BootstrapPreset } from '../api/bootstrap';
import type { ContextOptions } from '../api/context';
import { InvalidArgumentError } from '../api/errors';
import type { ModelDescription } from '../model/description';
import { Executor, VALUE_BOUNDS, type StageRecord } from './executor';
import { Kernels } from './kernels';
import { GRADIENT_BOUNDS, Trainer } from './trainer';
import { ActivationLayout } from './layout';

export const PLAN_FORMAT = 'cipherlm-private-inference/1';

export interface PrivateInferencePlan {
  format: typeof PLAN_FORMAT;
  preset: {
    name: string;
    context: ContextOptions;
    hammingWeight: number;
    bootstrap: BootstrapOptions;
    insecure: boolean;
    security: string;
  };
  model: {
    variant: string;
    dim: number;
    heads: number;
    ffn: number;
    layers: number;
    maxLen: number;
    numLabels: number;
    loraRank: number;
    /** SHA-256 of the public base weights the server holds (weights.publicDigest). */
    publicDigest: string;
  };
  layout: { slots: number; width: number; tokens: number; heads: number; rows: number; sequences: number };
  /** Level and scale of every ciphertext the client sends (the level bootstraps return to). */
  topLevel: number;
  topScale: number;
  /** Rotation steps the pipeline's kernels use and the bootstrapper's Galois elements: the client makes exactly these keys. */
  rotationSteps: number[];
  bootstrapGaloisElements: number[];
  /** Per row group of `layout.sequences` sequences. */
  bootstrapsPerGroup: number;
  stages: StageRecord[];
  /** Private fine-tuning, when the server offers it (its rotation steps are in rotationSteps). */
  training?: {
    /** trainable ciphertexts (trainer.parameterSlots) and the packed optimizer ciphertexts */
    parameters: number;
    optimizerWidth: number;
    /** bootstraps of one step of one row group */
    bootstrapsPerStep: number;
    stages: StageRecord[];
  };
}

export function layoutFor(slots: number, desc: ModelDescription): ActivationLayout {
  return new ActivationLayout(slots, desc.dim, desc.maxLen, desc.heads);
}

/** The plan for one row group (the executor's bootstraps and stages, levels only). */
export async function makePlan(
  desc: ModelDescription,
  preset: BootstrapPreset,
  bootstrapper: { outputLevel: number; galoisElements: readonly number[] },
  topScale: number,
  publicDigest: string,
  loraRank: number,
  training = false,
): Promise<PrivateInferencePlan> {
  const slots = preset.context.ringDegree / 2;
  const layout = layoutFor(slots, desc);
  const executor = new Executor(desc, bootstrapper.outputLevel, 1, null);
  await executor.forward(executor.input('embeddings', VALUE_BOUNDS.residual, null, 1), executor.input('keyMask', VALUE_BOUNDS.unit, null, 1));
  const steps = [...new Set(Kernels.rotationSteps(layout, training).map((s) => ((s % slots) + slots) % slots))].sort((a, b) => a - b);
  let trainingPlan: PrivateInferencePlan['training'];
  if (training) {
    const trainer = new Trainer(desc, bootstrapper.outputLevel, 1, layout.rows, null);
    await trainer.step(...planningStep(trainer, desc));
    trainingPlan = { parameters: trainer.parameterCount, optimizerWidth: trainer.optimizerWidth, bootstrapsPerStep: trainer.bootstraps, stages: trainer.stages };
  }
  return {
    format: PLAN_FORMAT,
    preset: {
      name: preset.name,
      context: preset.context,
      hammingWeight: preset.hammingWeight,
      bootstrap: preset.bootstrap,
      insecure: preset.insecure,
      security: preset.security,
    },
    model: {
      variant: desc.variant,
      dim: desc.dim,
      heads: desc.heads,
      ffn: desc.ffn,
      layers: desc.layers.length,
      maxLen: desc.maxLen,
      numLabels: desc.numLabels,
      loraRank,
      publicDigest,
    },
    layout: { slots, width: layout.width, tokens: layout.tokens, heads: layout.heads, rows: layout.rows, sequences: layout.sequences },
    topLevel: bootstrapper.outputLevel,
    topScale,
    rotationSteps: steps,
    bootstrapGaloisElements: [...bootstrapper.galoisElements],
    bootstrapsPerGroup: executor.bootstraps,
    stages: executor.stages,
    ...(trainingPlan ? { training: trainingPlan } : {}),
  };
}

/** Level-only arguments of a training step (planning: no ciphertexts). */
export function planningStep(trainer: Trainer, desc: ModelDescription): Parameters<Trainer['step']> {
  const gathered = (name: string) => trainer.parameter(name, null, 1);
  const packed = (name: string, bound: number) => ({ ...trainer.parameter(name, null, bound), width: trainer.optimizerWidth });
  return [
    {
      embeddings: trainer.input('embeddings', VALUE_BOUNDS.residual, null, 1),
      keyMask: trainer.input('keyMask', VALUE_BOUNDS.unit, null, 1),
      labels: Array.from({ length: desc.numLabels }, (_, c) => gathered(`label${c}`)),
      real: gathered('real'),
    },
    Array.from({ length: trainer.parameterCount }, (_, i) => trainer.parameter(`parameter${i}`, null)),
    { m: packed('m', GRADIENT_BOUNDS.moment), v: packed('v', GRADIENT_BOUNDS.secondMoment) },
    { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 6e-4, weightDecay: 0.01, batch: 16 },
  ];
}

/** Checks a plan's shape before a client trusts it (the server's bytes are untrusted input too). */
export function checkPlan(plan: unknown): PrivateInferencePlan {
  const p = plan as PrivateInferencePlan;
  const ok =
    typeof p === 'object' &&
    p !== null &&
    p.format === PLAN_FORMAT &&
    typeof p.preset?.context?.ringDegree === 'number' &&
    Array.isArray(p.preset.context.dataBits) &&
    Number.isInteger(p.preset.hammingWeight) &&
    Number.isInteger(p.topLevel) &&
    Number.isFinite(p.topScale) &&
    Array.isArray(p.rotationSteps) &&
    p.rotationSteps.every((s) => Number.isInteger(s)) &&
    Array.isArray(p.bootstrapGaloisElements) &&
    p.bootstrapGaloisElements.every((e) => Number.isInteger(e)) &&
    typeof p.model?.publicDigest === 'string' &&
    Number.isInteger(p.layout?.sequences);
  if (!ok) throw new InvalidArgumentError('not a cipherlm private-inference plan', 'ERR_INVALID_ARGUMENT');
  return p;
}
