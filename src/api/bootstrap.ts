import { Ciphertext } from './ciphertext';
import { CkksContext, type ContextOptions } from './context';
import { InsecureParametersError } from './errors';
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
}

/** A parameter set with everything bootstrapping needs to go with it. */
export interface BootstrapPreset {
  name: string;
  description: string;
  /** Context parameters: q_0 first, then the levels left to the user, then the bootstrapping levels. */
  context: ContextOptions;
  /** Nonzero coefficients of the sparse ternary secret. */
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
  hammingWeight: 64,
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

export const BOOTSTRAP_PRESETS: Readonly<Record<'secure' | 'testSmall', BootstrapPreset>> = Object.freeze({
  secure: SECURE_PRESET,
  testSmall: SMALL_PRESET,
});

/** Stages reported while a bootstrap runs, in order. */
export type BootstrapStage = 'modRaise' | 'coeffsToSlots' | 'evalMod' | 'slotsToCoeffs';
export interface BootstrapCallOptions {
  /** Called as each stage ends, with the seconds it took. */
  onProgress?: (stage: BootstrapStage, seconds: number) => void;
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

  /** The Galois keys bootstrapping needs, made from the secret key (its weight should be the preset's). */
  createGaloisKeys(secret: SecretKey | KeyGenerator): GaloisKeys {
    const key = 'secretKey' in secret ? secret.secretKey : secret;
    return new GaloisKeys(this.context, callNative<NativeHandle>('generateBootstrapKeys', key.handle, this.handle));
  }
  async createGaloisKeysAsync(secret: SecretKey | KeyGenerator): Promise<GaloisKeys> {
    const key = 'secretKey' in secret ? secret.secretKey : secret;
    return new GaloisKeys(this.context, await callNativeAsync<NativeHandle>('generateBootstrapKeys', key.handle, this.handle));
  }

  bootstrap(ciphertext: Ciphertext, keys: BootstrapKeys, options: BootstrapCallOptions = {}): Ciphertext {
    return this.wrap(callNative<NativeHandle>('bootstrap', this.handle, ciphertext.handle, keys.relinKey.handle, keys.galoisKeys.handle, options.onProgress));
  }
  /** The same off the JavaScript thread (a bootstrap takes seconds). */
  async bootstrapAsync(ciphertext: Ciphertext, keys: BootstrapKeys, options: BootstrapCallOptions = {}): Promise<Ciphertext> {
    return this.wrap(
      await callNativeAsync<NativeHandle>('bootstrap', this.handle, ciphertext.handle, keys.relinKey.handle, keys.galoisKeys.handle, options.onProgress),
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
      'bootstrapTwoReal', this.handle, a.handle, b.handle, keys.relinKey.handle, keys.galoisKeys.handle, options.onProgress,
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
