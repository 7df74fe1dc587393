// The C and C++ source files under a directory, recursively: what check-layers.js and
// check-portability.js read.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const SOURCE = /\.(h|hh|hpp|c|cc|cpp|inc)$/;

function nativeSourceFiles(directory) {
  const files = [];
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) files.push(...nativeSourceFiles(full));
    else if (SOURCE.test(entry.name)) files.push(full);
  }
  return files;
}

module.exports = { nativeSourceFiles };
