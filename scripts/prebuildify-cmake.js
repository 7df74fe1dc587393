#!/usr/bin/env node
// prebuildify calls this in place of node-gyp (with node-gyp's arguments, which cmake-js does not
// need): a clean cmake-js build of build/Release/cipherlm.node for PREBUILD_ARCH, with the CMake
// toolchain file CIPHERLM_CMAKE_TOOLCHAIN when one is given (cross-compiling).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
const args = ['rebuild', '--arch', process.env.PREBUILD_ARCH || process.arch];
if (process.env.CIPHERLM_CMAKE_TOOLCHAIN) args.push(`--CDCMAKE_TOOLCHAIN_FILE=${path.resolve(root, process.env.CIPHERLM_CMAKE_TOOLCHAIN)}`);
const result = spawnSync(process.execPath, [cmakeJs, ...args], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
