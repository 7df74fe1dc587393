import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const prebuild = join(root, 'prebuilds', 'linux-x64', 'cipherlm.node');

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });
}

// Packs the repository, or a copy of it given a fresh prebuild when the checkout has none.
function packTarball(into: string): string {
  let source = root;
  if (!existsSync(prebuild)) {
    source = join(into, 'source');
    const tracked = run('git', ['ls-files'], root).split('\n').filter(Boolean);
    for (const file of tracked) cpSync(join(root, file), join(source, file), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(source, 'node_modules'));
    run('npm', ['run', 'prebuildify'], source);
  }
  const name = run('npm', ['pack', '--pack-destination', into], source).trim().split('\n').pop()!;
  return join(into, name);
}

describe('npm package', () => {
  it('the packed tarball ships a prebuilt binary that an empty project uses without compiling', () => {
    const work = mkdtempSync(join(tmpdir(), 'cipherlm-pack-'));
    try {
      const tarball = packTarball(work);
      const listing = run('tar', ['-tzf', tarball], work);
      expect(listing).toContain('package/prebuilds/linux-x64/cipherlm.node');
      expect(listing).toContain('package/dist/index.js');
      expect(listing).toContain('package/dist/index.d.ts');
      expect(listing).not.toContain('package/build/');

      const consumer = join(work, 'consumer');
      cpSync(join(root, 'test', 'fixtures', 'consumer'), consumer, { recursive: true });
      // Dependency install scripts do not run (npm blocks them by default): only the prebuild can load.
      run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tarball], consumer);
      const installed = join(consumer, 'node_modules', 'cipherlm');
      expect(existsSync(join(installed, 'build'))).toBe(false);
      const output = run(process.execPath, ['example.js'], consumer);
      const report = JSON.parse(output);
      expect(report.binary).toContain(join('prebuilds', 'linux-x64'));
      expect(report.maxError).toBeLessThan(1e-5);
      expect(readdirSync(installed)).not.toContain('build');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    // Without a prebuild in the checkout this compiles the whole addon from scratch: about two
    // minutes on two busy cores, more than the default per-test limit.
  }, 360_000);
});
