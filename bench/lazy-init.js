// Group 1: lazy funcref initialisation. Every lazy initialisation of a table slot looks up
// the function's location and its ArrayToWasm trampoline's location. 1a times doing that for
// all functions of a 64Ki-function module in a shuffled order, with the per-kind dense arrays
// (the layout a FuncKey table replaces) and with the FuncKey table, per call and in batch.
// 1b (sparse-dense.js) times the two lookups apart, sparse against dense, on shapes
// whose trampolines cover 1% to 90% of the functions, with the table's size.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  do_not_optimize,
  fmtNs,
  fmtRatio,
  fresh,
  loadFunckey,
  nativeInfo,
  printTable,
  rng,
  shuffle,
  timeRoundRobin,
  workDir,
} from './lib/common.js';
import { NONE, buildShapeArtifact, makeShape } from './lib/shapes.js';
import { group1b } from './sparse-dense.js';

export async function group1({ quick, rec }) {
  const fk = await loadFunckey();
  const native = await nativeInfo();
  const n = 65536;
  const shape = makeShape({ n, escapeFrac: 0.3, types: 200, seed: 0x5eed1 });
  const bytes = buildShapeArtifact(fk, shape);
  const path = join(workDir(), 'lazy-init.fkx');
  writeFileSync(path, bytes);

  const order = shuffle(
    Uint32Array.from({ length: n }, (_, i) => i),
    rng(7),
  );
  const NS_DEF = 0;
  const NS_A2W = (1 << 28) >>> 0;
  // The batch form: for each function in order, (function, its trampoline).
  const bNs = new Uint32Array(2 * n);
  const bIdx = new Uint32Array(2 * n);
  for (let k = 0; k < n; k++) {
    bNs[2 * k] = NS_DEF;
    bNs[2 * k + 1] = NS_A2W;
    bIdx[2 * k] = order[k];
    bIdx[2 * k + 1] = order[k];
  }
  const defKeys = Array.from(order, (i) => fk.FuncKey.definedWasmFunction(0, i));
  const a2wKeys = Array.from(order, (i) => fk.FuncKey.arrayToWasmTrampoline(0, i));

  // Each case returns a checksum of what it found, so that every case provably does the same work.
  // Every pass is a fresh copy of its factory (bench/lib/common.js fresh): passes made from one
  // function's source share V8's feedback, so that the js core's pass would also see the
  // native core's calls (and the per-call and batch passes each other backend's), and be
  // compiled for both.
  const { def, a2w } = shape;
  const cases = [];
  const densePass = (order, def, a2w, none) => () => {
    let sum = 0;
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      sum = (sum + def[2 * i] + def[2 * i + 1]) | 0;
      const s = a2w[2 * i];
      if (s !== none) sum = (sum + s + a2w[2 * i + 1]) | 0;
    }
    return sum;
  };
  cases.push({
    name: 'dense arrays (Uint32Array per kind)',
    backend: 'js',
    baseline: true,
    fn: fresh(densePass)(order, def, a2w, NONE),
  });
  // The same two lookups over the FuncKey layout written out by hand (the dense defined run,
  // a binary search of the sorted trampoline indices): the cost of the layout itself.
  const esc = shape.escaping;
  const escLocs = new Uint32Array(2 * esc.length);
  for (let j = 0; j < esc.length; j++) {
    escLocs[2 * j] = a2w[2 * esc[j]];
    escLocs[2 * j + 1] = a2w[2 * esc[j] + 1];
  }
  const byHandPass = (order, def, esc, escLocs) => () => {
    let sum = 0;
    const m = esc.length;
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      sum = (sum + def[2 * i] + def[2 * i + 1]) | 0;
      let lo = 0;
      let hi = m;
      while (lo < hi) {
        const mid = lo + ((hi - lo) >>> 1);
        if (esc[mid] < i) lo = mid + 1;
        else hi = mid;
      }
      if (lo < m && esc[lo] === i) sum = (sum + escLocs[2 * lo] + escLocs[2 * lo + 1]) | 0;
    }
    return sum;
  };
  cases.push({
    name: 'same layout by hand (inline binary search)',
    backend: 'js',
    fn: fresh(byHandPass)(order, def, esc, escLocs),
  });
  // The backends' cores, without the public API's argument checks and result objects.
  const corePass = (core, order, nsDef, nsA2w) => {
    const out = new Uint32Array(2);
    return () => {
      let sum = 0;
      for (let k = 0; k < order.length; k++) {
        const i = order[k];
        if (core.funcLoc(nsDef, i, out)) sum = (sum + out[0] + out[1]) | 0;
        if (core.funcLoc(nsA2w, i, out)) sum = (sum + out[0] + out[1]) | 0;
      }
      return sum;
    };
  };
  const coreCase = (core, backend) => ({
    name: 'FuncKey table, core (no API layer)',
    backend,
    fn: core && fresh(corePass)(core, order, NS_DEF, NS_A2W),
  });
  const cores = [];
  if (fk.JsCore) cases.push(coreCase(new fk.JsCore(bytes), 'js'));
  if (fk.openNativeCore) {
    const core = native.available ? fk.openNativeCore(path) : undefined;
    if (core) cores.push(core);
    cases.push(coreCase(core, 'native'));
  }
  const perCallPass = (art, defKeys, a2wKeys) => () => {
    let sum = 0;
    for (let k = 0; k < defKeys.length; k++) {
      const l = art.funcLoc(defKeys[k]);
      if (l !== undefined) sum = (sum + l.start + l.length) | 0;
      const t = art.funcLoc(a2wKeys[k]);
      if (t !== undefined) sum = (sum + t.start + t.length) | 0;
    }
    return sum;
  };
  const batchPass = (art, bNs, bIdx, none) => () => {
    const { starts, lengths } = art.funcLocs(bNs, bIdx);
    let sum = 0;
    for (let k = 0; k < starts.length; k++) if (starts[k] !== none) sum = (sum + starts[k] + lengths[k]) | 0;
    return sum;
  };
  const artifacts = [];
  for (const backend of ['js', 'native']) {
    let art;
    if (backend === 'js' || native.available) {
      art = fk.open(backend === 'js' ? bytes : path, { backend });
      artifacts.push(art);
    }
    cases.push({
      name: 'FuncKey table, artifact.funcLoc per call',
      backend,
      fn: art && fresh(perCallPass)(art, defKeys, a2wKeys),
    });
    cases.push({
      name: 'FuncKey table, artifact.funcLocs batch (131,072 keys)',
      backend,
      fn: art && fresh(batchPass)(art, bNs, bIdx, NONE),
    });
  }

  let expected;
  for (const c of cases) {
    if (!c.fn) continue;
    const sum = c.fn();
    if (expected === undefined) expected = sum;
    else if (sum !== expected)
      throw new Error(
        `group 1: "${c.name}" (${c.backend}) found different locations (checksum ${sum}, expected ${expected})`,
      );
  }
  // Round robin (timeRoundRobin): timed one after the other, rows moved with the machine's
  // speed from run to run; here the drift falls on every row of a round alike, and each
  // ratio to the dense arrays is the median of the ratios within a round.
  const timed = cases.filter((c) => c.fn);
  const rounds = quick ? 3 : 7;
  const rr = await timeRoundRobin(
    timed.map((c) => () => do_not_optimize(c.fn())),
    { quick, perCall: timed.map(() => 1), rounds, minCpuMs: quick ? 20 : 80 },
  );
  const baseAt = timed.findIndex((c) => c.baseline);
  const results = cases.map((c) => {
    const j = timed.indexOf(c);
    return j < 0 ? { ...c, t: undefined } : { ...c, t: rr.times[j], ratio: rr.ratio(j, baseAt) };
  });
  for (const a of artifacts) a.close();
  for (const c of cores) c.close();

  const base = results.find((r) => r.baseline).t.median;
  const rows = [];
  for (const r of results) {
    const med = r.t?.median;
    const ratio = r.ratio;
    rows.push([
      r.name,
      r.backend,
      fmtNs(med),
      fmtNs(med === undefined ? undefined : med / n),
      r.baseline ? '' : med === undefined ? 'n/a' : `${med >= base ? '+' : '-'}${fmtNs(Math.abs(med - base) / n)}`,
      r.baseline ? 'baseline' : fmtRatio(ratio),
      ratio === undefined || r.baseline ? '' : `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(0)}%`,
    ]);
    if (med !== undefined)
      rec.add({
        group: 1,
        case: r.name,
        backend: r.backend,
        n,
        median_ns: med,
        ratio,
        baseline: 'dense arrays (Uint32Array per kind)',
        p25_ns: r.t.p25,
        p75_ns: r.t.p75,
        samples: r.t.samples,
        rounds,
      });
  }
  const escaping = shape.escaping.length;
  printTable(
    'Group 1a: lazy funcref initialisation, 65,536 functions',
    `one pass resolving, for each of 65,536 defined functions in a seeded shuffled order, its location and its ArrayToWasm trampoline's location (${escaping} escaping functions = ${((100 * escaping) / n).toFixed(0)}%, 200 WasmToArray trampolines in the table); same checksum in every case; the rows timed round robin in ${rounds} rounds of ${quick ? 20 : 80} ms of mitata samples each: per pass the median over the rounds of each round's median, vs dense the median of the ratios within each round`,
    ['case', 'backend', 'per 64Ki inits', 'per init', 'added per init', 'vs dense', 'slowdown'],
    rows.map((r) => r.map((c) => (c === undefined ? 'n/a' : c))),
    native.available ? [] : [`native: n/a (${native.reason ?? 'not available'})`],
    2,
  );

  await group1b({ quick, rec, fk, native });
}
