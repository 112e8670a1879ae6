/**
 * Demangling of Wasmtime frames (lib/demangle.ts), against independent references:
 *
 * - Wasmtime itself: its traces of modules that trap inside mangled Rust (legacy and v0) and
 *   C++ functions (test/fixtures/demangle/, made by scripts/make-dwarf-fixtures.sh; traces by
 *   scripts/capture-traces.mjs), replayed: the stripped module's trace symbolicated equals
 *   Wasmtime's trace of the full module, byte for byte; and the names Wasmtime printed for
 *   the names of test/fixtures/demangle/wasmtime-names.tsv (scripts/capture-demangled.mjs).
 * - llvm-cxxfilt-14 over every function name of the DWARF fixtures, the trap fixtures and
 *   the Rust modules of the dev dependencies, with the differences of formatting explained
 *   (normalize() below).
 * - Hostile names: random and mutated, never a throw, the bounds kept.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demangle, MAX_INPUT, MAX_WORK } from '../lib/demangle.js';
import { buildFromWasm, open, parseWasm, symbolicate, type Artifact } from '../lib/index.js';
import { BACKENDS } from './helpers/backends.js';
import { WASMTIME_NAMES } from './helpers/wasmtime-names.js';

const DEMANGLE = join(__dirname, 'fixtures', 'demangle');
const DWARF = join(__dirname, 'fixtures', 'dwarf');
const TRACES = join(__dirname, 'fixtures', 'traces');
const IN_CI = process.env.CI === 'true';
const FIXTURES = ['rust-trap', 'rust-v0-trap', 'cpp-trap'];

const artifacts: Artifact[] = [];
afterAll(() => artifacts.forEach((a) => a.close()));
function artifactOf(bytes: Uint8Array, backend: string): Artifact {
  const a = open(buildFromWasm(bytes), { backend: backend as 'js' | 'native' });
  artifacts.push(a);
  return a;
}

// --- Wasmtime's own traces ---------------------------------------------------------------

describe.each(BACKENDS)('Wasmtime traces of mangled Rust and C++ (%s backend)', (backend) => {
  const trace = (f: string) => readFileSync(join(TRACES, f), 'utf8');
  describe.each(FIXTURES)('%s.wasm', (fixture) => {
    const a = artifactOf(readFileSync(join(DEMANGLE, `${fixture}.wasm`)), backend);

    it('with details: the stripped trace symbolicated is what Wasmtime printed, byte for byte', () => {
      const stripped = trace(`wasmtime-details.${fixture}-stripped.txt`);
      const full = trace(`wasmtime-details.${fixture}.txt`);
      expect(stripped).toMatch(/<unknown>!<wasm function \d+>/);
      expect(symbolicate(stripped, a)).toBe(full);
      expect(symbolicate(full, a)).toBe(full);
    });

    it('without details: the names Wasmtime printed', () => {
      const stripped = trace(`wasmtime.${fixture}-stripped.txt`);
      // Wasmtime adds a note for a module with DWARF it did not read.
      const full = trace(`wasmtime.${fixture}.txt`).replace(/^note: .*\n/m, '');
      expect(symbolicate(stripped, a, { lineInfo: false })).toBe(full);
      expect(symbolicate(full, a, { lineInfo: false })).toBe(full);
    });
  });

  it('the traces hold demangled names of each scheme, and the JS engines keep the raw ones', () => {
    expect(trace('wasmtime-details.rust-trap.txt')).toContain(
      '<trap::Meter<T> as trap::Check>::check::h440361c48c75bcba\n',
    );
    expect(trace('wasmtime-details.rust-v0-trap.txt')).toContain('- trap[aaffb50095c40688]::run::{closure#0}\n');
    expect(trace('wasmtime-details.cpp-trap.txt')).toContain('- start(unsigned char)::$_0::operator()(int) const\n');
    // rustc's name section holds mangled names (wasm-ld's, for C++, demangled ones).
    const a = artifactOf(readFileSync(join(DEMANGLE, 'rust-trap.wasm')), backend);
    const v8 = '    at wasm://wasm/0a1b2c3d:wasm-function[0]:0x77';
    expect(symbolicate(v8, a, { lineInfo: false })).toBe(
      '    at _ZN52_$LT$trap..Meter$LT$T$GT$$u20$as$u20$trap..Check$GT$5check17h440361c48c75bcbaE ' +
        '(wasm://wasm/0a1b2c3d:wasm-function[0]:0x77)',
    );
    const wt = '    0:     0x77 - <unknown>!<wasm function 0>';
    expect(symbolicate(wt, a, { lineInfo: false })).toBe(
      '    0:     0x77 - <unknown>!<trap::Meter<T> as trap::Check>::check::h440361c48c75bcba',
    );
  });
});

// --- The names Wasmtime printed -------------------------------------------------------------

let cxxfiltOk: boolean | undefined;
function hasCxxfilt(): boolean {
  if (cxxfiltOk === undefined) {
    try {
      execFileSync('llvm-cxxfilt-14', ['--version'], { stdio: 'ignore' });
      cxxfiltOk = true;
    } catch {
      cxxfiltOk = false;
    }
  }
  if (!cxxfiltOk && IN_CI) throw new Error('CI: llvm-cxxfilt-14 (llvm-14) must be installed');
  return cxxfiltOk;
}

/** llvm-cxxfilt-14's answers, one per name (names one a line on its stdin). */
function cxxfilt(names: string[]): string[] {
  const out = execFileSync('llvm-cxxfilt-14', [], { input: names.join('\n') + '\n', maxBuffer: 1 << 28 });
  return out.toString('utf8').split('\n').slice(0, names.length);
}

