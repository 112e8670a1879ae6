// Group 2: time to first name, in fresh processes. A tool that needs one function name
// either parses the module's `name` section (by hand or with the wasmparser package) or
// opens a funckey artifact built beforehand and looks the name up.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BENCH_DIR,
  fmtBytes,
  fmtNs,
  fmtRatio,
  loadBuildFromWasm,
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
  for (let i = 0; i < m.definedFuncs; i++) b.pushFunc(fk.FuncKey.definedWasmFunction(0, i), { start: m.starts[i], length: m.lengths[i] }, m.filePos[i]);
  for (const [i, name] of m.names) b.setFuncName(0, i, name);
  return { bytes: b.finish(), by: 'the bench\'s own module scan + ArtifactBuilder' };
}

/** The modules of group 2 (and 4): the real one when installed, and the synthetic one. */
export function syntheticModulePath() {
  const path = join(workDir(), 'synthetic-100k.wasm');
  const bytes = encodeSyntheticModule({ imports: 16, defined: 100_000, seed: 1 });
  writeFileSync(path, bytes);
  return { path, bytes, label: 'synthetic, 100,000 functions' };
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
    { id: 'handwritten', label: 'name section -> Map, hand-written decoder', backend: '-' },
    { id: 'wasmparser', label: 'name section -> Map, wasmparser', backend: '-' },
    { id: 'funckey-js', label: 'funckey, sparse name index', backend: 'js', enc: 'sparse' },
    { id: 'funckey-js', label: 'funckey, dense header', backend: 'js', enc: 'dense' },
    { id: 'funckey-native', label: 'funckey, dense header (mmap)', backend: 'native', enc: 'dense' },
    { id: 'import-only', label: 'floor: import funckey, open nothing', backend: '-', floor: true },
    { id: 'empty', label: 'floor: empty script', backend: '-', floor: true },
  ];
  const rows = [];
  const notes = [];
  if (!real) notes.push('real module: n/a (install the @biomejs/wasm-nodejs dev dependency, or set FUNCKEY_BENCH_WASM=path.wasm)');
  for (const mod of modules) {
    const names = decodeNameMap(mod.bytes);
    let count = 0;
    for (const k of names.keys()) if (k >= count) count = k + 1;
    const r = rng(0xf1a57);
    const keys = [...names.keys()];
    const first = keys[Math.floor(r() * keys.length)];
    const expected = names.get(first);
    const files = {};
    let by;
    for (const enc of ['sparse', 'dense']) {
      const a = await artifactFromWasm(fk, mod.bytes, enc);
      by = a.by;
      files[enc] = join(workDir(), `first-name-${mod.kind}-${enc}.fkx`);
      writeFileSync(files[enc], a.bytes);
    }
    notes.push(`${mod.label}: ${fmtBytes(mod.bytes.length)}, ${names.size} names, artifacts built by ${by}, first name looked up: function ${first}`);

    const samples = methods.map(() => ({ ms: [], wall: [], rss: [], sums: new Set() }));
    for (let run = 0; run < runs; run++) {
      // Round robin, so that a change of machine load falls on every method alike.
      for (let mi = 0; mi < methods.length; mi++) {
        const m = methods[mi];
        if (m.backend === 'native' && !native.available) continue;
        const file = m.enc ? files[m.enc] : mod.path;
        const w0 = performance.now();
        const res = spawnSync(process.execPath, [join(BENCH_DIR, 'first-name-child.js'), m.id, file, String(first), String(count), String(run + 1)], {
          encoding: 'utf8',
          cwd: BENCH_DIR,
        });
        const wall = performance.now() - w0;
        if (res.status !== 0) throw new Error(`group 2: ${m.label} failed: ${res.stderr}`);
        const out = JSON.parse(res.stdout.trim().split('\n').pop());
        if (!m.floor && out.name !== expected) throw new Error(`group 2: ${m.label} found ${JSON.stringify(out.name)} for function ${first}, expected ${JSON.stringify(expected)}`);
        const s = samples[mi];
        s.ms.push(out.ms * 1e6);
        s.wall.push(wall * 1e6);
        s.rss.push(out.rss1 - out.rss0);
        if (!m.floor) s.sums.add(`${run}:${out.sum}`);
      }
    }
    // Every method saw the same 1,000 random names in each run.
    const sumsByRun = new Map();
    for (const s of samples)
      for (const x of s.sums) {
        const [run, v] = x.split(':');
        if (sumsByRun.has(run) && sumsByRun.get(run) !== v) throw new Error('group 2: methods disagree on the random lookups');
        sumsByRun.set(run, v);
      }

    const base = median(samples[0].ms);
    for (let mi = 0; mi < methods.length; mi++) {
      const m = methods[mi];
      const s = samples[mi];
      if (s.ms.length === 0) {
        rows.push([mod.kind, m.label, m.backend, 'n/a', 'n/a', 'n/a', 'n/a']);
        continue;
      }
      const med = median(s.ms);
      const wall = median(s.wall);
      const rss = median(s.rss);
      rows.push([mod.kind, m.label, m.backend, fmtNs(med), fmtNs(wall), mi === 0 ? 'baseline' : fmtRatio(med / base), fmtBytes(rss)]);
      rec.add({
        group: 2,
        case: `${mod.label}: ${m.label}`,
        backend: m.backend,
        n: names.size,
        median_ns: med,
        ratio: med / base,
        baseline: `${mod.label}: ${methods[0].label}`,
        wall_median_ns: wall,
        rss_grown_bytes: rss,
        runs: s.ms.length,
      });
    }
  }
  if (!native.available) notes.push(`native: n/a (${native.reason ?? 'not available'})`);
  printTable(
    'Group 2: time to first name (fresh process each time)',
    `median of ${runs} fresh \`node\` processes per row, methods run round robin: in-process time from script start (before any import) to the first name, wall time from spawn to exit, RSS after 1,000 seeded random name lookups minus RSS at script start; artifacts built and written before timing`,
    ['module', 'method', 'backend', 'to first name', 'wall', 'vs hand-written', 'RSS grown'],
    rows,
    notes,
    3,
  );
}
