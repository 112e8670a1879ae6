#!/bin/sh
# Rebuilds the sample modules from their WAT source. The .wasm files are committed, so this
# is only needed after editing a .wat file (or gen-many.mjs).
#
# Needs wat2wasm from wabt (Debian/Ubuntu: apt-get install -y wabt; made with wabt 1.0.32)
# and node. --debug-names keeps the `name` section (module and function names from the $ids);
# funckey's demo and tests strip it from a copy themselves.
set -eu
cd "$(dirname "$0")"
node gen-many.mjs
wat2wasm --debug-names demo.wat -o demo.wasm
wat2wasm --debug-names many.wat -o many.wasm
ls -l demo.wasm many.wasm
