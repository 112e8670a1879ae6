// Group 1b: sparse against dense lookups across shapes. The lazy initialisation of group 1a
// looks up a function (a dense namespace) and its ArrayToWasm trampoline (a sparse one); here
// the two are timed apart, per lookup, on 64Ki-function modules whose trampolines cover 1% to
// 90% of the functions, through every path a caller has (each backend's core, the public
// API per call, the public API in batch), with the size of the table the writer chose
// against the same shape stored as sorted runs. It answers the question "are sparse lookups
// within 1.3x of dense ones, with a table no larger than the sorted-array encoding?" twice:
// - hits, the lazy initialisation's case (a trampoline is looked up for a function that
//   escapes, so it exists): the trampolines of the escaping functions against the functions
//   at the same indices, in the same shuffled order;
// - every index (absent ones too, 99% to 10% of them): the sparse namespace against the same
//   namespace laid out dense, with holes (the same shape built with sparseEncoding 'direct'),
//   so both sides answer the same keys, hits and misses alike.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  do_not_optimize,
  fmtNs,
  fmtRatio,
  fresh,
  printTable,
  rng,
  shuffle,
  sparseIndexBytes,
  tableBytes,
  timeRoundRobin,
  workDir,
} from './lib/common.js';
import { NONE, densitySeed, densityShapeArtifact, namespaceEncoding } from './lib/shapes.js';

