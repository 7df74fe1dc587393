/**
 * Per-operation benchmark: cipherlm (1 thread and all threads) vs node-seal (SEAL 4.1 in WebAssembly)
 * on identical parameters (same N, same coefficient-modulus primes; SEAL's last prime is the special prime).
 *
 *   npm run bench:ops                      # tables
 *   npm run bench:ops -- --json            # one JSON object on stdout
 *   npm run bench:ops -- --n 16384 --reps 5
 */
import os from 'node:os';
import {
  CkksContext,
  CkksEncoder,
  KeyGenerator,
  Encryptor,
  Decryptor,
  Evaluator,
  type Ciphertext,
  type Plaintext,
  type SimdPath,
} from '../src';

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const json = argv.includes('--json');
function argValue(name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}
const nArg = argValue('--n');
const repsArg = argValue('--reps');
const ALL_N = [8192, 16384, 32768];
const ringDegrees = nArg ? nArg.split(',').map((s) => Number(s)) : ALL_N;
for (const n of ringDegrees) if (!ALL_N.includes(n)) throw new Error(`--n must be one of ${ALL_N.join(', ')}`);
const repsOverride = repsArg !== undefined ? Math.max(1, Number(repsArg) | 0) : undefined;
const BATCH = 8;
const SCALE = 2 ** 40;
const allThreads = Math.max(1, os.availableParallelism());

const log = (...args: unknown[]): void => {
  if (json) process.stderr.write(args.join(' ') + '\n');
  else console.log(...args);
};

interface Params {
  N: number;
  dataBits: number[];
  specialBits: number[];
  bound: number; // HE standard 128-bit bound on log2(Q*P)
  reps: number;
}
const PARAMS: Record<number, Params> = {
  8192: { N: 8192, dataBits: [50, 40, 40, 40], specialBits: [48], bound: 218, reps: 31 },
  16384: { N: 16384, dataBits: [50, ...Array(8).fill(40)], specialBits: [50], bound: 438, reps: 15 },
  32768: { N: 32768, dataBits: [50, ...Array(18).fill(40)], specialBits: [50], bound: 881, reps: 7 },
};

const OPS = ['encode', 'encrypt', 'decrypt', 'add', 'multiply_plain', 'multiply_relinearize', 'rescale', 'rotate'] as const;
type Op = (typeof OPS)[number];

interface Row {
  op: Op;
  N: number;
  impl: 'cipherlm' | 'node-seal';
  threads: number;
  medianMs: number;
}
/** BATCH independent pairs as one *BatchAsync call, against the same pairs one call at a time. */
interface BatchRow {
  op: 'multiply_relinearize' | 'rotate';
  N: number;
  batch: number;
  threads: number;
  msPerItem: number;
  singleMsPerItem: number;
  ratio: number; // msPerItem / singleMsPerItem
}
/** HOISTED_STEPS rotations of one ciphertext: one by one, and hoisted (one decomposition). */
interface HoistedRow {
  op: 'rotate_hoisted';
  N: number;
  steps: number;
  threads: number;
  singlesMs: number;
  hoistedMs: number;
  /** hoistedMs / singlesMs: below 1, hoisting pays */
  ratio: number;
}
const HOISTED_STEPS = [1, 2, 3, 4, 5, 6, 7, 8];
/** The same operations on each kernel family this CPU runs, 1 thread (every path gives the same bits). */
interface SimdRow {
  op: 'encode' | 'multiply_relinearize' | 'rotate';
  N: number;
  simdPath: SimdPath;
  medianMs: number;
  /** portable's medianMs / this one's: the kernel family's speed-up */
  speedupOverPortable: number;
}
const SIMD_PATHS = (['portable', 'avx2', 'avx512ifma'] as const).filter((path) => CkksContext.cpuSupports(path));

