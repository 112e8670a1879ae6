// Group 5: sparse namespaces and reverse lookups across table shapes. For a 64Ki-function
// module whose ArrayToWasm trampolines (a sparse namespace) cover 1% to 90% of the defined
// functions, the cost of a dense lookup, a sparse lookup and a lookup by offset, and the
// bytes the table takes; then lookups by offset on 64Ki and 1Mi functions. It answers
// whether sparse keys are as fast as dense ones and what the table costs for it.
// bench/compare-formats.js runs it (with groups 1 and 3) for two checkouts side by side.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { do_not_optimize, fmtNs, fmtRatio, loadFunckey, printTable, rng, shuffle, sparseIndexBytes, tableBytes, timeIt, workDir } from './lib/common.js';

/** A module of n defined functions, with ArrayToWasm trampolines for a seeded fraction of them. */
function shapeArtifact(fk, n, density, seed) {
  const r = rng(seed);
  const b = new fk.ArtifactBuilder();
  b.addModule({ importedFuncs: 0, definedFuncs: n });
  for (let i = 0; i < n; i++) b.pushFunc(fk.FuncKey.definedWasmFunction(0, i), { start: 16 * i, length: 12 }, 16 * i);
  let t = 0;
  for (let i = 0; i < n; i++) if (r() < density) b.pushFunc(fk.FuncKey.arrayToWasmTrampoline(0, i), { start: 16 * n + 8 * t++, length: 6 });
  return { bytes: b.finish(), trampolines: t, textEnd: 16 * n + 8 * t };
}

