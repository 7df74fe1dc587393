import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
// This machine's prebuild folder, as prebuildify names it and node-gyp-build looks it up.
const platform = `${process.platform}-${process.arch}`;
const prebuild = join(root, 'prebuilds', platform, 'cipherlm.node');

// Asynchronous, so that the test worker stays responsive to vitest during the long compile.
const execFileAsync = promisify(execFile);
async function run(command: string, args: string[], cwd: string): Promise<string> {
  const { stdout } = await execFileAsync(command, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, npm_config_loglevel: 'error' },
    shell: process.platform === 'win32', // npm is npm.cmd there
  });
  return stdout;
}

// Packs the repository, or a copy of it given a fresh prebuild when the checkout has none.
async function packTarball(into: string): Promise<string> {
  let source = root;
  if (!existsSync(prebuild)) {
    source = join(into, 'source');
    const tracked = (await run('git', ['ls-files'], root)).split('\n').filter(Boolean);
    for (const file of tracked) cpSync(join(root, file), join(source, file), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(source, 'node_modules'), 'junction');
    await run('npm', ['run', 'prebuildify'], source);
  }
  const name = (await run('npm', ['pack', '--pack-destination', into], source)).trim().split('\n').pop()!;
  return join(into, name);
}

describe('npm package', () => {
  it('the packed tarball ships a prebuilt binary that an empty project uses without compiling', async () => {
    const work = mkdtempSync(join(tmpdir(), 'cipherlm-pack-'));
    try {
      const tarball = await packTarball(work);
      const listing = await run('tar', ['-tzf', tarball], work);
      expect(listing).toContain(`package/prebuilds/${platform}/cipherlm.node`);
      expect(listing).toContain('package/dist/index.js');
      expect(listing).toContain('package/dist/index.d.ts');
      expect(listing).not.toContain('package/build/');

      const consumer = join(work, 'consumer');
      cpSync(join(root, 'test', 'fixtures', 'consumer'), consumer, { recursive: true });
      // Dependency install scripts do not run (npm blocks them by default): only the prebuild can load.
      await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tarball], consumer);
      const installed = join(consumer, 'node_modules', 'cipherlm');
      expect(existsSync(join(installed, 'build'))).toBe(false);
      const output = await run(process.execPath, ['example.js'], consumer);
      const report = JSON.parse(output);
      expect(report.binary).toContain(join('prebuilds', platform));
      expect(report.maxError).toBeLessThan(1e-5);
      expect(readdirSync(installed)).not.toContain('build');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    // Without a prebuild in the checkout this compiles the whole addon from scratch: about two
    // minutes on two busy cores, more than the default per-test limit.
  }, 360_000);
});
