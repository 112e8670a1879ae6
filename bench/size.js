// Group 4: size of the FuncKey table and of the name index per function, against the
// per-kind dense arrays and against the module's own `name` section; and the build time of
// an artifact from a module.
import { readFileSync } from 'node:fs';
import {
  fmtBytes,
  fmtNs,
  fmtRatio,
  loadBuildFromWasm,
  loadBuilderFromWasm,
  loadFunckey,
  printTable,
  realModule,
  tableBytes,
  timeIt,
} from './lib/common.js';
import { buildShapeArtifact, denseLayoutBytes, makeShape, shapeName } from './lib/shapes.js';
import { artifactFromWasm, syntheticModulePath } from './cold-start.js';
import { decodeNameMap, nameSectionBytes, scanModule } from './lib/wasm.js';

function lebSize(x) {
  let n = 1;
  while (x >= 128) {
    x = Math.floor(x / 128);
    n++;
  }
  return n;
}

/** Size of a `name` section holding just these function names (subsection 1). */
function nameSectionSizeFor(names) {
  let sub = lebSize(names.size);
  for (const [i, s] of names) {
    const len = Buffer.byteLength(s);
    sub += lebSize(i) + lebSize(len) + len;
  }
  const payload = 5 /* "name" with its length */ + 1 + lebSize(sub) + sub;
  return 1 + lebSize(payload) + payload;
}

function sectionSizes(fk, bytes) {
  const art = fk.open(bytes, { backend: 'js' });
  const d = art.describe();
  art.close();
  const size = (name) => d.sections.find((s) => s.name === name)?.size ?? 0;
  return {
    table: tableBytes(d),
    nameIndex: size('.fk.name_index'),
    names: size('.fk.names'),
    file: bytes.length,
    funcCount: d.funcCount,
  };
}

