#!/usr/bin/env node
// Captures how Wasmtime demangles function names, for test/demangle.test.ts and
// test/symbolicate-srclocs.test.ts: writes test/fixtures/demangle/wasmtime-names.tsv, one
// `MANGLED<TAB>AS WASMTIME PRINTS IT` a line.
//
//   npm run compile && node scripts/capture-demangled.mjs
//
// The names: every function name of the DWARF fixtures (name sections and the DWARF names of
// their .golden files), hand-picked cases of each scheme, and samples of real modules and
// libraries where present: the Rust names of @biomejs/wasm-nodejs and @swc/wasm (dev
// dependencies) and the C++ symbols of Debian's libLLVM-14 and libstdc++ (llvm-14, nm). They
// become the names of a generated module whose exports trap at the end of a chain of 16
// calls; Wasmtime (Python bindings, samples/engines/run-wasmtime-names.py) prints each
// chain's backtrace, with every function's name as Wasmtime writes it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWasm } from '../dist/funckey.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dwarf = join(root, 'test/fixtures/dwarf');

/** Hand-picked: each scheme's forms, Wasmtime's quirks (bare types), and malformed names. */
const CASES = [
  ...['f', 'i', 'v', 'Pc', '3foo', 'S_', 'St', 'main', 'run', '_start', '__wasm_call_ctors', 'dlmalloc'],
  ...['_Z3foov', '_Z1fv.constprop.0', '_Z1fv.cold', '_ZN3foo3barE', '_ZN3foo3barEv', '_ZL3barv'],
  ...['_ZZ5starthENK3$_0clEi', '_ZZ4mainENKUlvE_clEv', '_ZZ4mainENKUliE0_clEi', '_ZZN1A1fEvE1x'],
  ...['_ZN5meter5GaugeINS_4WrapIhEEE5checkERKi', '_ZN12_GLOBAL__N_13fooEv', '_ZN1N1fB5cxx11Ev'],
  ...['_ZNSt3__212basic_stringIcNS_11char_traitsIcEENS_9allocatorIcEEE6appendEPKc', '_ZTV3Foo'],
  ...['_ZNSt3__26vectorIiNS_9allocatorIiEEE9push_backEOi', '_Z1fIJiicEEvDpT_', '_ZN1AIiE1fIcEEvT_'],
  ...['_ZN3FooC2Ev', '_ZN3FooD0Ev', '_ZNK3Foo3getEv', '_ZN3FoocvbEv', '_ZN3FooplERKS_', '_Znwm', '_ZdlPv'],
  ...['_Z1fPFviE', '_Z1fRA10_i', '_Z1fM1AFvvE', '_Z1fDn', '_Z3fooILi3EEvv', '_ZN1AC1ERKS_', '_Z1fPKcz'],
  ...['_Z1fSt8functionIFviEE', '_Z1fSt8functionIFN1N1AEiEE', '_Z1fPFN1N1AEiE', '_ZN1AltIiEEbv'],
  ...['_ZThn8_N1A1fEv', '_ZTv0_n24_N1A1fEv', '_GLOBAL__sub_I_foo.cpp', '_Z1fIiEvT_S0_'],
  ...['_ZN4core3fmt5write17h0123456789abcdefE', '_ZN4core3fmt5write17h0123456789abcdefE.llvm.12AB'],
  ...['_ZN3foo3bar17h0123456789abcdefE.cold', '_ZNE', '_ZN3foo3bar17h012345E', '_ZN4core3foo3barE'],
  ...['_ZN52_$LT$trap..Meter$LT$T$GT$$u20$as$u20$trap..Check$GT$5check17h440361c48c75bcbaE'],
  ...['_ZN4test8$u{1f600}$17h0123456789abcdefE', '_ZN4test10$u1f600$x17h0123456789abcdefE'],
  ...['_RNvCs1234_4core3foo', '_RNvNvCs1234_4core3foo3bar.llvm.1234', '_RNvCsaaffb50095c40688_4trap3run'],
  ...['_RINvNtCs1234_4core3ptr13drop_in_placeNtNtCs1234_5alloc6string6StringEB4_'],
  ...['_RNvMNtCs1234_4core3numj11checked_add', '_RNvXCs1234_5cratehNtB2_5Trait3foo'],
  ...['_RINvCs1234_1a1fKj3_EB2_', '_RINvCs1234_1a1fKb1_KaNa_Kc41_EB2_', '_RNvNCNvCs1234_1a1f0s_1g'],
  ...['_RINvCs1234_1a1fFUKCEuEB2_', '_RINvCs1234_1a1fDNtB2_1TEL_EB2_', '_RINvCs1234_1a1fRL0_hEB2_'],
  ...['_RINvCs1234_1a1fTjhEEB2_', '_RINvCs1234_1a1fAhj3_ESmEB2_', '_RNvCs1234_7uhello_1f', '_RC3foo'],
  ...['_RNvCs1234_1au9bcher_kva', '_RNvCs1234_1au4ab_c', '_RNvCs1234_1au1z', '_RNvCs1234_1au0_'],
  ...['_RINvCs1234_1a1fDINtB2_1TmEp4ItemhEL_EB2_', '_RINvCs1234_1a1fINtB2_1TmEDBd_p4ItemhEL_EB2_'],
  ...['_RINvCs1234_1a1fKc41_EB2_', '_RINvCs1234_1a1fKc27_EB2_', '_RINvCs1234_1a1fKc5c_EB2_'],
  ...['_RNvCs1234_1au' + (260).toString() + '_' + 'a'.repeat(259), '_RNvCs1234_1au6caf_dma'],
];

