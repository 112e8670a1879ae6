// Group 2: cold start, in fresh processes: from script start to the first function name, and
// the memory after 1,000 more. A tool that needs one function name either decodes the
// module's `name` section eagerly (by hand or with the wasmparser package) or imports funckey
// through its main entry point, opens an artifact built beforehand and looks the name up.
// Ratios against the eager decode and against the floor of a trivial ES module; RSS above
// the floor of an empty script.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  BENCH_DIR,
  fmtBytes,
  fmtNs,
  fmtRatio,
  loadBuildFromWasm,
  ROOT,
  loadFunckey,
  median,
  nativeInfo,
  printTable,
  realModule,
  rng,
  workDir,
} from './lib/common.js';
import { decodeNameMap, encodeSyntheticModule, scanModule } from './lib/wasm.js';

/** Artifact bytes of a module with the given name encoding, by the package's wasm reader when it has landed. */
export async function artifactFromWasm(fk, wasm, nameEncoding) {
  const build = await loadBuildFromWasm();
  if (build) {
    try {
      const bytes = build(wasm, { nameEncoding });
      const d = fk.open(bytes, { backend: 'js' }).describe();
      const want = nameEncoding === 'dense' ? 1 : 2;
      if (d.modules.length > 0 && d.modules[0].nameEncoding === want) return { bytes, by: 'buildFromWasm' };
    } catch {
      // fall back to the bench's own reader below
    }
  }
  const m = scanModule(wasm);
  const b = new fk.ArtifactBuilder({ nameEncoding, textSize: wasm.length });
  b.addModule({ importedFuncs: m.importedFuncs, definedFuncs: m.definedFuncs });
  for (let i = 0; i < m.definedFuncs; i++)
    b.pushFunc(fk.FuncKey.definedWasmFunction(0, i), { start: m.starts[i], length: m.lengths[i] }, m.filePos[i]);
  for (const [i, name] of m.names) b.setFuncName(0, i, name);
  return { bytes: b.finish(), by: "the bench's own module scan + ArtifactBuilder" };
}

/** The modules of group 2 (and 4): the real one when installed, and the synthetic one. */
export function syntheticModulePath() {
  const path = join(workDir(), 'synthetic-100k.wasm');
  const bytes = encodeSyntheticModule({ imports: 16, defined: 100_000, seed: 1 });
  writeFileSync(path, bytes);
  return { path, bytes, label: 'synthetic, 100,000 functions' };
}

/**
 * The module of the DWARF row: the one bench/dwarf.js (group 7) builds with
 * scripts/make-dwarf-fixtures.sh --large and keeps in the temp directory (this group does not
 * build it: run group 7 once), FUNCKEY_DWARF_MODULE, or in --quick mode the committed fixture.
 */
function dwarfModule(quick) {
  if (process.env.FUNCKEY_DWARF_MODULE) return { path: process.env.FUNCKEY_DWARF_MODULE, what: 'FUNCKEY_DWARF_MODULE' };
  if (quick)
    return { path: join(ROOT, 'test', 'fixtures', 'dwarf', 'rust-O0.wasm'), what: 'fixture rust-O0.wasm (quick mode)' };
  const script = join(ROOT, 'scripts', 'make-dwarf-fixtures.sh');
  const key = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 12);
  const path = join(tmpdir(), 'funckey-dwarf-bench', `large-20000-${key}.wasm`);
  return existsSync(path) ? { path, what: 'scripts/make-dwarf-fixtures.sh --large (20000 functions)' } : undefined;
}

/** fmtNs of a difference that may be negative (noise). */
function signedNs(ns) {
  return ns < 0 ? `-${fmtNs(-ns)}` : fmtNs(ns);
}

/** One fresh process: its wall time (ns) and stdout. */
function spawnTimed(cmd, args) {
  const w0 = performance.now();
  const res = spawnSync(cmd, args, { encoding: 'utf8', cwd: BENCH_DIR, env: { ...process.env, FUNCKEY_BACKEND: '' } });
  const wall = (performance.now() - w0) * 1e6;
  if (res.status !== 0) throw new Error(`group 2: ${cmd} ${args.join(' ')} failed: ${res.stderr}`);
  return { wall, stdout: res.stdout };
}

