// node bench/tools/runs-median.js run1.json run2.json run3.json ...
//
// Groups 1b and 5b over several runs of `node bench/run.js --group 1 --json FILE` (or
// --group 5, or full runs): per row, the median over the runs of each median, and the median
// over the runs of each run's own ratios (paired within a run, so a machine that is slower
// during one run moves both sides). On a shared machine whose speed drifts, this is steadier
// than one run. A group no file has is left out.
import { readFileSync } from 'node:fs';
import { fmtNs, fmtRatio, median, printTable } from '../lib/common.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node bench/tools/runs-median.js run1.json [run2.json ...]');
  process.exit(2);
}
const all = files.map((f) => JSON.parse(readFileSync(f, 'utf8')).records);
const runs = all
  .map((recs) => recs.filter((r) => r.group === 1 && r.path !== undefined && r.unit !== 'bytes'))
  .filter((r) => r.length > 0);
const pct = (d) => `${Math.round(d * 100)}%`;
const paths = [
  ['js', 'core', 'js core'],
  ['native', 'core', 'native core'],
  ['js', 'per call', 'js funcLoc'],
  ['native', 'per call', 'native funcLoc'],
  ['js', 'batch', 'js batch'],
  ['native', 'batch', 'native batch'],
];
const densities = runs.length === 0 ? [] : [...new Set(runs[0].map((r) => r.density))].sort((a, b) => a - b);
const rows = [];
for (const d of densities)
  for (const [backend, path, name] of paths) {
    const get = (run, prefix) =>
      run.find((r) => r.backend === backend && r.case === `${prefix}, ${pct(d)}, ${path}`)?.median_ns;
    const per = runs.map((run) => ({
      dense: get(run, 'dense funcLoc, hits'),
      sparse: get(run, 'sparse funcLoc, hits'),
      direct: get(run, 'dense-laid-out funcLoc, every index'),
      sparseAll: get(run, 'sparse funcLoc, every index'),
      enc: run.find((r) => r.density === d)?.encoding,
    }));
    if (
      per.some(
        (p) => p.dense === undefined || p.sparse === undefined || p.direct === undefined || p.sparseAll === undefined,
      )
    )
      continue;
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
if (runs.length > 0)
  printTable(
    `Group 1b over ${runs.length} runs`,
    "per row, the median over the runs of each median (ns per lookup), and the median over the runs of each run's own ratios; hits: sparse against dense, every index: sparse against the namespace laid out dense (see sparse-dense.js)",
    ['trampolines', 'path', 'sparse as', 'dense hits', 'sparse hits', 'ratio', 'dense every', 'sparse every', 'ratio'],
    rows,
    [],
    3,
  );

// Group 5b: the offset index against the binary search, per size and path.
const runs5 = all.map((recs) => recs.filter((r) => r.group === 5 && r.path !== undefined)).filter((r) => r.length > 0);
if (runs5.length > 0) {
  const rows5 = [];
  const sizes = [...new Set(runs5[0].map((r) => r.n))].sort((a, b) => a - b);
  for (const F of sizes)
    for (const [backend, path, name] of [
      ['js', 'core', 'js core'],
      ['native', 'core', 'native core'],
      ['js', 'batch', 'js batch'],
      ['js', 'batch, reused out', 'js batch, reused out'],
      ['native', 'batch', 'native batch'],
      ['native', 'batch, reused out', 'native batch, reused out'],
    ]) {
      const c = `funcByOffset, ${F} functions, ${path}`;
      const per = runs5.map((run) => ({
        idx: run.find((r) => r.backend === backend && r.case === c)?.median_ns,
        bin: run.find((r) => r.backend === backend && r.case === `${c}, binary search`)?.median_ns,
      }));
      if (per.some((p) => p.idx === undefined || p.bin === undefined)) continue;
      const m = (f) => median(per.map(f));
      rows5.push([
        String(F),
        name,
        fmtNs(m((p) => p.bin)),
        fmtNs(m((p) => p.idx)),
        fmtRatio(m((p) => p.bin / p.idx)),
        per.map((p) => fmtRatio(p.bin / p.idx)).join(' '),
      ]);
    }
  printTable(
    `Group 5b over ${runs5.length} runs`,
    "per row, the median over the runs of each median (ns per lookup), and the median over the runs of each run's own speed-up (binary search / offset index), then each run's",
    ['functions', 'path', 'binary search', 'offset index', 'speed-up', 'per run'],
    rows5,
    [],
    2,
  );
}
