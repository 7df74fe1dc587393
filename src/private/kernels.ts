/**
 * The fused native kernels of the private transformer (native/kernels), one native call per
 * operation on a whole packed ciphertext, run off the JavaScript thread. Every result is at the
 * canonical scale of its level (native/kernels/level_scales.hpp).
 */
import type { Bootstrapper } from '../api/bootstrap';
import { Ciphertext } from '../api/ciphertext';
import type { CkksContext } from '../api/context';
import type { GaloisKeys, RelinKey } from '../api/keys';
import { callNative, callNativeAsync, type NativeHandle } from '../api/native';
import { NativeResource } from '../api/resource';
import type { ActivationLayout } from './layout';

/** Where a vector's features live: the model dimension (interleaved heads) or plain order. */
export type FeatureOrder = 'model' | 'plain';

export interface InvSqrtConstants {
  lo: number;
  hi: number;
  eps: number;
}

/** Constants of the softmax attention kernels (poly.ts's softmax stand-in). */
export interface SoftmaxConstants {
  /** 1 / (sqrt(d_h) 2B): scores normalised into [-1/2, 1/2] */
  scoreFactor: number;
  /** the normalised score of masked keys and empty slots */
  maskedScore: number;
}

/** A plaintext weight whose diagonals are encoded per level into the kernels' budgeted cache (native PlainMatrixProduct). */
export class MatrixProduct extends NativeResource {
  /** @internal */
  constructor(handle: NativeHandle) {
    super(handle);
  }
}

export class Kernels extends NativeResource {
  constructor(
    readonly context: CkksContext,
    readonly layout: ActivationLayout,
    readonly topLevel: number,
    readonly topScale: number,
    relinKey: RelinKey,
    galoisKeys: GaloisKeys,
  ) {
    super(
      callNative<NativeHandle>('kernelContext', context.handle, layout.width, layout.tokens, layout.heads, topLevel, topScale, relinKey.handle, galoisKeys.handle),
    );
  }

  /** The canonical scale of `level`. */
  scaleAt(level: number): number {
    return callNative<number>('kernelScale', this.handle, level);
  }

  matrix(weight: Float64Array, inputs: { order: FeatureOrder; count: number }, outputs: { order: FeatureOrder; count: number }, bias?: Float64Array): MatrixProduct {
    return new MatrixProduct(callNative<NativeHandle>('kernelMatrix', this.handle, weight, inputs.order, inputs.count, outputs.order, outputs.count, bias ?? new Float64Array(0)));
  }

  private wrap(handle: NativeHandle): Ciphertext {
    return new Ciphertext(this.context, handle);
  }
  private async many(operation: string, ...args: unknown[]): Promise<Ciphertext[]> {
    return (await callNativeAsync<NativeHandle[]>(operation, this.handle, ...args)).map((h) => this.wrap(h));
  }
  private async one(operation: string, ...args: unknown[]): Promise<Ciphertext> {
    return this.wrap(await callNativeAsync<NativeHandle>(operation, this.handle, ...args));
  }
  private static handles(cts: Ciphertext[]): NativeHandle[] {
    return cts.map((c) => c.handle);
  }

