import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..');

// Asynchronous, so that the test worker stays responsive to vitest during the compile.
const execFileAsync = promisify(execFile);
async function run(command: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  return stdout;
}

// cmake-js's build folder when `npm install` compiled the addon there (the engine library is then
// already built); a folder of its own when the addon came from a prebuild.
async function configuredBuildDir(): Promise<string> {
  const cmakeJs = join(root, 'build');
  if (existsSync(join(cmakeJs, 'CMakeCache.txt'))) return cmakeJs;
  const own = join(root, 'build', 'engine-tests');
  if (!existsSync(join(own, 'CMakeCache.txt'))) await run('cmake', ['-S', root, '-B', own, '-DCMAKE_BUILD_TYPE=Release']);
  return own;
}

// Single-configuration generators (Ninja, Makefiles) put the executable in native/tests; Visual
// Studio's (cmake-js on Windows) in native/tests/Release.
function engineTestsExecutable(buildDir: string): string {
  const name = process.platform === 'win32' ? 'engine_tests.exe' : 'engine_tests';
  const candidates = [join(buildDir, 'native', 'tests', name), join(buildDir, 'native', 'tests', 'Release', name)];
  return candidates.find((path) => existsSync(path)) ?? candidates[0];
}

describe('engine C++ tests (native/tests)', () => {
  it('build against the engine alone and pass: NTT, CKKS and serialization round trips', async () => {
    const buildDir = await configuredBuildDir();
    await run('cmake', ['--build', buildDir, '--target', 'engine_tests', '--config', 'Release', '--parallel', '2']);
    const { code, stdout } = await execFileAsync(engineTestsExecutable(buildDir), { encoding: 'utf8' }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code, stdout: error.stdout ?? '' }),
    );
    expect(code, stdout).toBe(0);
    expect(stdout.trimEnd().split('\n').pop()).toMatch(/^engine tests: all \d+ checks passed$/);
  }, 600_000);
});
