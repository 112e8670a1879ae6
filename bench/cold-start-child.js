// One fresh process of the cold-start benchmark (group 2, bench/cold-start.js): from the start
// of this script to the first function name, then 1,000 seeded random lookups, then the
// resident memory. Everything it uses is imported after the clock starts; funckey through its
// main entry point (`import 'funckey'`, the package's own name), as a user imports it.
//   node bench/cold-start-child.js METHOD FILE FIRST_INDEX INDEX_COUNT SEED
// METHOD: handwritten | wasmparser | funckey-js | funckey-native, srclocs-js | srclocs-native
// (FIRST_INDEX a text offset, the answer the innermost source location's file:line), the
// reference readsync (FILE an artifact), or the floors import-only
// (import funckey, nothing else), import-eager (every module of the package, as dist/index.js
// imports them), trivial-esm (import a one-line ES module), trivial-package (FILE: a one-line
// module importing a one-line package by name, through its "exports" as funckey's are) and
// empty.
// Prints one JSON line: ms (to the first name), importMs and openMs (the clock when the
// import, then the open, had finished), rss, anon and mapped (RSS, its private part and its
// pages mapping FILE, after the 1,000 lookups), name, sum.
const t0 = performance.now();
const [method, file, firstArg, countArg, seedArg] = process.argv.slice(2);

let lookup;
let importMs;
let openMs;
if (method === 'handwritten') {
  const { readFileSync } = await import('node:fs');
  const { decodeNameMap } = await import('./lib/wasm.js');
  importMs = performance.now() - t0;
  const names = decodeNameMap(readFileSync(file));
  openMs = performance.now() - t0;
  lookup = (i) => names.get(i);
} else if (method === 'wasmparser') {
  const { readFileSync } = await import('node:fs');
  const wp = (await import('wasmparser')).default;
  importMs = performance.now() - t0;
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
  openMs = performance.now() - t0;
  lookup = (i) => names.get(i);
} else if (method === 'funckey-js' || method === 'funckey-native') {
  const { open } = await import('funckey');
  importMs = performance.now() - t0;
  const art = open(file, { backend: method === 'funckey-js' ? 'js' : 'native' });
  openMs = performance.now() - t0;
  lookup = (i) => art.funcName(i);
} else if (method === 'srclocs-js' || method === 'srclocs-native') {
  // The DWARF row: FIRST_INDEX is a text offset; the answer is the innermost frame's file:line.
  const { open } = await import('funckey');
  importMs = performance.now() - t0;
  const art = open(file, { backend: method === 'srclocs-js' ? 'js' : 'native' });
  openMs = performance.now() - t0;
  lookup = (offset) => {
    const f = art.srcLocs(offset)[0];
    return f === undefined ? undefined : `${f.file}:${f.line}`;
  };
} else if (method === 'readsync') {
  // reference: 1,000 reads of a name's worth of bytes (208, the mean of Biome's names) from
  // the artifact file with fs.readSync, decoded; no funckey: what those cost Node itself.
  const { openSync, fstatSync, readSync } = await import('node:fs');
  const fd = openSync(file, 'r');
  const span = Math.max(1, fstatSync(fd).size - 208);
  const buf = Buffer.allocUnsafe(208);
  lookup = (i) => buf.utf8Slice(0, readSync(fd, buf, 0, 208, (i * 4099) % span));
} else if (method === 'import-only') {
  await import('funckey');
  lookup = () => undefined;
} else if (method === 'import-eager') {
  // reference: every module of the package at once, as lib/index.ts (tsc's dist/index.js) imports them
  await import('../dist/index.js');
  lookup = () => undefined;
} else if (method === 'trivial-package') {
  // FILE: a one-line module that imports a one-line package by its name, through the
  // package's "exports" as funckey's are (cold-start.js writes both).
  const { pathToFileURL } = await import('node:url');
  await import(pathToFileURL(file).href);
  lookup = () => undefined;
} else if (method === 'trivial-esm') {
  await import('./lib/trivial.js');
  lookup = () => undefined;
} else if (method === 'empty') {
  lookup = () => undefined;
} else {
  throw new Error(`unknown method ${method}`);
}

const name = lookup(Number(firstArg));
const t1 = performance.now();

const count = Number(countArg);
let s = Number(seedArg) >>> 0 || 1;
let sum = 0;
for (let k = 0; k < (count > 0 ? 1000 : 0); k++) {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  const n = lookup(s % count);
  if (n !== undefined) sum += n.length;
}
const rss = process.memoryUsage.rss();
// Its parts (Linux): the private part (RssAnon), and of the rest, the pages that map FILE
// (the native backend's mapped artifact); what is left are pages of node's own files.
let anon;
let mapped;
try {
  const { readFileSync, realpathSync } = await import('node:fs');
  const m = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (m) anon = Number(m[1]) * 1024;
  mapped = mappedRss(readFileSync('/proc/self/smaps', 'utf8'), realpathSync(file));
} catch {
  // not Linux
}
process.stdout.write(JSON.stringify({ ms: t1 - t0, importMs, openMs, name, sum, rss, anon, mapped }) + '\n');

/** The resident bytes of the mappings of `path` in /proc/self/smaps' text. */
function mappedRss(smaps, path) {
  let total = 0;
  let inFile = false;
  for (const line of smaps.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) inFile = head[1] === path;
    else if (inFile && line.startsWith('Rss:')) total += Number(/(\d+)/.exec(line)[1]) * 1024;
  }
  return total;
}
