/** A kernel context with small insecure parameters shared by the kernel tests (N = 8192, opt-in). */
import { CkksContext, CkksEncoder, Decryptor, Encryptor, KeyGenerator, type Ciphertext } from '../../src';
import { Kernels } from '../../src/private/kernels';
import { ActivationLayout } from '../../src/private/layout';

export const N = 8192;
export const SLOTS = N / 2;
export const WIDTH = 64;
export const HEADS = 2;
export const TOP = 12;

interface Env {
  context: CkksContext;
  encoder: CkksEncoder;
  encryptor: Encryptor;
  decryptor: Decryptor;
  kernels: Map<number, Kernels>;
  relin: ReturnType<KeyGenerator['createRelinKey']>;
  galois: ReturnType<KeyGenerator['createGaloisKeys']>;
}
let env: Env;

/** Keys for the layouts of 16 and 40 tokens (and the training kernels' row steps when asked). */
export function setupKernelEnv(training: boolean): void {
  const context = CkksContext.create({
    ringDegree: N,
    dataBits: [50, ...Array(TOP).fill(40)],
    specialBits: [60, 60, 60],
    scale: 2 ** 40,
    threads: 2,
    allowInsecureParametersForTestsOnly: true,
  });
  const keys = new KeyGenerator(context);
  const steps = new Set<number>();
  for (const tokens of [16, 40]) for (const s of Kernels.rotationSteps(new ActivationLayout(SLOTS, WIDTH, tokens, HEADS), training)) steps.add(s);
  env = {
    context,
    encoder: new CkksEncoder(context),
    encryptor: new Encryptor(context, keys.secretKey),
    decryptor: new Decryptor(context, keys.secretKey),
    kernels: new Map(),
    relin: keys.createRelinKey(),
    galois: keys.createGaloisKeys([...steps]),
  };
}

export function kernelsFor(tokens: number): Kernels {
  let k = env.kernels.get(tokens);
  if (!k) {
    k = new Kernels(env.context, new ActivationLayout(SLOTS, WIDTH, tokens, HEADS), TOP, 2 ** 40, env.relin, env.galois);
    env.kernels.set(tokens, k);
  }
  return k;
}

export function encrypt(values: Float64Array, level = TOP): Ciphertext {
  const plain = env.encoder.encode(values, { level, scale: kernelsFor(40).scaleAt(level) });
  return env.encryptor.encrypt(plain);
}
export function decrypt(ct: Ciphertext): Float64Array {
  return env.encoder.decode(env.decryptor.decrypt(ct));
}
export const random = (n: number, bound: number): Float64Array => Float64Array.from({ length: n }, () => (Math.random() * 2 - 1) * bound);

/** -log2 of the largest |a - b| over the given slots, relative to `scale`. */
export function bits(actual: Float64Array, expected: Float64Array, scale = 1, slots?: number[]): number {
  let worst = 0;
  const idx = slots ?? Array.from(expected, (_, i) => i);
  for (const i of idx) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return -Math.log2(worst / scale);
}
