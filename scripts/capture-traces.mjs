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
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINES } from '../samples/engines/engines.mjs';

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
writeFileSync(versionsPath, JSON.stringify(versions, null, 2) + '\n');
