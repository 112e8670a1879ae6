// Shared helpers of the benchmarks: seeded random numbers (rand.js), measurement through mitata,
// result records, tables, and discovery of the optional parts (native backend, wasm reader,
// real module) so that a missing part shows as "n/a" instead of failing.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { measure, do_not_optimize } from 'mitata';

export { rng, shuffle } from './rand.js';

export { do_not_optimize };

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const ROOT = dirname(BENCH_DIR);
let scratch;
/** A directory of this run for scratch files (artifacts, synthetic modules), removed by removeWorkDir(). */
export function workDir() {
  scratch ??= mkdtempSync(join(tmpdir(), 'funckey-bench-run-'));
  return scratch;
}

export function removeWorkDir() {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

let freshCount = 0;
/**
 * A fresh copy of a pass factory, compiled from its source with its own feedback in V8, so
 * that no measurement runs code another one made polymorphic or deoptimised (the js and
 * native cores through one call site, say). The factory must use nothing but its arguments.
 * Each copy's source is made unique: V8 caches the compilation of identical `new Function`
 * sources, so copies of one source share a SharedFunctionInfo and its feedback cell, and
 * then the first pass created runs faster than the later ones through the same code.
 */
export function fresh(factory) {
  return new Function(`return (${factory.toString()}); // copy ${freshCount++}`)();
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * Whether a section belongs to the FuncKey table: every `.fk.*` section but the info header
 * and the names (`.fk.name_index`, `.fk.names`). A rule rather than a list, so that the
 * tables of every format version count in full (format 2 added `.fk.bitmap_starts`,
 * `.fk.sparse_bitmaps` and `.fk.offset_index` to the seven of format 1).
 */
export function isTableSection(name) {
  return name.startsWith('.fk.') && name !== '.fk.info' && name !== '.fk.name_index' && name !== '.fk.names';
}

/** Bytes of the FuncKey table of an artifact, from its description (`describe().sections`). */
export function tableBytes(desc) {
  return desc.sections.filter((s) => isTableSection(s.name)).reduce((a, s) => a + s.size, 0);
}

/**
 * The table sections that are neither the namespace directory, the locations nor the offset
 * index: the sparse namespaces' indices, whatever their encoding (format 2: sorted runs and
 * rank bitmaps with their starts), again by rule so that a later format's sections count.
 */
const NOT_SPARSE_INDEX = new Set([
  '.fk.namespaces',
  '.fk.func_loc_starts',
  '.fk.src_loc_starts',
  '.fk.func_locs',
  '.fk.src_locs',
  '.fk.offset_index',
]);
export function isSparseIndexSection(name) {
  return isTableSection(name) && !NOT_SPARSE_INDEX.has(name);
}

/** Bytes of the sparse namespaces' indices of an artifact, from its description. */
export function sparseIndexBytes(desc) {
  return desc.sections.filter((s) => isSparseIndexSection(s.name)).reduce((a, s) => a + s.size, 0);
}

// ---- options ----

/** The runner's options; `groups` lists the group numbers there are (the default: all). */
export function parseArgs(argv, groups) {
  const opts = { quick: false, json: undefined, groups: [...groups] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--full') opts.quick = false;
    else if (a === '--json') opts.json = argv[++i];
    else if (a.startsWith('--json=')) opts.json = a.slice(7);
    else if (a === '--group') opts.groups = String(argv[++i]).split(',').map(Number);
    else if (a.startsWith('--group=')) opts.groups = a.slice(8).split(',').map(Number);
    else if (a === '--help' || a === '-h') opts.help = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (opts.json === '') throw new Error('--json needs a file name');
  for (const g of opts.groups)
    if (!groups.includes(g)) throw new Error(`--group takes one of ${groups.join(', ')}, got ${g}`);
  return opts;
}

// ---- measurement ----

/**
 * Median time of one call of `fn` in ns, by mitata's measure() (warm-up, batching of fast
 * calls, at least `minSamples` samples and `minCpuMs` of samples). `perCall` divides the
 * result, for functions that do that many lookups per call.
 */
export async function timeIt(fn, { quick, perCall = 1, minCpuMs } = {}) {
  const stats = await measure(fn, {
    min_cpu_time: (minCpuMs ?? (quick ? 60 : 640)) * 1e6,
    min_samples: quick ? 6 : 12,
  });
  return {
    median: stats.p50 / perCall,
    p25: stats.p25 / perCall,
    p75: stats.p75 / perCall,
    samples: stats.samples.length,
  };
}

/**
 * Several functions timed round robin: `rounds` rounds, each measuring every function in
 * turn with mitata for `minCpuMs` ms. On a machine whose speed drifts over seconds, functions
 * timed one after the other for longer stretches compare badly (an identical lookup timed
 * twice can differ by more than the effect measured); in round robin the drift falls on all
 * of them alike, and a ratio is taken within each round. Returns, per function, the median
 * over rounds of each round's median (and the quartiles of those), per lookup (perCall[j]
 * lookups per call of fns[j]); and ratio(a, b), the median over rounds of a's time over b's.
 */
export async function timeRoundRobin(fns, { quick, perCall, rounds, minCpuMs }) {
  const per = fns.map(() => []);
  for (let r = 0; r < rounds; r++)
    for (let j = 0; j < fns.length; j++) {
      const stats = await measure(fns[j], { min_cpu_time: minCpuMs * 1e6, min_samples: quick ? 4 : 8 });
      per[j].push(stats.p50 / perCall[j]);
    }
  const q = (xs, f) => {
    const a = [...xs].sort((x, y) => x - y);
    const i = (a.length - 1) * f;
    return a[Math.floor(i)] + (a[Math.ceil(i)] - a[Math.floor(i)]) * (i - Math.floor(i));
  };
  return {
    times: per.map((xs) => ({ median: median(xs), p25: q(xs, 0.25), p75: q(xs, 0.75), samples: xs.length })),
    ratio: (a, b) => median(per[a].map((x, r) => x / per[b][r])),
  };
}

// ---- records and tables ----

export class Recorder {
  constructor() {
    this.records = [];
  }
  /** One measurement: {group, case, backend, n, median_ns, ratio, baseline, ...extra}. */
  add(rec) {
    this.records.push({ unit: 'ns', ...rec });
  }
}

export function fmtNs(ns) {
  if (ns === undefined || ns === null || !Number.isFinite(ns)) return 'n/a';
  if (ns < 10) return `${ns.toFixed(2)} ns`;
  if (ns < 1e3) return `${ns.toFixed(1)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 2 : 1)} us`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

export function fmtRatio(r) {
  if (r === undefined || r === null || !Number.isFinite(r)) return 'n/a';
  return `${r < 10 ? r.toFixed(2) : r.toFixed(1)}x`;
}

export function fmtBytes(b) {
  if (b === undefined || b === null || !Number.isFinite(b)) return 'n/a';
  const sign = b < 0 ? '-' : '';
  const a = Math.abs(b);
  if (a < 1024) return `${sign}${a.toFixed(0)} B`;
  if (a < 1024 * 1024) return `${sign}${(a / 1024).toFixed(1)} KiB`;
  return `${sign}${(a / 1024 / 1024).toFixed(1)} MiB`;
}

export function fmtCount(n) {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / 1024 / 1024}Mi`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}Ki`;
  return String(n);
}

/** Prints a title, the method line and an aligned table (the first `left` columns left-aligned, the others right). */
export function printTable(title, method, header, rows, notes = [], left = 1) {
  const all = [header, ...rows].map((r) => r.map((c) => String(c)));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r) => r.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [];
  out.push('', `## ${title}`, `method: ${method}`, '');
  out.push(line(all[0]));
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of all.slice(1)) out.push(line(r));
  for (const n of notes) out.push(n);
  console.log(out.join('\n'));
}

// ---- optional parts ----

let funckeyPromise;
/**
 * The package as built by tsc (dist/), plus the internal cores (JsCore, openNativeCore) for
 * table-only timings. FUNCKEY_BENCH_ROOT=<package dir> loads another checkout's build instead
 * (bench/tools/compare-formats.js measures two checkouts with the same benchmark code).
 */
export function loadFunckey() {
  funckeyPromise ??= (async () => {
    const root = process.env.FUNCKEY_BENCH_ROOT;
    const dist = root ? pathToFileURL(join(root, 'dist') + '/').href : new URL('../../dist/', import.meta.url).href;
    const index = await import(dist + 'index.js');
    let JsCore;
    let openNativeCore;
    try {
      ({ JsCore } = await import(dist + 'reader.js'));
    } catch {
      JsCore = undefined;
    }
    try {
      ({ openNativeCore } = await import(dist + 'native.js'));
    } catch {
      openNativeCore = undefined;
    }
    return { ...index, JsCore, openNativeCore };
  })();
  return funckeyPromise;
}

/** { available, reason } of the native backend in this process. */
export async function nativeInfo() {
  const fk = await loadFunckey();
  try {
    const s = fk.nativeStatus();
    return { available: !!s.available, reason: s.reason };
  } catch (e) {
    return { available: false, reason: String(e?.message ?? e) };
  }
}

async function findExport(name) {
  const fk = await loadFunckey();
  if (typeof fk[name] === 'function') return fk[name];
  for (const p of ['../../dist/build.js', '../../dist/wasm.js']) {
    if (!existsSync(fileURLToPath(new URL(p, import.meta.url)))) continue;
    try {
      const m = await import(p);
      if (typeof m[name] === 'function') return m[name];
    } catch {
      // not built yet or broken: treated as absent
    }
  }
  return undefined;
}

/** builderFromWasm(bytes) (read the module, fill a builder, no finish), when it exists. */
export async function loadBuilderFromWasm() {
  return findExport('builderFromWasm');
}

/**
 * The wasm reader's builder, when the build measured has one: a function (bytes, options) that returns
 * the artifact's bytes, whatever shape the module exports (bytes, or a builder to finish).
 */
export async function loadBuildFromWasm() {
  const f = await findExport('buildFromWasm');
  if (f === undefined) return undefined;
  return (bytes, options) => {
    const r = options === undefined ? f(bytes) : f(bytes, options);
    if (r instanceof Uint8Array) return r;
    if (r && typeof r.finish === 'function') return r.finish();
    if (r && r.bytes instanceof Uint8Array) return r.bytes;
    throw new Error('buildFromWasm returned neither bytes nor a builder');
  };
}

/**
 * The real module with a large name section: $FUNCKEY_BENCH_WASM, else Biome's
 * biome_wasm_bg.wasm (dev dependency @biomejs/wasm-nodejs: 45 MB, a 7 MB name section of
 * about 36,000 functions). { path, label } or undefined when neither is there.
 */
export function realModule() {
  const env = process.env.FUNCKEY_BENCH_WASM;
  if (env) return existsSync(env) ? { path: env, label: basename(env) } : undefined;
  const pkgDir = join(ROOT, 'node_modules', '@biomejs', 'wasm-nodejs');
  const p = join(pkgDir, 'biome_wasm_bg.wasm');
  if (!existsSync(p)) return undefined;
  let version = '';
  try {
    version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
  } catch {
    // no version known
  }
  return { path: p, label: `biome_wasm_bg.wasm (@biomejs/wasm-nodejs${version ? ' ' + version : ''})` };
}
