/**
 * How Wasmtime prints function names (demangled), as captured from Wasmtime itself by
 * scripts/capture-demangled.mjs: test/fixtures/demangle/wasmtime-names.tsv, one
 * `MANGLED<TAB>PRINTED` a line. It holds every function name of the DWARF fixtures.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const WASMTIME_NAMES_FILE = fileURLToPath(new URL('../fixtures/demangle/wasmtime-names.tsv', import.meta.url));

export const WASMTIME_NAMES: ReadonlyMap<string, string> = new Map(
  readFileSync(WASMTIME_NAMES_FILE, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t') as [string, string]),
);

/** The name as Wasmtime printed it; a name the capture did not hold fails the test. */
export function wasmtimeName(name: string): string {
  const w = WASMTIME_NAMES.get(name);
  if (w === undefined) throw new Error(`${name}: not in ${WASMTIME_NAMES_FILE} (run scripts/capture-demangled.mjs)`);
  return w;
}
