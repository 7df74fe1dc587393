import { Ciphertext } from './ciphertext';
import { CkksContext, type ContextOptions } from './context';
import { InsecureParametersError, InvalidArgumentError } from './errors';
import { GaloisKeys, type KeyGenerator, type RelinKey, type SecretKey } from './keys';
import { callNative, callNativeAsync, type NativeHandle } from './native';
import { NativeResource } from './resource';

/** How bootstrapping spends its levels and approximates the modular reduction. */
export interface BootstrapOptions {
  /** Levels of the CoeffsToSlots transform (merged FFT stages; fewer levels, more rotations). Default 3. */
  coeffsToSlotsLevels?: number;
  /** Levels of the SlotsToCoeffs transform. Default 3. */
  slotsToCoeffsLevels?: number;
  /** K: EvalMod is exact for |I| <= K, the integer overflow of ModRaise (grows with the secret's weight). Default 12. */
  modRange?: number;
  /** Double-angle steps after the Chebyshev interpolant of the cosine. Default 3. */
  doubleAngles?: number;
  /** Degree of that interpolant. Default 40. */
  sineDegree?: number;
  /**
   * Sparse-secret encapsulation (Bossuat, Troncoso-Pastoriza and Hubaux, ePrint 2022/024): the
   * level-0 ciphertext is switched to an ephemeral secret of this Hamming weight (modulo q_0 p_0
   * only) for ModRaise and back, so the main secret may be dense. 0 (default): none.
   */
  ephemeralHammingWeight?: number;
  /**
   * log2(q_0 / message scale) during the bootstrap: the level-0 input is first multiplied by the power
   * of two that brings its scale to q_0 / 2^messageRatio. 0 (default): the input's scale.
   */
  messageRatio?: number;
  /**
   * Baby steps per giant step in the linear transforms: 0 (default) for the fewest rotations; a power
   * of two g for the fewest keys (g - 1 baby keys and two giant keys per transform, giants by Horner's rule).
   */
  babySteps?: number;
  /** Keep the transforms' diagonals as integer coefficients: far less memory, one NTT per prime per use. */
  compactDiagonals?: boolean;
}

/** A parameter set with everything bootstrapping needs to go with it. */
export interface BootstrapPreset {
  name: string;
  description: string;
  /** Context parameters: q_0 first, then the levels left to the user, then the bootstrapping levels. */
  context: ContextOptions;
  /** Nonzero coefficients of the sparse ternary secret; 0 for a uniform (dense) ternary secret. */
  hammingWeight: number;
  bootstrap: BootstrapOptions;
  /** Levels left after a bootstrap, for the user's own computation. */
  levelsLeft: number;
  /** The security claim and where it comes from. */
  security: string;
  insecure: boolean;
}

const SMALL_PRESET: BootstrapPreset = {
  name: 'test-n4096',
  description: 'N = 4096 (2048 slots), 3 levels left after bootstrapping: fast, for tests only',
  context: {
    ringDegree: 4096,
    // q_0 | 3 user levels at 2^40 | SlotsToCoeffs 3 | EvalMod 8 | CoeffsToSlots 3: log2(QP) = 1095
    dataBits: [52, 40, 40, 40, 55, 55, 55, ...Array(8).fill(58), 58, 58, 58],
    specialBits: [60, 60],
    scale: 2 ** 40,
  },
  // ModRaise's overflow I has a standard deviation of about sqrt(h / 12) (in units of q_0): with
  // h = 32 (1.6) |I| > K = 12 is a 7-sigma event; with h = 64 (2.3) it is a 5-sigma one, about one
  // bootstrap of 4096 coefficients in a thousand by that estimate (a CI run lost 16 bits to one).
  hammingWeight: 32,
  bootstrap: { coeffsToSlotsLevels: 3, slotsToCoeffsLevels: 3, modRange: 12, doubleAngles: 2, sineDegree: 60 },
  levelsLeft: 3,
  security: 'none: N = 4096 with a 1.1k-bit modulus is far below 128-bit security',
  insecure: true,
};

