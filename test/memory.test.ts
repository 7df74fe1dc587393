import { describe, expect, it } from 'vitest';
import { CkksContext, CkksEncoder, Encryptor, Evaluator, KeyGenerator } from '../src';

// N = 4096 inside the 128-bit bound (109 bits): the loop is about allocation, not arithmetic.
describe('native memory', () => {
  it('3,000 encrypt / multiply / dispose cycles keep resident memory flat', () => {
    const context = CkksContext.create({ ringDegree: 4096, dataBits: [36, 36], specialBits: [37] });
    const encoder = new CkksEncoder(context);
    const keys = new KeyGenerator(context);
    const encryptor = new Encryptor(context, keys.createPublicKey());
    const relinKey = keys.createRelinKey();
    const evaluator = new Evaluator(context);
    const plaintext = encoder.encode([0.5, 0.25], { scale: 2 ** 20 });
    const cycle = () => {
      const a = encryptor.encrypt(plaintext);
      const b = evaluator.multiplyRelinearize(a, a, relinKey);
      a.dispose();
      b.dispose();
    };
    for (let i = 0; i < 300; i++) cycle();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 3_000; i++) cycle();
    const growth = process.memoryUsage().rss - before;
    // One ciphertext here is 128 KiB: leaking even one per cycle would grow by 375 MiB
    // (3,000 cycles keep the portable build's run short on a loaded machine).
    expect(growth).toBeLessThan(16 * 1024 * 1024);
  });
});
