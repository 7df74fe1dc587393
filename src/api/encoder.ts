import type { CkksContext } from './context';
import { InvalidArgumentError } from './errors';
import { callNative, callNativeAsync, type NativeHandle } from './native';
import { Plaintext } from './plaintext';
import { NativeResource } from './resource';

export interface EncodeOptions {
  /** Default: the context's default scale. */
  scale?: number;
  /** Default: the top level. */
  level?: number;
}

export interface ComplexVector {
  real: Float64Array;
  imaginary: Float64Array;
}

function toFloat64(values: ArrayLike<number>, what: string): Float64Array {
  if (values instanceof Float64Array) return values;
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    throw new InvalidArgumentError(`${what} must be an array of numbers`, 'ERR_INVALID_ARGUMENT');
  }
  return Float64Array.from(values);
}

/**
 * CKKS encoder: up to N/2 real or complex values per plaintext (fewer are padded with zeros), slot
 * order and rotation direction as in Microsoft SEAL.
 */
export class CkksEncoder extends NativeResource {
  constructor(readonly context: CkksContext) {
    super(callNative<NativeHandle>('createEncoder', context.handle));
  }

  get slotCount(): number {
    return this.context.slotCount;
  }

  private args(options: EncodeOptions): [number, number] {
    return [options.scale ?? this.context.defaultScale, options.level ?? this.context.maxLevel];
  }

  encode(values: ArrayLike<number>, options: EncodeOptions = {}): Plaintext {
    const [scale, level] = this.args(options);
    return new Plaintext(this.context, callNative<NativeHandle>('encode', this.handle, toFloat64(values, 'values'), null, scale, level));
  }

  async encodeAsync(values: ArrayLike<number>, options: EncodeOptions = {}): Promise<Plaintext> {
    const [scale, level] = this.args(options);
    const handle = await callNativeAsync<NativeHandle>('encode', this.handle, toFloat64(values, 'values'), null, scale, level);
    return new Plaintext(this.context, handle);
  }

  encodeComplex(values: { real: ArrayLike<number>; imaginary: ArrayLike<number> }, options: EncodeOptions = {}): Plaintext {
    const [scale, level] = this.args(options);
    const real = toFloat64(values.real, 'real'), imaginary = toFloat64(values.imaginary, 'imaginary');
    return new Plaintext(this.context, callNative<NativeHandle>('encode', this.handle, real, imaginary, scale, level));
  }

  /** Every slot holds `value`. */
  encodeScalar(value: number, options: EncodeOptions = {}): Plaintext {
    const [scale, level] = this.args(options);
    return new Plaintext(this.context, callNative<NativeHandle>('encodeScalar', this.handle, value, scale, level));
  }

  /** Every slot holds the integer `value`, at scale 1 (multiplying by it keeps a ciphertext's scale). */
  encodeInteger(value: number, options: { level?: number } = {}): Plaintext {
    const level = options.level ?? this.context.maxLevel;
    return new Plaintext(this.context, callNative<NativeHandle>('encodeInteger', this.handle, value, level));
  }

  /** The real parts of all N/2 slots. */
  decode(plaintext: Plaintext): Float64Array {
    return this.decodeComplex(plaintext).real;
  }

  decodeComplex(plaintext: Plaintext): ComplexVector {
    return callNative<ComplexVector>('decode', this.handle, plaintext.handle);
  }

  async decodeAsync(plaintext: Plaintext): Promise<Float64Array> {
    return (await callNativeAsync<ComplexVector>('decode', this.handle, plaintext.handle)).real;
  }
}
