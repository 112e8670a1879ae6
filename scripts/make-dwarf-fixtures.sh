#!/usr/bin/env bash
# Builds the DWARF fixtures of test/fixtures/dwarf/ from the sources in test/fixtures/dwarf/src/
# and the golden output the comparison test reads (test/dwarf-symbolizer.test.ts):
#
#   c-O0-dwarf4.wasm ... cpp-O2-dwarf5.wasm   C and C++, -O0 and -O2, DWARF 4 and 5 (clang-14,
#                                              wasm-ld-14, wasi-libc; wasi-libc's own objects
#                                              carry DWARF 4 whatever the flag)
#   rust-O0.wasm, rust-O2.wasm                 a no_std cdylib (rustc, wasm32-unknown-unknown;
#                                              no overflow checks, which would link core's fmt)
#   c-trap.wasm                                C, -O2, DWARF 5: `run` traps inside inlined
#                                              functions, called from inlined code (the traces
#                                              of scripts/capture-traces.mjs and
#                                              test/symbolicate-srclocs.test.ts)
#   <fixture>.golden                           llvm-symbolizer-14's answer on every instruction
#
# and in test/fixtures/demangle/ (or $DEMANGLE_OUT), modules that trap inside mangled
# functions, for the demangled Wasmtime traces of scripts/capture-traces.mjs and
# test/demangle.test.ts (-O2, DWARF 5; no golden files):
#
#   rust-trap.wasm, rust-v0-trap.wasm          trap.rs: Rust's legacy mangling, and v0
#                                              (-C symbol-mangling-version=v0)
#   cpp-trap.wasm                              trap.cpp: a namespace, a class template, an
#                                              operator, a lambda
#
# Usage: scripts/make-dwarf-fixtures.sh [OUTDIR]        (default test/fixtures/dwarf)
#        scripts/make-dwarf-fixtures.sh --large OUT.wasm N
#            a C module of N generated functions (N = 20000: more than 1 MB of .debug_line),
#            for the benchmark and the heavy tests; not committed.
#        scripts/make-dwarf-fixtures.sh --golden F.wasm
#            prints F.wasm's golden output (below) on stdout.
#
# Golden format, one line per instruction of the code section, in address order:
#   ADDR<TAB>FRAME<TAB>FRAME...        frames innermost first, FRAME = function|file|line|column
#   ADDR<TAB>=                         the same frames as the line before
# ADDR is the instruction's offset from the start of the code section's payload (hex), which
# is what DWARF and llvm-symbolizer use. Instructions come from wabt's `wasm-objdump -d`;
# frames from `llvm-symbolizer-14 --inlines --no-demangle --output-style=JSON`. A frame that
# llvm-symbolizer leaves without a function and a file is left out (an address outside every
# line table has no frame).
#
# Needs: clang-14, lld-14, libclang-rt-14-dev-wasm32, wasi-libc, rustc, libstd-rust-dev-wasm32,
# llvm-14, wabt, node. Paths in the DWARF are made independent of where this runs: the source
# directory is mapped to /src (clang -fdebug-prefix-map, rustc --remap-path-prefix).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/test/fixtures/dwarf/src"
RUSTC="${RUSTC:-$(command -v /usr/bin/rustc || command -v rustc)}" # Debian's rustc where present
SYSROOT=/usr # Debian's wasi-libc: /usr/include/wasm32-wasi, /usr/lib/wasm32-wasi
CLANG=(clang-14 --target=wasm32-wasi "--sysroot=$SYSROOT" -fno-exceptions "-fdebug-prefix-map=$src=/src")
# The link step gets no -O flag: with one, clang runs binaryen's wasm-opt when it is on PATH,
# which rewrites the code without updating the DWARF.
# Reactors (exports, no main): a command's main would pull in wasi-libc's argv and malloc.
LINK=(clang-14 --target=wasm32-wasi "--sysroot=$SYSROOT" -fuse-ld=/usr/bin/wasm-ld-14 -mexec-model=reactor)

