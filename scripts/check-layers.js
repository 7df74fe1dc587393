#!/usr/bin/env node
// Checks the include direction of the native tree (README.md, "Layout"): every quoted include is
// written relative to native/ ("ring/ntt.hpp"), so its first folder names its layer, and a file may
// include only its own layer and the layers listed below for it. The engine (every layer but the
// addon) includes no Node or N-API header.
//
//   node scripts/check-layers.js [native-directory]     (default: this repository's native/)
//
// Exit code 0 when the tree keeps the rule; 1, with one line per violation, when it does not.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { nativeSourceFiles } = require('./native-sources');

// Each layer and the lower layers it may use, lowest first. formats sits beside ckks: it stores
// rlwe objects and needs nothing of the CKKS encoder or evaluator.
const MAY_USE = {
  ring: [],
  rlwe: ['ring'],
  ckks: ['ring', 'rlwe'],
  formats: ['ring', 'rlwe'],
  circuits: ['ring', 'rlwe', 'ckks'],
  kernels: ['ring', 'rlwe', 'ckks', 'circuits'],
  tests: ['ring', 'rlwe', 'ckks', 'formats', 'circuits', 'kernels'],
  addon: ['ring', 'rlwe', 'ckks', 'formats', 'circuits', 'kernels'],
};
// Layers that may include Node's headers.
const NODE_LAYERS = new Set(['addon']);
const NODE_HEADER = /^(napi|node_api|node_api_types|js_native_api|js_native_api_types|node|uv|v8)\.h$/;
const INCLUDE = /^\s*#\s*include\s*([<"])([^>"]+)[>"]/;

function allowedText(layer) {
  return [layer, ...MAY_USE[layer]].join(', ');
}

// One message per violation, each starting with the offending file and line (relative to root).
function checkLayers(root) {
  const violations = [];
  let includes = 0;
  const files = nativeSourceFiles(root);
  for (const file of files) {
    const relative = path.relative(root, file).split(path.sep).join('/');
    const layer = relative.split('/')[0];
    if (!(layer in MAY_USE)) {
      violations.push(`${relative}: not in a known layer (${Object.keys(MAY_USE).join(', ')})`);
      continue;
    }
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, index) => {
      const match = INCLUDE.exec(line);
      if (!match) return;
      ++includes;
      const [, delimiter, target] = match;
      const where = `${relative}:${index + 1}: #include ${delimiter}${target}${delimiter === '<' ? '>' : '"'}`;
      if (delimiter === '<') {
        if (NODE_HEADER.test(target) && !NODE_LAYERS.has(layer)) {
          violations.push(`${where}: a Node/N-API header in the engine (only the addon may use one)`);
        }
        return;
      }
      const segments = target.split('/');
      const targetLayer = segments[0];
      if (segments.length < 2 || segments.includes('..') || !(targetLayer in MAY_USE)) {
        violations.push(`${where}: not written relative to native/ with a known layer first`);
      } else if (targetLayer !== layer && !MAY_USE[layer].includes(targetLayer)) {
        const why = targetLayer === 'addon' ? 'the engine includes the addon' : `${layer} may use only ${allowedText(layer)}`;
        violations.push(`${where}: ${why}`);
      } else if (!fs.existsSync(path.join(root, target))) {
        violations.push(`${where}: no such file`);
      }
    });
  }
  return { files: files.length, includes, violations };
}

const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'native'));
const { files, includes, violations } = checkLayers(root);
if (violations.length > 0) {
  for (const violation of violations) console.error(violation);
  console.error(`check-layers: ${violations.length} include(s) break the layering of ${root}`);
  process.exit(1);
}
console.log(`check-layers: ${files} files, ${includes} includes, every one within its layer's reach`);
