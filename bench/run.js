// npm run bench [-- --quick] [--group N[,M]] [--json out.json]
// Five groups, each printing its tables measured in this run; see bench/README.md.
// Each group runs in its own `node` process (this script with --child), so that one group's
// JIT state (e.g. call sites made polymorphic by the other backend) and heap do not leak
// into the next; the parent collects the records.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Recorder, nativeInfo, parseArgs, removeWorkDir } from './lib/common.js';

const HELP = `usage: node bench/run.js [--quick] [--group N[,M...]] [--json FILE]
  --quick     small sizes and few iterations (every group, well under two minutes)
  --group N   run only group N (1 lazy init: 1a the lookups of a lazy initialisation,
              1b sparse against dense lookups and table size across densities; 2 time to
              first name; 3 throughput; 4 size; 5 funcByOffset across shapes and sizes)
  --json F    write one record per measurement to F`;

const argv = process.argv.slice(2);
const childAt = argv.indexOf('--child');
if (childAt >= 0) {
  // One group in this process: --child GROUP RECORDS_FILE [--quick]
  const group = Number(argv[childAt + 1]);
  const out = argv[childAt + 2];
  const quick = argv.includes('--quick');
  const rec = new Recorder();
  const groups = {
    1: async () => (await import('./group1-lazy-init.js')).group1,
    2: async () => (await import('./group2-first-name.js')).group2,
    3: async () => (await import('./group3-throughput.js')).group3,
    4: async () => (await import('./group4-size.js')).group4,
    5: async () => (await import('./group5-shapes.js')).group5,
  };
  try {
    const run = await groups[group]();
    await run({ quick, rec });
  } finally {
    removeWorkDir();
  }
  writeFileSync(out, JSON.stringify(rec.records));
  process.exit(0);
}

const opts = parseArgs(argv);
if (opts.help) {
  console.log(HELP);
  process.exit(0);
}

const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const native = await nativeInfo();
const t0 = performance.now();
console.log(`# funckey benchmarks (${opts.quick ? 'quick' : 'full'} mode)`);
console.log(
  `node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()}, native backend: ${native.available ? 'available' : `n/a (${native.reason ?? 'not available'})`}, ${new Date().toISOString()}`,
);

const records = [];
const tmp = mkdtempSync(join(os.tmpdir(), 'funckey-bench-records-'));
let failed = false;
try {
  for (const g of opts.groups) {
    console.log(`\n(load average before group ${g}: ${loadavg()})`);
    const file = join(tmp, `group${g}.json`);
    const args = [fileURLToPath(import.meta.url), '--child', String(g), file];
    if (opts.quick) args.push('--quick');
    const res = spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (res.status !== 0) {
      console.error(`group ${g} failed (exit ${res.status ?? res.signal})`);
      failed = true;
      continue;
    }
    records.push(...JSON.parse(readFileSync(file, 'utf8')));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`\n(${((performance.now() - t0) / 1000).toFixed(1)} s; load average at the end: ${loadavg()})`);
if (opts.json) {
  writeFileSync(opts.json, JSON.stringify({ quick: opts.quick, node: process.version, date: new Date().toISOString(), native: native.available, records }, null, 1) + '\n');
  console.log(`wrote ${records.length} records to ${opts.json}`);
}
process.exit(failed ? 1 : 0);
