#!/usr/bin/env node
// Captures the stack traces real engines print for the modules of samples/engines/gen.mjs
// (named.wasm, anon.wasm, stripped.wasm) and writes them to test/fixtures/traces/, one file
// per engine and module, `<engine>.<module>.txt`, plus versions.json (which engine versions
// printed them). test/engines.test.ts replays them.
//
//   node scripts/capture-traces.mjs [--engines-dir DIR]
//
// Engines: node (this process's), gjs (SpiderMonkey; run by a relative and by an absolute
// script path), jsc (JavaScriptCore's shell), deno and bun (found on PATH, in DIR/node_modules
// after `npm install --no-save deno bun` in DIR, or as $FUNCKEY_DENO / $FUNCKEY_BUN), and
// wasmtime (Python bindings: `pip install wasmtime`; with and without
// WASMTIME_BACKTRACE_DETAILS=1). An engine that is not installed is skipped with a message.
//
// Then the traces of a module with DWARF, test/fixtures/dwarf/c-trap.wasm, whose trap is in
// inlined functions, and of that module stripped (no name and .debug_* sections; by
// dist/funckey.mjs, so `npm run compile` first), as `<engine>.trap-dwarf.txt` and
// `<engine>.trap-stripped.txt`, for node, gjs, jsc and Wasmtime with and without details:
// test/symbolicate-srclocs.test.ts replays them.
//
// Then Wasmtime's traces, with and without details, of the modules of test/fixtures/demangle/
// that trap inside mangled Rust and C++ functions, full and stripped, as
// `<engine>.<fixture>.txt` and `<engine>.<fixture>-stripped.txt`: Wasmtime demangles names,
// and test/demangle.test.ts replays them.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINES } from '../samples/engines/engines.mjs';
import { stripCustomSections } from '../dist/funckey.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'test/fixtures/traces');
const i = process.argv.indexOf('--engines-dir');
const enginesDir = i > 0 ? process.argv[i + 1] : undefined;
mkdirSync(outDir, { recursive: true });
const versionsPath = join(outDir, 'versions.json');
const versions = existsSync(versionsPath) ? JSON.parse(readFileSync(versionsPath, 'utf8')) : {};
for (const engine of ENGINES) {
  const found = engine.find(enginesDir);
  if (found === undefined) {
    console.log(`${engine.id}: not installed, skipped`);
    continue;
  }
  for (const module of ['named', 'anon', 'stripped']) {
    const trace = engine.run(found, module);
    writeFileSync(join(outDir, `${engine.id}.${module}.txt`), trace);
  }
  versions[engine.id] = engine.version(found);
  console.log(`${engine.id}: ${versions[engine.id]}`);
}

const DWARF_ENGINES = ['node', 'gjs', 'jsc', 'wasmtime', 'wasmtime-details'];
const trapDir = mkdtempSync(join(tmpdir(), 'funckey-trap-'));
try {
  const full = join(root, 'test/fixtures/dwarf/c-trap.wasm');
  const stripped = join(trapDir, 'c-trap.wasm');
  const drop = (name) => name === 'name' || name.startsWith('.debug_');
  writeFileSync(stripped, stripCustomSections(readFileSync(full), drop));
  for (const engine of ENGINES.filter((e) => DWARF_ENGINES.includes(e.id))) {
    const found = engine.find(enginesDir);
    if (found === undefined) continue;
    writeFileSync(join(outDir, `${engine.id}.trap-dwarf.txt`), engine.run(found, full));
    writeFileSync(join(outDir, `${engine.id}.trap-stripped.txt`), engine.run(found, stripped));
    console.log(`${engine.id}: c-trap.wasm`);
  }
} finally {
  rmSync(trapDir, { recursive: true, force: true });
}
const DEMANGLE = ['rust-trap', 'rust-v0-trap', 'cpp-trap'];
const dmDir = mkdtempSync(join(tmpdir(), 'funckey-demangle-'));
try {
  for (const engine of ENGINES.filter((e) => e.id === 'wasmtime' || e.id === 'wasmtime-details')) {
    const found = engine.find(enginesDir);
    if (found === undefined) continue;
    for (const f of DEMANGLE) {
      const full = join(root, `test/fixtures/demangle/${f}.wasm`);
      const stripped = join(dmDir, `${f}.wasm`);
      const drop = (name) => name === 'name' || name.startsWith('.debug_');
      writeFileSync(stripped, stripCustomSections(readFileSync(full), drop));
      writeFileSync(join(outDir, `${engine.id}.${f}.txt`), engine.run(found, full));
      writeFileSync(join(outDir, `${engine.id}.${f}-stripped.txt`), engine.run(found, stripped));
      console.log(`${engine.id}: ${f}.wasm`);
    }
  }
} finally {
  rmSync(dmDir, { recursive: true, force: true });
}
writeFileSync(versionsPath, JSON.stringify(versions, null, 2) + '\n');