/** Every function name of the DWARF fixtures: name sections and the goldens' frames. */
function fixtureNames() {
  const names = [];
  for (const f of readdirSync(dwarf).sort()) {
    if (f.endsWith('.wasm')) for (const m of parseWasm(readFileSync(join(dwarf, f))).modules) names.push(...m.names);
    if (f.endsWith('.golden'))
      for (const line of readFileSync(join(dwarf, f), 'utf8').split('\n'))
        for (const frame of line.split('\t').slice(1)) if (frame !== '=') names.push(frame.split('|')[0]);
  }
  return names;
}

/** Every k-th function name of a package's module, when installed. */
function packageNames(pkg, file, k) {
  const path = join(root, 'node_modules', pkg, file);
  if (!existsSync(path)) return (console.log(`${pkg}: not installed, skipped`), []);
  const names = parseWasm(readFileSync(path)).modules.flatMap((m) => m.names);
  return names.filter((_, i) => i % k === 0);
}

/** Every k-th C++ symbol of a shared library, when installed. */
function librarySymbols(lib, k) {
  if (!existsSync(lib)) return (console.log(`${lib}: not installed, skipped`), []);
  const out = execFileSync('nm', ['-D', '--defined-only', lib], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const syms = [...new Set(out.split('\n').map((l) => l.split(' ')[2]?.split('@')[0] ?? ''))];
  return syms
    .filter((s) => s.startsWith('_Z'))
    .sort()
    .filter((_, i) => i % k === 0);
}

/** A module whose function k is named names[k]; export runN calls functions 16N… in a chain that traps. */
function probeModule(names) {
  const leb = (n) => {
    const o = [];
    do {
      let b = n & 127;
      n >>>= 7;
      if (n) b |= 128;
      o.push(b);
    } while (n);
    return o;
  };
  const str = (s) => [...leb(Buffer.byteLength(s)), ...Buffer.from(s)];
  const sec = (id, body) => [id, ...leb(body.length), ...body];
  const vec = (items) => [...leb(items.length), ...items.flat()];
  const n = names.length;
  const exports = [];
  for (let i = 0; i < n; i += 16) exports.push([...str(`run${i / 16}`), 0, ...leb(i)]);
  const bodies = names.map((_, i) => {
    const b = i % 16 !== 15 && i + 1 < n ? [0, 0x10, ...leb(i + 1), 0x0b] : [0, 0x00, 0x0b];
    return [...leb(b.length), ...b];
  });
  const sub = vec(names.map((s, i) => [...leb(i), ...str(s)]));
  return Buffer.from([
    ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...sec(1, vec([[0x60, 0, 0]])),
    ...sec(3, vec(names.map(() => [0]))),
    ...sec(7, vec(exports)),
    ...sec(10, vec(bodies)),
    ...sec(0, [...str('name'), 1, ...leb(sub.length), ...sub]),
  ]);
}

const all = [
  ...CASES,
  ...fixtureNames(),
  ...packageNames('@biomejs/wasm-nodejs', 'biome_wasm_bg.wasm', 150),
  ...packageNames('@swc/wasm', 'wasm_bg.wasm', 1),
  ...librarySymbols('/usr/lib/x86_64-linux-gnu/libLLVM-14.so.1', 200),
  ...librarySymbols('/usr/lib/x86_64-linux-gnu/libstdc++.so.6', 40),
];
// One line each: no line breaks or tabs, nothing empty.
const names = [...new Set(all)].filter((s) => s !== '' && !/[\t\n\r]/.test(s));
const tmp = mkdtempSync(join(tmpdir(), 'funckey-names-'));
try {
  const wasm = join(tmp, 'names.wasm');
  writeFileSync(wasm, probeModule(names));
  const py = join(root, 'samples/engines/run-wasmtime-names.py');
  const printed = execFileSync('python3', [py, wasm], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n');
  printed.pop();
  if (printed.length !== names.length) throw new Error(`Wasmtime printed ${printed.length} names of ${names.length}`);
  const out = join(root, 'test/fixtures/demangle/wasmtime-names.tsv');
  writeFileSync(out, names.map((m, k) => `${m}\t${printed[k]}\n`).join(''));
  console.log(`${out}: ${names.length} names`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