const SECURE_PRESET: BootstrapPreset = {
  name: 'secure-n65536',
  description: 'N = 65536 (32768 slots), sparse secret h = 192, 5 levels left after bootstrapping',
  context: {
    ringDegree: 65536,
    // q_0 | 5 user levels at 2^40 | SlotsToCoeffs 3 | EvalMod 10 | CoeffsToSlots 3: log2(QP) = 1469.
    // q_0 / scale = 2^10: two bits more precision than 2^12 at N = 2^16 (noise-bound), at the cost of
    // the sine approximation's relative error (2 pi M / q_0)^2 / 6 on large message coefficients.
    dataBits: [50, 40, 40, 40, 40, 40, 55, 55, 55, ...Array(10).fill(58), 58, 58, 58],
    specialBits: [60, 60, 60, 60, 60],
    scale: 2 ** 40,
  },
  hammingWeight: 192,
  bootstrap: { coeffsToSlotsLevels: 3, slotsToCoeffsLevels: 3, modRange: 24, doubleAngles: 3, sineDegree: 63 },
  levelsLeft: 5,
  security:
    'log2(QP) = 1469 with a sparse ternary secret of weight 192 at N = 2^16: within parameter set III of ' +
    'Bossuat, Mouchet, Troncoso-Pastoriza and Hubaux (Eurocrypt 2021, ePrint 2020/1203: N = 2^16, h = 192, ' +
    'log QP = 1553, 128-bit security by the lattice estimator with the attacks on sparse secrets), which Lattigo ' +
    'ships as N16QP1553H192H32. Not re-estimated here.',
  insecure: false,
};

// The transformer preset's chain, from q_0 up: q_0 of 60 bits, the user's 13 levels of 40 bits,
// SlotsToCoeffs 3 x 46, EvalMod 9 x 60, CoeffsToSlots 3 x 58; six 55-bit special primes.
const TRANSFORMER_BOOTSTRAP: BootstrapOptions = {
  coeffsToSlotsLevels: 3,
  slotsToCoeffsLevels: 3,
  // |I| <= (32 + 1) / 2 whatever the main secret: K = 16 never fails. cos(2 pi (17 u - 1/4) / 16) by
  // degree 28 (5 levels) and 4 double angles: EvalMod error 2^-42.6 in units of q_0.
  modRange: 16,
  doubleAngles: 4,
  sineDegree: 28,
  ephemeralHammingWeight: 32,
  // q_0 / message scale = 2^8: the input (scale about 2^40) is multiplied by 2^12 at level 0.
  messageRatio: 8,
  // 4 babies and Horner giants: 5 keys per transform, shared by CoeffsToSlots and SlotsToCoeffs.
  babySteps: 4,
  compactDiagonals: true,
};

const TRANSFORMER_PRESET: BootstrapPreset = {
  name: 'transformer-n65536',
  description:
    'N = 65536 (32768 slots), dense ternary secret (128-bit by the HE standard table), sparse-secret ' +
    'encapsulation for ModRaise, 13 levels of 40 bits left after bootstrapping',
  context: {
    ringDegree: 65536,
    // q_0 | 13 user levels at 2^40 | SlotsToCoeffs 3 | EvalMod 9 | CoeffsToSlots 3: log2(QP) = 1762.
    dataBits: [60, ...Array(13).fill(40), 46, 46, 46, ...Array(9).fill(60), 58, 58, 58],
    specialBits: Array(6).fill(55),
    // Digits of at most P / 2^20: 7, 7, 5, 5, 5 primes (a key holds 5 digits; 2 at the user levels).
    keySwitchDigits: 'balanced',
    scale: 2 ** 40,
  },
  hammingWeight: 0,
  bootstrap: TRANSFORMER_BOOTSTRAP,
  levelsLeft: 13,
  security:
    'log2(QP) = 1762 with a uniform ternary (dense) secret at N = 2^16: within the HE standard\'s 128-bit bound ' +
    '(1772 bits; homomorphicencryption.org, 2018) without any assumption on sparse secrets. The ephemeral sparse ' +
    'secret (h = 32) exists only in a key modulo q_0 p_0 (115 bits), as in Bossuat et al. (ePrint 2022/024) and ' +
    'Lattigo\'s N16QP1767H32768H32.',
  insecure: false,
};