const NS_DEF = 0;
const NS_A2W = (1 << 28) >>> 0;
/** The targets: sparse/dense at most this, and the table at most the sorted encoding's. */
const TARGET_RATIO = 1.3;

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
  // 4 x 6 x 6 timings in full mode, each in `rounds` rounds of round robin (timeRoundRobin):
  // fewer ms of samples per row than the other groups (each sample is still a whole pass of
  // up to 65,536 lookups) to keep group 1 under two minutes.
  const rounds = quick ? 3 : 5;
  const minCpuMs = quick ? 15 : 30;
  const version = fk.FORMAT_VERSION;
  const all = shuffle(
    Uint32Array.from({ length: n }, (_, i) => i),
    rng(11),
  );
  const allA2wKeys = Array.from(all, (i) => fk.FuncKey.arrayToWasmTrampoline(0, i));
  const allA2wNs = new Uint32Array(n).fill(NS_A2W);

  const rows = [];
  const sizeRows = [];
  const aboveHits = [];
  const aboveAll = [];
  const larger = [];
  const encodings = new Set();
  for (const d of densities) {
    // Timed: the writer's choice, and the same shape with the trampolines laid out dense
    // (direct). Sized: the writer's choice against the same shape stored sorted.
    const shape = densityShapeArtifact(fk, n, d, densitySeed(d));
    const asDense = densityShapeArtifact(fk, n, d, densitySeed(d), { sparseEncoding: 'direct' });
    const sorted = densityShapeArtifact(fk, n, d, densitySeed(d), { sparseEncoding: 'sorted' });
    const T = shape.trampolines;
    // The hits: the escaping functions (those with a trampoline) in a seeded shuffled order.
    const hits = shuffle(Uint32Array.from(shape.escaping), rng(12));
    const hitDefKeys = Array.from(hits, (i) => fk.FuncKey.definedWasmFunction(0, i));
    const hitA2wKeys = Array.from(hits, (i) => fk.FuncKey.arrayToWasmTrampoline(0, i));
    const hitDefNs = new Uint32Array(T).fill(NS_DEF);
    const hitA2wNs = new Uint32Array(T).fill(NS_A2W);
    // What every path must find, from the shape's layout (see densityShapeArtifact): function
    // i at 16 * i, 12 bytes; the t-th trampoline at 16 * n + 8 * t, 6 bytes.
    let defSum = 0;
    for (const i of shape.escaping) defSum = (defSum + 16 * i + 12) | 0;
    let a2wSum = 0;
    for (let t = 0; t < T; t++) a2wSum = (a2wSum + 16 * n + 8 * t + 6) | 0;
    const path = join(workDir(), `sparse-dense-${pct(d).slice(0, -1)}.fkx`);
    const densePath = join(workDir(), `sparse-dense-${pct(d).slice(0, -1)}-direct.fkx`);
    writeFileSync(path, shape.bytes);
    writeFileSync(densePath, asDense.bytes);

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
    const denseEncoding = namespaceEncoding(describe(asDense.bytes), NS_A2W, true);
    // Formats 1 and 2 (a build compared by tools/compare-formats.js) cannot lay a sparse namespace out
    // dense: their rows have the hits only.
    const everyIndex = denseEncoding === 'direct';
    if (!everyIndex && version >= 3)
      throw new Error(`group 1b: at ${pct(d)} the trampolines laid out dense are ${denseEncoding}`);

    // Sizes: the writer's default against the sorted-array encoding of the same shape.
    const table = tableBytes(desc);
    const tableSorted = tableBytes(sdesc);
    const sparseB = sparseIndexBytes(desc);
    const sparseSorted = sparseIndexBytes(sdesc);
    const per = Math.max(1, T);
    if (table > tableSorted) larger.push(pct(d));
    encodings.add(encoding);
    sizeRows.push([
      pct(d),
      String(T),
      encoding,
      (table / n).toFixed(2),
      sortedEncoding === 'sorted'
        ? (tableSorted / n).toFixed(2)
        : `${(tableSorted / n).toFixed(2)} (${sortedEncoding})`,
      fmtRatio(table / tableSorted),
      (sparseB / per).toFixed(2),
      (sparseSorted / per).toFixed(2),
      everyIndex ? (tableBytes(describe(asDense.bytes)) / n).toFixed(2) : 'n/a',
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
        trampolines: T,
      });
    sizeRec('auto', table, encoding, sparseB);
    sizeRec('sorted', tableSorted, sortedEncoding, sparseSorted);
    if (everyIndex) sizeRec('direct', tableBytes(describe(asDense.bytes)), 'direct', 0);

    // The paths, each four passes: [dense hits, sparse hits, dense-laid-out every index,
    // sparse every index], each a fresh copy of its pass factory.
    const paths = [];
    const closers = [];
    const open = (p, bytes, backend) => {
      const a = backend === 'native' ? fk.open(p, { backend }) : fk.open(bytes, { backend });
      closers.push(a);
      return a;
    };
    const nativeCores =
      native.available && fk.openNativeCore ? [fk.openNativeCore(path), fk.openNativeCore(densePath)] : undefined;
    if (nativeCores) closers.push(...nativeCores);
    const jsCores = fk.JsCore ? [new fk.JsCore(shape.bytes), new fk.JsCore(asDense.bytes)] : undefined;
    /** A path's passes, the every-index ones only where the build has them. */
    const passes = (fns) => (everyIndex ? fns() : fns().slice(0, 2));
    const core = (c) =>
      c &&
      passes(() => [
        fresh(corePass)(c[0], NS_DEF, hits),
        fresh(corePass)(c[0], NS_A2W, hits),
        fresh(corePass)(c[1], NS_A2W, all),
        fresh(corePass)(c[0], NS_A2W, all),
      ]);
    const arts = (backend) =>
      backend === 'native' && !native.available
        ? undefined
        : [open(path, shape.bytes, backend), open(densePath, asDense.bytes, backend)];
    const perCall = (a) =>
      a &&
      passes(() => [
        fresh(perCallPass)(a[0], hitDefKeys),
        fresh(perCallPass)(a[0], hitA2wKeys),
        fresh(perCallPass)(a[1], allA2wKeys),
        fresh(perCallPass)(a[0], allA2wKeys),
      ]);
    const batch = (a) =>
      a &&
      passes(() => [
        fresh(batchPass)(a[0], hitDefNs, hits, NONE),
        fresh(batchPass)(a[0], hitA2wNs, hits, NONE),
        fresh(batchPass)(a[1], allA2wNs, all, NONE),
        fresh(batchPass)(a[0], allA2wNs, all, NONE),
      ]);
    const jsArts = arts('js');
    const nativeArts = arts('native');
    paths.push({ name: 'js core', backend: 'js', path: 'core', fns: core(jsCores) });
    paths.push({ name: 'native core', backend: 'native', path: 'core', fns: core(nativeCores) });
    paths.push({ name: 'js funcLoc', backend: 'js', path: 'per call', fns: perCall(jsArts) });
    paths.push({ name: 'native funcLoc', backend: 'native', path: 'per call', fns: perCall(nativeArts) });
    paths.push({ name: 'js batch', backend: 'js', path: 'batch', fns: batch(jsArts) });
    paths.push({ name: 'native batch', backend: 'native', path: 'batch', fns: batch(nativeArts) });

    const expected = [defSum, a2wSum, a2wSum, a2wSum];
    const kinds = ['dense hits', 'sparse hits', 'dense every index', 'sparse every index'];
    for (const p of paths) {
      if (!p.fns) {
        rows.push([pct(d), p.name, encoding, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a']);
        continue;
      }
      p.fns.forEach((fn, k) => {
        const got = fn();
        if (got !== expected[k])
          throw new Error(
            `group 1b: ${p.name} at ${pct(d)} found different locations for ${kinds[k]} (checksum ${got}, expected ${expected[k]})`,
          );
      });
      // Round robin, a ratio per round, so that drift of the machine falls on all four alike.
      const rr = await timeRoundRobin(
        p.fns.map((f) => () => do_not_optimize(f())),
        { quick, perCall: [T, T, n, n].slice(0, p.fns.length), rounds, minCpuMs },
      );
      const t = rr.times;
      const ratioHits = rr.ratio(1, 0);
      const ratioAll = everyIndex ? rr.ratio(3, 2) : undefined;
      if (ratioHits > TARGET_RATIO) aboveHits.push([pct(d), p.name]);
      if (ratioAll > TARGET_RATIO) aboveAll.push([pct(d), p.name]);
      const allCols = everyIndex
        ? [...t.slice(2).map((x) => fmtNs(x.median)), fmtRatio(ratioAll)]
        : ['n/a', 'n/a', 'n/a'];
      rows.push([
        pct(d),
        p.name,
        encoding,
        ...t.slice(0, 2).map((x) => fmtNs(x.median)),
        fmtRatio(ratioHits),
        ...allCols,
      ]);
      const base = {
        group: 1,
        backend: p.backend,
        path: p.path,
        density: d,
        format: version,
        encoding,
        trampolines: T,
      };
      const stats = (x) => ({ median_ns: x.median, p25_ns: x.p25, p75_ns: x.p75, samples: x.samples });
      const hitBase = `dense funcLoc, hits, ${pct(d)}, ${p.path}`;
      const allBase = `dense-laid-out funcLoc, every index, ${pct(d)}, ${p.path}`;
      rec.add({
        ...base,
        n: T,
        queries: 'hits',
        case: hitBase,
        namespace: 'dense',
        ...stats(t[0]),
        ratio: 1,
        baseline: hitBase,
      });
      rec.add({
        ...base,
        n: T,
        queries: 'hits',
        case: `sparse funcLoc, hits, ${pct(d)}, ${p.path}`,
        namespace: 'sparse',
        ...stats(t[1]),
        ratio: ratioHits,
        baseline: hitBase,
      });
      if (!everyIndex) continue;
      rec.add({
        ...base,
        n,
        queries: 'every index',
        case: allBase,
        namespace: 'direct',
        ...stats(t[2]),
        ratio: 1,
        baseline: allBase,
      });
      rec.add({
        ...base,
        n,
        queries: 'every index',
        case: `sparse funcLoc, every index, ${pct(d)}, ${p.path}`,
        namespace: 'sparse',
        ...stats(t[3]),
        ratio: ratioAll,
        baseline: allBase,
      });
    }
    for (const c of closers) c.close();
  }

  printTable(
    'Group 1b: sparse against dense lookups across shapes, 65,536 functions',
    `mitata, per lookup: the four passes of a path timed round robin in ${rounds} rounds of ${minCpuMs} ms each, medians over the rounds and ratios taken within each round (their median), on modules whose ArrayToWasm trampolines cover the given share of the 65,536 defined functions (format ${version}). Hits: the escaping functions in a seeded shuffled order, looked up as functions (dense namespace) and as trampolines (sparse: the writer's choice). Every index: all 65,536 indices shuffled, looked up as trampolines in the same namespace laid out dense with holes (sparseEncoding 'direct') and in the writer's choice. Core = the backend's core without the API layer, funcLoc = artifact.funcLoc(FuncKey) per lookup, batch = one artifact.funcLocs of all the keys; every path finds the same checksums`,
    ['trampolines', 'path', 'sparse as', 'dense hits', 'sparse hits', 'ratio', 'dense every', 'sparse every', 'ratio'],
    rows,
    [
      native.available ? '' : `native: n/a (${native.reason ?? 'not available'})`,
      `target: sparse/dense at most ${TARGET_RATIO}x. Hits: ${aboveNote(aboveHits)}. Every index: ${aboveNote(aboveAll)}`,
    ].filter(Boolean),
    3,
  );
  printTable(
    "Group 1b: table size of the same shapes, the writer's choice against sorted runs",
    "bytes of the FuncKey table (every .fk section but .fk.info, .fk.name_index and .fk.names) per defined function, for the writer's default (auto), for the same shape built with sparseEncoding 'sorted' and with the trampolines laid out dense (dense B/func, sparseEncoding 'direct': the timed baseline of every index); sparse index = the table sections other than the namespace directory, the locations and the offset index, per trampoline",
    [
      'trampolines',
      'count',
      'sparse as',
      'table B/func',
      'sorted B/func',
      'auto/sorted',
      'sparse B/key',
      'sorted B/key',
      'dense B/func',
    ],
    sizeRows,
    [
      `target: auto/sorted at most 1.00x; ${larger.length === 0 ? 'every shape meets it' : `larger than sorted: ${larger.join(', ')}`}`,
      encodings.has('direct')
        ? 'direct: no index; the namespace is laid out as a dense one, its holes (8 bytes each) are in the locations, so in table B/func'
        : '',
    ].filter(Boolean),
    3,
  );
}
