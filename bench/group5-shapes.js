// Group 5: reverse lookups (funcByOffset) across table shapes. 5a: for the 64Ki-function
// modules of group 1b, whose ArrayToWasm trampolines (a sparse namespace) cover 1% to 90% of
// the defined functions, the cost of a lookup by offset through each core; 5b: lookups by
// offset on 64Ki and 1Mi functions, with the share of the table the offset index takes.
// (Sparse against dense lookups on the same shapes, once here, are group 1b's.)
// bench/compare-formats.js runs it (with groups 1 and 3) for two checkouts side by side.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { do_not_optimize, fmtNs, loadFunckey, printTable, rng, tableBytes, timeIt, workDir } from './lib/common.js';
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
/** A fresh copy of a pass factory, with its own feedback (see group1b-sparse-dense.js). */
const fresh = (factory) => new Function(`return (${factory.toString()});`)();

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
    else if (sums.get(offs) !== sum) throw new Error(`group 5: the backends found different functions by offset (checksum ${sum}, expected ${sums.get(offs)})`);
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
  const indexShare = (desc, table) => `${((100 * (desc.sections.find((s) => s.name === '.fk.offset_index')?.size ?? 0)) / table).toFixed(1)}%`;

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
      rows.push([`${Math.round(d * 100)}%`, backend, encoding, fmtNs(byOffset), (tableBytes / n).toFixed(2), indexShare(desc, tableBytes)]);
      const c = `funcByOffset, ${Math.round(d * 100)}%`;
      rec.add({ group: 5, backend, n, density: d, format: version, encoding, table_bytes: tableBytes, trampolines, case: c, median_ns: byOffset, ratio: 1, baseline: c });
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
      orows.push([String(F), backend, fmtNs(t), (tableBytes / F).toFixed(2), indexShare(desc, tableBytes)]);
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
