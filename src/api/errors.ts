/** Typed errors: every failure at the API carries a stable `code` and says what was wrong. */

export class CipherlmError extends Error {
  readonly code: string;
  constructor(message: string, code = 'ERR_CIPHERLM') {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A malformed argument: wrong type, wrong length, unknown option. */
export class InvalidArgumentError extends CipherlmError {}
/** Parameters below 128-bit security under the HE standard's table. */
export class InsecureParametersError extends CipherlmError {}
/** Objects made under different encryption parameters (contexts) were mixed. */
export class ParameterMismatchError extends CipherlmError {}
/**
 * Bytes made under another secret key than the one this party is bound to (a client's key id in
 * the message headers): ciphertexts under two keys cannot be told apart, so the label is checked.
 */
export class KeyMismatchError extends CipherlmError {}
/** Operands at different levels, or an operation that needs a level that is not there. */
export class LevelMismatchError extends CipherlmError {}
/** Operands at different scales. */
export class ScaleMismatchError extends CipherlmError {}
/** A rotation or conjugation whose Galois key was not generated. */
export class MissingKeyError extends CipherlmError {}
/** A value that does not fit: too large for the modulus, NaN, out of the allowed range. */
export class OutOfRangeError extends CipherlmError {}
/** Serialized bytes that are truncated, corrupted or of the wrong kind. */
export class DeserializationError extends CipherlmError {}
/** Use of an object after dispose(). */
export class DisposedError extends CipherlmError {}
/**
 * A valid object or request that Microsoft SEAL's formats cannot express, or a SEAL object that
 * cipherlm does not support (for example N = 65536, several special primes, multi-prime key-switching
 * digits, BFV/BGV data, SEAL versions other than 4.0/4.1).
 */
export class SealIncompatibleError extends CipherlmError {}
/** A feature missing from this build (for example zstd when the addon was built without libzstd). */
export class UnsupportedError extends CipherlmError {}
/** An unexpected failure inside the engine (a bug: please report it). */
export class InternalError extends CipherlmError {}

const byCode: Record<string, new (message: string, code: string) => CipherlmError> = {
  ERR_INVALID_ARGUMENT: InvalidArgumentError,
  ERR_INSECURE_PARAMETERS: InsecureParametersError,
  ERR_PARAMETER_MISMATCH: ParameterMismatchError,
  ERR_KEY_MISMATCH: KeyMismatchError,
  ERR_LEVEL_MISMATCH: LevelMismatchError,
  ERR_SCALE_MISMATCH: ScaleMismatchError,
  ERR_MISSING_KEY: MissingKeyError,
  ERR_OUT_OF_RANGE: OutOfRangeError,
  ERR_DESERIALIZATION: DeserializationError,
  ERR_DISPOSED: DisposedError,
  ERR_SEAL_INCOMPATIBLE: SealIncompatibleError,
  ERR_UNSUPPORTED: UnsupportedError,
};

/** Turns an error thrown by the native addon into the matching typed error. */
export function translateError(error: unknown): Error {
  if (error instanceof CipherlmError) return error;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') {
      const Kind = byCode[code] ?? InternalError;
      return new Kind(error.message, code);
    }
    if (error instanceof TypeError) return new InvalidArgumentError(error.message, 'ERR_INVALID_ARGUMENT');
  }
  return error instanceof Error ? error : new InternalError(String(error), 'ERR_INTERNAL');
}
