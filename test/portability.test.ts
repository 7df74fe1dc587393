import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const checker = join(root, 'scripts', 'check-portability.js');

function checkPortability(nativeDir: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [checker, nativeDir], { encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe('native portability (scripts/check-portability.js)', () => {
  it('compiler-, CPU- and OS-specific code sits only where native/ring/README.md puts it', () => {
    const { status, output } = checkPortability(join(root, 'native'));
    expect(output).toMatch(/^check-portability: \d+ files/);
    expect(status).toBe(0);
  });

  // A copy of native/ in a temporary folder, so that the wrong code never touches the tree.
  let copy: string;
  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'cipherlm-portability-'));
    cpSync(join(root, 'native'), copy, { recursive: true });
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it.each([
    ['ckks/wrong.cpp', 'unsigned __int128 product = 0;', '128-bit arithmetic'],
    ['ring/wrong.cpp', 'int bits = __builtin_clzll(x);', '128-bit arithmetic'],
    ['kernels/wrong.cpp', '#include <immintrin.h>', 'x86 SIMD'],
    ['kernels/wrong.cpp', '__attribute__((target("avx2"))) void f();', 'x86 SIMD'],
    ['rlwe/wrong.cpp', 'bool fast = __builtin_cpu_supports("avx2");', 'a CPU feature query'],
    ['formats/wrong.cpp', '#include <unistd.h>', 'an operating-system header'],
    ['kernels/gelu_avx512.cpp', '#include "ring/avx512_arith.hpp"', 'without #if CIPHERLM_X86_KERNELS'],
  ])('%s with %s fails, naming the file', (file, code, reason) => {
    const path = join(copy, file);
    writeFileSync(path, `// deliberately wrong\n${code}\n`);
    try {
      const { status, output } = checkPortability(copy);
      expect(status).toBe(1);
      expect(output).toContain(file);
      expect(output).toContain(reason);
    } finally {
      rmSync(path);
    }
  });
});
