// One fresh process of the time-to-first-name benchmark (group 2): from the start of this
// script to the first function name, then 1,000 seeded random lookups, then the resident
// memory. Everything it uses is imported after the clock starts.
//   node bench/first-name-child.js METHOD FILE FIRST_INDEX INDEX_COUNT SEED
// METHOD: handwritten | wasmparser | funckey-js | funckey-native, or the floors import-only
// (import the package, nothing else) and empty. Prints one JSON line.
const t0 = performance.now();
const rss0 = process.memoryUsage.rss();
const [method, file, firstArg, countArg, seedArg] = process.argv.slice(2);

let lookup;
if (method === 'handwritten') {
  const { readFileSync } = await import('node:fs');
  const { decodeNameMap } = await import('./lib/wasm.js');
  const names = decodeNameMap(readFileSync(file));
  lookup = (i) => names.get(i);
} else if (method === 'wasmparser') {
  const { readFileSync } = await import('node:fs');
  const wp = (await import('wasmparser')).default;
  const bytes = readFileSync(file);
  const reader = new wp.BinaryReader();
  reader.setData(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const names = new Map();
  const BEGIN_SECTION = wp.BinaryReaderState.BEGIN_SECTION;
  const NAME_SECTION_ENTRY = wp.BinaryReaderState.NAME_SECTION_ENTRY;
  const ERROR = wp.BinaryReaderState.ERROR;
  while (reader.read()) {
    const st = reader.state;
    if (st === ERROR) throw reader.error;
    if (st === BEGIN_SECTION) {
      const sec = reader.result;
      if (sec.id !== wp.SectionCode.Custom || wp.bytesToString(sec.name) !== 'name') reader.skipSection();
    } else if (st === NAME_SECTION_ENTRY) {
      const e = reader.result;
      if (e.type === wp.NameType.Function) for (const n of e.names) names.set(n.index, wp.bytesToString(n.name));
    }
  }
  lookup = (i) => names.get(i);
} else if (method === 'funckey-js' || method === 'funckey-native') {
  const { open } = await import('../dist/index.js');
  const art = open(file, { backend: method === 'funckey-js' ? 'js' : 'native' });
  lookup = (i) => art.funcName(i);
} else if (method === 'import-only') {
  // floor: the package's import, no artifact opened
  await import('../dist/index.js');
  lookup = () => undefined;
} else if (method === 'empty') {
  // floor: nothing at all
  lookup = () => undefined;
} else {
  throw new Error(`unknown method ${method}`);
}

const name = lookup(Number(firstArg));
const t1 = performance.now();

const count = Number(countArg);
let s = Number(seedArg) >>> 0 || 1;
let sum = 0;
for (let k = 0; k < 1000; k++) {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  const n = lookup(s % count);
  if (n !== undefined) sum += n.length;
}
const rss1 = process.memoryUsage.rss();
process.stdout.write(JSON.stringify({ ms: t1 - t0, name, sum, rss0, rss1 }) + '\n');
