// Group 8: demangling in Wasmtime frames (lib/demangle.ts). demangle() per name over every
// function name of a real Rust module (v0 mangling; @biomejs/wasm-nodejs, or
// $FUNCKEY_BENCH_WASM) and over the Rust legacy and C++ names of
// test/fixtures/demangle/wasmtime-names.tsv; then what it adds to symbolicate(): a trace of
// 20-frame Wasmtime backtraces of the stripped real module, each frame another function (so
// each is demangled, none found in the names cache), against the same frames in V8's form,
// which are not demangled. js backend (demangling is the same code in both).
// Run alone: node bench/run.js --group 8 [--quick]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { do_not_optimize, fmtRatio, loadFunckey, printTable, realModule, rng, timeIt, ROOT } from './lib/common.js';

/** Wasmtime's and V8's text of the same frames: `n` traces of 20 frames of distinct functions. */
function traces(fk, a, n) {
  const m = a.modules[0];
  const order = [...Array(m.definedFuncs).keys()];
  const r = rng(0xde);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const wt = [];
  const v8 = [];
  let next = 0;
  for (let t = 0; t < n; t++) {
    wt.push('error while executing at wasm backtrace:');
    v8.push('RuntimeError: unreachable');
    for (let k = 0; k < 20; k++) {
      const i = order[next++ % order.length];
      const loc = a.funcLoc(fk.FuncKey.definedWasmFunction(0, i));
      const off = loc.start + (loc.length >> 1);
      const hex = `0x${off.toString(16)}`;
      wt.push(`${String(k).padStart(5)}: ${hex.padStart(9)} - <unknown>!<wasm function ${m.importedFuncs + i}>`);
      v8.push(`    at wasm://wasm/000de97e:wasm-function[${m.importedFuncs + i}]:${hex}`);
    }
    wt.push('', 'Caused by:', '    wasm trap: wasm `unreachable` instruction executed', '');
    v8.push('');
  }
  return { wt: wt.join('\n'), v8: v8.join('\n') };
}

export async function group8({ quick, rec }) {
  const fk = await loadFunckey();
  const { demangle } = await import(pathToFileURL(join(ROOT, 'dist', 'demangle.js')).href);
  const tsv = readFileSync(join(ROOT, 'test/fixtures/demangle/wasmtime-names.tsv'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t')[0]);
  const sets = [
    ['Rust legacy (wasmtime-names.tsv)', tsv.filter((m) => /^_ZN.*17h[0-9a-f]{16}E/.test(m))],
    ['C++ (wasmtime-names.tsv)', tsv.filter((m) => m.startsWith('_Z') && !/^_ZN.*17h[0-9a-f]{16}E/.test(m))],
  ];
  const real = realModule();
  let wasm;
  if (real !== undefined && existsSync(real.path)) {
    wasm = readFileSync(real.path);
    const names = fk.parseWasm(wasm).modules.flatMap((m) => m.names);
    sets.unshift([`Rust, every name of ${real.label}`, names]);
  }
  const rows = [];
  for (const [what, names] of sets) {
    const chars = names.reduce((s, n) => s + n.length, 0);
    const t = await timeIt(
      () => {
        let x = 0;
        for (const n of names) x += demangle(n).length;
        return do_not_optimize(x);
      },
      { quick, perCall: names.length },
    );
    rows.push([
      what,
      String(names.length),
      (t.median / 1e3).toFixed(2),
      (chars / names.length / (t.median / 1e3)).toFixed(1),
    ]);
    const c = `demangle ${what}`;
    rec.add({ group: 8, case: c, backend: 'js', n: names.length, median_ns: t.median, ratio: 1, baseline: c });
  }
  printTable(
    'demangle() per name',
    'timeIt over the whole list, median per name',
    ['names', 'count', 'µs/name', 'MB/s of names'],
    rows,
  );
  if (wasm === undefined) return console.log('(no real module: the symbolicate rows are skipped)');
  const a = fk.open(fk.buildFromWasm(wasm), { backend: 'js' });
  const { wt, v8 } = traces(fk, a, quick ? 50 : 500);
  const frames = (quick ? 50 : 500) * 20;
  const tw = await timeIt(() => do_not_optimize(fk.symbolicate(wt, a).length), { quick, perCall: frames });
  const tv = await timeIt(() => do_not_optimize(fk.symbolicate(v8, a).length), { quick, perCall: frames });
  a.close();
  printTable(
    'symbolicate(), frames of distinct functions',
    'timeIt of one symbolicate() call on the whole text (fresh name cache per call), median per frame',
    ['form', 'frames', 'µs/frame', 'vs V8'],
    [
      ['V8 (names as the module holds them)', String(frames), (tv.median / 1e3).toFixed(2), '1.00'],
      ['Wasmtime (names demangled)', String(frames), (tw.median / 1e3).toFixed(2), fmtRatio(tw.median / tv.median)],
    ],
  );
  const base = 'symbolicate v8 distinct';
  rec.add({ group: 8, case: base, backend: 'js', n: frames, median_ns: tv.median, ratio: 1, baseline: base });
  rec.add({
    group: 8,
    case: 'symbolicate wasmtime distinct',
    backend: 'js',
    n: frames,
    median_ns: tw.median,
    ratio: tw.median / tv.median,
    baseline: base,
  });
}
