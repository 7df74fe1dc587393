#!/usr/bin/env node
// prebuildify calls this in place of node-gyp (with node-gyp's arguments, which cmake-js does not
// need) and collects build/Release/cipherlm.node afterwards. For this machine's architecture it
// builds incrementally on what `npm install` compiled, with the default (non-portable) options;
// for another one (PREBUILD_ARCH), or with a CMake toolchain file (CIPHERLM_CMAKE_TOOLCHAIN, for
// cross-compiling), from scratch, since CMake keeps a build folder's first toolchain.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
const arch = process.env.PREBUILD_ARCH || process.arch;
const toolchain = process.env.CIPHERLM_CMAKE_TOOLCHAIN;
// A build folder left by a cross build (its cache names a toolchain file) is no base for a native one.
const cache = path.join(root, 'build', 'CMakeCache.txt');
const crossBuildFolder = fs.existsSync(cache) && /^CMAKE_TOOLCHAIN_FILE:/m.test(fs.readFileSync(cache, 'utf8'));
const args = toolchain || arch !== process.arch || crossBuildFolder
  ? ['rebuild', '--arch', arch, ...(toolchain ? [`--CDCMAKE_TOOLCHAIN_FILE=${path.resolve(root, toolchain)}`] : [])]
  : ['compile', '--arch', arch, '--CDCIPHERLM_PORTABLE=OFF'];
const result = spawnSync(process.execPath, [cmakeJs, ...args], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