// The transformer preset's structure at N = 4096 (3 user levels): for tests only.
const SMALL_TRANSFORMER_PRESET: BootstrapPreset = {
  name: 'test-transformer-n4096',
  description: 'the transformer preset\'s bootstrapping (dense secret, encapsulation) at N = 4096, 3 levels left: tests only',
  context: {
    ringDegree: 4096,
    dataBits: [60, 40, 40, 40, 46, 46, 46, ...Array(9).fill(60), 58, 58, 58],
    specialBits: Array(6).fill(55),
    keySwitchDigits: 'balanced',
    scale: 2 ** 40,
  },
  hammingWeight: 0,
  bootstrap: TRANSFORMER_BOOTSTRAP,
  levelsLeft: 3,
  security: 'none: N = 4096 with a 1.4k-bit modulus is far below 128-bit security',
  insecure: true,
};

export type BootstrapPresetName = 'secure' | 'transformer' | 'testSmall' | 'testTransformer';

export const BOOTSTRAP_PRESETS: Readonly<Record<BootstrapPresetName, BootstrapPreset>> = Object.freeze({
  secure: SECURE_PRESET,
  transformer: TRANSFORMER_PRESET,
  testSmall: SMALL_PRESET,
  testTransformer: SMALL_TRANSFORMER_PRESET,
});

/** Stages reported while a bootstrap runs, in order. */
export type BootstrapStage = 'modRaise' | 'coeffsToSlots' | 'evalMod' | 'slotsToCoeffs';
export interface BootstrapCallOptions {
  /** Called as each stage ends, with the seconds it took. */
  onProgress?: (stage: BootstrapStage, seconds: number) => void;
  /**
   * Multiplies the result's slots (default 1), for free: it rides in the last SlotsToCoeffs matrix.
   * Bootstrapping values divided by a bound B takes factor B to give them back at their size.
   */
  factor?: number;
}

/** The keys a bootstrap uses: a relinearization key and the bootstrapper's Galois keys. */
export interface BootstrapKeys {
  relinKey: RelinKey;
  galoisKeys: GaloisKeys;
}

interface BootstrapperInfo {
  depth: number;
  outputLevel: number;
  evalModError: number;
  galoisElements: number[];
  galoisLevels: number[];
  encapsulation: boolean;
}

/**
 * Refreshes ciphertexts: a ciphertext at any level comes back at `outputLevel` with the same slots
 * (to the precision the tests state) and the same scale. Build one per context; it holds the linear
 * transforms and the EvalMod polynomial.
 */
export class Bootstrapper extends NativeResource {
  /** Levels one bootstrap consumes. */
  readonly depth: number;
  /** The level of a bootstrapped ciphertext. */
  readonly outputLevel: number;
  /** Largest error of the EvalMod approximation on its domain, relative to q_0 (float64, no noise). */
  readonly evalModError: number;
  /** Galois elements the bootstrapping keys must hold (conjugation included). */
  readonly galoisElements: readonly number[];
  /** For each of galoisElements, the highest level it is used at (its key is made for that level). */
  readonly galoisLevels: readonly number[];
  /** Whether it switches to an ephemeral sparse secret for ModRaise (its keys then include that switch). */
  readonly encapsulation: boolean;

  private constructor(
    readonly context: CkksContext,
    handle: NativeHandle,
  ) {
    super(handle);
    const info = callNative<BootstrapperInfo>('bootstrapperInfo', handle);
    this.depth = info.depth;
    this.outputLevel = info.outputLevel;
    this.evalModError = info.evalModError;
    this.galoisElements = Object.freeze(info.galoisElements);
    this.galoisLevels = Object.freeze(info.galoisLevels);
    this.encapsulation = info.encapsulation;
  }

  static create(context: CkksContext, options: BootstrapOptions = {}): Bootstrapper {
    return new Bootstrapper(context, callNative<NativeHandle>('createBootstrapper', context.handle, options));
  }

