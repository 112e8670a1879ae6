// node bench/tools/sparse-floor.js
//
// What any index for a sparse namespace costs at least, in a js loop, over a dense lookup:
// one read whose result the location read depends on. No funckey code runs here. Three
// hand-written passes over the same present keys (a seeded share of 65,536 indices, in a
// shuffled order) and the same locations (a Uint32Array of (start, length) per index):
//   dense    locs[2 * i], locs[2 * i + 1]                       (a dense namespace)
//   + 1 read p = map[i] (an Int32Array, here p = i), then locs at p (the cheapest index:
//            one read of 4 bytes per index, larger than any encoding funckey writes)
//   + 2 reads p = map[map2[i]] (a rank, then a position: as a bucket lookup reads a rank and
//            then a low part)
// timed round robin, 300 rounds of 30 passes, medians of the per-round ratios. Group 1b's
// sparse/dense ratio for present keys in the js core cannot go below the "+ 1 read" ratio
// for an encoding that reads once before the location, nor below "+ 2 reads" for one that
// reads twice (buckets: a rank, then low parts).
import { fmtNs, fmtRatio, median, printTable, rng, shuffle } from '../lib/common.js';

const n = 65536;
const locs = new Uint32Array(2 * n);
for (let i = 0; i < n; i++) {
  locs[2 * i] = 16 * i;
  locs[2 * i + 1] = 12;
}
const map = Int32Array.from({ length: n }, (_, i) => i);
const map2 = Int32Array.from({ length: n }, (_, i) => i);
let copy = 0;
const make = (body) =>
  new Function(
    'keys',
    'locs',
    'map',
    'map2',
    `return () => { let s = 0; for (let k = 0; k < keys.length; k++) { const i = keys[k]; if (i < ${n}) { ${body} if (locs[2 * p + 1] !== 0) s = (s + locs[2 * p] + locs[2 * p + 1]) | 0; } } return s; }; // ${copy++}`,
  );
const rows = [];
for (const d of [0.01, 0.1, 0.6]) {
  const r = rng(0xf1 + Math.round(d * 1000));
  const present = [];
  for (let i = 0; i < n; i++) if (r() < d) present.push(i);
  const keys = shuffle(Uint32Array.from(present), rng(12));
  const passes = [
    ['dense', make('const p = i;')(keys, locs, map, map2)],
    ['+ 1 read', make('const p = map[i];')(keys, locs, map, map2)],
    ['+ 2 reads', make('const p = map[map2[i]];')(keys, locs, map, map2)],
  ];
  const sums = passes.map(([, f]) => f());
  if (sums.some((x) => x !== sums[0])) throw new Error('floor: the passes found different locations');
  const T = passes.map(() => []);
  let sink = 0;
  for (let round = 0; round < 300; round++)
    passes.forEach(([, f], j) => {
      const t0 = process.hrtime.bigint();
      for (let q = 0; q < 30; q++) sink ^= f();
      T[j].push(Number(process.hrtime.bigint() - t0) / (30 * keys.length));
    });
  if (sink === 0.5) console.log(sink);
  const skip = 30;
  const ratio = (j) => median(T[j].slice(skip).map((x, q) => x / T[0][q + skip]));
  rows.push([
    `${Math.round(d * 100)}%`,
    String(keys.length),
    ...[0, 1, 2].map((j) => fmtNs(median(T[j].slice(skip)))),
    fmtRatio(ratio(1)),
    fmtRatio(ratio(2)),
  ]);
}
printTable(
  'The floor of a sparse lookup in js: one and two dependent reads before the location',
  'median per lookup of present keys (the share of 65,536 indices given) over 270 rounds of 30 passes, round robin; ratios: medians of the per-round ratios to dense',
  ['present', 'keys', 'dense', '+ 1 read', '+ 2 reads', '+1 / dense', '+2 / dense'],
  rows,
  [],
  2,
);
