// Group 5: reverse lookups (funcByOffset) across table shapes. 5a: for the 64Ki-function
// modules of group 1b, whose ArrayToWasm trampolines (a sparse namespace) cover 1% to 90% of
// the defined functions, the cost of a lookup by offset through each core; 5b: lookups by
// offset on 64Ki and 1Mi functions, with the share of the table the offset index takes.
// (Sparse against dense lookups on the same shapes, once here, are group 1b's.)
// bench/tools/compare-formats.js runs it (with groups 1 and 3) for two checkouts side by side.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  do_not_optimize,
  fmtNs,
  fmtRatio,
  fresh,
  loadFunckey,
  printTable,
  rng,
  tableBytes,
  timeIt,
  workDir,
} from './lib/common.js';
import { densitySeed, densityShapeArtifact, namespaceEncoding } from './lib/shapes.js';

const NS_A2W = (1 << 28) >>> 0;

/** One pass of lookups by offset through a core: core.funcByOffset(offset, out) -> boolean. */
const offsetPass = (core, offs) => {
  const out = new Uint32Array(2);
  return () => {
    let sum = 0;
    for (let k = 0; k < offs.length; k++) if (core.funcByOffset(offs[k], out)) sum = (sum + out[1]) | 0;
    return sum;
  };
};

