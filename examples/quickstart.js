// Encrypted arithmetic in a few lines: (x * y) rotated by one slot, plus a plaintext vector.
const { CkksContext, CkksEncoder, KeyGenerator, Encryptor, Decryptor, Evaluator } = require('..');

// N = 16384 gives 8192 slots; 50 + 8 x 40 data bits and a 50-bit special prime: 420 bits <= 438.
const context = CkksContext.create({ ringDegree: 16384, dataBits: [50, 40, 40, 40, 40, 40, 40, 40, 40], specialBits: [50] });
const encoder = new CkksEncoder(context);
const keys = new KeyGenerator(context); // the secret key stays with the data owner
const publicKey = keys.createPublicKey();
const relinKey = keys.createRelinKey();
const galoisKeys = keys.createGaloisKeys([1]);

const x = [1.5, -2, 3.25, 0.5];
const y = [2, 0.25, -1, 4];
const z = [10, 20, 30, 40];
const encryptor = new Encryptor(context, publicKey);
const cx = encryptor.encrypt(encoder.encode(x));
const cy = encryptor.encrypt(encoder.encode(y));

// The server side: it sees only ciphertexts and evaluation keys.
const evaluator = new Evaluator(context);
const product = evaluator.multiplyRescale(cx, cy, relinKey); // level drops by one
const rotated = evaluator.rotate(product, 1, galoisKeys);
const result = evaluator.addPlain(rotated, encoder.encode(z, { scale: rotated.scale, level: rotated.level }));

const decrypted = encoder.decode(new Decryptor(context, keys.secretKey).decrypt(result));
const expected = x.map((_, i) => x[(i + 1) % 4] * y[(i + 1) % 4] + z[i]);
console.log('expected ', expected.slice(0, 3).map((v) => v.toFixed(6)).join(' '));
console.log('decrypted', Array.from(decrypted.subarray(0, 3), (v) => v.toFixed(6)).join(' '));
console.log(`level ${result.level} of ${context.maxLevel}, scale 2^${Math.log2(result.scale).toFixed(2)}`);