describe('the names Wasmtime printed (test/fixtures/demangle/wasmtime-names.tsv)', () => {
  const rows = [...WASMTIME_NAMES];

  it('holds each scheme, from real modules and libraries', () => {
    expect(rows.length).toBeGreaterThan(700);
    expect(rows.filter(([m]) => m.startsWith('_R')).length).toBeGreaterThan(200);
    expect(rows.filter(([m]) => /^_ZN.*17h[0-9a-f]{16}E$/.test(m)).length).toBeGreaterThan(50);
    expect(rows.filter(([m, w]) => m.startsWith('_Z') && w.includes('(')).length).toBeGreaterThan(200);
  });

  it.skipIf(!hasCxxfilt())(
    'every one as Wasmtime prints it, but where its C++ demangler is wrong (llvm-cxxfilt agrees with funckey) or funckey gives up',
    () => {
      const differ = rows.filter(([m, w]) => demangle(m) !== w);
      const gaveUp = differ.filter(([m]) => demangle(m) === m).map(([m]) => m);
      const other = differ.filter(([m]) => demangle(m) !== m).map(([m]) => m);
      // Not covered: a v0 lifetime Wasmtime itself finds invalid, an expression in template
      // arguments (`X…E`).
      expect(gaveUp.sort()).toEqual([
        '_RINvCs1234_1a1fRL0_hEB2_',
        '_ZN4llvm4yaml7yamlizeISt6vectorINS_7ELFYAML13SectionOrTypeESaIS4_EENS0_12EmptyContextEEENSt9enable_ifIXsr18has_SequenceTraitsIT_EE5valueEvE4typeERNS0_2IOERS9_bRT0_',
      ]);
      // Wasmtime's cpp_demangle misprints pack expansions (`DpRKT_`, `DpOT0_`): what
      // llvm-cxxfilt writes is what funckey writes.
      expect(other.length).toBe(3);
      expect(other.every((m) => m.includes('Dp'))).toBe(true);
      expect(other.map((m) => demangle(m))).toEqual(cxxfilt(other));
    },
  );
});

// --- llvm-cxxfilt over every function name of real modules --------------------------------

/** Every function name of the modules: name sections, and the DWARF names of the goldens. */
function namesOf(files: string[]): string[] {
  const names = new Set<string>();
  for (const f of files) {
    for (const m of parseWasm(readFileSync(f)).modules) for (const n of m.names) names.add(n);
    const golden = f.replace(/\.wasm$/, '.golden');
    if (existsSync(golden))
      for (const line of readFileSync(golden, 'utf8').split('\n'))
        for (const frame of line.split('\t').slice(1)) if (frame !== '=') names.add(frame.split('|')[0]!);
  }
  return [...names].filter((n) => n !== '' && !/[\n\r]/.test(n));
}

/**
 * funckey's text and llvm-cxxfilt-14's, with the differences explained made equal:
 * - Rust v0: Wasmtime (rustc-demangle's `{}`) keeps crate disambiguators (`core[3c1c0]`)
 *   and integer constants' types (`3usize`); llvm-cxxfilt writes neither. llvm-cxxfilt
 *   writes a suffix `.llvm.N` or `.N` as ` (.llvm.N)`; rustc-demangle drops `.llvm.` with
 *   hex digits and keeps other suffixes as they are.
 * - C++: a lambda is `{lambda(int)#1}` in Wasmtime's (and GNU c++filt's) text, `'lambda'(int)`
 *   in llvm-cxxfilt's; a clone suffix is ` [clone .cold]` in both.
 */
