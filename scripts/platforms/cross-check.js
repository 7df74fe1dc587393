#!/usr/bin/env node
// Compares one platform's build of cipherlm with another's (scripts/platforms/check.sh runs it):
//   node cross-check.js PACKAGE_DIR write DIR    on the reference platform (x86-64)
//   node cross-check.js PACKAGE_DIR verify DIR   on the other platform (linux-arm64 under qemu)
// PACKAGE_DIR is an installed cipherlm. `write` saves, for fixed inputs, the NTT outputs, the encoded
// plaintexts and their decodings, and a ciphertext of a product with its secret key. `verify`
// recomputes the same and requires the same bits, decrypts the saved ciphertext to the same bits,
// and checks that both decryptions and a fresh one of its own hold the stated precision.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [packageDir, mode, dir] = process.argv.slice(2);
if (!packageDir || !['write', 'verify'].includes(mode) || !dir) {
  console.error('usage: cross-check.js PACKAGE_DIR write|verify DIR');
  process.exit(2);
}
const cipherlm = require(path.resolve(packageDir));
const binary = require(require.resolve('node-gyp-build', { paths: [path.resolve(packageDir)] })).resolve(path.resolve(packageDir));
const { CkksContext, CkksEncoder, KeyGenerator, Encryptor, Decryptor, Evaluator, SecretKey, Ciphertext } = cipherlm;

// The README's precision at scale 2^40: at least 20 bits after products; one product here.
const MINIMUM_BITS = 20;
const PARAMETERS = { ringDegree: 4096, dataBits: [50, 40, 40], specialBits: [50], allowInsecureParametersForTestsOnly: true };

// A fixed pseudo-random sequence (mulberry32), the same on every platform.
function sequence(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function fixedValues(count, seed) {
  const next = sequence(seed);
  return Float64Array.from({ length: count }, () => 2 * next() - 1);
}
const hex = (bytes) => Buffer.from(bytes.buffer ?? bytes, bytes.byteOffset ?? 0, bytes.byteLength).toString('hex');
function precisionBits(actual, expected) {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst === 0 ? Infinity : -Math.log2(worst);
}

// Outputs that must be the same bits on every platform, and local checks that must hold.
async function deterministicResults(context, encoder) {
  const results = {}, failures = [];
  const primes = [...context.dataPrimes, ...context.specialPrimes];
  for (let limb = 0; limb < primes.length; limb++) {
    const next = sequence(1000 + limb);
    const input = BigUint64Array.from({ length: context.ringDegree }, () => BigInt(Math.floor(next() * 2 ** 32)) % primes[limb]);
    const forward = await context.nttForward(limb, input, 'portable');
    results[`ntt forward, limb ${limb}`] = hex(forward);
    if (hex(await context.nttInverse(limb, forward, 'portable')) !== hex(input)) failures.push(`inverse(forward) != input, limb ${limb}`);
    if (CkksContext.cpuSupports('avx512ifma') && hex(await context.nttForward(limb, input, 'avx512ifma')) !== hex(forward)) {
      failures.push(`avx512ifma NTT != portable NTT, limb ${limb}`);
    }
  }
  for (let level = 0; level <= context.maxLevel; level++) {
    const values = fixedValues(context.slotCount, 2000 + level);
    const plaintext = encoder.encode(values, { level });
    const decoded = encoder.decode(plaintext);
    results[`encode, level ${level}`] = hex(plaintext.save());
    results[`decode(encode), level ${level}`] = hex(decoded);
    if (!(precisionBits(decoded, values) >= MINIMUM_BITS)) failures.push(`decode(encode) below ${MINIMUM_BITS} bits, level ${level}`);
  }
  return { results, failures };
}

async function main() {
  const context = CkksContext.create(PARAMETERS);
  const encoder = new CkksEncoder(context);
  const x = fixedValues(context.slotCount, 1), y = fixedValues(context.slotCount, 2);
  const product = x.map((v, i) => v * y[i]);
  const report = { arch: process.arch, binary: path.relative(path.resolve(packageDir), binary), simdPath: context.simdPath };

  // Encrypt x and y, multiply, relinearize, rescale; returns the decoded product.
  const encryptedProduct = (keys) => {
    const encryptor = new Encryptor(context, keys.createPublicKey());
    const evaluator = new Evaluator(context);
    return evaluator.multiplyRescale(encryptor.encrypt(encoder.encode(x)), encryptor.encrypt(encoder.encode(y)), keys.createRelinKey());
  };
  const { results, failures } = await deterministicResults(context, encoder);
  report.failures = failures;

  if (mode === 'write') {
    const keys = new KeyGenerator(context);
    const ciphertext = encryptedProduct(keys);
    const decrypted = encoder.decode(new Decryptor(context, keys.secretKey).decrypt(ciphertext));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'secret-key.bin'), keys.secretKey.save());
    fs.writeFileSync(path.join(dir, 'product.bin'), ciphertext.save());
    fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ ...report, results, decrypted: hex(decrypted) }));
    report.precisionBits = precisionBits(decrypted, product);
    console.log(JSON.stringify(report));
    if (failures.length > 0 || !(report.precisionBits >= MINIMUM_BITS)) process.exit(1);
    return;
  }

  const reference = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8'));
  const mismatches = Object.keys(reference.results).filter((key) => results[key] !== reference.results[key]);
  const secretKey = SecretKey.load(context, fs.readFileSync(path.join(dir, 'secret-key.bin')));
  const saved = Ciphertext.load(context, fs.readFileSync(path.join(dir, 'product.bin')));
  const decryptedSaved = encoder.decode(new Decryptor(context, secretKey).decrypt(saved));
  const fresh = new KeyGenerator(context);
  const decryptedFresh = encoder.decode(new Decryptor(context, fresh.secretKey).decrypt(encryptedProduct(fresh)));
  Object.assign(report, {
    reference: { arch: reference.arch, binary: reference.binary, simdPath: reference.simdPath },
    identical: Object.keys(reference.results).length - mismatches.length,
    mismatches,
    savedDecryptsIdentically: hex(decryptedSaved) === reference.decrypted,
    savedPrecisionBits: precisionBits(decryptedSaved, product),
    freshPrecisionBits: precisionBits(decryptedFresh, product),
  });
  console.log(JSON.stringify(report));
  const passed = failures.length === 0 && mismatches.length === 0 && report.savedDecryptsIdentically &&
    report.savedPrecisionBits >= MINIMUM_BITS && report.freshPrecisionBits >= MINIMUM_BITS;
  if (!passed) process.exit(1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
