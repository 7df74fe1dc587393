import {
  Bootstrapper,
  CkksContext,
  CkksEncoder,
  Decryptor,
  Encryptor,
  Evaluator,
  KeyGenerator,
  type BootstrapKeys,
  type BootstrapPreset,
  type Ciphertext,
  type ContextOptions,
  type GaloisKeys,
  type PublicKey,
  type RelinKey,
} from '../src';

/** Everything a test needs around one context. */
export interface Kit {
  context: CkksContext;
  encoder: CkksEncoder;
  keys: KeyGenerator;
  publicKey: PublicKey;
  relinKey: RelinKey;
  galoisKeys: GaloisKeys;
  encryptor: Encryptor;
  decryptor: Decryptor;
  evaluator: Evaluator;
  encrypt(values: ArrayLike<number>, options?: { level?: number; scale?: number }): Ciphertext;
  decrypt(ciphertext: Ciphertext): Float64Array;
}

/** N = 8192 within the 128-bit bound: 165 data bits (scale 2^40, 3 levels) + 50 special. */
export const SMALL_PARAMS: ContextOptions = { ringDegree: 8192, dataBits: [45, 40, 40, 40], specialBits: [50] };

export const ROTATION_STEPS = [1, 2, 3, 7, -1, -5, 100, 2047];

export function makeKit(options: ContextOptions = SMALL_PARAMS, steps: number[] = ROTATION_STEPS): Kit {
  const context = CkksContext.create(options);
  const encoder = new CkksEncoder(context);
  const keys = new KeyGenerator(context);
  const publicKey = keys.createPublicKey();
  const relinKey = keys.createRelinKey();
  const galoisKeys = keys.createGaloisKeys(steps, { conjugate: true });
  const encryptor = new Encryptor(context, publicKey);
  const decryptor = new Decryptor(context, keys.secretKey);
  const evaluator = new Evaluator(context);
  return {
    context,
    encoder,
    keys,
    publicKey,
    relinKey,
    galoisKeys,
    encryptor,
    decryptor,
    evaluator,
    encrypt: (values, opts = {}) => {
      const plaintext = encoder.encode(values, opts);
      try {
        return encryptor.encrypt(plaintext);
      } finally {
        plaintext.dispose();
      }
    },
    decrypt: (ciphertext) => {
      const plaintext = decryptor.decrypt(ciphertext);
      try {
        return encoder.decode(plaintext);
      } finally {
        plaintext.dispose();
      }
    },
  };
}

/** Fresh uniform random values in [-bound, bound] (Math.random: a new vector every run). */
export function randomVector(length: number, bound = 1): Float64Array {
  return Float64Array.from({ length }, () => (Math.random() * 2 - 1) * bound);
}

/** Bits of precision: -log2 of the largest absolute error over the first expected.length slots. */
export function precisionBits(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst === 0 ? Infinity : -Math.log2(worst);
}

/** Slots rotated left by step, as the homomorphic rotation should produce. */
export function rotateLeft(values: ArrayLike<number>, step: number): Float64Array {
  const n = values.length;
  return Float64Array.from({ length: n }, (_, i) => values[(((i + step) % n) + n) % n]);
}

/** A bootstrapping preset's context and bootstrapper with everything a test evaluates them with. */
export interface BootstrapKit {
  context: CkksContext;
  bootstrapper: Bootstrapper;
  keys: BootstrapKeys;
  keyGenerator: KeyGenerator;
  encoder: CkksEncoder;
  encryptor: Encryptor;
  decryptor: Decryptor;
  evaluator: Evaluator;
}

/** The kit of a preset on 2 threads (an insecure test preset opted in): keys for the preset's secret, public-key encryption. */
export async function bootstrapKit(preset: BootstrapPreset): Promise<BootstrapKit> {
  const { context, bootstrapper } = Bootstrapper.fromPreset(preset, { allowInsecureParametersForTestsOnly: true, threads: 2 });
  const keyGenerator = new KeyGenerator(context, { hammingWeight: preset.hammingWeight });
  const keys = { relinKey: keyGenerator.createRelinKey(), galoisKeys: await bootstrapper.createGaloisKeysAsync(keyGenerator) };
  const encoder = new CkksEncoder(context);
  const encryptor = new Encryptor(context, keyGenerator.createPublicKey());
  return { context, bootstrapper, keys, keyGenerator, encoder, encryptor, decryptor: new Decryptor(context, keyGenerator.secretKey), evaluator: new Evaluator(context) };
}

export function disposeBootstrapKit(kit: Partial<BootstrapKit>): void {
  kit.bootstrapper?.dispose();
  kit.context?.dispose();
}

