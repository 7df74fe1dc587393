/**
 * The activation layout of the private transformer, as the client packs and unpacks it (the native
 * kernels, native/kernels/activation_layout.hpp, use the same one).
 *
 * A ciphertext holds `width` feature blocks of `rows` consecutive slots (width x rows = N/2):
 *
 *     slot:  | block 0: rows 0..R-1 | block 1: rows 0..R-1 | ... | block width-1 |
 *     row r = s * tokens + t  is token t of sequence s (s < sequences); rows from
 *             sequences * tokens on are filler (copies of real rows, never anyone's keys)
 *
 * Model feature f of head h = floor(f / d_h), j = f mod d_h sits in block j * heads + h (the heads
 * interleaved), so that a sum over one head's blocks ends up replicated on all of them. The
 * feed-forward layer's hidden features sit in order, `width` per ciphertext.
 */
import { InvalidArgumentError } from '../api/errors';

export class ActivationLayout {
  readonly rows: number;
  readonly sequences: number;
  readonly headDim: number;

  constructor(
    readonly slots: number,
    readonly width: number,
    readonly tokens: number,
    readonly heads: number,
  ) {
    const pow2 = (x: number) => Number.isInteger(x) && x > 0 && (x & (x - 1)) === 0;
    if (!pow2(slots) || !pow2(width) || width > slots) throw new InvalidArgumentError('layout: slots and width must be powers of two, width <= slots');
    if (!Number.isInteger(heads) || heads < 1 || width % heads !== 0) throw new InvalidArgumentError('layout: heads must divide the width');
    this.rows = slots / width;
    if (!Number.isInteger(tokens) || tokens < 1 || tokens > this.rows)
      throw new InvalidArgumentError(`layout: ${tokens} tokens do not fit in ${this.rows} rows (N too small for this sequence length)`);
    this.sequences = Math.floor(this.rows / tokens);
    this.headDim = width / heads;
  }

  slot(block: number, row: number): number {
    return block * this.rows + row;
  }
  /** Block of model feature f (interleaved heads). */
  modelBlock(f: number): number {
    return (f % this.headDim) * this.heads + Math.floor(f / this.headDim);
  }
  get usedRows(): number {
    return this.sequences * this.tokens;
  }

  /**
   * One ciphertext's slots from up to `sequences` activations (each tokens x width, row-major, model
   * feature order). Filler rows repeat the real rows from the start.
   */
  packActivations(activations: Float64Array[]): Float64Array {
    if (activations.length < 1 || activations.length > this.sequences)
      throw new InvalidArgumentError(`layout: 1 to ${this.sequences} sequences per ciphertext, got ${activations.length}`);
    const { tokens, width } = this;
    for (const a of activations) if (a.length !== tokens * width) throw new InvalidArgumentError(`layout: an activation must be ${tokens} x ${width}`);
    const used = activations.length * tokens;
    const out = new Float64Array(this.slots);
    for (let r = 0; r < this.rows; r++) {
      const source = r < used ? r : r % used;
      const a = activations[Math.floor(source / tokens)];
      const t = source % tokens;
      for (let f = 0; f < width; f++) out[this.slot(this.modelBlock(f), r)] = a[t * width + f];
    }
    return out;
  }

  /** Token rows of sequence s (tokens x width, model order) from one ciphertext's decoded slots. */
  unpackActivation(slots: Float64Array, s: number): Float64Array {
    const { tokens, width } = this;
    const out = new Float64Array(tokens * width);
    for (let t = 0; t < tokens; t++) for (let f = 0; f < width; f++) out[t * width + f] = slots[this.slot(this.modelBlock(f), s * tokens + t)];
    return out;
  }

  /**
   * The key mask: 1 on the real tokens of each sequence (every block), 0 on padding and on the rows
   * past the layout's sequences. Sequence slots past `lengths` repeat the given masks, as
   * packActivations repeats the rows: every query row then has a real key (a softmax row sum of 0
   * would leave the kernels' Goldschmidt inverse far outside its interval).
   */
  packKeyMask(lengths: number[]): Float64Array {
    if (lengths.length < 1 || lengths.length > this.sequences) throw new InvalidArgumentError(`layout: 1 to ${this.sequences} lengths, got ${lengths.length}`);
    const out = new Float64Array(this.slots);
    for (let s = 0; s < this.sequences; s++)
      for (let t = 0; t < lengths[s % lengths.length]; t++) for (let b = 0; b < this.width; b++) out[this.slot(b, s * this.tokens + t)] = 1;
    return out;
  }

  /** A vector whose block of model feature f holds values[f] on every row. */
  blockConstant(values: ArrayLike<number>): Float64Array {
    if (values.length !== this.width) throw new InvalidArgumentError(`layout: ${this.width} block values expected`);
    const out = new Float64Array(this.slots);
    for (let f = 0; f < this.width; f++) out.fill(values[f], this.slot(this.modelBlock(f), 0), this.slot(this.modelBlock(f), 0) + this.rows);
    return out;
  }

  /** Giant step of the diagonal method's baby-step giant-step (native PlainMatrixProduct::giant_size). */
  get giant(): number {
    let g = 1;
    while (g * g < this.width) g *= 2;
    return g;
  }

  /**
   * The diagonals of x W (W: width x width, row-major, model order) for the encrypted matrix product:
   * entry [g * giant + j] is diagonal k = g * giant + j (block b: W[feature of block b + k, feature
   * of block b]) rotated right by g * giant blocks, as native cipher_matrix_product expects.
   */
  cipherDiagonals(weight: ArrayLike<number>): Float64Array[] {
    const { width, giant } = this;
    if (weight.length !== width * width) throw new InvalidArgumentError('layout: the matrix must be width x width');
    const featureAt = new Int32Array(width);
    for (let f = 0; f < width; f++) featureAt[this.modelBlock(f)] = f;
    const out: Float64Array[] = [];
    for (let g = 0; g < width / giant; g++)
      for (let j = 0; j < giant; j++) {
        const k = g * giant + j;
        const values = new Float64Array(width);
        for (let b = 0; b < width; b++) {
          const source = (b - g * giant + width) % width; // block whose diagonal entry lands in b
          values[featureAt[b]] = weight[featureAt[(source + k) % width] * width + featureAt[source]];
        }
        out.push(this.blockConstant(values));
      }
    return out;
  }
}