golden() {
  local wasm="$1"
  local code_start
  code_start=$(wasm-objdump -h "$wasm" | sed -n 's/^ *Code start=0x\([0-9a-f]*\) .*/\1/p')
  [ -n "$code_start" ] || { echo "no code section in $wasm" >&2; return 1; }
  # Instruction lines of wasm-objdump -d: " 0001a5: 41 00   | i32.const 0"; the local
  # declarations at the top of a body ("| local[0] type=i32") are not instructions.
  wasm-objdump -d "$wasm" |
    sed -n 's/^ \([0-9a-f][0-9a-f]*\): [^|]*| *\(.*\)$/\1 \2/p' |
    node -e '
      const base = parseInt(process.argv[1], 16);
      const out = [];
      for (const l of require("fs").readFileSync(0, "utf8").split("\n")) {
        const sp = l.indexOf(" ");
        if (sp < 0 || l.startsWith("local[", sp + 1)) continue;
        out.push("0x" + (parseInt(l.slice(0, sp), 16) - base).toString(16));
      }
      process.stdout.write(out.join("\n") + "\n");' "$code_start" |
    llvm-symbolizer-14 --inlines --no-demangle --output-style=JSON "--obj=$wasm" |
    node -e '
      const lines = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean);
      let prev = null;
      const out = [];
      for (const l of lines) {
        const r = JSON.parse(l);
        const frames = r.Symbol.filter((s) => s.FunctionName !== "" || s.FileName !== "")
          .map((s) => [s.FunctionName, s.FileName, s.Line, s.Column].join("|"));
        const chain = frames.join("\t");
        out.push(r.Address + "\t" + (chain === prev ? "=" : chain));
        prev = chain;
      }
      process.stdout.write(out.join("\n") + "\n");'
}

large() {
  local out="$1" n="$2" tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  # Functions nothing calls, kept by the linker (--no-gc-sections): one caller of all of
  # them makes the compiler's time grow faster than the module.
  {
    echo 'static inline __attribute__((always_inline)) int mix(int a, int b) { return a * 31 + (b ^ (a >> 3)); }'
    for ((i = 0; i < n; i++)); do
      echo "__attribute__((noinline, used)) int f$i(int x) {"
      echo "  int s = x;"
      echo "  for (int k = 0; k < (x & 7); k++)"
      echo "    s = mix(s, k + $i);"
      echo "  return s ^ $i;"
      echo "}"
    done
  } >"$tmp/large.c"
  (cd "$tmp" && "${CLANG[@]}" -g -O1 -c large.c -o large.o && "${LINK[@]}" -Wl,--no-gc-sections large.o -o "$out")
}

case "${1:-}" in
  --golden) golden "$2"; exit ;;
  --large) large "$2" "$3"; exit ;;
esac

out="${1:-$root/test/fixtures/dwarf}"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for opt in O0 O2; do
  for dw in 4 5; do
    (
      cd "$src"
      "${CLANG[@]}" "-$opt" -g "-gdwarf-$dw" -c main.c -o "$tmp/main.o"
      "${CLANG[@]}" "-$opt" -g "-gdwarf-$dw" -c util.c -o "$tmp/util.o"
      "${LINK[@]}" "$tmp/main.o" "$tmp/util.o" -o "$out/c-$opt-dwarf$dw.wasm"
      "${CLANG[@]}" -x c++ -std=c++17 -fno-rtti "-$opt" -g "-gdwarf-$dw" -c app.cpp -o "$tmp/app.o"
      "${CLANG[@]}" -x c++ -std=c++17 -fno-rtti "-$opt" -g "-gdwarf-$dw" -c shapes.cpp -o "$tmp/shapes.o"
      "${LINK[@]}" "$tmp/app.o" "$tmp/shapes.o" -o "$out/cpp-$opt-dwarf$dw.wasm"
    )
  done
done

(
  cd "$src"
  "${CLANG[@]}" -O2 -g -gdwarf-5 -c trap.c -o "$tmp/trap.o"
  "${LINK[@]}" "$tmp/trap.o" -o "$out/c-trap.wasm"
)

for lvl in 0 2; do
  (
    cd "$src"
    "$RUSTC" --edition=2021 --target wasm32-unknown-unknown --crate-type cdylib -g -C "opt-level=$lvl" \
      -C panic=abort -C overflow-checks=off "--remap-path-prefix=$src=/src" lib.rs -o "$out/rust-O$lvl.wasm"
  )
done

dm="${DEMANGLE_OUT:-$root/test/fixtures/demangle}"
mkdir -p "$dm"
(
  cd "$src"
  RUST=("$RUSTC" --edition=2021 --target wasm32-unknown-unknown --crate-type cdylib -g -C opt-level=2
    -C panic=abort -C overflow-checks=off "--remap-path-prefix=$src=/src")
  "${RUST[@]}" trap.rs -o "$dm/rust-trap.wasm"
  "${RUST[@]}" -C symbol-mangling-version=v0 trap.rs -o "$dm/rust-v0-trap.wasm"
  "${CLANG[@]}" -x c++ -std=c++17 -fno-rtti -O2 -g -gdwarf-5 -c trap.cpp -o "$tmp/trapcpp.o"
  "${LINK[@]}" "$tmp/trapcpp.o" -o "$dm/cpp-trap.wasm"
)

for f in "$out"/*.wasm; do
  golden "$f" >"${f%.wasm}.golden"
done
ls -l "$out"
