#!/usr/bin/env bash
# npm run format [-- --check]: TypeScript and JavaScript with prettier, C++ with clang-format-14
# (Debian's clang-format-14; skipped with a message when it is not installed).
set -euo pipefail
cd "$(dirname "$0")/.."
cxx=(native/*.cc native/*.h fuzz/*.cc)
if [ "${1:-}" = "--check" ]; then
  npx prettier --check --log-level warn .
  if command -v clang-format-14 >/dev/null 2>&1; then clang-format-14 --dry-run --Werror "${cxx[@]}"; else echo "format: no clang-format-14, C++ not checked"; fi
else
  npx prettier --write --log-level warn .
  if command -v clang-format-14 >/dev/null 2>&1; then clang-format-14 -i "${cxx[@]}"; else echo "format: no clang-format-14, C++ left as it is"; fi
fi
