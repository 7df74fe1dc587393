import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = join(__dirname, '..');
const checker = join(root, 'scripts', 'check-layers.js');

function checkLayers(nativeDir: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [checker, nativeDir], { encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe('native layering (scripts/check-layers.js)', () => {
  it('the native tree includes only downwards', () => {
    const { status, output } = checkLayers(join(root, 'native'));
    expect(output).toMatch(/^check-layers: \d+ files, \d+ includes/);
    expect(status).toBe(0);
  });

  // A copy of native/ in a temporary folder, so that the wrong includes never touch the tree.
  let copy: string;
  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'cipherlm-layers-'));
    cpSync(join(root, 'native'), copy, { recursive: true });
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it.each([
    ['ring/wrong.hpp', '#include "ckks/evaluator.hpp"', 'ring may use only ring'],
    ['rlwe/wrong.hpp', '#include "circuits/bootstrapper.hpp"', 'rlwe may use only rlwe, ring'],
    ['formats/wrong.cpp', '#include "ckks/encoder.hpp"', 'formats may use only formats, ring, rlwe'],
    ['circuits/wrong.cpp', '#include "addon/handles.hpp"', 'the engine includes the addon'],
    ['ckks/wrong.cpp', '#include <napi.h>', 'a Node/N-API header in the engine'],
    ['ring/wrong.cpp', '#include "../ckks/encoder.hpp"', 'not written relative to native/'],
    ['ring/wrong.cpp', '#include "modarith.hpp"', 'not written relative to native/'],
    ['ring/wrong.cpp', '#include "misc/thing.hpp"', 'not written relative to native/'],
    ['ring/wrong.cpp', '#include "ring/no_such_header.hpp"', 'no such file'],
    ['misc/wrong.cpp', '#include "ring/modarith.hpp"', 'not in a known layer'],
  ])('%s with %s fails, naming the file', (file, include, reason) => {
    const path = join(copy, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `// deliberately wrong\n${include}\n`);
    try {
      const { status, output } = checkLayers(copy);
      expect(status).toBe(1);
      expect(output).toContain(file);
      expect(output).toContain(reason);
      expect(output.split('\n').filter((line) => line.startsWith(file))).toHaveLength(1);
    } finally {
      rmSync(path);
    }
  });
});