  /**
   * The context and bootstrapper of a preset. The small preset is insecure and is refused unless
   * `allowInsecureParametersForTestsOnly` is set.
   */
  static fromPreset(
    preset: BootstrapPreset,
    options: { threads?: number; allowInsecureParametersForTestsOnly?: boolean } = {},
  ): { context: CkksContext; bootstrapper: Bootstrapper } {
    if (preset.insecure && options.allowInsecureParametersForTestsOnly !== true) {
      throw new InsecureParametersError(
        `bootstrapping preset ${preset.name} is insecure (${preset.security}); pass allowInsecureParametersForTestsOnly: true to use it in tests`,
        'ERR_INSECURE_PARAMETERS',
      );
    }
    const context = CkksContext.create({
      ...preset.context,
      threads: options.threads ?? 1,
      allowInsecureParametersForTestsOnly: preset.insecure,
    });
    return { context, bootstrapper: Bootstrapper.create(context, preset.bootstrap) };
  }

  /**
   * The Galois keys bootstrapping needs, made from the secret key (its weight should be the preset's):
   * each for the levels it is used at and, with encapsulation, the keys to and from a fresh ephemeral
   * sparse secret (made and wiped here).
   */
  createGaloisKeys(secret: SecretKey | KeyGenerator): GaloisKeys {
    const key = 'secretKey' in secret ? secret.secretKey : secret;
    return new GaloisKeys(this.context, callNative<NativeHandle>('generateBootstrapKeys', key.handle, this.handle));
  }
  async createGaloisKeysAsync(secret: SecretKey | KeyGenerator): Promise<GaloisKeys> {
    const key = 'secretKey' in secret ? secret.secretKey : secret;
    return new GaloisKeys(this.context, await callNativeAsync<NativeHandle>('generateBootstrapKeys', key.handle, this.handle));
  }

  bootstrap(ciphertext: Ciphertext, keys: BootstrapKeys, options: BootstrapCallOptions = {}): Ciphertext {
    return this.wrap(
      callNative<NativeHandle>('bootstrap', this.handle, ciphertext.handle, keys.relinKey.handle, keys.galoisKeys.handle, options.onProgress, options.factor),
    );
  }
  /** The same off the JavaScript thread (a bootstrap takes seconds). */
  async bootstrapAsync(ciphertext: Ciphertext, keys: BootstrapKeys, options: BootstrapCallOptions = {}): Promise<Ciphertext> {
    return this.wrap(
      await callNativeAsync<NativeHandle>(
        'bootstrap', this.handle, ciphertext.handle, keys.relinKey.handle, keys.galoisKeys.handle, options.onProgress, options.factor,
      ),
    );
  }

  /** Two ciphertexts of real values (same scale) refreshed by one bootstrap, packed as a + i b. */
  async bootstrapTwoRealAsync(
    a: Ciphertext,
    b: Ciphertext,
    keys: BootstrapKeys,
    options: BootstrapCallOptions = {},
  ): Promise<[Ciphertext, Ciphertext]> {
    const handles = await callNativeAsync<NativeHandle[]>(
      'bootstrapTwoReal', this.handle, a.handle, b.handle, keys.relinKey.handle, keys.galoisKeys.handle, options.onProgress, options.factor,
    );
    return [this.wrap(handles[0]), this.wrap(handles[1])];
  }

  /**
   * Bootstraps twice: the second pass refreshes the first pass's error, amplified by 2^boostBits,
   * and subtracts it. About boostBits more bits of precision (up to the noise floor) for twice the time.
   */
  async bootstrapPreciseAsync(
    ciphertext: Ciphertext,
    keys: BootstrapKeys,
    boostBits = 12,
    options: BootstrapCallOptions = {},
  ): Promise<Ciphertext> {
    if (options.factor !== undefined) {
      throw new InvalidArgumentError('bootstrapPreciseAsync takes no factor: multiply the result instead', 'ERR_INVALID_ARGUMENT');
    }
    return this.wrap(
      await callNativeAsync<NativeHandle>(
        'bootstrapPrecise', this.handle, ciphertext.handle, keys.relinKey.handle, keys.galoisKeys.handle, boostBits, options.onProgress,
      ),
    );
  }

  private wrap(handle: NativeHandle): Ciphertext {
    return new Ciphertext(this.context, handle);
  }
}
