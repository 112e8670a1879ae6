// Group 7: source locations from DWARF, side by side with LLVM's tools on the same module.
//   build:  funckey's DWARF reading (lib/dwarf: every unit, line table and inline chain into
//           the table of source-location rows) and its encoding, against `llvm-dwarfdump-14 --debug-line`
//           (which decodes the line tables only) writing to /dev/null, both wall time;
//   lookup: the whole inline chain of one address through the public API of the opened
//           artifact (artifact.srcLocs per call, artifact.srcLocsByOffsets in batches of
//           1,024), each backend (lib/srclocs.ts, native/srclocs.cc), against
//           `llvm-symbolizer-14 --inlines` in its stdin batch mode (wall time of the batch
//           over the same addresses, less the time of an empty batch, per address);
//   size:   the encoded tables' bytes against the .debug_line + .debug_info bytes they
//           stand in for.
// The module: the generated one of `scripts/make-dwarf-fixtures.sh --large` (20,000 C
// functions, more than 1 MB of .debug_line; built once into the system's temp directory and
// kept there), or FUNCKEY_DWARF_MODULE=<file.wasm>; in --quick mode the committed fixture
// test/fixtures/dwarf/rust-O0.wasm. The cold start (a fresh process opening an artifact to
// its first file:line) needs the artifact sections that carry the tables.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  do_not_optimize,
  fmtBytes,
  fmtNs,
  fmtRatio,
  printTable,
  removeWorkDir,
  rng,
  ROOT,
  timeIt,
  workDir,
} from './lib/common.js';

const SCRIPT = join(ROOT, 'scripts', 'make-dwarf-fixtures.sh');

function has(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The benchmark's module: its path and how it was made. */
function benchModule(quick) {
  if (process.env.FUNCKEY_DWARF_MODULE) return { path: process.env.FUNCKEY_DWARF_MODULE, what: 'FUNCKEY_DWARF_MODULE' };
  if (quick)
    return { path: join(ROOT, 'test', 'fixtures', 'dwarf', 'rust-O0.wasm'), what: 'fixture rust-O0.wasm (quick mode)' };
  const n = 20000;
  const key = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'funckey-dwarf-bench');
  const path = join(dir, `large-${n}-${key}.wasm`);
  if (!existsSync(path)) {
    if (!has('clang-14')) return undefined;
    mkdirSync(dir, { recursive: true });
    console.log(`(building ${path} with scripts/make-dwarf-fixtures.sh --large; a few minutes, once)`);
    execFileSync('bash', [SCRIPT, '--large', path + '.tmp', String(n)], { stdio: 'inherit' });
    execFileSync('mv', [path + '.tmp', path]);
  }
  return { path, what: `scripts/make-dwarf-fixtures.sh --large (${n} functions)` };
}

