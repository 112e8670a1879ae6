// npm run bench [-- --quick] [--group N[,M]] [--json out.json]
// Four groups, each printing one table measured in this run; see bench/README.md.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { Recorder, nativeInfo, parseArgs, removeWorkDir } from './lib/common.js';

const HELP = `usage: node bench/run.js [--quick] [--group N[,M...]] [--json FILE]
  --quick     small sizes and few iterations (every group, well under two minutes)
  --group N   run only group N (1 lazy init, 2 time to first name, 3 throughput, 4 size)
  --json F    write one record per measurement to F`;

const opts = parseArgs(process.argv.slice(2));
if (opts.help) {
  console.log(HELP);
  process.exit(0);
}

const rec = new Recorder();
const native = await nativeInfo();
const t0 = performance.now();
console.log(`# funckey benchmarks (${opts.quick ? 'quick' : 'full'} mode)`);
console.log(
  `node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}, native backend: ${native.available ? 'available' : `n/a (${native.reason ?? 'not available'})`}, ${new Date().toISOString()}`,
);

const groups = {
  1: async () => (await import('./group1-lazy-init.js')).group1,
  2: async () => (await import('./group2-first-name.js')).group2,
  3: async () => (await import('./group3-throughput.js')).group3,
  4: async () => (await import('./group4-size.js')).group4,
};
try {
  for (const g of opts.groups) {
    const run = await groups[g]();
    await run({ quick: opts.quick, rec });
  }
} finally {
  removeWorkDir();
}
console.log(`\n(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
if (opts.json) {
  writeFileSync(opts.json, JSON.stringify({ quick: opts.quick, node: process.version, date: new Date().toISOString(), native: native.available, records: rec.records }, null, 1) + '\n');
  console.log(`wrote ${rec.records.length} records to ${opts.json}`);
}
