// node bench/position.js
//
// The same dense lookup at three places of one table: a namespace of 3 x 65,536 defined
// functions, looked up through the js core (and the native one) over the first, the second
// and the third 65,536 indices, each in the same seeded shuffled order. Only the addresses of
// the locations read differ. It answers whether group 1b's dense baseline (the first
// namespace) is cheaper because of where its locations lie: on this machine it is not
// (about 15 ns at all three places in the js core), so the gap between 1b's "dense" and
// "dense after" columns comes from timing order and JIT state, not from addresses.
import { do_not_optimize, fmtNs, loadFunckey, printTable, rng, shuffle, timeIt } from './lib/common.js';

const fk = await loadFunckey();
const n = 65536;
const b = new fk.ArtifactBuilder();
b.addModule({ importedFuncs: 0, definedFuncs: 3 * n });
for (let i = 0; i < 3 * n; i++) b.pushFunc(fk.FuncKey.definedWasmFunction(0, i), { start: 16 * i, length: 12 }, 16 * i);
const bytes = b.finish();
const order = shuffle(Uint32Array.from({ length: n }, (_, i) => i), rng(7));
const cores = [['js', new fk.JsCore(bytes)]];
if (fk.nativeStatus().available) cores.push(['native', fk.openNativeCore(bytes)]);
const pass = new Function('core', 'order', 'base', `const out = new Uint32Array(2);
  return () => { let sum = 0; for (let k = 0; k < order.length; k++) if (core.funcLoc(0, base + order[k], out)) sum = (sum + out[0]) | 0; return sum; };`);
const rows = [];
for (const [backend, core] of cores) {
  const t = [];
  for (const base of [0, n, 2 * n]) {
    const f = pass(core, order, base);
    t.push((await timeIt(() => do_not_optimize(f()), { perCall: n })).median);
  }
  rows.push([backend, ...t.map(fmtNs), `${(t[1] / t[0]).toFixed(2)}x`, `${(t[2] / t[0]).toFixed(2)}x`]);
  core.close();
}
printTable(
  'Dense lookups at three places of one table',
  'mitata median per lookup through the cores of 65,536 indices in a shuffled order, in [0, 64Ki), [64Ki, 128Ki) and [128Ki, 192Ki) of one namespace of 192Ki functions',
  ['backend', 'first', 'second', 'third', 'second/first', 'third/first'],
  rows,
  [],
  2,
);