export async function group4({ quick, rec }) {
  const fk = await loadFunckey();
  const build = await loadBuildFromWasm();
  const builderOnly = await loadBuilderFromWasm();
  const rows = [];
  const notes = [];

  const addSize = (label, n, denseBytes, nameSection, dense, sparse) => {
    const per = (b) => (b / n).toFixed(2);
    rows.push([
      label,
      String(n),
      per(dense.table),
      per(denseBytes),
      fmtRatio(dense.table / denseBytes),
      per(dense.nameIndex),
      per(sparse.nameIndex),
      per(dense.names),
      per(nameSection),
      fmtRatio((dense.nameIndex + dense.names) / nameSection),
      fmtRatio((sparse.nameIndex + sparse.names) / nameSection),
      fmtBytes(dense.file),
    ]);
    const sizeRec = (what, bytes, baseline, base) =>
      rec.add({
        group: 4,
        case: `${label}: ${what}`,
        backend: '-',
        n,
        unit: 'bytes',
        median_ns: null,
        bytes,
        bytes_per_func: bytes / n,
        ratio: bytes / base,
        baseline,
      });
    sizeRec('FuncKey table', dense.table, 'dense arrays per kind', denseBytes);
    sizeRec('dense arrays per kind', denseBytes, 'dense arrays per kind', denseBytes);
    sizeRec('name index (dense header) + names', dense.nameIndex + dense.names, 'name section', nameSection);
    sizeRec('name index (sparse) + names', sparse.nameIndex + sparse.names, 'name section', nameSection);
    sizeRec('name section', nameSection, 'name section', nameSection);
  };

  const timeBuild = async (label, n, fn) => {
    const t = await timeIt(fn, { quick, minCpuMs: quick ? 1 : 2000 });
    return { label, n, t: t.median };
  };

  // Modules: the real one (when installed) and the synthetic one.
  const mods = [];
  const real = realModule();
  if (real) mods.push({ label: real.label, bytes: readFileSync(real.path) });
  else
    notes.push(
      'real module: n/a (install the @biomejs/wasm-nodejs dev dependency, or set FUNCKEY_BENCH_WASM=path.wasm)',
    );
  mods.push({ label: 'synthetic module, 100,000 functions', bytes: syntheticModulePath().bytes });
  const builds = [];
  for (const m of mods) {
    const scan = scanModule(m.bytes);
    const n = scan.definedFuncs;
    const dense = await artifactFromWasm(fk, m.bytes, 'dense');
    const sparse = await artifactFromWasm(fk, m.bytes, 'sparse');
    // The layout before a FuncKey table: (start, length) and FilePos per defined function.
    addSize(
      m.label,
      n,
      12 * n,
      nameSectionBytes(m.bytes),
      sectionSizes(fk, dense.bytes),
      sectionSizes(fk, sparse.bytes),
    );
    if (build) builds.push(await timeBuild(`${m.label}: buildFromWasm + finish`, n, () => build(m.bytes)));
    else builds.push({ label: `${m.label}: buildFromWasm + finish`, n, t: undefined });
    if (builderOnly)
      builds.push(
        await timeBuild(`${m.label}:   of which builderFromWasm (read the module, fill the builder)`, n, () =>
          builderOnly(m.bytes),
        ),
      );
    builds.push(
      await timeBuild(`${m.label}: hand-written name section -> Map (for scale)`, n, () => decodeNameMap(m.bytes).size),
    );
  }
  if (!build)
    notes.push(
      "buildFromWasm: n/a in this build; module artifacts above built by the bench's own module scan + ArtifactBuilder",
    );

  // Synthetic table shapes (no wasm), names for every function.
  for (const frac of [0.05, 0.3, 0.9]) {
    const n = 65536;
    const shape = makeShape({ n, escapeFrac: frac, types: 200, seed: 99 });
    const dense = sectionSizes(fk, buildShapeArtifact(fk, shape, { names: 'dense' }));
    const sparse = sectionSizes(fk, buildShapeArtifact(fk, shape, { names: 'sparse' }));
    const names = new Map();
    for (let i = 0; i < n; i++) names.set(i, shapeName(i));
    addSize(
      `64Ki functions, ${Math.round(frac * 100)}% with ArrayToWasm, 200 WasmToArray`,
      n,
      denseLayoutBytes(shape),
      nameSectionSizeFor(names),
      dense,
      sparse,
    );
    if (frac === 0.3)
      builds.push(
        await timeBuild(`64Ki functions, 30% ArrayToWasm: ArtifactBuilder pushFunc + setFuncName + finish`, n, () =>
          buildShapeArtifact(fk, shape, { names: 'dense' }),
        ),
      );
  }

  const buildLines = ['build time (mitata median of whole builds in this process):'];
  const w = Math.max(...builds.map((b) => b.label.length));
  for (const b of builds) {
    buildLines.push(`  ${b.label.padEnd(w)}  ${fmtNs(b.t).padStart(9)}`);
    if (b.t !== undefined)
      rec.add({ group: 4, case: b.label, backend: 'js', n: b.n, median_ns: b.t, ratio: 1, baseline: b.label });
  }
  printTable(
    'Group 4: size, bytes per defined function',
    'sizes of the sections of artifacts built here; table = every .fk section but .fk.info, .fk.name_index and .fk.names (namespaces, start arrays, sparse indices, bitmaps and buckets, locations, source locations, offset index); dense arrays = (start, length) per index of every kind present (NONE for absent ArrayToWasm) plus a FilePos per defined function; name section = the custom section `name` of the module (synthetic shapes: a name section holding the same names); name idx = .fk.name_index, names blob = .fk.names',
    [
      'shape',
      'functions',
      'table',
      'dense arrays',
      'table/dense',
      'name idx dense',
      'name idx sparse',
      'names blob',
      'name section',
      '(dense idx+blob)/section',
      '(sparse idx+blob)/section',
      'artifact file',
    ],
    rows,
    [...buildLines, ...notes],
  );
}
