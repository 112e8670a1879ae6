// Group 3: throughput of each lookup, per call and in batch, for js and native, on tables
// of 1Ki, 64Ki and 1Mi functions, against the physical floor measured in the same run.
import {
  do_not_optimize,
  fmtCount,
  fmtNs,
  fmtRatio,
  loadFunckey,
  nativeInfo,
  printTable,
  rng,
  timeIt,
  workDir,
} from './lib/common.js';
import { buildShapeArtifact, makeShape, shapeName } from './lib/shapes.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Lookups per timed call: the per-lookup figure is the median per call divided by this. */
const Q = 1024;
/** Queries in each precomputed random stream (the timed calls walk through it chunk by chunk). */
const S = 64 * Q;

export async function group3({ quick, rec }) {
  const fk = await loadFunckey();
  const native = await nativeInfo();
  const sizes = quick ? [1024, 65536] : [1024, 65536, 1048576];
  const rows = [];
  const NS_DEF = 0;
  const NS_A2W = (1 << 28) >>> 0;

  const ctxs = [];
  for (const n of sizes) {
    const shape = makeShape({ n, escapeFrac: 0.3, types: 200, seed: 0x7b + n });
    const denseBytes = buildShapeArtifact(fk, shape, { names: 'dense' });
    const sparseBytes = buildShapeArtifact(fk, shape, { names: 'sparse' });
    const densePath = join(workDir(), `throughput-${n}-dense.fkx`);
    const sparsePath = join(workDir(), `throughput-${n}-sparse.fkx`);
    writeFileSync(densePath, denseBytes);
    writeFileSync(sparsePath, sparseBytes);

    // Random query streams, precomputed.
    const r = rng(0xabc + n);
    const idx = new Uint32Array(S);
    const esc = new Uint32Array(S);
    const offs = new Uint32Array(S);
    for (let k = 0; k < S; k++) {
      idx[k] = Math.floor(r() * n);
      esc[k] = shape.escaping[Math.floor(r() * shape.escaping.length)];
      offs[k] = 64 + Math.floor(r() * (shape.textEnd - 64));
    }
    const nsDef = new Uint32Array(S).fill(NS_DEF);
    const nsA2w = new Uint32Array(S).fill(NS_A2W);
    const defKeys = Array.from(idx, (i) => fk.FuncKey.definedWasmFunction(0, i));
    const a2wKeys = Array.from(esc, (i) => fk.FuncKey.arrayToWasmTrampoline(0, i));
    const chunks = (a) => Array.from({ length: S / Q }, (_, c) => a.subarray(c * Q, (c + 1) * Q));
    const idxC = chunks(idx);
    const escC = chunks(esc);
    const offsC = chunks(offs);
    const nsDefC = chunks(nsDef);
    const nsA2wC = chunks(nsA2w);
    let cur = 0;
    const next = () => {
      const c = cur;
      cur = (cur + 1) & (S / Q - 1);
      return c;
    };

    // Floors: what the same random index stream costs without any table logic.
    const def = shape.def;
    const userMap = new Map();
    for (let i = 0; i < n; i++) userMap.set(i, shapeName(i));
    const floors = [
      {
        lookup: 'floor: typed-array read',
        fn: () => {
          const o = next() * Q;
          let sum = 0;
          for (let k = o; k < o + Q; k++) sum = (sum + def[2 * idx[k]]) | 0;
          return sum;
        },
      },
      {
        lookup: `floor: Map.get (Map of ${fmtCount(n)} names)`,
        fn: () => {
          const o = next() * Q;
          let sum = 0;
          for (let k = o; k < o + Q; k++) sum = (sum + userMap.get(idx[k]).length) | 0;
          return sum;
        },
      },
    ];
    const floorT = [];
    for (const f of floors) floorT.push(await timeIt(() => do_not_optimize(f.fn()), { quick, perCall: Q }));
    const floor = floorT[0].median;
    const floorRows = [
      [fmtCount(n), floors[0].lookup, '', fmtNs(floor), '', 'floor', '', ''],
      [fmtCount(n), floors[1].lookup, '', fmtNs(floorT[1].median), '', fmtRatio(floorT[1].median / floor), '', ''],
    ];
    userMap.clear();
    for (let i = 0; i < 2; i++)
      rec.add({
        group: 3,
        case: floors[i].lookup.replace(/ \(.*\)$/, ''),
        backend: 'js',
        n,
        median_ns: floorT[i].median,
        ratio: floorT[i].median / floor,
        baseline: floors[0].lookup,
        p25_ns: floorT[i].p25,
        p75_ns: floorT[i].p75,
        samples: floorT[i].samples,
      });

    // The lookups, per backend.
    const lookups = (art, artSparse) => [
      {
        lookup: 'funcLoc, dense kind',
        single: () => {
          const o = next() * Q;
          let sum = 0;
          for (let k = o; k < o + Q; k++) {
            const l = art.funcLoc(defKeys[k]);
            if (l !== undefined) sum = (sum + l.start) | 0;
          }
          return sum;
        },
        batch: () => {
          const c = next();
          return art.funcLocs(nsDefC[c], idxC[c]).starts[Q - 1];
        },
      },
      {
        lookup: 'funcLoc, sparse kind',
        single: () => {
          const o = next() * Q;
          let sum = 0;
          for (let k = o; k < o + Q; k++) {
            const l = art.funcLoc(a2wKeys[k]);
            if (l !== undefined) sum = (sum + l.start) | 0;
          }
          return sum;
        },
        batch: () => {
          const c = next();
          return art.funcLocs(nsA2wC[c], escC[c]).starts[Q - 1];
        },
      },
      {
        lookup: 'funcByOffset',
        single: () => {
          const o = next() * Q;
          let sum = 0;
          for (let k = o; k < o + Q; k++) {
            const key = art.funcByOffset(offs[k]);
            if (key !== undefined) sum = (sum + key.index) | 0;
          }
          return sum;
        },
        batch: () => {
          const c = next();
          return art.funcsByOffset(offsC[c]).indices[Q - 1];
        },
      },
      {
        lookup: 'funcName, dense header',
        single: () => {
          const o = next() * Q;
          let sum = 0;
          for (let k = o; k < o + Q; k++) {
            const s = art.funcName(idx[k]);
            if (s !== undefined) sum = (sum + s.length) | 0;
          }
          return sum;
        },
        batch: () => {
          const c = next();
          return art.funcNames(idxC[c]).length;
        },
      },
      {
        lookup: 'funcName, sparse index',
        single: () => {
          const o = next() * Q;
          let sum = 0;
          for (let k = o; k < o + Q; k++) {
            const s = artSparse.funcName(idx[k]);
            if (s !== undefined) sum = (sum + s.length) | 0;
          }
          return sum;
        },
        batch: () => {
          const c = next();
          return artSparse.funcNames(idxC[c]).length;
        },
      },
    ];

    ctxs.push({ n, floor, floorRows, lookups, densePath, sparsePath, floorName: floors[0].lookup, results: new Map() });
  }

  // js for every size first, then native, so that the js figures are taken before the
  // public API's call sites have seen the other backend's core.
  for (const backend of ['js', 'native']) {
    for (const ctx of ctxs) {
      const ok = backend === 'js' || native.available;
      // Both backends open the file, as a server would (js reads it into a Buffer, native maps it).
      const art = ok ? fk.open(ctx.densePath, { backend }) : undefined;
      const artSparse = ok ? fk.open(ctx.sparsePath, { backend }) : undefined;
      for (const l of ctx.lookups(art, artSparse)) {
        for (const form of ['single', 'batch']) {
          const key = `${l.lookup}|${form}`;
          if (!ctx.results.has(key)) ctx.results.set(key, { lookup: l.lookup, form });
          if (!ok) continue;
          const t = await timeIt(() => do_not_optimize(l[form]()), { quick, perCall: Q });
          ctx.results.get(key)[backend] = t.median;
          rec.add({
            group: 3,
            case: `${l.lookup}, ${form}`,
            backend,
            n: ctx.n,
            median_ns: t.median,
            ratio: t.median / ctx.floor,
            baseline: ctx.floorName,
            p25_ns: t.p25,
            p75_ns: t.p75,
            samples: t.samples,
          });
        }
      }
      art?.close();
      artSparse?.close();
    }
  }
  for (const { n, floor, floorRows, results } of ctxs) {
    rows.push(...floorRows);
    for (const r of results.values()) {
      rows.push([
        fmtCount(n),
        r.lookup,
        r.form === 'single' ? 'per call' : `batch of ${Q}`,
        fmtNs(r.js),
        fmtNs(r.native),
        fmtRatio(r.js / floor),
        fmtRatio(r.native / floor),
        fmtRatio(r.native / r.js),
      ]);
    }
  }
  const notes = [];
  if (!native.available) notes.push(`native: n/a (${native.reason ?? 'not available'})`);
  notes.push(
    'Shape of every table: n defined functions, ArrayToWasm trampolines for a seeded 30% (sparse), 200 WasmToArray trampolines, every function named.',
  );
  printTable(
    'Group 3: throughput, ns per lookup',
    `mitata median per call of ${Q} lookups (one API call per lookup, or one batch call of ${Q}) over precomputed seeded random streams of ${S} queries, divided by ${Q}; uniform function indices (funcLoc dense kind, funcName, floors), present trampoline indices (sparse kind), offsets anywhere in the text (funcByOffset); the API's own allocations (result objects, keys, strings, batch arrays) are included`,
    ['functions', 'lookup', 'form', 'js', 'native', 'js / floor', 'native / floor', 'native / js'],
    rows,
    notes,
    3,
  );
}
