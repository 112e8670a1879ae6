// node bench/runs-median.js run1.json run2.json run3.json ...
//
// Group 1b over several runs of `node bench/run.js --group 1 --json FILE`: per density and
// path, the median over the runs of each median, and the median over the runs of each run's
// own sparse/dense ratios (paired within a run, so a machine that is slower during one run
// moves both sides). On a shared machine whose speed drifts, this is steadier than one run.
import { readFileSync } from 'node:fs';
import { fmtNs, fmtRatio, median, printTable } from './lib/common.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node bench/runs-median.js run1.json [run2.json ...]');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')).records.filter((r) => r.group === 1 && r.path !== undefined && r.unit !== 'bytes'));
const pct = (d) => `${Math.round(d * 100)}%`;
const paths = [
  ['js', 'core', 'js core'],
  ['native', 'core', 'native core'],
  ['js', 'per call', 'js funcLoc'],
  ['native', 'per call', 'native funcLoc'],
  ['js', 'batch', 'js batch'],
  ['native', 'batch', 'native batch'],
];
const densities = [...new Set(runs[0].map((r) => r.density))].sort((a, b) => a - b);
const rows = [];
for (const d of densities)
  for (const [backend, path, name] of paths) {
    const get = (run, prefix) => run.find((r) => r.backend === backend && r.case === `${prefix}, ${pct(d)}, ${path}`)?.median_ns;
    const per = runs.map((run) => ({
      dense: get(run, 'dense funcLoc, hits'),
      sparse: get(run, 'sparse funcLoc, hits'),
      direct: get(run, 'dense-laid-out funcLoc, every index'),
      sparseAll: get(run, 'sparse funcLoc, every index'),
      enc: run.find((r) => r.density === d)?.encoding,
    }));
    if (per.some((p) => p.dense === undefined || p.sparse === undefined || p.direct === undefined || p.sparseAll === undefined)) continue;
    const m = (f) => median(per.map(f));
    rows.push([
      pct(d),
      name,
      per[0].enc ?? '',
      fmtNs(m((p) => p.dense)),
      fmtNs(m((p) => p.sparse)),
      fmtRatio(m((p) => p.sparse / p.dense)),
      fmtNs(m((p) => p.direct)),
      fmtNs(m((p) => p.sparseAll)),
      fmtRatio(m((p) => p.sparseAll / p.direct)),
    ]);
  }
printTable(
  `Group 1b over ${runs.length} runs`,
  "per row, the median over the runs of each median (ns per lookup), and the median over the runs of each run's own ratios; hits: sparse against dense, every index: sparse against the namespace laid out dense (see group1b-sparse-dense.js)",
  ['trampolines', 'path', 'sparse as', 'dense hits', 'sparse hits', 'ratio', 'dense every', 'sparse every', 'ratio'],
  rows,
  [],
  3,
);