export async function group5({ quick, rec }) {
  const fk = await loadFunckey();
  const nativeOk = fk.nativeStatus().available;
  const version = fk.FORMAT_VERSION;
  const n = 65536;
  const densities = quick ? [0.01, 0.3, 0.9] : [0.01, 0.05, 0.1, 0.3, 0.6, 0.9];
  // Every core must find the same functions for the same offsets (checksum of their lengths).
  const sums = new Map();
  const measureOffsets = async (core, offs) => {
    const fn = fresh(offsetPass)(core, offs);
    const sum = fn();
    if (!sums.has(offs)) sums.set(offs, sum);
    else if (sums.get(offs) !== sum)
      throw new Error(
        `group 5: the backends found different functions by offset (checksum ${sum}, expected ${sums.get(offs)})`,
      );
    return (await timeIt(() => do_not_optimize(fn()), { quick })).median / offs.length;
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
  const indexShare = (desc, table) =>
    `${((100 * (desc.sections.find((s) => s.name === '.fk.offset_index')?.size ?? 0)) / table).toFixed(1)}%`;

  const rows = [];
  for (const d of densities) {
    const { bytes, trampolines, textEnd } = densityShapeArtifact(fk, n, d, densitySeed(d));
    const path = join(workDir(), `shape-${d}.fkx`);
    const offs = new Uint32Array(n);
    const r = rng(5);
    for (let k = 0; k < n; k++) offs[k] = Math.floor(r() * textEnd);
    const { cases, desc, tableBytes, nat } = openCores(bytes, path);
    const encoding = namespaceEncoding(desc, NS_A2W, true);
    for (const [backend, core] of cases) {
      const byOffset = await measureOffsets(core, offs);
      rows.push([
        `${Math.round(d * 100)}%`,
        backend,
        encoding,
        fmtNs(byOffset),
        (tableBytes / n).toFixed(2),
        indexShare(desc, tableBytes),
      ]);
      const c = `funcByOffset, ${Math.round(d * 100)}%`;
      rec.add({
        group: 5,
        backend,
        n,
        density: d,
        format: version,
        encoding,
        table_bytes: tableBytes,
        trampolines,
        case: c,
        median_ns: byOffset,
        ratio: 1,
        baseline: c,
      });
    }
    nat?.close();
  }
  printTable(
    `Group 5a: funcByOffset across shapes, 65,536 functions (format ${version})`,
    'mitata median per lookup through the cores (no API layer) of 65,536 random offsets in the text of the group 1b shapes (functions of 12 bytes, 16 apart, then the trampolines); table bytes per function and the share of the offset index',
    ['trampolines', 'backend', 'sparse as', 'by offset', 'table B/func', 'offset index'],
    rows,
    [],
    3,
  );

  // Lookups by offset on larger tables: the offset index against a plain binary search over
  // every function (the same table written with offsetIndex: false, so the same reader runs
  // the same loop over all of .fk.func_locs), per call through each core and in batch.
  const orows = [];
  const batchPass = (art, offs) => () => {
    const { indices } = art.funcsByOffset(offs);
    let sum = 0;
    for (let k = 0; k < indices.length; k++) sum = (sum + indices[k]) | 0;
    return sum;
  };
  // The same into two arrays made once and passed as `out` on every call (a build from before
  // `out` existed ignores it and allocates: its checksum is the same).
  const batchIntoPass = (art, offs) => {
    const out = { namespaces: new Uint32Array(offs.length), indices: new Uint32Array(offs.length) };
    return () => {
      const { indices } = art.funcsByOffset(offs, out);
      let sum = 0;
      for (let k = 0; k < indices.length; k++) sum = (sum + indices[k]) | 0;
      return sum;
    };
  };
  for (const F of quick ? [65536] : [65536, 1 << 20]) {
    const build = (offsetIndex) => {
      const b = new fk.ArtifactBuilder({ offsetIndex });
      b.addModule({ importedFuncs: 0, definedFuncs: F });
      const r = rng(F);
      let at = 0;
      for (let i = 0; i < F; i++) {
        const len = 8 + Math.floor(r() * 200);
        b.pushFunc(fk.FuncKey.definedWasmFunction(0, i), { start: at, length: len });
        at += len + (r() < 0.1 ? 4 : 0);
      }
      return { bytes: b.finish(), textEnd: at };
    };
    const indexed = build(true);
    const plain = build(false);
    const offs = new Uint32Array(1 << 16);
    const r = rng(F + 1);
    for (let k = 0; k < offs.length; k++) offs[k] = Math.floor(r() * indexed.textEnd);
    const sides = [indexed, plain].map((side, j) => {
      const path = join(workDir(), `offsets-${F}-${j === 0 ? 'indexed' : 'plain'}.fkx`);
      return { ...openCores(side.bytes, path), path, bytes: side.bytes };
    });
    const [withIdx, without] = sides;
    // A build whose builder ignores offsetIndex (before it existed) indexes both tables: it
    // then has no binary-search baseline, and only the indexed rows are timed.
    const plainOk = without.desc.offsetShift === 31;
    const indexBytes = withIdx.desc.sections.find((s) => s.name === '.fk.offset_index')?.size ?? 0;
    const share = indexShare(withIdx.desc, withIdx.tableBytes);
    // Every path of a kind must find the same functions (checksums of lengths per call, of
    // indices in batch), with and without the index.
    const found = new Map();
    const row = async (name, backend, path, fns, perCall) => {
      const t = [];
      for (const fn of fns) {
        const sum = fn();
        if (!found.has(path)) found.set(path, sum);
        else if (found.get(path) !== sum)
          throw new Error(
            `group 5: ${name} found different functions by offset (checksum ${sum}, expected ${found.get(path)})`,
          );
      }
      for (const fn of plainOk ? fns : fns.slice(0, 1))
        t.push((await timeIt(() => do_not_optimize(fn()), { quick })).median / perCall);
      const extra = {
        group: 5,
        backend,
        n: F,
        format: version,
        path,
        table_bytes: withIdx.tableBytes,
        index_bytes: indexBytes,
      };
      const c = `funcByOffset, ${F} functions, ${path}`;
      if (!plainOk) {
        orows.push([String(F), name, 'n/a', fmtNs(t[0]), 'n/a', (withIdx.tableBytes / F).toFixed(2), share]);
        rec.add({ ...extra, case: c, median_ns: t[0], ratio: 1, baseline: c });
        return;
      }
      orows.push([
        String(F),
        name,
        fmtNs(t[1]),
        fmtNs(t[0]),
        fmtRatio(t[1] / t[0]),
        (withIdx.tableBytes / F).toFixed(2),
        share,
      ]);
      const base = `${c}, binary search`;
      rec.add({ ...extra, case: base, median_ns: t[1], ratio: 1, baseline: base });
      rec.add({ ...extra, case: c, median_ns: t[0], ratio: t[0] / t[1], baseline: base });
    };
    // Per call through the cores: the offset pass of group 5a.
    for (let c = 0; c < withIdx.cases.length; c++) {
      const [backend] = withIdx.cases[c];
      await row(
        `${backend} core`,
        backend,
        'core',
        [fresh(offsetPass)(withIdx.cases[c][1], offs), fresh(offsetPass)(without.cases[c][1], offs)],
        offs.length,
      );
    }
    // In batch through the public API: one funcsByOffset of the 65,536 offsets.
    for (const backend of nativeOk ? ['js', 'native'] : ['js']) {
      const arts = sides.map((side) => fk.open(backend === 'native' ? side.path : side.bytes, { backend }));
      await row(
        `${backend} batch`,
        backend,
        'batch',
        arts.map((a) => fresh(batchPass)(a, offs)),
        offs.length,
      );
      await row(
        `${backend} batch, reused out`,
        backend,
        'batch, reused out',
        arts.map((a) => fresh(batchIntoPass)(a, offs)),
        offs.length,
      );
      for (const a of arts) a.close();
    }
    for (const side of sides) side.nat?.close();
  }
  printTable(
    `Group 5b: funcByOffset on larger tables, the offset index against a plain binary search (format ${version})`,
    "mitata median per lookup of 65,536 random offsets; functions of 8 to 207 bytes with occasional gaps; binary search = the same table written with offsetIndex: false (one bucket, so the same reader searches all of .fk.func_locs); core = funcByOffset per call through the backend's core, batch = one artifact.funcsByOffset of the 65,536 offsets (into new arrays, or with reused out: into two arrays made once); table bytes per function and the share of the offset index",
    ['functions', 'path', 'binary search', 'offset index', 'speed-up', 'table B/func', 'offset index'],
    orows,
    ['target: a speed-up of at least 2x at 64Ki and 1Mi functions, with the index at most 5% of the table'],
    2,
  );
}
