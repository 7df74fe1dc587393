/**
 * The private transformer's fused kernels against the same computation composed from single
 * evaluator calls (the public API, one N-API call per operation), on the same ciphertexts.
 *
 *   npm run -s bench:kernels -- --json         # { rows: [{ kernel, N, threads, fusedMs, composedMs, speedup }] }
 *
 * N = 65536 with 12 levels of 40 bits (790-bit modulus: within the HE standard's 128-bit bound for
 * a dense secret; no bootstrapping is needed for one kernel). Each kernel runs on fresh random
 * inputs; times are medians of `--reps` runs (default 3), on 1 thread and on all threads.
 *   matrix product: a 64 x 64 plaintext weight over the feature blocks (baby-step giant-step);
 *   LayerNorm statistics: centred values, the Chebyshev input and v/2;
 *   sign step: the odd degree-7 polynomial of the composite sign;
 *   attention bases: the packed Gaussian-kernel bases of 40-token sequences (two heads).
 */
import os from 'node:os';
import { CkksContext, CkksEncoder, Encryptor, Evaluator, KeyGenerator, type Ciphertext, type GaloisKeys, type Plaintext } from '../src';
import * as P from '../src/model/poly';
import { signCoefficients } from '../src/private/executor';
import { Kernels } from '../src/private/kernels';
import { ActivationLayout } from '../src/private/layout';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const reps = argv.includes('--reps') ? Math.max(1, Number(argv[argv.indexOf('--reps') + 1]) | 0) : 3;
const log = (line: string) => (json ? process.stderr : process.stdout).write(line + '\n');
const N = 65536;
const TOP = 12;
const WIDTH = 64;
const TOKENS = 40;
const HEADS = 2;

interface Row {
  kernel: string;
  N: number;
  threads: number;
  fusedMs: number;
  composedMs: number;
  speedup: number;
}

