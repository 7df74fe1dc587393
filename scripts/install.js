#!/usr/bin/env node
// npm install hook: use a prebuilt binary when one loads on this machine, otherwise compile with
// cmake-js. Set npm_config_build_from_source=true to force a compile.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const forceBuild = process.env.npm_config_build_from_source === 'true';

function prebuildLoads() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

if (!forceBuild && prebuildLoads()) process.exit(0);

const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
const result = spawnSync(process.execPath, [cmakeJs, 'compile'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
