#!/usr/bin/env node
// npm run prebuildify: prebuilds/<platform>-<arch>/cipherlm.node, stripped, with prebuildify, on
// Linux, macOS and Windows. prebuildify has no cmake-js backend: it runs scripts/prebuildify-cmake.js
// in place of node-gyp, through a shell (so that the same command line works on Windows), then
// collects build/Release/*.node.
// Cross-compiling (scripts/platforms/check.sh): PREBUILD_ARCH=arm64 PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip
// CIPHERLM_CMAKE_TOOLCHAIN=scripts/platforms/aarch64-linux-gnu.cmake npm run prebuildify
'use strict';
const path = require('node:path');
const prebuildify = require('prebuildify');

const root = path.resolve(__dirname, '..');
prebuildify({ cwd: root, napi: true, strip: true, shell: true, nodeGyp: 'node scripts/prebuildify-cmake.js' }, (error) => {
  if (error) {
    console.error(error.message || error);
    process.exit(1);
  }
});