// ---------------------------------------------------------------- timing helpers
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
/** Warm up once, then time `reps` runs; `run` returns a cleanup that is not timed. */
function timeSync(reps: number, run: () => (() => void) | void): number {
  const warm = run();
  if (warm) warm();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    const cleanup = run();
    const t1 = process.hrtime.bigint();
    times.push(Number(t1 - t0) / 1e6);
    if (cleanup) cleanup();
  }
  return median(times);
}

function randomVector(n: number, seed: number): Float64Array {
  // small deterministic LCG, values in [-1, 1)
  let s = seed >>> 0 || 1;
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = (s / 2 ** 32) * 2 - 1;
  }
  return v;
}

// ---------------------------------------------------------------- cipherlm
async function benchCipherlm(p: Params, reps: number, rows: Row[], batchRows: BatchRow[], hoistedRows: HoistedRow[], simdRows: SimdRow[]): Promise<{ data: bigint[]; special: bigint[] }> {
  const ctx = CkksContext.create({ ringDegree: p.N, dataBits: p.dataBits, specialBits: p.specialBits, threads: 1, scale: SCALE });
  const data = [...ctx.dataPrimes];
  const special = [...ctx.specialPrimes];
  const logQP = [...data, ...special].reduce((acc, q) => acc + Math.log2(Number(q)), 0);
  if (logQP > p.bound) throw new Error(`N=${p.N}: log2(QP)=${logQP.toFixed(1)} exceeds the 128-bit bound ${p.bound}`);
  const encoder = new CkksEncoder(ctx);
  const keygen = new KeyGenerator(ctx);
  const pk = keygen.createPublicKey();
  const rk = keygen.createRelinKey();
  const gk = keygen.createGaloisKeys(HOISTED_STEPS);
  const encryptor = new Encryptor(ctx, pk);
  const decryptor = new Decryptor(ctx, keygen.secretKey);
  const evaluator = new Evaluator(ctx);
  const slots = ctx.slotCount;
  const x = randomVector(slots, 1);
  const y = randomVector(slots, 2);
  const ptX = encoder.encode(x);
  const ptY = encoder.encode(y);
  const ctX = encryptor.encrypt(ptX);
  const ctY = encryptor.encrypt(ptY);

  // Sanity check: multiply + relinearize + rescale against plaintext.
  {
    const prod = evaluator.multiplyRelinearize(ctX, ctY, rk);
    const res = evaluator.rescale(prod);
    const pt = decryptor.decrypt(res);
    const out = encoder.decode(pt);
    let maxErr = 0;
    for (let i = 0; i < slots; i++) maxErr = Math.max(maxErr, Math.abs(out[i] - x[i] * y[i]));
    prod.dispose();
    res.dispose();
    pt.dispose();
    if (!(maxErr <= 1e-3)) {
      throw new Error(`SANITY CHECK FAILED: cipherlm N=${p.N} multiply+relinearize+rescale max error ${maxErr} > 1e-3`);
    }
    log(`  cipherlm N=${p.N}: sanity check ok (max |err| of x*y = ${maxErr.toExponential(2)}), log2(QP)=${logQP.toFixed(1)} <= ${p.bound}`);
  }
  const prodForRescale = evaluator.multiplyRelinearize(ctX, ctY, rk);

  for (const threads of [...new Set([1, allThreads])]) {
    ctx.threads = threads;
    const t: Record<Op, number> = {
      encode: timeSync(reps, () => {
        const pt = encoder.encode(x);
        return () => pt.dispose();
      }),
      encrypt: timeSync(reps, () => {
        const ct = encryptor.encrypt(ptX);
        return () => ct.dispose();
      }),
      decrypt: timeSync(reps, () => {
        const pt = decryptor.decrypt(ctX);
        return () => pt.dispose();
      }),
      add: timeSync(reps, () => {
        const ct = evaluator.add(ctX, ctY);
        return () => ct.dispose();
      }),
      multiply_plain: timeSync(reps, () => {
        const ct = evaluator.multiplyPlain(ctX, ptY);
        return () => ct.dispose();
      }),
      multiply_relinearize: timeSync(reps, () => {
        const ct = evaluator.multiplyRelinearize(ctX, ctY, rk);
        return () => ct.dispose();
      }),
      rescale: timeSync(reps, () => {
        const ct = evaluator.rescale(prodForRescale);
        return () => ct.dispose();
      }),
      rotate: timeSync(reps, () => {
        const ct = evaluator.rotate(ctX, 1, gk);
        return () => ct.dispose();
      }),
    };
    for (const op of OPS) rows.push({ op, N: p.N, impl: 'cipherlm', threads, medianMs: t[op] });
    log(`  cipherlm N=${p.N} threads=${threads}: done`);
  }

  // Kernel families side by side, 1 thread, the fastest one restored afterwards.
  ctx.threads = 1;
  const fastest = ctx.simdPath;
  const portableMs: Partial<Record<SimdRow['op'], number>> = {};
  for (const path of SIMD_PATHS) {
    ctx.simdPath = path;
    const timed: Record<SimdRow['op'], number> = {
      encode: timeSync(reps, () => {
        const pt = encoder.encode(x);
        return () => pt.dispose();
      }),
      multiply_relinearize: timeSync(reps, () => {
        const ct = evaluator.multiplyRelinearize(ctX, ctY, rk);
        return () => ct.dispose();
      }),
      rotate: timeSync(reps, () => {
        const ct = evaluator.rotate(ctX, 1, gk);
        return () => ct.dispose();
      }),
    };
    for (const op of Object.keys(timed) as SimdRow['op'][]) {
      portableMs[op] ??= timed[op];
      simdRows.push({ op, N: p.N, simdPath: path, medianMs: timed[op], speedupOverPortable: Number((portableMs[op]! / timed[op]).toFixed(2)) });
    }
  }
  ctx.simdPath = fastest;
  log(`  cipherlm N=${p.N} SIMD paths (${SIMD_PATHS.join(', ')}): done`);

  // Batch section: BATCH independent pairs.
  const as: Ciphertext[] = [];
  const bs: Ciphertext[] = [];
  const pts: Plaintext[] = [];
  for (let i = 0; i < BATCH; i++) {
    const pa = encoder.encode(randomVector(slots, 10 + 2 * i));
    const pb = encoder.encode(randomVector(slots, 11 + 2 * i));
    pts.push(pa, pb);
    as.push(encryptor.encrypt(pa));
    bs.push(encryptor.encrypt(pb));
  }
  // The same 8 pairs one call at a time and as one batch, interleaved so that load hits both alike.
  const batchReps = Math.max(3, Math.ceil(reps / 3));
  for (const threads of [...new Set([1, allThreads])]) {
    ctx.threads = threads;
    for (const op of ['multiply_relinearize', 'rotate'] as const) {
      const one = (i: number) => (op === 'rotate' ? evaluator.rotateAsync(as[i]!, 1, gk) : evaluator.multiplyRelinearizeAsync(as[i]!, bs[i]!, rk));
      const all = () => (op === 'rotate' ? evaluator.rotateBatchAsync(as, 1, gk) : evaluator.multiplyRelinearizeBatchAsync(as, bs, rk));
      const singles: number[] = [];
      const batched: number[] = [];
      for (let r = 0; r <= batchReps; r++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < BATCH; i++) (await one(i)).dispose();
        const t1 = process.hrtime.bigint();
        const results = await all();
        const t2 = process.hrtime.bigint();
        results.forEach((c) => c.dispose());
        if (r === 0) continue; // warm-up
        singles.push(Number(t1 - t0) / 1e6 / BATCH);
        batched.push(Number(t2 - t1) / 1e6 / BATCH);
      }
      const singleMsPerItem = median(singles), msPerItem = median(batched);
      batchRows.push({ op, N: p.N, batch: BATCH, threads, msPerItem, singleMsPerItem, ratio: Number((msPerItem / singleMsPerItem).toFixed(3)) });
    }
  }
  log(`  cipherlm N=${p.N} batch: done`);

  // Hoisting: the same steps of one ciphertext, interleaved so that load hits both alike.
  const hoistedReps = Math.max(3, Math.ceil(reps / 3));
  for (const threads of [...new Set([1, allThreads])]) {
    ctx.threads = threads;
    const singles: number[] = [];
    const hoisted: number[] = [];
    for (let r = 0; r <= hoistedReps; r++) {
      const t0 = process.hrtime.bigint();
      const one = HOISTED_STEPS.map((step) => evaluator.rotate(ctX, step, gk));
      const t1 = process.hrtime.bigint();
      const many = evaluator.rotateHoisted(ctX, HOISTED_STEPS, gk);
      const t2 = process.hrtime.bigint();
      [...one, ...many].forEach((c) => c.dispose());
      if (r === 0) continue; // warm-up
      singles.push(Number(t1 - t0) / 1e6);
      hoisted.push(Number(t2 - t1) / 1e6);
    }
    const singlesMs = median(singles), hoistedMs = median(hoisted);
    hoistedRows.push({ op: 'rotate_hoisted', N: p.N, steps: HOISTED_STEPS.length, threads, singlesMs, hoistedMs, ratio: Number((hoistedMs / singlesMs).toFixed(3)) });
  }
  log(`  cipherlm N=${p.N} hoisted rotations: done`);

  for (const c of [...as, ...bs]) c.dispose();
  for (const pt of pts) pt.dispose();
  prodForRescale.dispose();
  ctX.dispose();
  ctY.dispose();
  ptX.dispose();
  ptY.dispose();
  gk.dispose();
  rk.dispose();
  pk.dispose();
  keygen.secretKey.dispose();
  encoder.dispose();
  ctx.dispose();
  return { data, special };
}

