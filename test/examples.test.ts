import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

describe('examples in the README', () => {
  it('quickstart prints decrypted values equal to the expected ones', () => {
    const out = execFileSync(process.execPath, [join(__dirname, '..', 'examples', 'quickstart.js')], { encoding: 'utf8' });
    const [expected, decrypted] = out.split('\n').map((line) => line.split(/\s+/).slice(1).map(Number));
    expect(decrypted).toHaveLength(3);
    decrypted.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-4));
  });

  it('seal-interop: a node-seal client encrypts, a cipherlm server evaluates, the client decrypts', () => {
    const out = execFileSync(process.execPath, [join(__dirname, '..', 'examples', 'seal-interop.js')], { encoding: 'utf8' });
    const [expected, decrypted] = out.split('\n').map((line) => line.split(/\s+/).slice(1).map(Number));
    expect(expected).toHaveLength(4);
    expect(decrypted).toHaveLength(4);
    decrypted.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-5));
  });
});