async function median(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

async function main(): Promise<void> {
  log(`cipherlm kernel benchmark: ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, N = ${N}`);
  const context = CkksContext.create({ ringDegree: N, dataBits: [50, ...Array(TOP).fill(40)], specialBits: [60, 60, 60], scale: 2 ** 40, threads: 1 });
  const layout = new ActivationLayout(N / 2, WIDTH, TOKENS, HEADS);
  const keys = new KeyGenerator(context);
  const relin = await keys.createRelinKeyAsync();
  // the kernels' keys; the composed versions rotate by the same steps, hoisted the same way
  const steps = [...new Set(Kernels.rotationSteps(layout).map((s) => ((s % layout.slots) + layout.slots) % layout.slots))].filter((s) => s !== 0);
  log(`making ${steps.length} Galois keys`);
  const galois: GaloisKeys = await keys.createGaloisKeysAsync(steps);
  const kernels = new Kernels(context, layout, TOP, 2 ** 40, relin, galois);
  const encoder = new CkksEncoder(context);
  const encryptor = new Encryptor(context, keys.secretKey);
  const evaluator = new Evaluator(context);
  const encrypt = (v: Float64Array, level = TOP) => encryptor.encrypt(encoder.encode(v, { level, scale: kernels.scaleAt(level) }));
  const random = (bound: number) => Float64Array.from({ length: layout.slots }, () => (Math.random() * 2 - 1) * bound);
  const plain = (v: Float64Array, level: number): Plaintext => encoder.encode(v, { level, scale: kernels.scaleAt(level) });
  // the kernels' exact constant multiplication (native LevelScales::lower) with single calls
  const lower = (a: Ciphertext, level: number, factor: number) => {
    const dropped = a.level === level + 1 ? a : evaluator.dropToLevel(a, level + 1);
    return evaluator.rescale(evaluator.multiplyScalar(dropped, factor, (kernels.scaleAt(level) * Number(context.dataPrimes[level + 1])) / a.scale));
  };

  // matrix product: the diagonal method with the public API (hoisted baby steps, then one product, sum and rotation per giant step)
  const W = Float64Array.from({ length: WIDTH * WIDTH }, () => (Math.random() * 2 - 1) / 8);
  const product = kernels.matrix(W, { order: 'model', count: WIDTH }, { order: 'model', count: WIDTH });
  const giant = layout.giant;
  const diagonals = layout.cipherDiagonals(W).map((d) => plain(d, TOP));
  const composedMatrix = async (x: Ciphertext) => {
    const babies = await evaluator.rotateHoistedAsync(x, Array.from({ length: giant }, (_, j) => j * layout.rows), galois);
    let total: Ciphertext | null = null;
    for (let g = 0; g < WIDTH / giant; g++) {
      let sum: Ciphertext | null = null;
      for (let j = 0; j < giant; j++) {
        const term = evaluator.multiplyPlain(babies[j], diagonals[g * giant + j]);
        sum = sum ? evaluator.add(sum, term) : term;
      }
      const moved = g === 0 ? sum! : evaluator.rotate(sum!, g * giant * layout.rows, galois);
      total = total ? evaluator.add(total, moved) : moved;
    }
    return evaluator.rescale(total!);
  };
  // LayerNorm statistics: sums over the feature blocks by rotations, squares, constants
  const sumBlocks = (x: Ciphertext) => {
    let s = x;
    for (let span = 1; span < WIDTH; span *= 2) s = evaluator.add(s, evaluator.rotate(s, span * layout.rows, galois));
    return s;
  };
  const composedStatistics = async (x: Ciphertext) => {
    const centred = evaluator.sub(evaluator.multiplyInteger(x, WIDTH), sumBlocks(x));
    const squares = sumBlocks(evaluator.rescale(evaluator.multiplyRelinearize(centred, centred, relin)));
    const halfV = evaluator.addScalar(lower(squares, TOP - 2, 0.5 / WIDTH ** 3), 5e-6);
    const scaled = lower(centred, TOP - 1, Math.sqrt(2 / (WIDTH ** 3 * P.ISQ_HI)));
    const t = evaluator.addScalar(sumBlocks(evaluator.rescale(evaluator.multiplyRelinearize(scaled, scaled, relin))), -1);
    return [lower(centred, TOP - 1, 1 / WIDTH), t, halfV];
  };
  // the sign step: powers, constants and the two halves
  const f = signCoefficients();
  const composedSign = async (t: Ciphertext) => {
    const l = t.level;
    const t2 = evaluator.rescale(evaluator.multiplyRelinearize(t, t, relin));
    const t4 = evaluator.rescale(evaluator.multiplyRelinearize(t2, t2, relin));
    const c7t3 = evaluator.rescale(evaluator.multiplyRelinearize(lower(t, l - 1, f[3]), t2, relin));
    const c3t3 = evaluator.rescale(evaluator.multiplyRelinearize(lower(t, l - 1, f[1]), t2, relin));
    const high = evaluator.add(lower(t, l - 2, f[2]), c7t3);
    const low = evaluator.add(lower(t, l - 2, f[0]), c3t3);
    return evaluator.add(lower(low, l - 3, 1), evaluator.rescale(evaluator.multiplyRelinearize(t4, high, relin)));
  };
  // attention bases: cyclic shifts of the keys, placed per rotation, squared distances, rotated sum
  const per = WIDTH / HEADS;
  const packed = Math.ceil(TOKENS / per);
  const rowMask = (test: (r: number) => boolean, level: number) => plain(Float64Array.from({ length: layout.slots }, (_, i) => (test(i % layout.rows) ? 1 : 0)), level);
  const pairMask = (pair: number, value: number, level: number) =>
    plain(Float64Array.from({ length: layout.slots }, (_, i) => (Math.floor(Math.floor(i / layout.rows) / HEADS) === pair ? value : 0)), level);
  const root = Math.sqrt(1 / (2 * Math.sqrt(per)) / 2 ** P.EXP_SQUARINGS);
  const masks = {
    direct: Array.from({ length: TOKENS }, (_, d) => rowMask((r) => r < layout.usedRows && (r % TOKENS) + d < TOKENS, TOP)),
    wrap: Array.from({ length: TOKENS }, (_, d) => rowMask((r) => r < layout.usedRows && (r % TOKENS) + d >= TOKENS, TOP)),
    pair: Array.from({ length: per }, (_, b) => pairMask(b, root, TOP - 1)),
  };
  const composedBases = async (q: Ciphertext, k: Ciphertext) => {
    // every shift d = g + b: hoisted baby steps b < 8, then hoisted multiples of 8 of each
    const allShifts = async (x: Ciphertext) => {
      const out: Ciphertext[] = new Array(TOKENS);
      const babies = await evaluator.rotateHoistedAsync(x, [0, 1, 2, 3, 4, 5, 6, 7], galois);
      for (const [b, baby] of babies.entries()) {
        const giants = [0, 8, 16, 24, 32].filter((g) => g + b < TOKENS);
        (await evaluator.rotateHoistedAsync(baby, giants, galois)).forEach((c, i) => (out[giants[i] + b] = c));
      }
      return out;
    };
    const ahead = await allShifts(k);
    const behind = await allShifts(evaluator.rotate(k, -TOKENS, galois));
    const shifts = ahead.map((a, d) => {
      const direct = evaluator.multiplyPlain(a, masks.direct[d]);
      return evaluator.rescale(d === 0 ? direct : evaluator.add(direct, evaluator.multiplyPlain(behind[d], masks.wrap[d])));
    });
    const queries = lower(q, TOP - 2, root);
    const out: Ciphertext[] = [];
    // the rotated sum grouped as the kernel does: r = 4a + b, rotations by 2b and then 8a blocks (keyed steps)
    const group = giant / HEADS;
    for (let p = 0; p < packed; p++) {
      let total: Ciphertext | null = null;
      let partial: Ciphertext | null = null;
      for (let r = 0; r < per; r++) {
        let placed: Ciphertext | null = null;
        for (let d = p * per; d < Math.min(TOKENS, (p + 1) * per); d++) {
          const term = evaluator.multiplyPlain(shifts[d], masks.pair[(d - p * per + r) % per]);
          placed = placed ? evaluator.add(placed, term) : term;
        }
        const difference = evaluator.sub(queries, evaluator.rescale(placed!));
        const square = evaluator.rescale(evaluator.multiplyRelinearize(difference, difference, relin));
        const b = r % group;
        const moved = b === 0 ? square : evaluator.rotate(square, b * HEADS * layout.rows, galois);
        partial = partial ? evaluator.add(partial, moved) : moved;
        if (b === group - 1 || r === per - 1) {
          const a = Math.floor(r / group);
          const lifted = a === 0 ? partial : evaluator.rotate(partial, a * group * HEADS * layout.rows, galois);
          total = total ? evaluator.add(total, lifted) : lifted;
          partial = null;
        }
      }
      out.push(evaluator.addScalar(evaluator.negate(total!), 1));
    }
    return out;
  };

  const rows: Row[] = [];
  for (const threads of [...new Set([1, Math.min(2, os.availableParallelism())])]) {
    context.threads = threads;
    const x = encrypt(random(1));
    const t = encrypt(random(1));
    const [q, k] = [encrypt(random(1)), encrypt(random(1))];
    const cases: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
      ['matrix product 64x64', () => kernels.applyMatrix(product, [x]), () => composedMatrix(x)],
      ['LayerNorm statistics', () => kernels.normStatistics(x, { lo: P.ISQ_LO, hi: P.ISQ_HI, eps: 1e-5 }), () => composedStatistics(x)],
      ['sign step (degree 7)', () => kernels.oddDegree7(t, f), () => composedSign(t)],
      ['attention bases (40 tokens)', () => kernels.attentionBases(q, k, 1 / (2 * Math.sqrt(per)), P.EXP_SQUARINGS), () => composedBases(q, k)],
    ];
    for (const [kernel, fused, composed] of cases) {
      await fused();
      await composed();
      const fusedMs = await median(fused);
      const composedMs = await median(composed);
      rows.push({ kernel, N, threads, fusedMs, composedMs, speedup: composedMs / fusedMs });
      log(`${kernel.padEnd(28)} ${threads} thread(s): fused ${fusedMs.toFixed(0)} ms, composed ${composedMs.toFixed(0)} ms, ${(composedMs / fusedMs).toFixed(2)}x`);
    }
  }
  if (json) process.stdout.write(JSON.stringify({ rows }) + '\n');
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
