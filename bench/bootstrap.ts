/**
 * Bootstrapping benchmark: time and precision of one bootstrap per preset on 1 and 2 threads, the
 * levels it leaves, key sizes (as stored, and as uploaded: each key a seeded blob) and the memory peak.
 *
 *   npm run bench:bootstrap                          # secure preset (N = 65536), table
 *   npm run bench:bootstrap -- --preset transformer  # dense secret, encapsulation, 13 levels left
 *   npm run bench:bootstrap -- --preset testSmall    # the small insecure preset (or testTransformer)
 *   npm run -s bench:bootstrap -- --json             # one JSON object on stdout
 *
 * Times are medians after a first bootstrap (which also encodes the linear transforms' diagonals,
 * kept for later calls); that first one is reported separately (firstBootstrapSeconds).
 * `npm run -s` keeps npm's own banner off stdout, so that --json output is one JSON object.
 * Precision is measured against the decrypted input (the bootstrap's own error), over all slots of
 * a fresh random real vector in [-1, 1].
 */
import os from 'node:os';
import {
  BOOTSTRAP_PRESETS,
  Bootstrapper,
  CkksEncoder,
  Decryptor,
  Encryptor,
  KeyGenerator,
  type BootstrapPreset,
  type BootstrapPresetName,
} from '../src';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const presetArg = argv.includes('--preset') ? argv[argv.indexOf('--preset') + 1] : 'secure';
if (!(presetArg in BOOTSTRAP_PRESETS)) throw new Error(`--preset must be one of ${Object.keys(BOOTSTRAP_PRESETS).join(', ')}`);
const preset: BootstrapPreset = BOOTSTRAP_PRESETS[presetArg as BootstrapPresetName];
const reps = argv.includes('--reps') ? Math.max(1, Number(argv[argv.indexOf('--reps') + 1]) | 0) : preset.insecure ? 3 : 1;
const threadCounts = [...new Set([1, Math.min(2, os.availableParallelism())])];

const log = (line: string): void => {
  if (json) process.stderr.write(line + '\n');
  else console.log(line);
};
const peakRssMB = (): number => process.resourceUsage().maxRSS / 1024;

interface Row {
  preset: string;
  threads: number;
  seconds: number;
  meanBits: number;
  worstBits: number;
  levelsLeft: number;
  peakRssMB: number;
  stages: Record<string, number>;
}

