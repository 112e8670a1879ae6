#!/usr/bin/env bash
# Runs the whole vitest suite against an addon built with AddressSanitizer and
# UndefinedBehaviorSanitizer (clang-14), in a scratch copy of the package, so that the
# normal build in build/ is never replaced (other processes may be using it).
#
#   npm run test:asan            (extra arguments go to vitest, e.g. a test file)
#
# Node itself is not instrumented: the ASan runtime is preloaded (LD_PRELOAD), leak
# detection is off (V8 keeps memory until exit by design), and SIGSEGV/SIGBUS are left to
# Node and to the tests that expect them. Any ASan or UBSan report fails the run: UBSan does
# not recover, and the log is searched for reports after vitest finishes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

CC="${ASAN_CC:-clang-14}"
CXX="${ASAN_CXX:-clang++-14}"
command -v "$CXX" >/dev/null 2>&1 || { echo "test:asan: $CXX not found (install clang-14)" >&2; exit 2; }
runtime="$("$CC" -print-file-name=libclang_rt.asan-x86_64.so)"
[ -f "$runtime" ] || { echo "test:asan: no ASan runtime at $runtime" >&2; exit 2; }

work="$root/.fuzz/asan-pkg"
rm -rf "$work"
mkdir -p "$work"
# The package's tracked files (and any not yet committed), plus the installed node_modules.
git ls-files -z --cached --others --exclude-standard | grep -zv '^\.fuzz/' | xargs -0 cp --parents -t "$work"
ln -s "$root/node_modules" "$work/node_modules"

cd "$work"
# FUNCKEY_COMPUTED_POPCOUNT: the batch without its popcnt copy (native/table.cc), so that
# this run covers the copy the normal build does not take on a CPU with popcnt.
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1 -DFUNCKEY_COMPUTED_POPCOUNT"
nodedir="$(dirname "$(dirname "$(command -v node)")")"
nodedir_arg=()
[ -f "$nodedir/include/node/common.gypi" ] && nodedir_arg=(--nodedir="$nodedir")
echo "test:asan: building the addon with $CXX ($flags)"
CC="$CC" CXX="$CXX" CFLAGS="$flags" CXXFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined -shared-libsan" \
  node "$root/node_modules/node-gyp/bin/node-gyp.js" rebuild "${nodedir_arg[@]}" >"$work/build.log" 2>&1 ||
  { tail -30 "$work/build.log"; exit 1; }
# The addon really is instrumented.
nm -D build/Release/funckey.node | grep __asan_report_load >/dev/null || { echo "test:asan: the addon has no ASan instrumentation" >&2; exit 1; }
npx tsc -p tsconfig.json

log="$work/vitest.log"
echo "test:asan: running vitest with $runtime preloaded"
set +e
CI="${CI:-}" FUNCKEY_ASAN=1 LD_PRELOAD="$runtime" \
  ASAN_OPTIONS="detect_leaks=0:handle_segv=0:handle_sigbus=0:allow_user_segv_handler=1:detect_odr_violation=0:abort_on_error=0:halt_on_error=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  npx vitest run "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
if grep -Eq "ERROR: AddressSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer" "$log"; then
  echo "test:asan: sanitizer reports found (see $log)" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "test:asan: vitest failed with status $status (see $log)" >&2
  exit "$status"
fi
echo "test:asan: the whole suite passed against the sanitized addon with no sanitizer report"
