// node bench/native-vs-js.mjs [--quick]
// Per-call and batch cost of the native backend against the js one on an artifact of 64Ki
// defined functions (dense), 64Ki array-to-wasm trampolines (sparse) and 64Ki ASCII names,
// through the public Artifact API and through the backends' Core directly. Needs dist/
// (npm run compile) and the addon (npm install or node-gyp rebuild).
//
// Each figure is the best of several timed rounds of the same random queries, in ns per
// lookup. Batch figures are per element of one call over all the queries.
import { ArtifactBuilder, FuncKey, open } from '../dist/index.js';
import { nativeStatus, openNativeCore } from '../dist/native.js';
import { JsCore } from '../dist/reader.js';

const quick = process.argv.includes('--quick');
const N = 65536;
const Q = quick ? 1 << 14 : 1 << 16;
const ROUNDS = quick ? 3 : 7;

if (!nativeStatus().available) {
  console.error(`the native backend is not available: ${nativeStatus().reason}`);
  process.exit(1);
}

// The artifact: module 0 with 10 imports and N defined functions, each with a trampoline.
const b = new ArtifactBuilder();
b.addModule({ name: 'bench', importedFuncs: 10, definedFuncs: N });
let at = 0;
for (let i = 0; i < N; i++) {
  b.pushFunc(FuncKey.definedWasmFunction(0, i), { start: at, length: 40 + (i % 50) }, at);
  at += 40 + (i % 50) + 2;
}
for (let i = 0; i < N; i++) {
  b.pushFunc(FuncKey.arrayToWasmTrampoline(0, i), { start: at, length: 16 });
  at += 16;
}
for (let i = 0; i < N + 10; i++) b.setFuncName(0, i, `crate::module::function_name_${i}`);
const bytes = b.finish();
const textEnd = at;

// Random queries, the same for every contender.
let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const denseIdx = Uint32Array.from({ length: Q }, () => Math.floor(rand() * N));
const sparseIdx = Uint32Array.from({ length: Q }, () => Math.floor(rand() * N));
const denseNs = new Uint32Array(Q).fill(FuncKey.definedWasmFunction(0, 0).namespace);
const sparseNs = new Uint32Array(Q).fill(FuncKey.arrayToWasmTrampoline(0, 0).namespace);
const denseKeys = Array.from(denseIdx, (i) => FuncKey.definedWasmFunction(0, i));
const sparseKeys = Array.from(sparseIdx, (i) => FuncKey.arrayToWasmTrampoline(0, i));
const offsets = Uint32Array.from({ length: Q }, () => Math.floor(rand() * textEnd));
const nameIdx = Uint32Array.from({ length: Q }, () => Math.floor(rand() * (N + 10)));

let sink = 0;
function time(f) {
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    f();
    const ns = Number(process.hrtime.bigint() - t0) / Q;
    if (ns < best) best = ns;
  }
  return best;
}

function artifactCases(a) {
  return {
    'funcLoc dense': () => { for (let k = 0; k < Q; k++) sink += a.funcLoc(denseKeys[k]).start; },
    'funcLoc sparse': () => { for (let k = 0; k < Q; k++) sink += a.funcLoc(sparseKeys[k]).start; },
    funcByOffset: () => { for (let k = 0; k < Q; k++) sink += a.funcByOffset(offsets[k])?.index ?? 0; },
    funcName: () => { for (let k = 0; k < Q; k++) sink += a.funcName(nameIdx[k]).length; },
    'funcLocs dense (batch)': () => { sink += a.funcLocs(denseNs, denseIdx).starts[1]; },
    'funcLocs sparse (batch)': () => { sink += a.funcLocs(sparseNs, sparseIdx).starts[1]; },
    'funcsByOffset (batch)': () => { sink += a.funcsByOffset(offsets).indices[1]; },
    'funcNames (batch)': () => { sink += a.funcNames(nameIdx).length; },
  };
}

function coreCases(c) {
  const out = new Uint32Array(2);
  const s = new Uint32Array(Q);
  const l = new Uint32Array(Q);
  return {
    'funcLoc dense': () => { for (let k = 0; k < Q; k++) { c.funcLoc(denseNs[k], denseIdx[k], out); sink += out[0]; } },
    'funcLoc sparse': () => { for (let k = 0; k < Q; k++) { c.funcLoc(sparseNs[k], sparseIdx[k], out); sink += out[0]; } },
    funcByOffset: () => { for (let k = 0; k < Q; k++) { c.funcByOffset(offsets[k], out); sink += out[1]; } },
    funcName: () => { for (let k = 0; k < Q; k++) sink += c.funcName(nameIdx[k], 0).length; },
    'funcLocs dense (batch)': () => { c.funcLocs(denseNs, denseIdx, s, l); sink += s[1]; },
    'funcLocs sparse (batch)': () => { c.funcLocs(sparseNs, sparseIdx, s, l); sink += s[1]; },
    'funcsByOffset (batch)': () => { c.funcsByOffset(offsets, s, l); sink += l[1]; },
    'funcNames (batch)': () => { sink += c.funcNames(nameIdx, 0).length; },
  };
}

function table(title, js, nat) {
  console.log(`\n${title}: ns per lookup, best of ${ROUNDS} rounds of ${Q} random queries`);
  console.log(`${'case'.padEnd(26)}${'js'.padStart(10)}${'native'.padStart(10)}${'js/native'.padStart(11)}`);
  for (const name of Object.keys(js)) {
    // Warm both up before timing either.
    js[name]();
    nat[name]();
    const tj = time(js[name]);
    const tn = time(nat[name]);
    console.log(`${name.padEnd(26)}${tj.toFixed(1).padStart(10)}${tn.toFixed(1).padStart(10)}${(tj / tn).toFixed(2).padStart(11)}`);
  }
}

console.log(`artifact: ${N} dense + ${N} sparse functions, ${N + 10} names, ${bytes.length} bytes; node ${process.version}`);
const aj = open(bytes, { backend: 'js' });
const an = open(bytes, { backend: 'native' });
table('Artifact API', artifactCases(aj), artifactCases(an));
const cj = new JsCore(bytes);
const cn = openNativeCore(bytes);
table('Core (no argument checks)', coreCases(cj), coreCases(cn));
aj.close();
an.close();
cn.close();
if (sink === 0.5) console.log(sink);