async function main(): Promise<void> {
  log(`cipherlm bootstrapping benchmark: ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, preset ${preset.name}`);
  const { context, bootstrapper } = Bootstrapper.fromPreset(preset, { allowInsecureParametersForTestsOnly: preset.insecure });
  const N = context.ringDegree;
  const keyGenerator = new KeyGenerator(context, { hammingWeight: preset.hammingWeight });
  let start = performance.now();
  const relinKey = await keyGenerator.createRelinKeyAsync();
  const galoisKeys = await bootstrapper.createGaloisKeysAsync(keyGenerator);
  const keygenSeconds = (performance.now() - start) / 1000;
  // As stored on the server (both halves of every key) and as a client uploads them: each key its
  // own seeded blob (the uniform halves as seeds).
  const relinBytes = relinKey.save().length;
  let uploadedBytes = relinKey.save({ seeded: true }).length;
  for (const part of galoisKeys.split()) {
    uploadedBytes += part.save({ seeded: true }).length;
    part.dispose();
  }
  const keys = {
    galoisKeys: bootstrapper.galoisElements.length,
    sparseSecretKeys: galoisKeys.hasSparseSecretKeys,
    storedMB: (galoisKeys.byteLength + relinBytes) / 2 ** 20,
    uploadedMB: uploadedBytes / 2 ** 20,
    largestKeyMB: Math.max(...galoisKeys.keys.map((k) => k.bytes)) / 2 ** 20,
    keygenSeconds,
  };
  log(
    `  N=${N}, log2(QP)=${context.logModulus.toFixed(0)}, secret ${preset.hammingWeight === 0 ? 'dense' : `h=${preset.hammingWeight}`}, ` +
      `depth ${bootstrapper.depth}, ${keys.galoisKeys} Galois keys${keys.sparseSecretKeys ? ' + sparse-secret switch' : ''} + relin: ` +
      `${keys.storedMB.toFixed(0)} MB stored, ${keys.uploadedMB.toFixed(0)} MB uploaded (seeded), ` +
      `largest key ${keys.largestKeyMB.toFixed(0)} MB, made in ${keygenSeconds.toFixed(1)} s`,
  );
  const encoder = new CkksEncoder(context);
  const encryptor = new Encryptor(context, keyGenerator.createPublicKey());
  const decryptor = new Decryptor(context, keyGenerator.secretKey);

  // The first bootstrap also encodes the linear transforms' diagonals, which later ones reuse.
  context.threads = 1;
  const warm = encryptor.encrypt(encoder.encode(new Float64Array(context.slotCount).fill(0.5)));
  start = performance.now();
  (await bootstrapper.bootstrapAsync(warm, { relinKey, galoisKeys })).dispose();
  const firstBootstrapSeconds = (performance.now() - start) / 1000;
  warm.dispose();
  log(`  first bootstrap (1 thread, encodes the transforms' diagonals): ${firstBootstrapSeconds.toFixed(2)} s`);

  const rows: Row[] = [];
  for (const threads of threadCounts) {
    context.threads = threads;
    const times: number[] = [];
    let meanBits = 0, worstBits = Infinity, levelsLeft = -1;
    const stages: Record<string, number> = {};
    for (let r = 0; r < reps; r++) {
      const x = Float64Array.from({ length: context.slotCount }, () => Math.random() * 2 - 1);
      const ct = encryptor.encrypt(encoder.encode(x));
      const input = encoder.decode(decryptor.decrypt(ct));
      start = performance.now();
      const out = await bootstrapper.bootstrapAsync(ct, { relinKey, galoisKeys }, {
        onProgress: (stage, seconds) => (stages[stage] = (stages[stage] ?? 0) + seconds / reps),
      });
      times.push((performance.now() - start) / 1000);
      const y = encoder.decode(decryptor.decrypt(out));
      let sum = 0, worst = 0;
      for (let i = 0; i < y.length; i++) {
        const e = Math.max(Math.abs(y[i] - input[i]), 2 ** -60);
        sum += -Math.log2(e);
        worst = Math.max(worst, e);
      }
      meanBits += sum / y.length / reps;
      worstBits = Math.min(worstBits, -Math.log2(worst));
      levelsLeft = out.level;
      ct.dispose();
      out.dispose();
    }
    await new Promise((resolve) => setImmediate(resolve));
    times.sort((a, b) => a - b);
    const row: Row = {
      preset: preset.name,
      threads,
      seconds: times[Math.floor(times.length / 2)],
      meanBits,
      worstBits,
      levelsLeft,
      peakRssMB: peakRssMB(),
      stages,
    };
    rows.push(row);
    const stageText = Object.entries(stages).map(([s, v]) => `${s} ${v.toFixed(2)}`).join(', ');
    log(`  threads ${threads}: ${row.seconds.toFixed(2)} s (${stageText})`);
  }

  if (json) {
    console.log(JSON.stringify({ preset: preset.name, ringDegree: N, depth: bootstrapper.depth, keys, firstBootstrapSeconds, rows }, null, 1));
    return;
  }
  console.log(`\n${'threads'.padEnd(8)}${'seconds'.padStart(9)}${'mean bits'.padStart(11)}${'worst bits'.padStart(12)}${'levels left'.padStart(13)}${'peak RSS MB'.padStart(13)}`);
  for (const r of rows) {
    console.log(
      `${String(r.threads).padEnd(8)}${r.seconds.toFixed(2).padStart(9)}${r.meanBits.toFixed(1).padStart(11)}${r.worstBits.toFixed(1).padStart(12)}` +
        `${String(r.levelsLeft).padStart(13)}${r.peakRssMB.toFixed(0).padStart(13)}`,
    );
  }
  if (rows.length === 2) console.log(`speedup from 2 threads: ${(rows[0].seconds / rows[1].seconds).toFixed(2)}x`);
  console.log(
    `keys: ${keys.galoisKeys} Galois${keys.sparseSecretKeys ? ' + 2 sparse-secret' : ''} + relin, ${keys.storedMB.toFixed(0)} MB stored, ` +
      `${keys.uploadedMB.toFixed(0)} MB uploaded (seeded); levels left ${rows[0]?.levelsLeft}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
