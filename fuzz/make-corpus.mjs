#!/usr/bin/env node
// Seed corpus for fuzz/reader_fuzz.cc: artifacts built from samples/*.wasm (every name
// encoding, with and without names), from three DWARF fixtures (source locations) and seeded synthetic artifacts covering all ten kinds,
// holes, sparse namespaces in each of their encodings, several modules, module names and
// dense and sparse name indices.
// A few copies carry trailing bytes, which the fuzz target reads as lookup arguments.
//
// Usage: node fuzz/make-corpus.mjs [outDir]   (default .fuzz/corpus; needs dist/, `npm run compile`)
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { int, pick, rng } from '../bench/lib/rand.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { ArtifactBuilder, FuncKey, buildFromWasm } = await import(join(root, 'dist', 'index.js'));

const out = process.argv[2] ?? join(root, '.fuzz', 'corpus');
mkdirSync(out, { recursive: true });

let count = 0;
const write = (name, bytes) => {
  writeFileSync(join(out, name), bytes);
  count++;
};

/** Argument words appended after the artifact (the target reads them as u32 values). */
function withTail(bytes, r) {
  const words = new Uint32Array(int(r, 1, 16));
  for (let i = 0; i < words.length; i++)
    words[i] = pick(r, [0, 1, 7, 100, 0xffffffff, 0x10000000, int(r, 0, 0xffffffff)]);
  const b = new Uint8Array(bytes.length + 4 * words.length);
  b.set(bytes);
  b.set(new Uint8Array(words.buffer), bytes.length);
  return b;
}

// Real modules: the samples of this repository.
const samples = join(root, 'samples');
for (const f of readdirSync(samples)
  .filter((n) => n.endsWith('.wasm'))
  .sort()) {
  const wasm = readFileSync(join(samples, f));
  for (const nameEncoding of ['auto', 'dense', 'sparse'])
    write(`${f}.${nameEncoding}.fkx`, buildFromWasm(wasm, { nameEncoding }));
  write(`${f}.nonames.fkx`, buildFromWasm(wasm, { names: false }));
  write(`${f}.tail.fkx`, withTail(buildFromWasm(wasm), rng(f.length)));
}

// Modules with DWARF: artifacts with source-location sections (FORMAT.md 3.5).
const dwarf = join(root, 'test', 'fixtures', 'dwarf');
for (const f of ['c-O2-dwarf5.wasm', 'cpp-O2-dwarf4.wasm', 'rust-O2.wasm']) {
  const wasm = readFileSync(join(dwarf, f));
  write(`${f}.fkx`, buildFromWasm(wasm));
  write(`${f}.tail.fkx`, withTail(buildFromWasm(wasm), rng(f.length)));
}

// Synthetic artifacts.
const NAMES = ['main', 'f', '', 'caf\u00e9', '\u65e5\u672c', '\u{1F600}', 'std::vec::Vec<u8>::push', 'x'.repeat(20)];
function synthetic(seed) {
  const r = rng(seed);
  const b = new ArtifactBuilder({
    nameEncoding: pick(r, ['auto', 'dense', 'sparse']),
    sparseEncoding: pick(r, ['auto', 'smallest', 'sorted', 'bitmap', 'buckets', 'direct']),
    textSize: int(r, 0, 1 << 16),
  });
  const M = int(r, 1, 3);
  const mods = [];
  for (let m = 0; m < M; m++) {
    const spec = {
      importedFuncs: int(r, 0, 5),
      definedFuncs: int(r, 0, 24),
      byteOffset: m === 0 ? 0 : int(r, 0, 4096),
    };
    if (r() < 0.6) spec.name = pick(r, NAMES) + m;
    if (r() < 0.3) spec.sha256 = new Uint8Array(32).map(() => int(r, 0, 255));
    b.addModule(spec);
    mods.push(spec);
  }
  const keys = [];
  const some = (n, p) => [...Array(n).keys()].filter(() => r() < p);
  mods.forEach((mod, m) => {
    for (const i of some(mod.definedFuncs, pick(r, [1, 0.8, 0.3]))) keys.push(FuncKey.definedWasmFunction(m, i));
    for (const i of some(mod.definedFuncs, pick(r, [0, 0.2, 0.7]))) keys.push(FuncKey.arrayToWasmTrampoline(m, i));
    if (r() < 0.5) for (const abi of some(3, 0.6)) keys.push(FuncKey.moduleStartup(abi, m));
  });
  if (r() < 0.7) for (const t of some(int(r, 1, 12), 0.8)) keys.push(FuncKey.wasmToArrayTrampoline(t));
  if (r() < 0.5) for (const x of some(40, 0.1)) keys.push(FuncKey.wasmToBuiltinTrampoline(x * 5 + 1));
  if (r() < 0.5) for (const x of some(20, pick(r, [0.2, 0.9]))) keys.push(FuncKey.patchableToBuiltinTrampoline(x));
  // A far index: wide buckets (k > 8), a cluster of many indices in one bucket, or direct holes.
  if (r() < 0.4) keys.push(FuncKey.patchableToBuiltinTrampoline(int(r, 1000, 1 << 20)));
  if (r() < 0.3) keys.push(FuncKey.wasmToBuiltinTrampoline(int(r, 300, 1 << 16)));
  if (r() < 0.5) for (const x of some(int(r, 1, 8), 0.7)) keys.push(FuncKey.pulleyHostCall(x));
  for (let abi = 0; abi < 3; abi++)
    if (r() < 0.4) for (const x of some(int(r, 1, 6), 0.8)) keys.push(FuncKey.componentTrampoline(abi, x));
  if (r() < 0.5) keys.push(FuncKey.resourceDropTrampoline());
  for (let abi = 0; abi < 3; abi++)
    if (r() < 0.3) for (const x of some(int(r, 1, 5), 0.8)) keys.push(FuncKey.unsafeIntrinsic(abi, x));
  keys.sort(FuncKey.compare);
  let at = int(r, 0, 16);
  for (const k of keys) {
    at += pick(r, [0, 1, int(r, 2, 20)]);
    const length = int(r, 1, 40);
    b.pushFunc(k, { start: at, length }, k.kind === 0 && r() < 0.8 ? int(r, 0, 0xfffffffe) : undefined);
    at += length;
  }
  mods.forEach((mod, m) => {
    const space = mod.importedFuncs + mod.definedFuncs;
    for (const fi of some(space, pick(r, [0, 0.1, 0.6, 1]))) b.setFuncName(m, fi, pick(r, NAMES) + fi);
  });
  return b.finish();
}
for (let seed = 1; seed <= 40; seed++) {
  const bytes = synthetic(seed);
  write(`synthetic-${seed}.fkx`, seed % 5 === 0 ? withTail(bytes, rng(seed)) : bytes);
}
// Edge cases: an artifact with no modules and no functions, and one module with no functions.
write('empty.fkx', new ArtifactBuilder().finish());
{
  const b = new ArtifactBuilder();
  b.addModule({ importedFuncs: 3, definedFuncs: 0, name: 'imports-only' });
  b.setFuncName(0, 1, 'imported');
  write('imports-only.fkx', b.finish());
}
console.log(`${count} seed inputs in ${out}`);
