/** node-seal (SEAL 4.1 in WebAssembly) as the reference implementation for the SEAL interop tests. */
import { SealFormat, type SealCompression } from '../src';

/** zstd where this build has it (built with libzstd-dev), zlib otherwise. */
export const ZSTD: SealCompression = SealFormat.zstdAvailable ? 'zstd' : 'zlib';
export const COMPRESSIONS: ('zlib' | 'zstd')[] = SealFormat.zstdAvailable ? ['zlib', 'zstd'] : ['zlib'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NodeSeal = any;

let sealPromise: Promise<NodeSeal> | undefined;

export function loadNodeSeal(): Promise<NodeSeal> {
  if (!sealPromise) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const SEAL = require('node-seal');
    sealPromise = SEAL();
  }
  return sealPromise!;
}

/** A node-seal CKKS session: parameters from CoeffModulus.Create(N, bits), tc128. */
export interface SealSession {
  seal: NodeSeal;
  parms: NodeSeal;
  context: NodeSeal;
  encoder: NodeSeal;
  evaluator: NodeSeal;
  /** Frees every node-seal object made through own(). */
  own<T extends { delete: () => void }>(o: T): T;
  close(): void;
}

export function sealSession(seal: NodeSeal, parms: NodeSeal): SealSession {
  const owned: { delete: () => void }[] = [parms];
  const own = <T extends { delete: () => void }>(o: T): T => {
    owned.push(o);
    return o;
  };
  const context = own(seal.Context(parms, true, seal.SecurityLevel.tc128));
  if (!context.parametersSet()) throw new Error('node-seal rejected the parameters: ' + context.parameterErrorMessage?.());
  return {
    seal,
    parms,
    context,
    encoder: own(seal.CKKSEncoder(context)),
    evaluator: own(seal.Evaluator(context)),
    own,
    close: () => {
      for (const o of owned.reverse()) o.delete();
      owned.length = 0;
    },
  };
}

export function sealParameters(seal: NodeSeal, n: number, bits: number[]): NodeSeal {
  const parms = seal.EncryptionParameters(seal.SchemeType.ckks);
  parms.setPolyModulusDegree(n);
  parms.setCoeffModulus(seal.CoeffModulus.Create(n, Int32Array.from(bits)));
  return parms;
}

/** Seeded pseudo-random vector in [-1, 1) (mulberry32), so failures can be reproduced from the seed. */
export function randomVector(length: number, seed: number): Float64Array {
  let a = seed >>> 0;
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export function maxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst;
}

/** Precision in bits: -log2 of the largest absolute error. */
export function precisionBits(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  return -Math.log2(maxError(actual, expected));
}

export function rotated(values: ArrayLike<number>, step: number): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = values[(((i + step) % n) + n) % n];
  return out;
}
