#!/usr/bin/env node
// Checks that compiler-, CPU- and OS-specific constructs in the native tree stay in the few places
// made for them (native/ring/README.md, "Portable code"), so that every other file builds with GCC,
// Clang and MSVC on x86-64 and ARM64:
//   - 128-bit arithmetic and bit-scan builtins only in ring/uint128.hpp;
//   - x86 SIMD (intrinsics, <immintrin.h>, target attributes) only in files named *avx2*, *avx512* or *ifma*,
//     and every such .cpp guarded by `#if CIPHERLM_X86_KERNELS`;
//   - CPU feature queries only in ring/cpu_features.cpp;
//   - operating-system headers and calls only in rlwe/prng.cpp and rlwe/secure_memory.cpp.
//
//   node scripts/check-portability.js [native-directory]     (default: this repository's native/)
//
// Exit code 0 when the tree keeps the rules; 1, with one line per violation, when it does not.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { nativeSourceFiles } = require('./native-sources');

const SIMD_FILE = /(avx2|avx512|ifma)[^/]*$/;
const OS_FILES = ['rlwe/prng.cpp', 'rlwe/secure_memory.cpp'];
const RULES = [
  {
    what: '128-bit arithmetic or a bit-scan builtin',
    pattern: /__int128|\b_umul128\b|\b__umulh\b|\b_udiv128\b|__builtin_(clz|ctz|ffs)/,
    allowed: (file) => file === 'ring/uint128.hpp',
    where: 'ring/uint128.hpp',
  },
  {
    what: 'x86 SIMD',
    pattern: /#\s*include\s*<(\w*mmintrin|x86intrin)\.h>|__attribute__\s*\(\(\s*target|\b_mm(256|512)?_\w+\s*\(/,
    allowed: (file) => SIMD_FILE.test(file) || file === 'ring/cpu_features.cpp',
    where: 'files named *avx2*, *avx512* or *ifma*',
  },
  {
    what: 'a CPU feature query',
    pattern: /__builtin_cpu_(supports|is)|__cpuid|\bxgetbv\b|<cpuid\.h>/,
    allowed: (file) => file === 'ring/cpu_features.cpp',
    where: 'ring/cpu_features.cpp',
  },
  {
    what: 'an operating-system header or call',
    pattern: /#\s*include\s*<(sys\/[\w/]+|unistd|windows|bcrypt|pthread|dlfcn)\.h>|\b(getrandom|arc4random\w*|BCryptGenRandom|explicit_bzero|memset_s|SecureZeroMemory)\s*\(/,
    allowed: (file) => OS_FILES.includes(file),
    where: OS_FILES.join(' and '),
  },
];
const GUARD = /^\s*#\s*if\s+CIPHERLM_X86_KERNELS\b/m;

function checkPortability(root) {
  const violations = [];
  const files = nativeSourceFiles(root);
  for (const file of files) {
    const relative = path.relative(root, file).split(path.sep).join('/');
    const text = fs.readFileSync(file, 'utf8');
    if (SIMD_FILE.test(relative) && relative.endsWith('.cpp') && !GUARD.test(text)) {
      violations.push(`${relative}: a SIMD kernel file without #if CIPHERLM_X86_KERNELS around its code`);
    }
    text.split('\n').forEach((line, index) => {
      const code = line.replace(/\/\/.*$/, '');
      for (const rule of RULES) {
        if (rule.pattern.test(code) && !rule.allowed(relative)) {
          violations.push(`${relative}:${index + 1}: ${rule.what} (only in ${rule.where}): ${line.trim()}`);
        }
      }
    });
  }
  return { files: files.length, violations };
}

const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'native'));
const { files, violations } = checkPortability(root);
if (violations.length > 0) {
  for (const violation of violations) console.error(violation);
  console.error(`check-portability: ${violations.length} platform-specific construct(s) outside their place in ${root}`);
  process.exit(1);
}
console.log(`check-portability: ${files} files, platform-specific code only where native/ring/README.md puts it`);
