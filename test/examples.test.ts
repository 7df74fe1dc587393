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
});
