#!/usr/bin/env node
// npm run bench:native -- [--seal /path/to/seal/install] [--json] [--n 16384] [--reps R]
// Configures and builds bench/native (Release, in build/bench-native) and runs it. --seal (or the
// SEAL_ROOT environment variable) names a Microsoft SEAL install prefix; without one, CMake's
// find_package(SEAL) looks in the usual places. Build output goes to stderr, so that --json leaves
// one JSON object on stdout.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const buildDir = path.join(root, 'build', 'bench-native');

function run(command, args, stdio) {
  const result = spawnSync(command, args, { cwd: root, stdio });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const args = process.argv.slice(2);
const configure = ['-S', path.join(root, 'bench', 'native'), '-B', buildDir, '-DCMAKE_BUILD_TYPE=Release'];
const sealFlag = args.indexOf('--seal');
if (sealFlag >= 0) {
  const prefix = path.resolve(args[sealFlag + 1] ?? '');
  if (!fs.existsSync(prefix)) {
    console.error(`bench:native: --seal ${args[sealFlag + 1] ?? ''}: no such directory (give a SEAL install prefix)`);
    process.exit(1);
  }
  // Forget a SEAL found earlier, so that this one is used.
  configure.push('-USEAL_DIR', '-UHEXL_DIR', `-DSEAL_ROOT=${prefix}`);
  args.splice(sealFlag, 2);
}
const toStderr = ['ignore', process.stderr, process.stderr];
run('cmake', configure, toStderr);
run('cmake', ['--build', buildDir, '--target', 'bench_native', '--parallel', '2'], toStderr);
run(path.join(buildDir, 'bench_native'), args, 'inherit');