  /** x W + bias for one row group (one ciphertext per input chunk); one level. */
  applyMatrix(product: MatrixProduct, x: Ciphertext[]): Promise<Ciphertext[]> {
    return this.many('kernelApplyMatrix', product.handle, Kernels.handles(x));
  }
  /** [x - mean (one level), Chebyshev input t (two levels), (var + eps) / 2 (two levels)]. */
  normStatistics(x: Ciphertext, approx: InvSqrtConstants): Promise<Ciphertext[]> {
    return this.many('kernelNormStatistics', x.handle, approx.lo, approx.hi, approx.eps);
  }
  /** One Newton step of w ~ 1/sqrt(v): w (1.5 - (v/2) w^2); two levels. */
  newton(w: Ciphertext, halfV: Ciphertext, approx: InvSqrtConstants): Promise<Ciphertext> {
    return this.one('kernelNewton', w.handle, halfV.handle, approx.lo, approx.hi, approx.eps);
  }
  /** Canonical a * b (relinearized, rescaled); one level below the lower operand. */
  multiply(a: Ciphertext, b: Ciphertext): Promise<Ciphertext> {
    return this.one('kernelMultiply', a.handle, b.handle);
  }
  /** a + b at the lower level. */
  add(a: Ciphertext, b: Ciphertext): Promise<Ciphertext> {
    return this.one('kernelAdd', a.handle, b.handle);
  }
  /** a - b at the lower level. */
  sub(a: Ciphertext, b: Ciphertext): Promise<Ciphertext> {
    return this.one('kernelSub', a.handle, b.handle);
  }
  /** x + value in every slot; no level. */
  addScalar(x: Ciphertext, value: number): Promise<Ciphertext> {
    return this.one('kernelAddScalar', x.handle, value);
  }
  /** x * scale + shift per model feature (shift may be empty); one level. */
  affine(x: Ciphertext, scale: Float64Array, shift: Float64Array = new Float64Array(0)): Promise<Ciphertext> {
    return this.one('kernelAffine', x.handle, scale, shift);
  }
  /** factor * x moved down to `level` (canonical there). */
  lower(x: Ciphertext, level: number, factor = 1): Promise<Ciphertext> {
    return this.one('kernelLower', x.handle, level, factor);
  }
  chebyshev(t: Ciphertext, coefficients: Float64Array): Promise<Ciphertext> {
    return this.one('kernelChebyshev', t.handle, coefficients);
  }
  chebyshevDepth(coefficients: Float64Array): number {
    return callNative<number>('kernelChebyshevDepth', coefficients);
  }
  oddDegree7(t: Ciphertext, coefficients: readonly number[]): Promise<Ciphertext> {
    return this.one('kernelOddDegree7', t.handle, Float64Array.from(coefficients));
  }
  squarings(x: Ciphertext, count: number): Promise<Ciphertext> {
    return this.one('kernelSquarings', x.handle, count);
  }
  /** t + t * sign; one level. */
  reluCombine(t: Ciphertext, sign: Ciphertext): Promise<Ciphertext> {
    return this.one('kernelReluCombine', t.handle, sign.handle);
  }
  attentionBases(q: Ciphertext, k: Ciphertext, kernelConstant: number, squarings: number): Promise<Ciphertext[]> {
    return this.many('kernelAttentionBases', q.handle, k.handle, kernelConstant, squarings);
  }
  attentionApply(kernel: Ciphertext[], v: Ciphertext, keyMask: Ciphertext, kernelConstant: number, squarings: number): Promise<Ciphertext> {
    return this.one('kernelAttentionApply', Kernels.handles(kernel), v.handle, keyMask.handle, kernelConstant, squarings);
  }
  /** The packed key mask of softmax attention (1 where a row meets a real key); two levels. */
  softmaxPackedMask(keyMask: Ciphertext, constants: SoftmaxConstants): Promise<Ciphertext[]> {
    return this.many('kernelSoftmaxPackedMask', keyMask.handle, constants.scoreFactor, constants.maskedScore);
  }
  /** Normalised packed scores, masked slots at maskedScore; four levels below min(q, k, keyMask). */
  softmaxScores(q: Ciphertext, k: Ciphertext, keyMask: Ciphertext, packedMask: Ciphertext[], constants: SoftmaxConstants): Promise<Ciphertext[]> {
    return this.many('kernelSoftmaxScores', q.handle, k.handle, keyMask.handle, Kernels.handles(packedMask), constants.scoreFactor, constants.maskedScore);
  }
  /** factor (scores - rowMax) + offset, per packed ciphertext; one level below the lowest input. */
  softmaxExpInput(scores: Ciphertext[], rowMax: Ciphertext, factor: number, offset: number, constants: SoftmaxConstants): Promise<Ciphertext[]> {
    return this.many('kernelSoftmaxExpInput', Kernels.handles(scores), rowMax.handle, factor, offset, constants.scoreFactor, constants.maskedScore);
  }
  /** [exps masked by the packed key mask (one level)..., their row sum replicated on the head's block pairs]. */
  softmaxRowSums(exps: Ciphertext[], packedMask: Ciphertext[], constants: SoftmaxConstants): Promise<Ciphertext[]> {
    return this.many('kernelSoftmaxRowSums', Kernels.handles(exps), Kernels.handles(packedMask), constants.scoreFactor, constants.maskedScore);
  }
  /** The packed weights factor * maskedExps * inverse; level min(maskedExps - 1, inverse) - 1. */
  softmaxNormalize(maskedExps: Ciphertext[], inverse: Ciphertext, factor: number, constants: SoftmaxConstants): Promise<Ciphertext[]> {
    return this.many('kernelSoftmaxNormalize', Kernels.handles(maskedExps), inverse.handle, factor, constants.scoreFactor, constants.maskedScore);
  }
  /** sum over keys of packed weights x masked values (the Gaussian kernel's apply); value path three levels, one after the weights. */
  attentionValues(weights: Ciphertext[], v: Ciphertext, keyMask: Ciphertext): Promise<Ciphertext> {
    return this.one('kernelAttentionValues', Kernels.handles(weights), v.handle, keyMask.handle);
  }
  /** a - b, or a - rot(a, step) when b is null; no level. */
  maxDifference(a: Ciphertext, b: Ciphertext | null, step = 0): Promise<Ciphertext> {
    return this.one('kernelMaxDifference', a.handle, b ? b.handle : null, step);
  }
  /** max(a, b) = a + d halfSign - d/2 (halfSign ~ sgn(d)/2); one level below min(d, halfSign). */
  maxCombine(a: Ciphertext, d: Ciphertext, halfSign: Ciphertext): Promise<Ciphertext> {
    return this.one('kernelMaxCombine', a.handle, d.handle, halfSign.handle);
  }
  /** Goldschmidt's [a, b] for c/x: a = 2 - x/c, b = 1 - x/c; one level. */
  goldschmidtStart(x: Ciphertext, center: number): Promise<Ciphertext[]> {
    return this.many('kernelGoldschmidtStart', x.handle, center);
  }
  /** `count` Goldschmidt iterations b <- b^2, a <- a (1 + b): b down `count` levels, a to min(a - count, b - count - 1). */
  goldschmidtSteps(a: Ciphertext, b: Ciphertext, count: number): Promise<Ciphertext[]> {
    return this.many('kernelGoldschmidtSteps', a.handle, b.handle, count);
  }
  /** t_c = sum over features of x * w_c (+ bias_c), replicated; one level. */
  featureDot(x: Ciphertext, weights: Ciphertext[], biases: Ciphertext[]): Promise<Ciphertext[]> {
    return this.many('kernelFeatureDot', x.handle, Kernels.handles(weights), Kernels.handles(biases));
  }
  /** sum_c t_c * rows_c; one level. */
  broadcastSum(t: Ciphertext[], rows: Ciphertext[]): Promise<Ciphertext> {
    return this.one('kernelBroadcastSum', Kernels.handles(t), Kernels.handles(rows));
  }
  /** x W with encrypted pre-rotated diagonals (ActivationLayout.cipherDiagonals), plus bias; one level. */
  cipherMatrix(x: Ciphertext, diagonals: Ciphertext[], bias: Ciphertext | null): Promise<Ciphertext> {
    return this.one('kernelCipherMatrix', x.handle, Kernels.handles(diagonals), bias ? bias.handle : null);
  }
  /** The [CLS] rows of every row group in one ciphertext (group g's sequence s at row s * tokens + g); one level. */
  gatherFirstRows(groups: Ciphertext[]): Promise<Ciphertext> {
    return this.one('kernelGatherFirstRows', Kernels.handles(groups));
  }
  /** y W^T with the pre-rotated diagonals of W; one level. */
  cipherMatrixTranspose(y: Ciphertext, diagonals: Ciphertext[]): Promise<Ciphertext> {
    return this.one('kernelCipherMatrixTranspose', y.handle, Kernels.handles(diagonals));
  }
  /** Gradients of the pre-rotated diagonals for x W (row totals, valid on each block's last row); one level. */
  cipherMatrixGradient(x: Ciphertext, dy: Ciphertext): Promise<Ciphertext[]> {
    return this.many('kernelCipherMatrixGradient', x.handle, dy.handle);
  }
  /** The gather's backward: group g's [CLS] rows from rows s * tokens + g, other rows zero; one level. */
  scatterFirstRows(gathered: Ciphertext, groups: number): Promise<Ciphertext[]> {
    return this.many('kernelScatterFirstRows', gathered.handle, groups);
  }
  /** Bootstraps (two at a time) back to the top level; bounds[i] >= max |value| of cts[i]. */
  refresh(bootstrapper: Bootstrapper, cts: Ciphertext[], bounds: number[], onProgress?: (stage: string, seconds: number) => void): Promise<Ciphertext[]> {
    return this.many('kernelRefresh', bootstrapper.handle, Kernels.handles(cts), Float64Array.from(bounds), onProgress);
  }