/** Median wall time in ns of running a command `runs` times (output discarded). */
function wall(cmd, args, input, runs) {
  const t = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    const r = spawnSync(cmd, args, { input, stdio: ['pipe', 'ignore', 'ignore'], maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
    t.push((performance.now() - s) * 1e6);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

function encodedBytes(e) {
  return e.blocks.byteLength + e.pieces.length + e.frames.byteLength + e.strings.byteLength + e.stringBytes.length;
}

export async function group7({ quick, rec }) {
  const dist = pathToFileURL(join(ROOT, 'dist', 'dwarf', 'index.js')).href;
  const { readSrcLocs, findDebugSections } = await import(dist);
  const { encodeSrcLocs } = await import(pathToFileURL(join(ROOT, 'dist', 'dwarf', 'encode.js')).href);
  const mod = benchModule(quick);
  const llvm = has('llvm-symbolizer-14') && has('llvm-dwarfdump-14');
  if (mod === undefined) {
    console.log(
      '\n## group 7: DWARF\n(skipped: clang-14 is needed to build the module; apt-get install clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32)',
    );
    return;
  }
  const bytes = new Uint8Array(readFileSync(mod.path));
  const found = findDebugSections(bytes);
  const size = (s) => s?.length ?? 0;
  const lineInfo = size(found.sections.line) + size(found.sections.info);
  const runs = quick ? 3 : 7;

  // Build.
  const build = await timeIt(() => do_not_optimize(encodeSrcLocs([{ base: 0, table: readSrcLocs(bytes) }])), {
    quick,
    minCpuMs: quick ? 200 : 3000,
  });
  const t = readSrcLocs(bytes);
  const enc = encodeSrcLocs([{ base: 0, table: t }]);
  const dump = llvm ? wall('llvm-dwarfdump-14', ['--debug-line', mod.path], undefined, runs) : undefined;
  // Without llvm-14 a funckey record is its own baseline (ratio 1).
  const BUILD = 'build: source-location table';
  rec.add({
    group: 7,
    case: BUILD,
    backend: 'js',
    n: bytes.length,
    median_ns: build.median,
    ratio: dump === undefined ? 1 : build.median / dump,
    baseline: dump === undefined ? BUILD : 'build: llvm-dwarfdump-14 --debug-line',
  });
  if (dump !== undefined)
    rec.add({
      group: 7,
      case: 'build: llvm-dwarfdump-14 --debug-line',
      backend: 'llvm',
      n: bytes.length,
      median_ns: dump,
      ratio: 1,
      baseline: 'build: llvm-dwarfdump-14 --debug-line',
    });

  // Lookups: addresses spread over the code, the same for every reader; through the public
  // API of an opened artifact (the module's own artifact, written to a file), per call and
  // in batches.
  const r = rng(7);
  const count = 20000;
  const addrs = Uint32Array.from({ length: count }, () => Math.floor(r() * t.codeSize));
  const offsets = addrs.map((a) => a + t.codeStart);
  const { buildFromWasm, open } = await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href);
  const artifactPath = join(workDir(), 'dwarf-bench.fkx');
  writeFileSync(artifactPath, buildFromWasm(bytes));
  const BATCH = 1024;
  const api = {};
  for (const backend of ['js', 'native']) {
    let a;
    try {
      a = open(artifactPath, { backend });
    } catch {
      continue; // no addon: the native rows are n/a
    }
    let k = 0,
      q = 0;
    const one = await timeIt(() => do_not_optimize(a.srcLocs(offsets[k++ % count])), { quick });
    const batches = Array.from({ length: count / BATCH }, (_, i) => offsets.subarray(i * BATCH, (i + 1) * BATCH));
    const batch = await timeIt(() => do_not_optimize(a.srcLocsByOffsets(batches[q++ % batches.length])), {
      quick,
      perCall: BATCH,
    });
    api[backend] = { one, batch };
    a.close();
  }
  removeWorkDir();
  let sym;
  if (llvm) {
    const input = Array.from(addrs, (a) => '0x' + a.toString(16)).join('\n') + '\n';
    const batch = wall('llvm-symbolizer-14', ['--inlines', `--obj=${mod.path}`], input, runs);
    const empty = wall('llvm-symbolizer-14', ['--inlines', `--obj=${mod.path}`], '0x0\n', runs);
    if (batch > empty) sym = (batch - empty) / count;
  }
  const SYM = 'lookup: llvm-symbolizer-14 --inlines batch';
  const LOOKUPS = {
    one: 'lookup: whole chain, artifact.srcLocs per call',
    batch: 'lookup: whole chain, artifact.srcLocsByOffsets (batches of 1,024), per address',
  };
  for (const [backend, m] of Object.entries(api))
    for (const [what, name] of Object.entries(LOOKUPS))
      rec.add({
        group: 7,
        case: name,
        backend,
        n: count,
        median_ns: m[what].median,
        ratio: sym === undefined ? 1 : m[what].median / sym,
        baseline: sym === undefined ? name : SYM,
      });
  if (sym !== undefined)
    rec.add({
      group: 7,
      case: 'lookup: llvm-symbolizer-14 --inlines batch',
      backend: 'llvm',
      n: count,
      median_ns: sym,
      ratio: 1,
      baseline: 'lookup: llvm-symbolizer-14 --inlines batch',
    });

  const tb = encodedBytes(enc);
  rec.add({
    group: 7,
    case: 'size: .debug_line + .debug_info',
    backend: '-',
    n: bytes.length,
    median_ns: null,
    unit: 'bytes',
    bytes: lineInfo,
    ratio: 1,
    baseline: 'size: .debug_line + .debug_info',
  });
  rec.add({
    group: 7,
    case: 'size: source-location tables',
    backend: '-',
    n: bytes.length,
    median_ns: null,
    unit: 'bytes',
    bytes: tb,
    ratio: tb / lineInfo,
    baseline: 'size: .debug_line + .debug_info',
  });

  printTable(
    `group 7: DWARF source locations (${mod.what}: ${fmtBytes(bytes.length)}, .debug_line ${fmtBytes(size(found.sections.line))}, .debug_info ${fmtBytes(size(found.sections.info))})`,
    `mitata medians in this process; llvm tools: median wall time of ${runs} runs (lookup: a batch of ${count} addresses less an empty batch, per address)`,
    ['what', 'funckey', 'llvm-14', 'funckey / llvm'],
    [
      [
        'build (all of the DWARF) vs llvm-dwarfdump --debug-line',
        fmtNs(build.median),
        fmtNs(dump),
        fmtRatio(dump === undefined ? undefined : build.median / dump),
      ],
      ...Object.entries(api).flatMap(([backend, m]) =>
        [
          ['one', 'srcLocs per call'],
          ['batch', 'srcLocsByOffsets, per address'],
        ].map(([what, label]) => [
          `lookup, whole chain, ${label} (${backend}) vs llvm-symbolizer batch`,
          fmtNs(m[what].median),
          fmtNs(sym),
          fmtRatio(sym === undefined ? undefined : m[what].median / sym),
        ]),
      ),
      ['size vs .debug_line + .debug_info', fmtBytes(tb), fmtBytes(lineInfo), fmtRatio(tb / lineInfo)],
    ],
    [
      `tables: ${t.starts.length} pieces in ${enc.blocks.length / 2} blocks (${fmtBytes(enc.pieces.length)}), frames inlined into ${fmtBytes(enc.frames.length)}, ${Math.max(0, enc.strings.length - 1)} strings (${fmtBytes(enc.stringBytes.length + enc.strings.byteLength)})`,
      llvm ? '' : '(llvm-14 not installed: its columns are n/a)',
    ].filter(Boolean),
  );
}

// Run alone: node bench/dwarf.js [--quick]
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const records = [];
  await group7({ quick: process.argv.includes('--quick'), rec: { add: (x) => records.push({ unit: 'ns', ...x }) } });
  if (process.argv.includes('--json'))
    writeFileSync(process.argv[process.argv.indexOf('--json') + 1], JSON.stringify(records));
}