// ---------------------------------------------------------------- node-seal
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Seal = any;
let sealPromise: Promise<Seal> | undefined;
function loadSeal(): Promise<Seal> {
  if (!sealPromise) {
    // CommonJS (package.json has no "type": "module"); node-seal 6 ships a UMD build
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const SEAL = require('node-seal');
    sealPromise = SEAL();
  }
  return sealPromise!;
}

async function benchSeal(p: Params, primes: bigint[], reps: number, rows: Row[]): Promise<void> {
  const seal = await loadSeal();
  const owned: { delete: () => void }[] = [];
  const own = <T extends { delete: () => void }>(o: T): T => {
    owned.push(o);
    return o;
  };
  try {
    const parms = own(seal.EncryptionParameters(seal.SchemeType.ckks));
    parms.setPolyModulusDegree(p.N);
    const coeff = own(seal.Vector());
    // vecFromArrayModulus takes the wasm instances of seal.Modulus objects
    const moduli = primes.map((q) => own(seal.Modulus(q)));
    coeff.from(moduli.map((m) => m.instance), 'Modulus');
    parms.setCoeffModulus(coeff);
    const context = own(seal.Context(parms, true, seal.SecurityLevel.tc128));
    if (!context.parametersSet()) throw new Error(`node-seal N=${p.N}: parameters rejected: ${context.parameterErrorMessage()}`);
    // check SEAL really uses our primes
    const used: bigint[] = Array.from(parms.coeffModulus as BigUint64Array);
    if (used.length !== primes.length || used.some((q, i) => q !== primes[i])) {
      throw new Error(`node-seal N=${p.N}: coefficient modulus differs from cipherlm's primes`);
    }
    const keygen = own(seal.KeyGenerator(context));
    const sk = own(keygen.secretKey());
    const pk = own(keygen.createPublicKey());
    const rk = own(keygen.createRelinKeys());
    const gk = own(keygen.createGaloisKeys(Int32Array.from([1])));
    const encoder = own(seal.CKKSEncoder(context));
    const encryptor = own(seal.Encryptor(context, pk));
    const decryptor = own(seal.Decryptor(context, sk));
    const evaluator = own(seal.Evaluator(context));
    const slots: number = encoder.slotCount;
    const x = randomVector(slots, 1);
    const y = randomVector(slots, 2);
    const ptX = own(seal.PlainText());
    const ptY = own(seal.PlainText());
    encoder.encode(x, SCALE, ptX);
    encoder.encode(y, SCALE, ptY);
    const ctX = own(seal.CipherText());
    const ctY = own(seal.CipherText());
    encryptor.encrypt(ptX, ctX);
    encryptor.encrypt(ptY, ctY);
    const prod = own(seal.CipherText());
    evaluator.multiply(ctX, ctY, prod);
    evaluator.relinearize(prod, rk, prod);
    // sanity check of SEAL too (guards against a mis-set modulus)
    {
      const res = own(seal.CipherText());
      evaluator.rescaleToNext(prod, res);
      const pt = own(seal.PlainText());
      decryptor.decrypt(res, pt);
      const out = encoder.decode(pt) as Float64Array;
      let maxErr = 0;
      for (let i = 0; i < slots; i++) maxErr = Math.max(maxErr, Math.abs(out[i] - x[i] * y[i]));
      if (!(maxErr <= 1e-3)) throw new Error(`SANITY CHECK FAILED: node-seal N=${p.N} max error ${maxErr}`);
    }
    const ptOut = own(seal.PlainText());
    const ctOut = own(seal.CipherText());
    const t: Record<Op, number> = {
      encode: timeSync(reps, () => void encoder.encode(x, SCALE, ptOut)),
      encrypt: timeSync(reps, () => void encryptor.encrypt(ptX, ctOut)),
      decrypt: timeSync(reps, () => void decryptor.decrypt(ctX, ptOut)),
      add: timeSync(reps, () => void evaluator.add(ctX, ctY, ctOut)),
      multiply_plain: timeSync(reps, () => void evaluator.multiplyPlain(ctX, ptY, ctOut)),
      multiply_relinearize: timeSync(reps, () => {
        evaluator.multiply(ctX, ctY, ctOut);
        evaluator.relinearize(ctOut, rk, ctOut);
      }),
      rescale: timeSync(reps, () => void evaluator.rescaleToNext(prod, ctOut)),
      rotate: timeSync(reps, () => void evaluator.rotateVector(ctX, 1, gk, ctOut)),
    };
    for (const op of OPS) rows.push({ op, N: p.N, impl: 'node-seal', threads: 1, medianMs: t[op] });
    log(`  node-seal N=${p.N}: done`);
  } finally {
    for (const o of owned.reverse()) o.delete();
  }
}