  /** Several polynomials of one input from one Chebyshev basis. */
  chebyshevMany(t: Ciphertext, polynomials: Float64Array[]): Promise<Ciphertext[]> {
    return this.many('kernelChebyshevMany', t.handle, polynomials);
  }
  /** [f(t), f'(t)] of the composite sign's degree-7 step; three levels. */
  oddDegree7WithDerivative(t: Ciphertext, coefficients: readonly number[]): Promise<Ciphertext[]> {
    return this.many('kernelOddDegree7WithDerivative', t.handle, Float64Array.from(coefficients));
  }
  /** [w', dw'/dv] of a Newton step of 1/sqrt(v); two and three levels. */
  newtonWithDerivative(w: Ciphertext, dw: Ciphertext, halfV: Ciphertext, approx: InvSqrtConstants): Promise<Ciphertext[]> {
    return this.many('kernelNewtonWithDerivative', w.handle, dw.handle, halfV.handle, approx.lo, approx.hi, approx.eps);
  }
  /** LayerNorm's backward from dL/d(normalized, before gamma and beta); four levels. */
  normBackward(dh: Ciphertext, centred: Ciphertext, w: Ciphertext, dw: Ciphertext, approx: InvSqrtConstants): Promise<Ciphertext> {
    return this.one('kernelNormBackward', dh.handle, centred.handle, w.handle, dw.handle, approx.lo, approx.hi, approx.eps);
  }
  /** Packed per-head inner products of x at query rows and y at the shifted key rows; three levels. */
  attentionInner(x: Ciphertext, y: Ciphertext): Promise<Ciphertext[]> {
    return this.many('kernelAttentionInner', x.handle, y.handle);
  }
  /** sum over shifts of a packed kernel times the shifted x; one level below min(kernel, x - 2). */
  attentionWeigh(kernel: Ciphertext[], x: Ciphertext): Promise<Ciphertext> {
    return this.one('kernelAttentionWeigh', Kernels.handles(kernel), x.handle);
  }
  /** The packed kernel of the transposed matrix; two levels. */
  attentionTranspose(kernel: Ciphertext[]): Promise<Ciphertext[]> {
    return this.many('kernelAttentionTranspose', Kernels.handles(kernel));
  }
  /** sum over shifts of a packed kernel, replicated on each head's blocks; no level. */
  attentionHeadSums(kernel: Ciphertext[]): Promise<Ciphertext> {
    return this.one('kernelAttentionHeadSums', Kernels.handles(kernel));
  }
  /** Sum over the rows of each block, valid on the block's last row; no level. */
  rowTotal(x: Ciphertext): Promise<Ciphertext> {
    return this.one('kernelRowTotal', x.handle);
  }
  /** Row totals packed one per row (parameter i at row rows-1-i); one level. */
  packRows(totals: Ciphertext[]): Promise<Ciphertext> {
    return this.one('kernelPackRows', Kernels.handles(totals));
  }
  /** Packed parameter i times factors[i]; one level. */
  scaleRows(packed: Ciphertext, factors: Float64Array): Promise<Ciphertext> {
    return this.one('kernelScaleRows', packed.handle, factors);
  }
  /** Packed parameter i as block constants again; one level. */
  unpackRow(packed: Ciphertext, index: number): Promise<Ciphertext> {
    return this.one('kernelUnpackRow', packed.handle, index);
  }

  /** Rotation steps the kernels rotate by, for a layout (the client makes Galois keys for these). */
  static rotationSteps(layout: ActivationLayout, training = false): number[] {
    return callNative<number[]>('kernelRotationSteps', layout.slots, layout.width, layout.tokens, layout.heads, training);
  }
}
