// Group 1b: sparse against dense lookups across shapes. The lazy initialisation of group 1a
// looks up a function (a dense namespace) and its ArrayToWasm trampoline (a sparse one); here
// the two are timed apart, per lookup, on 64Ki-function modules whose trampolines cover 1% to
// 90% of the functions, through every path a caller has (each backend's core, the public
// API per call, the public API in batch), with the size of the table the writer chose
// against the same shape stored as sorted runs. It answers the question "are sparse lookups
// within 1.3x of dense ones, with a table no larger than the sorted-array encoding?".
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { do_not_optimize, fmtNs, fmtRatio, printTable, rng, shuffle, sparseIndexBytes, tableBytes, timeIt, workDir } from './lib/common.js';
import { NONE, densitySeed, densityShapeArtifact, namespaceEncoding } from './lib/shapes.js';

const NS_DEF = 0;
const NS_A2W = (1 << 28) >>> 0;
/** The control: a dense namespace (WasmToArray trampolines) after the sparse one. */
const NS_W2A = (2 << 28) >>> 0;
/** The issue's targets: sparse/dense at most this, and the table at most the sorted encoding's. */
const TARGET_RATIO = 1.3;

/**
 * A fresh copy of a pass factory (compiled from its source, so with its own feedback in V8):
 * each path, density and namespace gets call sites of its own, so that no measurement runs
 * the code another one made polymorphic (the js and native cores in one loop, say). The
 * factories use nothing but their arguments.
 */
const fresh = (factory) => new Function(`return (${factory.toString()});`)();

/** One pass over `order` through a core: core.funcLoc(ns, index, out) -> boolean. */
const corePass = (core, ns, order) => {
  const out = new Uint32Array(2);
  return () => {
    let sum = 0;
    for (let k = 0; k < order.length; k++) if (core.funcLoc(ns, order[k], out)) sum = (sum + out[0] + out[1]) | 0;
    return sum;
  };
};
/** One pass through the public API, one artifact.funcLoc(FuncKey) per lookup. */
const perCallPass = (art, keys) => () => {
  let sum = 0;
  for (let k = 0; k < keys.length; k++) {
    const l = art.funcLoc(keys[k]);
    if (l !== undefined) sum = (sum + l.start + l.length) | 0;
  }
  return sum;
};
/** One pass through the public API in one artifact.funcLocs(namespaces, indices) call. */
const batchPass = (art, nsArr, order, none) => () => {
  const { starts, lengths } = art.funcLocs(nsArr, order);
  let sum = 0;
  for (let k = 0; k < starts.length; k++) if (starts[k] !== none) sum = (sum + starts[k] + lengths[k]) | 0;
  return sum;
};

const pct = (d) => `${Math.round(d * 100)}%`;

/** "every row meets it", or the rows above the target by density: "1% (js core, js batch), 30% (js core)". */
function aboveNote(above) {
  if (above.length === 0) return 'every row meets it';
  const byDensity = new Map();
  for (const [d, name] of above) byDensity.set(d, [...(byDensity.get(d) ?? []), name]);
  return `above it: ${[...byDensity].map(([d, names]) => `${d} (${names.join(', ')})`).join(', ')}`;
}