function normalize(name: string, ours: string, theirs: string): [string, string] {
  if (name.startsWith('_R')) {
    ours = ours.replace(/\[[0-9a-f]+\]/g, '').replace(/\b(-?[0-9]+)[ui](8|16|32|64|128|size)\b/g, '$1');
    theirs = theirs.replace(/ \(\.llvm\.[0-9A-F@]+\)$/, '').replace(/ \((\.[^ ]*)\)$/, '$1');
  } else {
    ours = ours.replace(/\{lambda\(([^{}]*)\)#(\d+)\}/g, (_m, a: string, n: string) =>
      n === '1' ? `'lambda'(${a})` : `'lambda${Number(n) - 2}'(${a})`,
    );
  }
  return [ours, theirs];
}

describe.skipIf(!hasCxxfilt())('llvm-cxxfilt-14 over every function name of real modules', () => {
  const dwarf = readdirSync(DWARF)
    .filter((f) => f.endsWith('.wasm'))
    .map((f) => join(DWARF, f));
  const traps = FIXTURES.map((f) => join(DEMANGLE, `${f}.wasm`));
  const packages = [
    ['@biomejs/wasm-nodejs', 'biome_wasm_bg.wasm'],
    ['@swc/wasm', 'wasm_bg.wasm'],
  ].map(([p, f]) => join(__dirname, '..', 'node_modules', p!, f!));

  const compare = (names: string[]) => {
    const theirs = cxxfilt(names);
    const bad: string[] = [];
    let demangled = 0;
    names.forEach((n, k) => {
      const d = demangle(n);
      if (d !== n) demangled++;
      // Wasmtime keeps a Rust name with a suffix that is not LLVM's `.`-words (wasm-bindgen's
      // ` externref shim`), which llvm-cxxfilt demangles.
      if (d === n && n.startsWith('_R') && / /.test(n)) return;
      // Rust's legacy names with `$` escapes or `..` are Itanium names to llvm-cxxfilt.
      if (/^_ZN.*17h[0-9a-f]{16}E/.test(n) && /[$.]/.test(n.slice(3))) return;
      const [o, t] = normalize(n, d, theirs[k]!);
      if (o !== t) bad.push(`${n}\n  llvm-cxxfilt ${t}\n  funckey      ${o}`);
    });
    return { bad, demangled };
  };

  it('the DWARF fixtures and the trap fixtures: C, C++ and Rust', () => {
    const names = namesOf([...dwarf, ...traps]);
    const { bad, demangled } = compare(names);
    expect(bad.join('\n')).toBe('');
    expect(demangled).toBeGreaterThan(50);
  });

  it('pack expansions of references collapse as llvm-cxxfilt writes them', () => {
    const names = ['_Z1fIJRA3_KcEEvDpOT_', '_Z1fIJRKiEEvDpOT_', '_Z1fIJiEEvDpRKT_', '_Z1fIJRiOcEEvDpOT_'];
    expect(names.map((n) => demangle(n))).toEqual(cxxfilt(names));
  });

  it.skipIf(!packages.every(existsSync))("the dev dependencies' Rust modules: every function name", () => {
    const names = namesOf(packages);
    expect(names.length).toBeGreaterThan(30000);
    const { bad, demangled } = compare(names);
    expect(bad.slice(0, 5).join('\n'), `${bad.length} of ${names.length} differ`).toBe('');
    expect(demangled).toBeGreaterThan(30000);
  });
});

// --- Hostile names ---------------------------------------------------------------------------

/** A deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

describe('hostile names', () => {
  const seeds = [...WASMTIME_NAMES.keys()].filter((m) => /^_[ZR]/.test(m));
  const ALPHABET = '_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$.';

  /** Calls demangle and checks what every answer must be: a string, within the bounds. */
  const check = (name: string) => {
    const d = demangle(name);
    expect(typeof d).toBe('string');
    expect(d.length).toBeLessThanOrEqual(Math.max(name.length, MAX_WORK));
    if (name.length > MAX_INPUT) expect(d).toBe(name);
  };

  it('mutated real names: never a throw, never past the bounds', () => {
    const r = rng(17);
    for (let n = 0; n < 20000; n++) {
      const s = seeds[Math.floor(r() * seeds.length)]!.split('');
      const edits = 1 + Math.floor(r() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(r() * (s.length + 1));
        const c = ALPHABET[Math.floor(r() * ALPHABET.length)]!;
        const op = r();
        if (op < 0.4) s[at] = c;
        else if (op < 0.7) s.splice(at, 0, c);
        else s.splice(at, 1);
      }
      check(s.join(''));
    }
  });

  it('random names after each prefix: never a throw', () => {
    const r = rng(5);
    for (const prefix of ['_Z', '_ZN', '_R', '_RN', '_ZZ', '_ZT', '']) {
      for (let n = 0; n < 3000; n++) {
        let s = prefix;
        const len = Math.floor(r() * 40);
        for (let k = 0; k < len; k++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
        check(s);
      }
    }
  });

  it('backreferences and substitutions that double at each step stay bounded', () => {
    // v0: type k is the tuple (type k-1, type k-1), both by backreference: 2^k leaves.
    const b62 = (pos: number) => {
      if (pos === 0) return '_';
      let x = pos - 1;
      let d = '';
      do {
        d = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'[x % 62] + d;
        x = Math.floor(x / 62);
      } while (x > 0);
      return d + '_';
    };
    const v0 = (steps: number) => {
      let s = 'INvC1a1f'; // after `_R`: positions count from here
      let prev = s.length;
      s += 'h';
      for (let k = 0; k < steps; k++) {
        const at = s.length;
        s += `TB${b62(prev)}B${b62(prev)}E`;
        prev = at;
      }
      return '_R' + s + 'E';
    };
    expect(demangle(v0(2))).toBe('a::f::<u8, (u8, u8), ((u8, u8), (u8, u8))>');
    check(v0(40));
    expect(demangle(v0(40))).toBe(v0(40));
    // Itanium: A<X, X> where X is the previous type, by substitution (f is substitution 0;
    // step k adds A, 2k - 1, and A<…>, 2k).
    const sub = (i: number) => (i === 0 ? 'S_' : `S${(i - 1).toString(36).toUpperCase()}_`);
    // A chain written out: f<A<int, int>, A<A<int, int>, A<int, int> >, …>.
    const chain = (steps: number) => {
      let args = 'N1AIiiEE';
      for (let k = 1; k < steps; k++) args += `N1AI${sub(2 * k)}${sub(2 * k)}EE`;
      return `_Z1fI${args}Ev`;
    };
    expect(demangle(chain(2))).toBe('void f<A<int, int>, A<A<int, int>, A<int, int> > >()');
    check(chain(60));
    expect(demangle(chain(60))).toBe(chain(60));
    // Deep nesting: pointers to pointers, nested names, v0 references and generics.
    for (const n of [
      '_Z1f' + 'P'.repeat(100000) + 'i',
      '_Z1f' + 'PN1A'.repeat(3000) + 'i' + 'E'.repeat(3000),
      '_RNvC1a' + 'R'.repeat(5000) + 'h',
      '_RNv' + 'I'.repeat(5000) + 'C1a',
      '_ZN' + '1a'.repeat(MAX_INPUT) + 'E',
    ]) {
      check(n);
      expect(demangle(n)).toBe(n);
    }
  });

  it('gives names back unchanged where Wasmtime does: C names, malformed and unsupported ones', () => {
    for (const n of ['run', 'main', '__wasm_call_ctors', 'dlmalloc', '_ZN3foo', '_ZNK', '_R', '_RNv', '_Z'])
      expect(demangle(n)).toBe(n);
    // Punycode identifiers (non-ASCII Rust names), decoded or, when invalid, kept so.
    expect(demangle('_RNvCs1234_1au9bcher_kva')).toBe('a[3c1c0]::bücher');
    expect(demangle('_RNvCs1234_1au4ab_c')).toBe('a[3c1c0]::punycode{ab-c}');
    expect(demangle('_RNvCs1234_7uhello_1f')).toBe('uhello_[3c1c0]::f');
  });
});

// --- Where the demangler is -----------------------------------------------------------------

describe('packaging', () => {
  it('is in the lazy bundle with symbolication, not in the eager one', () => {
    const dist = join(__dirname, '..', 'dist');
    const lazy = readFileSync(join(dist, 'funckey-lazy.cjs'), 'utf8');
    expect(lazy).toContain('lib/demangle.ts');
    const others = readdirSync(dist).filter((f) => f.endsWith('.cjs') && f !== 'funckey-lazy.cjs');
    expect(others).toContain('funckey.cjs');
    for (const f of others) expect(readFileSync(join(dist, f), 'utf8'), f).not.toContain('lib/demangle.ts');
  });
});
