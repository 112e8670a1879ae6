// node bench/tools/build-wasm.js [RUNS] [FILE.wasm ...]
// Times buildFromWasm on the real modules of the dev dependencies (or the files given): the
// median of RUNS runs (default 7) after one warm-up, with its parts (parseWasm alone, the
// SHA-256 of the input, parse with names skipped), in ms and MB/s of input.
// Run `npm run compile` first: it imports dist/.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFromWasm } from '../../dist/build.js';
import { parseWasm } from '../../dist/wasm.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const runs = /^\d+$/.test(args[0] ?? '') ? Number(args.shift()) : 7;
const files = args.length
  ? args
  : ['@biomejs/wasm-nodejs/biome_wasm_bg.wasm', '@swc/wasm/wasm_bg.wasm', 'esbuild-wasm/esbuild.wasm'].map((f) =>
      join(root, 'node_modules', f),
    );

function median(fn) {
  fn();
  const t = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

const fmt = (ms, mb) => `${ms.toFixed(1).padStart(7)} ms ${(mb / (ms / 1000)).toFixed(0).padStart(6)} MB/s`;
console.log(`node ${process.version}, median of ${runs} runs`);
console.log(
  'module'.padEnd(28),
  'MB'.padStart(6),
  'funcs'.padStart(7),
  'names'.padStart(7),
  '  buildFromWasm          ',
  'parseWasm              ',
  'parse, names: false     ',
  'sha256',
);
for (const f of files) {
  if (!existsSync(f)) {
    console.log(`${f}: not found (npm install)`);
    continue;
  }
  const bytes = new Uint8Array(readFileSync(f));
  const mb = bytes.length / 1e6;
  const m = parseWasm(bytes).modules;
  const funcs = m.reduce((s, x) => s + x.definedFuncs, 0);
  const names = m.reduce((s, x) => s + x.names.length, 0);
  const build = median(() => buildFromWasm(bytes));
  const parse = median(() => parseWasm(bytes));
  const parseNoNames = median(() => parseWasm(bytes, { names: false }));
  const sha = median(() => createHash('sha256').update(bytes).digest());
  console.log(
    f.split('/').slice(-1)[0].padEnd(28),
    mb.toFixed(1).padStart(6),
    String(funcs).padStart(7),
    String(names).padStart(7),
    fmt(build, mb),
    fmt(parse, mb),
    fmt(parseNoNames, mb),
    fmt(sha, mb),
  );
}
