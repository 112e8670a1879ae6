#!/usr/bin/env bash
# Builds fuzz/reader_fuzz.cc with libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer
# and runs it for the given number of seconds (default 60) on one core.
#
#   npm run fuzz -- [seconds]
#
# Seeds: .fuzz/corpus (rebuilt each run by fuzz/make-corpus.mjs); inputs the fuzzer finds
# interesting accumulate in .fuzz/work across runs; crashes, hangs and property failures are
# written to .fuzz/crashes/ and make this script fail. Everything under .fuzz/ is git-ignored.
# A crash is reproduced with: .fuzz/reader_fuzz .fuzz/crashes/<file>
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-60}"
CXX="${FUZZ_CXX:-}"
if [ -z "$CXX" ]; then
  for c in clang++-14 clang++; do
    if command -v "$c" >/dev/null 2>&1; then CXX="$c"; break; fi
  done
fi
if [ -z "$CXX" ]; then
  echo "fuzz: no clang++ found (install clang-14)" >&2
  exit 2
fi

mkdir -p .fuzz/work .fuzz/crashes
bin=.fuzz/reader_fuzz
srcs=(fuzz/reader_fuzz.cc native/reader.cc native/open.cc native/table.cc native/offsets.cc native/names.cc native/mapped_file.cc native/srclocs.cc)
if [ ! -x "$bin" ] || [ -n "$(find "${srcs[@]}" native/reader.h native/format.h native/mapped_file.h -newer "$bin" 2>/dev/null)" ]; then
  echo "fuzz: building $bin with $CXX"
  "$CXX" -std=c++17 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    "${srcs[@]}" -o "$bin"
fi

[ -f dist/index.js ] || npx tsc -p tsconfig.json
node fuzz/make-corpus.mjs .fuzz/corpus

echo "fuzz: running for ${secs}s"
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
  -dict=fuzz/reader.dict -artifact_prefix=.fuzz/crashes/ -print_final_stats=1 \
  .fuzz/work .fuzz/corpus