// ---------------------------------------------------------------- main
function fmt(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  return ms >= 100 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}
function pad(s: string, w: number, left = false): string {
  return left ? s.padEnd(w) : s.padStart(w);
}

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const rows: Row[] = [];
  const batchRows: BatchRow[] = [];
  const hoistedRows: HoistedRow[] = [];
  const simdRows: SimdRow[] = [];
  const params: Record<string, unknown>[] = [];
  log(`cipherlm ops benchmark: ${os.cpus()[0]?.model ?? 'cpu'}, ${allThreads} threads, node ${process.version}`);
  for (const N of ringDegrees) {
    const p = PARAMS[N];
    const reps = repsOverride ?? p.reps;
    const { data, special } = await benchCipherlm(p, reps, rows, batchRows, hoistedRows, simdRows);
    const primes = [...data, ...special];
    params.push({
      N,
      dataPrimes: data.map(String),
      specialPrimes: special.map(String),
      logQP: Number(primes.reduce((a, q) => a + Math.log2(Number(q)), 0).toFixed(2)),
      bound128: p.bound,
      reps,
    });
    await benchSeal(p, primes, reps, rows);
  }
  const totalS = Number(process.hrtime.bigint() - started) / 1e9;

  if (json) {
    const out = {
      rows,
      batch: batchRows,
      hoisted: hoistedRows,
      simd: simdRows,
      params,
      machine: {
        cpu: os.cpus()[0]?.model,
        availableParallelism: allThreads,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        simdPaths: SIMD_PATHS,
      },
      totalSeconds: Number(totalS.toFixed(1)),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }

  const get = (op: Op, N: number, impl: Row['impl'], threads: number) =>
    rows.find((r) => r.op === op && r.N === N && r.impl === impl && r.threads === threads)?.medianMs;
  for (const N of ringDegrees) {
    const pr = params.find((q) => q.N === N)!;
    console.log(
      `\nN = ${N}  (${(pr.dataPrimes as string[]).length} data primes + ${(pr.specialPrimes as string[]).length} special, log2 QP = ${pr.logQP} <= ${pr.bound128}, median of ${pr.reps})`,
    );
    const hdr = [
      pad('op', 22, true),
      pad('cipherlm-1t ms', 15),
      pad(`cipherlm-${allThreads}t ms`, 15),
      pad('node-seal ms', 13),
      pad('seal/1t', 9),
      pad(`seal/${allThreads}t`, 9),
    ].join(' ');
    console.log(hdr);
    console.log('-'.repeat(hdr.length));
    for (const op of OPS) {
      const a = get(op, N, 'cipherlm', 1);
      const b = get(op, N, 'cipherlm', allThreads);
      const s = get(op, N, 'node-seal', 1);
      const r1 = a && s ? (s / a).toFixed(2) + 'x' : '-';
      const rn = b && s ? (s / b).toFixed(2) + 'x' : '-';
      console.log([pad(op, 22, true), pad(fmt(a), 15), pad(fmt(b), 15), pad(fmt(s), 13), pad(r1, 9), pad(rn, 9)].join(' '));
    }
  }
  console.log(`\nBatch (${BATCH} independent ciphertext pairs: one call at a time vs one *BatchAsync call, ms per item)`);
  const bh = [pad('N', 6), pad('op', 22, true), pad('threads', 8), pad('one by one', 11), pad('batch', 9), pad('ratio', 7)].join(' ');
  console.log(bh);
  console.log('-'.repeat(bh.length));
  for (const r of batchRows) {
    console.log([pad(String(r.N), 6), pad(r.op, 22, true), pad(String(r.threads), 8), pad(fmt(r.singleMsPerItem), 11), pad(fmt(r.msPerItem), 9), pad(r.ratio.toFixed(2), 7)].join(' '));
  }
  console.log(`\nHoisted rotations (${HOISTED_STEPS.length} steps of one ciphertext: one by one vs rotateHoisted, ms)`);
  const hh = [pad('N', 6), pad('threads', 8), pad('one by one', 11), pad('hoisted', 10), pad('ratio', 7)].join(' ');
  console.log(hh);
  console.log('-'.repeat(hh.length));
  for (const r of hoistedRows) console.log([pad(String(r.N), 6), pad(String(r.threads), 8), pad(fmt(r.singlesMs), 11), pad(fmt(r.hoistedMs), 10), pad(r.ratio.toFixed(2), 7)].join(' '));
  console.log(`\nKernel families on this CPU (1 thread, ms; the other tables use the fastest, ${SIMD_PATHS[SIMD_PATHS.length - 1]})`);
  const sh = [pad('N', 6), pad('op', 22, true), pad('path', 11, true), pad('ms', 9), pad('vs portable', 12)].join(' ');
  console.log(sh);
  console.log('-'.repeat(sh.length));
  for (const r of simdRows) console.log([pad(String(r.N), 6), pad(r.op, 22, true), pad(r.simdPath, 11, true), pad(fmt(r.medianMs), 9), pad(r.speedupOverPortable.toFixed(2) + 'x', 12)].join(' '));
  console.log(`\ntotal ${totalS.toFixed(1)} s`);
}

main().catch((err) => {
  process.stderr.write(`bench/ops failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