export async function group5({ quick, rec }) {
  const fk = await loadFunckey();
  const nativeOk = fk.nativeStatus().available;
  const version = fk.FORMAT_VERSION;
  const n = 65536;
  const densities = quick ? [0.01, 0.3, 0.9] : [0.01, 0.05, 0.1, 0.3, 0.6, 0.9];
  const order = shuffle(Uint32Array.from({ length: n }, (_, i) => i), rng(11));
  const NS_DEF = 0;
  const NS_A2W = (1 << 28) >>> 0;
  const rows = [];
  const measureCore = async (core, ns, keys) => {
    const out = new Uint32Array(2);
    const fn = () => {
      let sum = 0;
      for (let k = 0; k < keys.length; k++) if (core.funcLoc(ns, keys[k], out)) sum = (sum + out[0]) | 0;
      return sum;
    };
    return (await timeIt(() => do_not_optimize(fn()), { quick })).median / keys.length;
  };
  const measureOffsets = async (core, offs) => {
    const out = new Uint32Array(2);
    const fn = () => {
      let sum = 0;
      for (let k = 0; k < offs.length; k++) if (core.funcByOffset(offs[k], out)) sum = (sum + out[1]) | 0;
      return sum;
    };
    return (await timeIt(() => do_not_optimize(fn()), { quick })).median / offs.length;
  };
  const measureBatch = async (art, ns) => {
    const nsArr = new Uint32Array(n).fill(ns);
    return (await timeIt(() => do_not_optimize(art.funcLocs(nsArr, order)), { quick })).median / n;
  };

  /** The artifact written to path, and the js core (and the native one when it loads) over it. */
  const openCores = (bytes, path) => {
    writeFileSync(path, bytes);
    const js = new fk.JsCore(bytes);
    const desc = js.describe();
    const cases = [['js', js]];
    const nat = nativeOk ? fk.openNativeCore(path) : undefined;
    if (nat) cases.push(['native', nat]);
    return { cases, desc, tableBytes: tableBytes(desc), nat };
  };

  for (const d of densities) {
    const { bytes, trampolines, textEnd } = shapeArtifact(fk, n, d, 0xd5 + Math.round(d * 1000));
    const path = join(workDir(), `shape-${d}.fkx`);
    const offs = new Uint32Array(n);
    const r = rng(5);
    for (let k = 0; k < n; k++) offs[k] = Math.floor(r() * textEnd);
    const { cases, desc, tableBytes, nat } = openCores(bytes, path);
    const sparseBytes = sparseIndexBytes(desc);
    const encoding = desc.namespaces.some((x) => x.bitmapBlocks > 0) ? 'bitmap' : 'sorted';
    for (const [backend, core] of cases) {
      const dense = await measureCore(core, NS_DEF, order);
      const sparse = await measureCore(core, NS_A2W, order);
      const byOffset = await measureOffsets(core, offs);
      rows.push([`${(d * 100).toFixed(0)}%`, backend, encoding, fmtNs(dense), fmtNs(sparse), fmtRatio(sparse / dense), fmtNs(byOffset), (tableBytes / n).toFixed(2), (sparseBytes / Math.max(1, trampolines)).toFixed(2)]);
      const base = { group: 5, backend, n, density: d, format: version, encoding, table_bytes: tableBytes, sparse_bytes: sparseBytes, trampolines };
      const baseline = `dense funcLoc, ${d * 100}%`;
      rec.add({ ...base, case: baseline, median_ns: dense, ratio: 1, baseline });
      rec.add({ ...base, case: `sparse funcLoc, ${d * 100}%`, median_ns: sparse, ratio: sparse / dense, baseline });
      rec.add({ ...base, case: `funcByOffset, ${d * 100}%`, median_ns: byOffset, ratio: byOffset / dense, baseline });
    }
    if (nativeOk) {
      const art = fk.open(path, { backend: 'native' });
      const dense = await measureBatch(art, NS_DEF);
      const sparse = await measureBatch(art, NS_A2W);
      rows.push([`${(d * 100).toFixed(0)}%`, 'native batch', encoding, fmtNs(dense), fmtNs(sparse), fmtRatio(sparse / dense), '', '', '']);
      const baseline = `dense funcLocs batch, ${d * 100}%`;
      const base = { group: 5, backend: 'native', n, density: d, format: version, baseline };
      rec.add({ ...base, case: baseline, median_ns: dense, ratio: 1 });
      rec.add({ ...base, case: `sparse funcLocs batch, ${d * 100}%`, median_ns: sparse, ratio: sparse / dense });
      art.close();
      nat.close();
    }
  }
  printTable(
    `Group 5: sparse namespaces, 65,536 functions (format ${version})`,
    'mitata median per lookup through the cores (no API layer) of all 65,536 defined functions in a shuffled order: the function (dense), its ArrayToWasm trampoline (sparse: hits and misses), and a random offset in the text; bytes of the FuncKey table sections per function and of the sparse index per trampoline',
    ['trampolines', 'backend', 'sparse as', 'dense', 'sparse', 'sparse/dense', 'by offset', 'table B/func', 'sparse B/key'],
    rows,
    [],
    3,
  );

  // Lookups by offset on larger tables.
  const orows = [];
  for (const F of quick ? [65536] : [65536, 1 << 20]) {
    const b = new fk.ArtifactBuilder();
    b.addModule({ importedFuncs: 0, definedFuncs: F });
    const r = rng(F);
    let at = 0;
    for (let i = 0; i < F; i++) {
      const len = 8 + Math.floor(r() * 200);
      b.pushFunc(fk.FuncKey.definedWasmFunction(0, i), { start: at, length: len });
      at += len + (r() < 0.1 ? 4 : 0);
    }
    const bytes = b.finish();
    const path = join(workDir(), `offsets-${F}.fkx`);
    const offs = new Uint32Array(1 << 16);
    for (let k = 0; k < offs.length; k++) offs[k] = Math.floor(r() * at);
    const { cases, desc, tableBytes, nat } = openCores(bytes, path);
    const indexBytes = desc.sections.find((s) => s.name === '.fk.offset_index')?.size ?? 0;
    for (const [backend, core] of cases) {
      const t = await measureOffsets(core, offs);
      orows.push([String(F), backend, fmtNs(t), (tableBytes / F).toFixed(2), `${((100 * indexBytes) / tableBytes).toFixed(1)}%`]);
      rec.add({ group: 5, backend, n: F, format: version, case: `funcByOffset, ${F} functions`, median_ns: t, ratio: 1, baseline: `funcByOffset, ${F} functions`, table_bytes: tableBytes, index_bytes: indexBytes });
    }
    nat?.close();
  }
  printTable(
    `Group 5b: funcByOffset on larger tables (format ${version})`,
    'mitata median per lookup of 65,536 random offsets through the cores; functions of 8 to 207 bytes with occasional gaps; table bytes per function and the share of the offset index',
    ['functions', 'backend', 'by offset', 'table B/func', 'offset index'],
    orows,
    [],
    2,
  );
}
