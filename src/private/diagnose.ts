/**
 * Where did precision go? The client decrypts the stage outputs the server returned on request
 * (server.infer with `probes`) and sets them beside the plaintext executor's values of the same
 * stages, sequence by sequence, over the real tokens only.
 */
import { Ciphertext } from '../api/ciphertext';
import type { Model } from '../model/model';
import * as P from '../model/poly';
import type { PrivateInferenceClient, Batch } from './client';
import { decodeMessage, entry } from './protocol';
import type { ResponseHeader } from './headers';

export interface StageError {
  stage: string;
  /** largest |encrypted - plaintext| over the real tokens (CLS row only for the head) */
  maxError: number;
}

/** The plaintext executor's value of every probed stage of one sequence: rows x features, model order. */
export function plaintextStages(model: Model, ids: number[], tokens: number): Map<string, { rows: number; width: number; values: Float64Array }> {
  const D = model.cfg.dim;
  const F = model.cfg.ffn;
  const padded = [...ids, ...Array(tokens - ids.length).fill(0)];
  const out = new Map<string, { rows: number; width: number; values: Float64Array }>();
  const put = (stage: string, width: number, values: Float64Array) => out.set(stage, { rows: tokens, width, values });
  const normalized = (cache: { xc: Float64Array; r: Float64Array }) => Float64Array.from(cache.xc, (v, i) => v * cache.r[Math.floor(i / D)]);
  model.classify(padded, undefined, false, ids.length, (enc, poolerInput) => {
    const { cache } = enc;
    cache.layers.forEach((L: any, l: number) => {
      const p = `L${l}`;
      const before = l === 0 ? null : cache.layers[l - 1].x2;
      put(`${p}.ln1`, D, normalized(L.ln1));
      put(`${p}.query`, D, L.Q.y);
      put(`${p}.key`, D, L.K.y);
      put(`${p}.value`, D, L.Vv.y);
      put(`${p}.attention`, D, L.att);
      if (before) put(`${p}.output`, D, Float64Array.from(L.x1, (v: number, i: number) => v - before[i]));
      put(`${p}.residual1`, D, L.x1);
      put(`${p}.ln2`, D, normalized(L.ln2));
      put(`${p}.up`, F, Float64Array.from(L.a, (v: number) => v / P.RELU_B));
      put(`${p}.relu`, F, Float64Array.from(L.z, (v: number) => (2 * v) / P.RELU_B));
      put(`${p}.down`, D, Float64Array.from(L.x2, (v: number, i: number) => v - L.x1[i]));
      put(`${p}.residual2`, D, L.x2);
    });
    put('final.norm', D, normalized(cache.lnf));
    // the head at the [CLS] row only (row 0)
    const first = (v: Float64Array) => Float64Array.from({ length: tokens * D }, (_, i) => (i < D ? v[i] : NaN));
    put('head.pooler', D, first(Float64Array.from(poolerInput, (v) => v / P.TANH_B)));
    put('head.tanh', D, first(Float64Array.from(poolerInput, (v) => P.tanhApprox(v))));
  });
  return out;
}

/**
 * Per stage, the largest error of each sequence of the batch (stages in pipeline order, those the
 * plaintext executor has a value for).
 */
export async function stageErrors(client: PrivateInferenceClient, model: Model, response: Uint8Array, batch: Batch, sequences: number[][]): Promise<StageError[][]> {
  const message = decodeMessage<ResponseHeader>(response, 'response');
  const { probes } = message.header;
  const layout = client.layout;
  const references = sequences.map((ids) => plaintextStages(model, ids, layout.tokens));
  const result: StageError[][] = sequences.map(() => []);
  for (const [k, probe] of probes.entries()) {
    const stage = probe.stage.includes(':') ? probe.stage.split(':')[1] : probe.stage;
    if (!references[0].has(stage)) continue;
    for (let g = 0; g < probe.count; g++) {
      const chunks: Float64Array[] = [];
      for (let i = 0; i < probe.width; i++) chunks.push(await client.decryptSlots(Ciphertext.load(client.context, entry(message, `probe${k}.group${g}.${i}`))));
      // a gathered value (one group for several) holds only [CLS] rows: group h's sequence s at row s * tokens + h
      const gathered = probe.count < batch.groups;
      for (let n = 0; n < batch.count; n++) {
        const [h, s] = [Math.floor(n / layout.sequences), n % layout.sequences];
        if (!gathered && h !== g) continue;
        const ref = references[n].get(stage)!;
        let worst = 0;
        for (let t = 0; t < (gathered ? 1 : batch.lengths[n]); t++)
          for (let f = 0; f < ref.width; f++) {
            const expected = ref.values[t * ref.width + f];
            if (Number.isNaN(expected)) continue;
            // the model dimension sits in interleaved blocks of one ciphertext, wider vectors in order
            const row = gathered ? s * layout.tokens + h : s * layout.tokens + t;
            const actual = ref.width === layout.width ? chunks[0][layout.slot(layout.modelBlock(f), row)] : chunks[Math.floor(f / layout.width)][layout.slot(f % layout.width, row)];
            worst = Math.max(worst, Math.abs(actual - expected));
          }
        result[n].push({ stage, maxError: worst });
      }
    }
  }
  return result;
}

/** The stage whose error grew the most over the largest error before it. */
export function worstStage(errors: StageError[]): StageError & { growth: number } {
  let best = { ...errors[0], growth: Infinity };
  let before = 0;
  for (const e of errors) {
    const growth = before > 0 ? e.maxError / before : Infinity;
    if (before > 0 && (best.growth === Infinity || growth > best.growth)) best = { ...e, growth };
    before = Math.max(before, e.maxError);
  }
  return best;
}
