// node bench/tools/compare-formats.js --before DIR [--after DIR] [--groups 1,3,5] [--quick] [--json F] [--verbose]
//
// Runs the same benchmark groups (this checkout's bench code) against two builds of funckey,
// e.g. a checkout of the previous format version (--before) and this one (--after, default
// this checkout), one group at a time and alternating, and prints one table per group: the
// median of every measurement before and after, and their ratio (and the sizes of the size
// records, group 1b's table bytes). The default groups are 1 (1a: a lazy initialisation's
// lookups; 1b: sparse against dense lookups across densities), 3 (throughput) and 5
// (funcByOffset), the ones a change of the table's format moves. Each DIR must be a package
// checkout with dist/ built (npm install, or npx tsc) and, for native rows, its addon built.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtNs, fmtRatio, printTable } from '../lib/common.js';

const bench = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = { groups: [1, 3, 5], quick: false, after: resolve(bench, '..'), verbose: false };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--before') opt.before = resolve(args[++i]);
  else if (a === '--after') opt.after = resolve(args[++i]);
  else if (a === '--groups') opt.groups = args[++i].split(',').map(Number);
  else if (a === '--quick') opt.quick = true;
  else if (a === '--json') opt.json = args[++i];
  else if (a === '--verbose') opt.verbose = true;
  else {
    console.error(
      `unknown option ${a}\nusage: node bench/tools/compare-formats.js --before DIR [--after DIR] [--groups 1,3,5] [--quick] [--json F]`,
    );
    process.exit(2);
  }
}
if (!opt.before) {
  console.error('--before DIR is required');
  process.exit(2);
}

const tmp = mkdtempSync(join(os.tmpdir(), 'funckey-compare-'));
const runGroup = (root, g, tag) => {
  const file = join(tmp, `${tag}-${g}.json`);
  const childArgs = [join(bench, 'run.js'), '--child', String(g), file, '--parent', String(process.pid)];
  if (opt.quick) childArgs.push('--quick');
  const res = spawnSync(process.execPath, childArgs, {
    env: { ...process.env, FUNCKEY_BENCH_ROOT: root },
    stdio: opt.verbose ? 'inherit' : ['ignore', 'ignore', 'inherit'],
  });
  if (res.status !== 0) throw new Error(`group ${g} against ${root} failed (exit ${res.status ?? res.signal})`);
  return JSON.parse(readFileSync(file, 'utf8'));
};

const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
console.log(`# funckey: before ${opt.before} / after ${opt.after} (${opt.quick ? 'quick' : 'full'} mode)`);
console.log(
  `node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()}, ${new Date().toISOString()}`,
);
const all = [];
try {
  for (const g of opt.groups) {
    const before = runGroup(opt.before, g, 'before');
    const after = runGroup(opt.after, g, 'after');
    const key = (r) => `${r.case}\u0000${r.backend}\u0000${r.n}`;
    const byKey = new Map(before.filter((r) => Number.isFinite(r.median_ns)).map((r) => [key(r), r]));
    const rows = [];
    for (const a of after) {
      if (!Number.isFinite(a.median_ns)) continue;
      const b = byKey.get(key(a));
      if (!b) continue;
      rows.push([
        a.case,
        a.backend,
        String(a.n),
        fmtNs(b.median_ns),
        fmtNs(a.median_ns),
        fmtRatio(a.median_ns / b.median_ns),
      ]);
      all.push({
        group: g,
        case: a.case,
        backend: a.backend,
        n: a.n,
        before_ns: b.median_ns,
        after_ns: a.median_ns,
        ratio: a.median_ns / b.median_ns,
      });
    }
    // Size records (group 1b's table bytes): bytes per function before and after.
    const sizeKey = (r) => `${r.case}\u0000${r.backend}\u0000${r.n}`;
    const sizesBefore = new Map(
      before.filter((r) => r.unit === 'bytes' && Number.isFinite(r.bytes)).map((r) => [sizeKey(r), r]),
    );
    const sizeRows = [];
    for (const a of after) {
      if (a.unit !== 'bytes' || !Number.isFinite(a.bytes)) continue;
      const b = sizesBefore.get(sizeKey(a));
      if (!b) continue;
      const enc = (r) => (r.encoding ? ` (${r.encoding})` : '');
      sizeRows.push([
        a.case,
        String(a.n),
        `${(b.bytes / b.n).toFixed(2)}${enc(b)}`,
        `${(a.bytes / a.n).toFixed(2)}${enc(a)}`,
        fmtRatio(a.bytes / b.bytes),
      ]);
      all.push({
        group: g,
        case: a.case,
        backend: a.backend,
        n: a.n,
        unit: 'bytes',
        before_bytes: b.bytes,
        after_bytes: a.bytes,
        ratio: a.bytes / b.bytes,
      });
    }
    printTable(
      `Group ${g}: before and after`,
      `the medians of group ${g} (see bench/README.md) measured against each build in turn, in this run; after/before below 1 is faster`,
      ['case', 'backend', 'n', 'before', 'after', 'after/before'],
      rows,
      [],
      2,
    );
    if (sizeRows.length > 0)
      printTable(
        `Group ${g}: sizes before and after`,
        'bytes per function of the size records of this group (with the sparse encoding), from each build; after/before below 1 is smaller',
        ['case', 'n', 'before B/func', 'after B/func', 'after/before'],
        sizeRows,
        [],
        1,
      );
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`\n(load average at the end: ${loadavg()})`);
if (opt.json)
  writeFileSync(
    opt.json,
    JSON.stringify(
      { before: opt.before, after: opt.after, quick: opt.quick, date: new Date().toISOString(), records: all },
      null,
      1,
    ) + '\n',
  );