/**
 * #16's cold start: a fresh process opening the artifact of a DWARF module to its first
 * file:line (srcLocs), both backends, against llvm-symbolizer-14's single-address run on the
 * same module and node's empty process, round robin; the whole process's wall time and, for
 * funckey, the clock from script start to the answer.
 */
async function dwarfCold({ quick, rec, fk, native, runs }) {
  const mod = dwarfModule(quick);
  const llvm = spawnSync('llvm-symbolizer-14', ['--version'], { stdio: 'ignore' }).status === 0;
  if (mod === undefined) {
    console.log('\n(group 2, DWARF cold start: n/a, the module of group 7 is not built: node bench/run.js --group 7)');
    return;
  }
  const wasm = readFileSync(mod.path);
  const build = fk.builderFromWasm(wasm);
  const base = build.srcLocs[0]?.base;
  if (base === undefined) throw new Error(`group 2: ${mod.path} has no DWARF line information`);
  const bytes = build.builder.finish();
  const file = join(workDir(), 'cold-start-dwarf.fkx');
  writeFileSync(file, bytes);
  // A seeded code offset with a source location (a line, not 0); the same in every process.
  const probe = fk.open(bytes, { backend: 'js' });
  const r = rng(0xd3a5f);
  const codeEnd = base + build.srcLocs[0].table.codeSize;
  let offset;
  for (let k = 0; k < 10000 && offset === undefined; k++) {
    const o = base + Math.floor(r() * (codeEnd - base));
    if ((probe.srcLocs(o)[0]?.line ?? 0) > 0) offset = o;
  }
  if (offset === undefined) throw new Error('group 2: no code offset with a source location found');
  const want = probe.srcLocs(offset)[0];
  const addr = `0x${(offset - base).toString(16)}`;
  const methods = [
    { id: 'llvm', label: `llvm-symbolizer-14 --inlines --obj=M ${addr} (one address)`, backend: '-' },
    { id: 'srclocs-native', label: "import 'funckey', open, srcLocs", backend: 'native' },
    { id: 'srclocs-js', label: "import 'funckey', open, srcLocs", backend: 'js' },
    { id: 'empty', label: 'floor: node, empty script', backend: '-' },
  ];
  const samples = methods.map(() => ({ wall: [], ms: [], importMs: [], openMs: [] }));
  for (let run = 0; run < runs; run++) {
    for (let mi = 0; mi < methods.length; mi++) {
      const m = methods[mi];
      if (m.id === 'llvm' && !llvm) continue;
      if (m.backend === 'native' && !native.available) continue;
      const s = samples[mi];
      if (m.id === 'llvm') {
        const { wall, stdout } = spawnTimed('llvm-symbolizer-14', ['--inlines', `--obj=${mod.path}`, addr]);
        const loc = stdout.split('\n')[1] ?? '';
        // function, then file:line:column of the innermost frame: the same line and file as funckey's.
        const [, lf, line] = /^(.*):(\d+):\d+$/.exec(loc) ?? [];
        if (Number(line) !== want.line || basename(lf ?? '') !== basename(want.file))
          throw new Error(`group 2: llvm-symbolizer says ${loc} at ${addr}, funckey ${want.file}:${want.line}`);
        s.wall.push(wall);
        continue;
      }
      const { wall, stdout } = spawnTimed(process.execPath, [
        join(BENCH_DIR, 'cold-start-child.js'),
        m.id,
        file,
        String(offset),
        '0', // no more lookups after the first: the wall time is that of one answer
        String(run + 1),
      ]);
      const out = JSON.parse(stdout.trim().split('\n').pop());
      if (m.id !== 'empty' && out.name !== `${want.file}:${want.line}`)
        throw new Error(`group 2: ${m.label} (${m.backend}) found ${out.name}, expected ${want.file}:${want.line}`);
      s.wall.push(wall);
      s.ms.push(out.ms * 1e6);
      if (out.importMs !== undefined) s.importMs.push(out.importMs * 1e6);
      if (out.openMs !== undefined) s.openMs.push(out.openMs * 1e6);
    }
  }
  const llvmWall = median(samples[0].wall);
  const floorWall = median(samples[3].wall);
  const rows = [];
  for (let mi = 0; mi < methods.length; mi++) {
    const m = methods[mi];
    const s = samples[mi];
    if (s.wall.length === 0) {
      rows.push([m.label, m.backend, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a']);
      continue;
    }
    const wall = median(s.wall);
    const ms = s.ms.length ? median(s.ms) : undefined;
    const fnRow = m.id.startsWith('srclocs');
    rows.push([
      m.label,
      m.backend,
      s.importMs.length ? fmtNs(median(s.importMs)) : '-',
      s.openMs.length ? fmtNs(median(s.openMs)) : '-',
      fnRow ? fmtNs(ms) : '-',
      fmtNs(wall),
      m.id === 'llvm' || m.id === 'empty' ? '-' : signedNs(wall - floorWall),
      llvm && fnRow ? `${fmtRatio(llvmWall / wall)} faster` : '-',
      llvm && fnRow ? `${fmtRatio(llvmWall / ms)} faster` : '-',
    ]);
    rec.add({
      group: 2,
      case: `DWARF cold start: ${m.label}`,
      backend: m.backend,
      n: 1,
      median_ns: fnRow ? ms : wall,
      ratio: llvm ? (fnRow ? ms : wall) / llvmWall : 1,
      baseline: `DWARF cold start: ${methods[0].label}`,
      wall_median_ns: wall,
      wall_above_empty_ns: wall - floorWall,
      runs: s.wall.length,
    });
  }
  printTable(
    'Group 2: cold start to the first source location (DWARF), fresh process each time',
    `median of ${runs} fresh processes per row, round robin; wall: from spawn to exit of the whole process; first file:line: the clock from script start (before any import) to srcLocs' answer; llvm-symbolizer's wall time over funckey's wall time, and over its script-start-to-answer time`,
    [
      'method',
      'backend',
      'imported',
      'opened',
      'first file:line',
      'wall',
      'wall above empty node',
      'llvm / wall',
      'llvm / first file:line',
    ],
    rows,
    [
      `${mod.what}: ${fmtBytes(wasm.length)}, artifact of ${fmtBytes(bytes.length)}; offset 0x${offset.toString(16)} (DWARF address ${addr}): ${want.function} at ${want.file}:${want.line}`,
      ...(llvm ? [] : ['llvm-symbolizer-14: n/a (apt-get install llvm-14)']),
    ],
    1,
  );
}

/**
 * A one-line package in the scratch directory's node_modules, with "exports" as funckey's
 * (import and require conditions), and a one-line module importing it by name: the floor of
 * importing any such package by name in a fresh process.
 */
function packageProbe() {
  const dir = join(workDir(), 'node_modules', 'one-line');
  const probe = join(workDir(), 'import-one-line.mjs');
  if (!existsSync(probe)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'one-line',
        version: '1.0.0',
        type: 'module',
        exports: { '.': { import: './index.mjs', require: './index.cjs' } },
      }),
    );
    writeFileSync(join(dir, 'index.mjs'), 'export const x = 1;\n');
    writeFileSync(join(dir, 'index.cjs'), 'exports.x = 1;\n');
    writeFileSync(probe, "import 'one-line';\n");
  }
  return probe;
}