export async function group1b({ quick, rec, fk, native }) {
  const n = 65536;
  const densities = quick ? [0.01, 0.3, 0.9] : [0.01, 0.05, 0.1, 0.3, 0.6, 0.9];
  // 2 x 6 x 6 timings in full mode: fewer ms of samples per row than the other groups (each
  // sample is still a whole pass of 65,536 lookups) to keep group 1 under a minute.
  const minCpuMs = quick ? 60 : 400;
  const version = fk.FORMAT_VERSION;
  const order = shuffle(Uint32Array.from({ length: n }, (_, i) => i), rng(11));
  const defKeys = Array.from(order, (i) => fk.FuncKey.definedWasmFunction(0, i));
  const a2wKeys = Array.from(order, (i) => fk.FuncKey.arrayToWasmTrampoline(0, i));
  const w2aKeys = Array.from(order, (i) => fk.FuncKey.wasmToArrayTrampoline(i));
  const defNs = new Uint32Array(n).fill(NS_DEF);
  const a2wNs = new Uint32Array(n).fill(NS_A2W);
  const w2aNs = new Uint32Array(n).fill(NS_W2A);
  // What every path must find: the sum of start + length over the functions (all present) and
  // over the trampolines present (the shape's layout, see densityShapeArtifact).
  let defSum = 0;
  for (let i = 0; i < n; i++) defSum = (defSum + 16 * i + 12) | 0;

  const rows = [];
  const sizeRows = [];
  const above = [];
  const aboveLater = [];
  const larger = [];
  const encodings = new Set();
  for (const d of densities) {
    // Timed: the shape with the control namespace. Sized: the shape alone, auto and sorted.
    const timed = densityShapeArtifact(fk, n, d, densitySeed(d), undefined, { control: true });
    const shape = densityShapeArtifact(fk, n, d, densitySeed(d));
    const sorted = densityShapeArtifact(fk, n, d, densitySeed(d), { sparseEncoding: 'sorted' });
    let a2wSum = 0;
    for (let t = 0; t < shape.trampolines; t++) a2wSum = (a2wSum + 16 * n + 8 * t + 6) | 0;
    let w2aSum = 0;
    for (let t = 0; t < n; t++) w2aSum = (w2aSum + 16 * n + 8 * shape.trampolines + 8 * t + 6) | 0;
    const path = join(workDir(), `sparse-dense-${pct(d).slice(0, -1)}.fkx`);
    writeFileSync(path, timed.bytes);

    const jsCore = fk.JsCore ? new fk.JsCore(timed.bytes) : undefined;
    const describe = (bytes) => {
      if (fk.JsCore) return new fk.JsCore(bytes).describe();
      const a = fk.open(bytes, { backend: 'js' });
      const desc = a.describe();
      a.close();
      return desc;
    };
    const desc = describe(shape.bytes);
    const sdesc = describe(sorted.bytes);
    const encoding = namespaceEncoding(desc, NS_A2W, true);
    const sortedEncoding = namespaceEncoding(sdesc, NS_A2W, true);

    // Sizes: the writer's default against the sorted-array encoding of the same shape.
    const table = tableBytes(desc);
    const tableSorted = tableBytes(sdesc);
    const sparseB = sparseIndexBytes(desc);
    const sparseSorted = sparseIndexBytes(sdesc);
    const per = Math.max(1, shape.trampolines);
    if (table > tableSorted) larger.push(pct(d));
    encodings.add(encoding);
    sizeRows.push([
      pct(d),
      String(shape.trampolines),
      encoding,
      (table / n).toFixed(2),
      sortedEncoding === 'sorted' ? (tableSorted / n).toFixed(2) : `${(tableSorted / n).toFixed(2)} (${sortedEncoding})`,
      fmtRatio(table / tableSorted),
      (sparseB / per).toFixed(2),
      (sparseSorted / per).toFixed(2),
    ]);
    const sizeBase = `table bytes, ${pct(d)}, sorted`;
    const sizeRec = (what, bytes, enc, sparseBytes) =>
      rec.add({
        group: 1,
        case: `table bytes, ${pct(d)}, ${what}`,
        backend: '-',
        n,
        unit: 'bytes',
        median_ns: null,
        bytes,
        bytes_per_func: bytes / n,
        ratio: bytes / tableSorted,
        baseline: sizeBase,
        density: d,
        format: version,
        encoding: enc,
        sparse_bytes: sparseBytes,
        trampolines: shape.trampolines,
      });
    sizeRec('auto', table, encoding, sparseB);
    sizeRec('sorted', tableSorted, sortedEncoding, sparseSorted);

    // The paths, each a (dense pass, sparse pass) pair.
    const paths = [];
    const closers = [];
    const nativeCore = native.available && fk.openNativeCore ? fk.openNativeCore(path) : undefined;
    if (nativeCore) closers.push(nativeCore);
    const jsArt = fk.open(timed.bytes, { backend: 'js' });
    closers.push(jsArt);
    const nativeArt = native.available ? fk.open(path, { backend: 'native' }) : undefined;
    if (nativeArt) closers.push(nativeArt);
    const core = (c) => c && [fresh(corePass)(c, NS_DEF, order), fresh(corePass)(c, NS_W2A, order), fresh(corePass)(c, NS_A2W, order)];
    const perCall = (a) => a && [fresh(perCallPass)(a, defKeys), fresh(perCallPass)(a, w2aKeys), fresh(perCallPass)(a, a2wKeys)];
    const batch = (a) => a && [fresh(batchPass)(a, defNs, order, NONE), fresh(batchPass)(a, w2aNs, order, NONE), fresh(batchPass)(a, a2wNs, order, NONE)];
    paths.push({ name: 'js core', backend: 'js', path: 'core', fns: core(jsCore) });
    paths.push({ name: 'native core', backend: 'native', path: 'core', fns: core(nativeCore) });
    paths.push({ name: 'js funcLoc', backend: 'js', path: 'per call', fns: perCall(jsArt) });
    paths.push({ name: 'native funcLoc', backend: 'native', path: 'per call', fns: perCall(nativeArt) });
    paths.push({ name: 'js batch', backend: 'js', path: 'batch', fns: batch(jsArt) });
    paths.push({ name: 'native batch', backend: 'native', path: 'batch', fns: batch(nativeArt) });

    for (const p of paths) {
      if (!p.fns) {
        rows.push([pct(d), p.name, encoding, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a']);
        continue;
      }
      const [denseFn, laterFn, sparseFn] = p.fns;
      const ds = denseFn();
      const ls = laterFn();
      const ss = sparseFn();
      if (ds !== defSum || ss !== a2wSum || ls !== w2aSum)
        throw new Error(`group 1b: ${p.name} at ${pct(d)} found different locations (checksums dense ${ds}, ${ls}, sparse ${ss}; expected ${defSum}, ${w2aSum}, ${a2wSum})`);
      // Round robin, so that drift of the machine falls on all three alike.
      const dense = await timeIt(() => do_not_optimize(denseFn()), { quick, perCall: n, minCpuMs });
      const later = await timeIt(() => do_not_optimize(laterFn()), { quick, perCall: n, minCpuMs });
      const sparse = await timeIt(() => do_not_optimize(sparseFn()), { quick, perCall: n, minCpuMs });
      const ratio = sparse.median / dense.median;
      const ratioLater = sparse.median / later.median;
      if (ratio > TARGET_RATIO) above.push([pct(d), p.name]);
      if (ratioLater > TARGET_RATIO) aboveLater.push([pct(d), p.name]);
      rows.push([pct(d), p.name, encoding, fmtNs(dense.median), fmtNs(later.median), fmtNs(sparse.median), fmtRatio(ratio), fmtRatio(ratioLater)]);
      const baseline = `dense funcLoc, ${pct(d)}, ${p.path}`;
      const base = { group: 1, backend: p.backend, n, path: p.path, density: d, format: version, encoding, trampolines: shape.trampolines, baseline };
      const stats = (t) => ({ median_ns: t.median, p25_ns: t.p25, p75_ns: t.p75, samples: t.samples });
      rec.add({ ...base, case: baseline, namespace: 'dense', ...stats(dense), ratio: 1 });
      rec.add({ ...base, case: `sparse funcLoc, ${pct(d)}, ${p.path}`, namespace: 'sparse', ...stats(sparse), ratio });
      rec.add({ ...base, case: `dense funcLoc after the sparse namespace, ${pct(d)}, ${p.path}`, namespace: 'dense, later', ...stats(later), ratio: later.median / dense.median });
    }
    for (const c of closers) c.close();
  }

  printTable(
    'Group 1b: sparse against dense lookups across shapes, 65,536 functions',
    `mitata median per lookup (${minCpuMs} ms of samples per row) over all 65,536 defined indices in a seeded shuffled order, of the function (dense namespace, all hits) and of its ArrayToWasm trampoline (sparse namespace: hits and misses), on modules whose trampolines cover the given share of the functions (format ${version}); core = the backend's core without the API layer, funcLoc = artifact.funcLoc(FuncKey) per lookup, batch = one artifact.funcLocs of the 65,536 keys; every path finds the same checksums`,
    ['trampolines', 'path', 'sparse as', 'dense', 'dense after', 'sparse', 'sparse/dense', 'sparse/dense after'],
    rows,
    [
      native.available ? '' : `native: n/a (${native.reason ?? 'not available'})`,
      'dense = the defined functions (the first namespace, timed first); dense after = a dense namespace of as many entries placed after',
      'the sparse one (WasmToArray trampolines), timed after dense and before sparse. In the js core the first lookup timed in a process',
      'runs 3 to 6 ns faster than the same dense lookup timed later (bench/position.js: not the addresses), so "dense after" is the',
      'like-for-like baseline there',
      `target: sparse/dense at most ${TARGET_RATIO}x; ${aboveNote(above)}`,
      `against dense after: ${aboveNote(aboveLater)}`,
    ].filter(Boolean),
    3,
  );
  printTable(
    'Group 1b: table size of the same shapes, the writer\'s choice against sorted runs',
    "bytes of the FuncKey table (every .fk section but .fk.info, .fk.name_index and .fk.names) per defined function, for the writer's default (auto) and for the same shape built with sparseEncoding 'sorted'; sparse index = the table sections other than the namespace directory, the locations and the offset index, per trampoline",
    ['trampolines', 'count', 'sparse as', 'table B/func', 'sorted B/func', 'auto/sorted', 'sparse B/key', 'sorted B/key'],
    sizeRows,
    [
      `target: auto/sorted at most 1.00x; ${larger.length === 0 ? 'every shape meets it' : `larger than sorted: ${larger.join(', ')}`}`,
      encodings.has('direct') ? 'direct: no index; the namespace is laid out as a dense one, its holes (8 bytes each) are in the locations, so in table B/func' : '',
    ].filter(Boolean),
    3,
  );
}
