/**
 * Dense kernels on row-major Float64Array matrices, instrumented with operation counters.
 *
 * Every matrix product goes through `mm*` with flags saying whether each operand would be a
 * ciphertext in the encrypted pipeline (activations and trainable weights: encrypted; frozen
 * weights: plaintext). Every non-linear element-wise step goes through `countNonlin`. The counts
 * are read by scripts/model/opcounts.ts for one training step and one inference.
 */
export interface OpCounts {
  ctct: number; // ciphertext x ciphertext matrix products
  /** of which thin: some dimension <= 4 (rank-r LoRA factors, single-token head) */
  ctctThin: number;
  ctpt: number; // ciphertext x plaintext matrix products
  ptpt: number; // plaintext x plaintext (client side / free)
  ctctMacs: number;
  ctptMacs: number;
  nonlin: Record<string, { calls: number; elements: number }>;
}

export const counter = {
  enabled: false,
  /** count only: skip the arithmetic of matrix products (shapes and counts are unchanged) */
  dryRun: false,
  c: fresh(),
  reset(): void {
    this.c = fresh();
  },
};
function fresh(): OpCounts {
  return { ctct: 0, ctctThin: 0, ctpt: 0, ptpt: 0, ctctMacs: 0, ctptMacs: 0, nonlin: {} };
}

function count(m: number, k: number, n: number, encA: boolean, encB: boolean): void {
  if (!counter.enabled) return;
  const c = counter.c;
  if (encA && encB) {
    c.ctct++;
    if (Math.min(m, k, n) <= 4) c.ctctThin++;
    c.ctctMacs += m * k * n;
  } else if (encA || encB) {
    c.ctpt++;
    c.ctptMacs += m * k * n;
  } else c.ptpt++;
}

export function countNonlin(kind: string, elements: number): void {
  if (!counter.enabled) return;
  const e = (counter.c.nonlin[kind] ??= { calls: 0, elements: 0 });
  e.calls++;
  e.elements += elements;
}

/** C[m x n] (+)= A[m x k] B[k x n] */
export function mm(A: Float64Array, B: Float64Array, m: number, k: number, n: number, encA: boolean, encB: boolean, C?: Float64Array, accumulate = false): Float64Array {
  count(m, k, n, encA, encB);
  const out = C ?? new Float64Array(m * n);
  if (!accumulate && C) out.fill(0);
  if (counter.dryRun) return out;
  for (let i = 0; i < m; i++) {
    const oi = i * n;
    const ai = i * k;
    for (let p = 0; p < k; p++) {
      const a = A[ai + p];
      if (a === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) out[oi + j] += a * B[bp + j];
    }
  }
  return out;
}

/** C[m x n] (+)= A[m x k] B^T, B is [n x k] */
export function mmBt(A: Float64Array, B: Float64Array, m: number, k: number, n: number, encA: boolean, encB: boolean, C?: Float64Array, accumulate = false): Float64Array {
  count(m, k, n, encA, encB);
  const out = C ?? new Float64Array(m * n);
  if (!accumulate && C) out.fill(0);
  if (counter.dryRun) return out;
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    for (let j = 0; j < n; j++) {
      const bj = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += A[ai + p] * B[bj + p];
      out[i * n + j] += s;
    }
  }
  return out;
}

/** C[k x n] (+)= A^T B, A is [m x k], B is [m x n] (weight gradients) */
export function mmAt(A: Float64Array, B: Float64Array, m: number, k: number, n: number, encA: boolean, encB: boolean, C?: Float64Array, accumulate = false): Float64Array {
  count(k, m, n, encA, encB);
  const out = C ?? new Float64Array(k * n);
  if (!accumulate && C) out.fill(0);
  if (counter.dryRun) return out;
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    const bi = i * n;
    for (let p = 0; p < k; p++) {
      const a = A[ai + p];
      if (a === 0) continue;
      const op = p * n;
      for (let j = 0; j < n; j++) out[op + j] += a * B[bi + j];
    }
  }
  return out;
}

export function addInPlace(a: Float64Array, b: Float64Array): Float64Array {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
  return a;
}