export async function group2({ quick, rec }) {
  const fk = await loadFunckey();
  const native = await nativeInfo();
  const runs = quick ? 3 : 15;
  const modules = [];
  const real = realModule();
  if (real) modules.push({ ...real, kind: 'real', bytes: readFileSync(real.path) });
  modules.push({ ...syntheticModulePath(), kind: 'synthetic' });

  const methods = [
    { id: 'handwritten', label: 'eager decode of the name section, hand-written', backend: '-' },
    { id: 'wasmparser', label: 'eager decode of the name section, wasmparser', backend: '-' },
    { id: 'funckey-native', label: "import 'funckey', open, funcName", backend: 'native', enc: 'dense' },
    { id: 'funckey-js', label: "import 'funckey', open, funcName", backend: 'js', enc: 'dense' },
    {
      id: 'readsync',
      label: 'reference: per lookup one fs.readSync of 208 bytes of the artifact, no funckey',
      backend: '-',
      floor: true,
      artifact: true,
    },
    { id: 'import-only', label: "floor: import 'funckey', open nothing", backend: '-', floor: true },
    { id: 'import-eager', label: 'reference: import every module at once (dist/index.js)', backend: '-', floor: true },
    {
      id: 'trivial-package',
      label: 'floor: import a one-line package by name (its exports)',
      backend: '-',
      floor: true,
    },
    { id: 'trivial-esm', label: 'floor: import a one-line ES module', backend: '-', floor: true },
    { id: 'empty', label: 'floor: empty script', backend: '-', floor: true },
  ];
  const at = (id) => methods.findIndex((m) => m.id === id);
  const rows = [];
  const notes = [];
  if (!real)
    notes.push(
      'real module: n/a (install the @biomejs/wasm-nodejs dev dependency, or set FUNCKEY_BENCH_WASM=path.wasm)',
    );
  for (const mod of modules) {
    const names = decodeNameMap(mod.bytes);
    let count = 0;
    for (const k of names.keys()) if (k >= count) count = k + 1;
    const r = rng(0xf1a57);
    const keys = [...names.keys()];
    const first = keys[Math.floor(r() * keys.length)];
    const expected = names.get(first);
    const a = await artifactFromWasm(fk, mod.bytes, 'dense');
    const file = join(workDir(), `cold-start-${mod.kind}.fkx`);
    writeFileSync(file, a.bytes);
    notes.push(
      `${mod.label}: ${fmtBytes(mod.bytes.length)}, ${names.size} names, artifact of ${fmtBytes(a.bytes.length)} built by ${a.by}, first name looked up: function ${first}`,
    );

    const samples = methods.map(() => ({
      ms: [],
      importMs: [],
      openMs: [],
      wall: [],
      rss: [],
      anon: [],
      mapped: [],
      sums: new Set(),
    }));
    for (let run = 0; run < runs; run++) {
      // Round robin, so that a change of machine load falls on every method alike.
      for (let mi = 0; mi < methods.length; mi++) {
        const m = methods[mi];
        if (m.backend === 'native' && !native.available) continue;
        const input = m.enc || m.artifact ? file : m.id === 'trivial-package' ? packageProbe() : mod.path;
        const w0 = performance.now();
        const res = spawnSync(
          process.execPath,
          [join(BENCH_DIR, 'cold-start-child.js'), m.id, input, String(first), String(count), String(run + 1)],
          {
            encoding: 'utf8',
            cwd: BENCH_DIR,
            env: { ...process.env, FUNCKEY_BACKEND: '' },
          },
        );
        const wall = performance.now() - w0;
        if (res.status !== 0) throw new Error(`group 2: ${m.label} failed: ${res.stderr}`);
        const out = JSON.parse(res.stdout.trim().split('\n').pop());
        if (!m.floor && out.name !== expected)
          throw new Error(
            `group 2: ${m.label} found ${JSON.stringify(out.name)} for function ${first}, expected ${JSON.stringify(expected)}`,
          );
        const s = samples[mi];
        s.ms.push(out.ms * 1e6);
        if (out.importMs !== undefined) s.importMs.push(out.importMs * 1e6);
        if (out.openMs !== undefined) s.openMs.push(out.openMs * 1e6);
        s.wall.push(wall * 1e6);
        s.rss.push(out.rss);
        if (out.anon !== undefined) s.anon.push(out.anon);
        if (out.mapped !== undefined) s.mapped.push(out.mapped);
        if (!m.floor) s.sums.add(`${run}:${out.sum}`);
      }
    }
    // Every method saw the same 1,000 random names in each run.
    const sumsByRun = new Map();
    for (const s of samples)
      for (const x of s.sums) {
        const [run, v] = x.split(':');
        if (sumsByRun.has(run) && sumsByRun.get(run) !== v)
          throw new Error('group 2: methods disagree on the random lookups');
        sumsByRun.set(run, v);
      }

    const eager = median(samples[0].ms);
    const floorEsm = median(samples[at('trivial-esm')].ms);
    const floorRss = median(samples[at('empty')].rss);
    const floorAnon = median(samples[at('empty')].anon);
    const floorShared = floorRss - floorAnon;
    for (let mi = 0; mi < methods.length; mi++) {
      const m = methods[mi];
      const s = samples[mi];
      if (s.ms.length === 0) {
        rows.push([mod.kind, m.label, m.backend, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a']);
        continue;
      }
      const med = median(s.ms);
      const wall = median(s.wall);
      const rss = median(s.rss);
      const anon = s.anon.length ? median(s.anon) : undefined;
      const mapped = s.mapped.length ? median(s.mapped) : undefined;
      // node's own code and data files: the shared pages that do not map the artifact
      const nodeFiles = anon === undefined || mapped === undefined ? undefined : rss - anon - mapped - floorShared;
      const imp = s.importMs.length ? median(s.importMs) : undefined;
      const opened = s.openMs.length ? median(s.openMs) : undefined;
      rows.push([
        mod.kind,
        m.label,
        m.backend,
        imp === undefined ? '-' : fmtNs(imp),
        opened === undefined ? '-' : fmtNs(opened),
        fmtNs(med),
        mi === 0 ? 'baseline' : `${fmtRatio(eager / med)} faster`,
        fmtRatio(med / floorEsm),
        fmtBytes(rss - floorRss),
        anon === undefined ? 'n/a' : fmtBytes(anon - floorAnon),
        mapped === undefined ? 'n/a' : fmtBytes(mapped),
        nodeFiles === undefined ? 'n/a' : fmtBytes(nodeFiles),
        fmtNs(wall),
      ]);
      rec.add({
        group: 2,
        case: `${mod.label}: ${m.label}`,
        backend: m.backend,
        n: names.size,
        median_ns: med,
        ratio: med / eager,
        baseline: `${mod.label}: ${methods[0].label}`,
        import_median_ns: imp,
        open_median_ns: opened,
        vs_trivial_esm: med / floorEsm,
        wall_median_ns: wall,
        rss_bytes: rss,
        rss_grown_bytes: rss - floorRss,
        rss_anon_grown_bytes: anon === undefined ? undefined : anon - floorAnon,
        rss_artifact_bytes: mapped,
        rss_node_files_grown_bytes: nodeFiles,
        runs: s.ms.length,
      });
    }
  }
  if (!native.available) notes.push(`native: n/a (${native.reason ?? 'not available'})`);
  printTable(
    'Group 2: cold start, script start to first name (fresh process each time)',
    `median of ${runs} fresh \`node\` processes per row, methods run round robin: the clock from script start (before any import) when the import, the open (or the eager decode) and the first name were done; the eager decode's time over this one; this one over the trivial ES module's; RSS after 1,000 more seeded random names minus the empty script's, and its parts: private (RssAnon, above the empty script's), the pages mapping the artifact (native), and the pages of node's own files (its binary's code, which running the lookups touches; above the empty script's); wall time from spawn to exit. funckey through its main entry point ('funckey'), artifacts built and written before timing`,
    [
      'module',
      'method',
      'backend',
      'imported',
      'opened',
      'first name',
      'vs eager decode',
      'vs trivial ESM',
      'RSS above empty',
      'private',
      'artifact pages',
      "node's files",
      'wall',
    ],
    rows,
    notes,
    3,
  );
  await dwarfCold({ quick, rec, fk, native, runs });
}
