// npm run bench [-- --quick] [--group N[,M]] [--json out.json]
// The groups of GROUPS below, each printing its tables measured in this run; see bench/README.md.
// Each group runs in its own `node` process (this script with --child), so that one group's
// JIT state (e.g. call sites made polymorphic by the other backend) and heap do not leak
// into the next; the parent collects the records. Neither outlives the process that started
// it (a parent killed, e.g. by a test's timeout, would otherwise leave a group running, and
// loading the machine, for minutes): each checks every second that its parent is still there.
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Recorder, nativeInfo, parseArgs, removeWorkDir, workDir } from './lib/common.js';

/**
 * The groups: number (what --group and the records' `group` field use) -> the module that
 * measures it and the function it exports, called as fn({ quick, rec }).
 */
const GROUPS = new Map([
  [1, { file: './lazy-init.js', fn: 'group1', what: 'lazy init (1a) and sparse against dense lookups (1b)' }],
  [2, { file: './cold-start.js', fn: 'group2', what: 'cold start: script start to first name, and RSS' }],
  [3, { file: './throughput.js', fn: 'group3', what: 'lookup throughput, per call and batch' }],
  [4, { file: './size.js', fn: 'group4', what: 'table and name index size, build time' }],
  [5, { file: './func-by-offset.js', fn: 'group5', what: 'funcByOffset across shapes and sizes' }],
  [6, { file: './symbolicate-throughput.js', fn: 'group6', what: 'symbolicate throughput against a line split' }],
  [7, { file: './dwarf.js', fn: 'group7', what: 'source locations from DWARF against llvm-14 tools' }],
  [8, { file: './demangle.js', fn: 'group8', what: 'demangling in Wasmtime frames: per name, and in symbolicate' }],
]);

/** The function that runs group g. */
async function loadGroup(g) {
  const entry = GROUPS.get(g);
  if (entry === undefined) throw new Error(`no group ${g} (groups: ${[...GROUPS.keys()].join(', ')})`);
  return (await import(entry.file))[entry.fn];
}

const HELP = `usage: node bench/run.js [--quick] [--group N[,M...]] [--json FILE]
  --quick     small sizes and few iterations
  --group N   run only group N:
${[...GROUPS].map(([g, e]) => `                ${g}  ${e.what} (bench/${e.file.slice(2)})`).join('\n')}
  --json F    write one record per measurement to F`;

/** Calls gone() once the process that started this one has exited (this one then has another parent). */
function watchParent(gone) {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) gone();
  }, 1000).unref();
}

const argv = process.argv.slice(2);
const childAt = argv.indexOf('--child');
if (childAt >= 0) {
  // One group in this process: --child GROUP RECORDS_FILE --parent PID [--quick]
  const group = Number(argv[childAt + 1]);
  const out = argv[childAt + 2];
  // The runner's pid comes from the runner: a runner killed while this process was still
  // starting would otherwise leave it with its new parent as the one to watch.
  const parent = Number(argv[argv.indexOf('--parent') + 1]);
  const dirs = [dirname(out)];
  if (process.ppid !== parent) {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  }
  dirs.push(workDir());
  // A group never yields to the event loop while it measures (its awaits resolve at once), so
  // a timer here would not run until the group ends: the check runs in a worker thread, which,
  // when the parent is gone, removes the group's scratch directory and the parent's directory
  // of records (a parent killed outright cannot) and ends the process.
  new Worker(
    `const { workerData: w } = require('node:worker_threads');
     const { rmSync } = require('node:fs');
     setInterval(() => {
       if (process.ppid === w.parent) return;
       for (const dir of w.dirs) rmSync(dir, { recursive: true, force: true });
       process.kill(process.pid, 'SIGKILL');
     }, 1000);`,
    { eval: true, workerData: { parent, dirs } },
  ).unref();
  const quick = argv.includes('--quick');
  const rec = new Recorder();
  const run = await loadGroup(group);
  try {
    await run({ quick, rec });
  } finally {
    removeWorkDir();
  }
  writeFileSync(out, JSON.stringify(rec.records));
  process.exit(0);
}

const opts = parseArgs(argv, [...GROUPS.keys()]);
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
// Gone or told to stop: exit. The group's process sees that its parent is gone, cleans up
// after both and ends within a second.
const leave = () => {
  rmSync(tmp, { recursive: true, force: true });
  process.exit(1);
};
watchParent(leave);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, leave);
/** Runs one group in its own process, its output inherited: { status, signal }. */
const runChild = (args) =>
  new Promise((resolve) => {
    spawn(process.execPath, args, { stdio: 'inherit' }).on('exit', (status, signal) => resolve({ status, signal }));
  });
try {
  for (const g of opts.groups) {
    console.log(`\n(load average before group ${g}: ${loadavg()})`);
    const file = join(tmp, `group${g}.json`);
    const args = [fileURLToPath(import.meta.url), '--child', String(g), file, '--parent', String(process.pid)];
    if (opts.quick) args.push('--quick');
    const res = await runChild(args);
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
  writeFileSync(
    opts.json,
    JSON.stringify(
      { quick: opts.quick, node: process.version, date: new Date().toISOString(), native: native.available, records },
      null,
      1,
    ) + '\n',
  );
  console.log(`wrote ${records.length} records to ${opts.json}`);
}
process.exit(failed ? 1 : 0);
