// A Microsoft SEAL client (node-seal) encrypts, a cipherlm server evaluates, the client decrypts.
// Only SEAL bytes cross the wire: parameters, evaluation keys and ciphertexts; the secret key stays
// with the client.
const SEAL = require('node-seal');
const { SealFormat, Evaluator, CkksEncoder } = require('..');

// zstd when this cipherlm build has it (built with libzstd-dev), else zlib; node-seal reads both.
const compression = SealFormat.zstdAvailable ? 'zstd' : 'zlib';

function server(request) {
  const context = SealFormat.loadContext(request.parms);
  const relinKeys = SealFormat.loadRelinKeys(context, request.relinKeys);
  const galoisKeys = SealFormat.loadGaloisKeys(context, request.galoisKeys);
  const x = SealFormat.loadCiphertext(context, request.x);
  const y = SealFormat.loadCiphertext(context, request.y);
  const evaluator = new Evaluator(context);
  // (x * y) rotated left by one slot, plus a public vector z.
  const product = evaluator.rescale(evaluator.multiplyRelinearize(x, y, relinKeys));
  const shifted = evaluator.rotate(product, 1, galoisKeys);
  const z = new CkksEncoder(context).encode(request.z, { scale: shifted.scale, level: shifted.level });
  return SealFormat.save(evaluator.addPlain(shifted, z), compression);
}

async function main() {
  const seal = await SEAL();
  const mode = seal.ComprModeType[compression];
  // Client: SEAL's own parameters (the last prime is the special prime) and keys.
  const parms = seal.EncryptionParameters(seal.SchemeType.ckks);
  parms.setPolyModulusDegree(8192);
  parms.setCoeffModulus(seal.CoeffModulus.Create(8192, Int32Array.from([60, 40, 40, 60])));
  const context = seal.Context(parms, true, seal.SecurityLevel.tc128);
  const keygen = seal.KeyGenerator(context);
  const secretKey = keygen.secretKey();
  const encryptor = seal.Encryptor(context, keygen.createPublicKey(), secretKey);
  const encoder = seal.CKKSEncoder(context);
  const scale = 2 ** 40;
  const x = [1.5, -2, 3.25, 0.5];
  const y = [2, 0.25, -1, 4];
  const z = [10, 20, 30, 40];
  const encrypt = (values) => {
    const padded = new Float64Array(encoder.slotCount);
    padded.set(values);
    // Secret-key encryption, saved seeded (half the bytes).
    return encryptor.encryptSymmetricSerializable(encoder.encode(padded, scale)).saveArray(mode);
  };
  const request = {
    parms: parms.saveArray(mode),
    relinKeys: keygen.createRelinKeysSerializable().saveArray(mode),
    galoisKeys: keygen.createGaloisKeysSerializable(Int32Array.from([1])).saveArray(mode),
    x: encrypt(x),
    y: encrypt(y),
    z,
  };

  const response = server(request);

  // Client: decrypt the server's answer.
  const result = seal.CipherText();
  result.loadArray(context, response);
  const decrypted = encoder.decode(seal.Decryptor(context, secretKey).decrypt(result));
  const n = x.length;
  const expected = x.map((_, i) => x[(i + 1) % n] * y[(i + 1) % n] + z[i]);
  // Slot 3 rotates in slot 4, which held zero: x[4] * y[4] = 0.
  expected[n - 1] = z[n - 1];
  console.log('expected ', expected.map((v) => v.toFixed(6)).join(' '));
  console.log('decrypted', Array.from(decrypted.subarray(0, n), (v) => v.toFixed(6)).join(' '));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
