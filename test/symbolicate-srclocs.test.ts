/*
 * Source locations in symbolicated traces. Expected values never come from funckey: the
 * chains are llvm-symbolizer-14's (the committed .golden files of test/fixtures/dwarf, and a
 * live run where it is installed), function names and frame text are what the engines printed
 * for the module with its name section and DWARF, and the layout of the added lines is the
 * one README.md specifies, written out here by hand.
 *
 * Real engines: scripts/capture-traces.mjs ran node, gjs, jsc and Wasmtime (Python bindings,
 * with and without WASMTIME_BACKTRACE_DETAILS=1) on test/fixtures/dwarf/c-trap.wasm, which
 * traps inside inlined functions, and on that module stripped of its name and .debug_*
 * sections: test/fixtures/traces/<engine>.trap-{dwarf,stripped}.txt. For Wasmtime the
 * symbolicated trace of the stripped module must be, byte for byte, what Wasmtime printed
 * for the module with DWARF. Node, gjs and jsc are run live as well where installed (gjs and
 * jsc always in CI).
 */
import { has } from './helpers/wabt.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildFromWasm,
  open,
  stripCustomSections,
  symbolicate,
  symbolicateFrames,
  TraceRewriter,
  type Artifact,
  type SymbolicateOptions,
} from '../lib/index.js';
import { BACKENDS } from './helpers/backends.js';
import { wasmtimeName } from './helpers/wasmtime-names.js';
// @ts-expect-error: a plain .mjs module shared with scripts/capture-traces.mjs
import { ENGINES } from '../samples/engines/engines.mjs';

const DWARF = join(__dirname, 'fixtures', 'dwarf');
const TRACES = join(__dirname, 'fixtures', 'traces');
const TRAP = join(DWARF, 'c-trap.wasm');
const trace = (engine: string, m: 'dwarf' | 'stripped') =>
  readFileSync(join(TRACES, `${engine}.trap-${m}.txt`), 'utf8');
const IN_CI = process.env.CI === 'true';

// --- The module, read by hand: code section start, function bodies --------------------------

function leb(b: Uint8Array, p: { at: number }): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    const x = b[p.at++]!;
    v += (x & 0x7f) * mul;
    if (x < 0x80) return v;
    mul *= 128;
  }
}

/** The code section's payload start, and [start, end, function index) of every body. */
function layout(b: Uint8Array): { codeStart: number; bodies: [number, number, number][] } {
  const p = { at: 8 };
  let imported = 0;
  while (p.at < b.length) {
    const id = b[p.at++]!;
    const size = leb(b, p);
    const end = p.at + size;
    if (id === 2) {
      const q = { at: p.at };
      for (let n = leb(b, q); n > 0; n--) {
        q.at += leb(b, q);
        q.at += leb(b, q);
        const kind = b[q.at++]!;
        if (kind === 0) {
          imported++;
          leb(b, q);
        } else if (kind === 1 || kind === 2) {
          if (kind === 1) q.at++;
          const flags = b[q.at++]!;
          leb(b, q);
          if (flags & 1) leb(b, q);
        } else q.at += 2;
      }
    }
    if (id === 10) {
      const codeStart = p.at;
      const bodies: [number, number, number][] = [];
      const n = leb(b, p);
      for (let k = 0; k < n; k++) {
        const len = leb(b, p);
        bodies.push([p.at, p.at + len, imported + k]);
        p.at += len;
      }
      return { codeStart, bodies };
    }
    p.at = end;
  }
  throw new Error('no code section');
}

/** A golden file: code-relative address -> frames [function, file, line, column], innermost first. */
function golden(name: string): Map<number, string[][]> {
  const out = new Map<number, string[][]>();
  let prev: string[][] = [];
  for (const line of readFileSync(join(DWARF, name.replace(/\.wasm$/, '.golden')), 'utf8').split('\n')) {
    if (line === '') continue;
    const [addr, ...frames] = line.split('\t');
    const chain = frames[0] === '=' ? prev : frames.filter((f) => f !== '').map((f) => f.split('|'));
    out.set(parseInt(addr!, 16), chain);
    prev = chain;
  }
  return out;
}

const loc = (f: string[]) => `${f[1] === '' ? '??' : f[1]}:${f[2]}:${f[3]}`;

// --- The expected text, by the rules of README.md -------------------------------------------

/** V8: the inlined frames `at F (LOC)`, then the frame named NAME with its own location. */
function v8Expected(indent: string, chain: string[][], name: string, url: string): string[] {
  const lines = chain.slice(0, -1).map((f) => `${indent}at ${f[0]} (${loc(f)})`);
  return [...lines, `${indent}at ${name} [${loc(chain[chain.length - 1]!)}] (${url})`];
}

/** SpiderMonkey: `F@LOC`, then `NAME [LOC]@URL`. */
function smExpected(chain: string[][], name: string, url: string): string[] {
  const lines = chain.slice(0, -1).map((f) => `${f[0]}@${loc(f)}`);
  return [...lines, `${name} [${loc(chain[chain.length - 1]!)}]@${url}`];
}

/** Wasmtime with WASMTIME_BACKTRACE_DETAILS=1 (its trap.rs layout: 16 spaces before `-`, 20 before `at`). */
function wasmtimeExpected(prefix: string, chain: string[][], raw: string): string[] {
  const out: string[] = [];
  chain.forEach((f, k) => {
    // Wasmtime demangles the DWARF's names (captured from Wasmtime: helpers/wasmtime-names.ts).
    const name = f[0] !== '' ? wasmtimeName(f[0]!) : k === 0 ? raw : '<inlined function>';
    out.push(k === 0 ? prefix + name : ' '.repeat(16) + '- ' + name);
    if (f[1] === '') return;
    let at = ' '.repeat(20) + 'at ' + f[1];
    if (f[2] !== '0') at += ':' + f[2] + (f[3] !== '0' ? ':' + f[3] : '');
    out.push(at);
  });
  return out;
}

const artifacts = new Map<string, Artifact>();
function artifactOf(file: string, backend: string): Artifact {
  const k = `${file}/${backend}`;
  if (!artifacts.has(k))
    artifacts.set(k, open(buildFromWasm(readFileSync(file)), { backend: backend as 'js' | 'native' }));
  return artifacts.get(k)!;
}
afterAll(() => {
  for (const a of artifacts.values()) a.close();
});

/** The text through a TraceRewriter in chunks of `size` bytes. */
function streamed(text: string, a: Artifact, size: number, options?: SymbolicateOptions): string {
  const rw = new TraceRewriter(a, options);
  const bytes = Buffer.from(text, 'utf8');
  const out: Buffer[] = [];
  for (let p = 0; p < bytes.length; p += size) out.push(...rw.push(bytes.subarray(p, p + size)));
  out.push(...rw.end());
  return Buffer.concat(out).toString('utf8');
}

const trapLayout = layout(readFileSync(TRAP));
const trapGolden = golden('c-trap.wasm');
/** The golden chain at a module offset of c-trap.wasm. */
const chainAt = (off: number) => trapGolden.get(off - trapLayout.codeStart)!;

// --- Real engines ----------------------------------------------------------------------------

/** Expected V8 text: the stripped trace's frames, with the names of the trace of the full module. */
function v8FromEngine(stripped: string, full: string): string {
  const names = [...full.matchAll(/^ *at (\S+) \(wasm:/gm)].map((m) => m[1]!);
  let k = 0;
  return stripped
    .split('\n')
    .flatMap((line) => {
      const m = /^( *)at (wasm:\/\/\S+:wasm-function\[\d+\]:0x([0-9a-f]+))$/.exec(line);
      return m === null ? [line] : v8Expected(m[1]!, chainAt(parseInt(m[3]!, 16)), names[k++]!, m[2]!);
    })
    .join('\n');
}

/** Expected SpiderMonkey text, likewise. */
function smFromEngine(stripped: string, full: string): string {
  const names = [...full.matchAll(/^(\w+)@.*wasm-function/gm)].map((m) => m[1]!);
  let k = 0;
  return stripped
    .split('\n')
    .flatMap((line) => {
      const m = /^@(.*wasm-function\[\d+\]:0x([0-9a-f]+))$/.exec(line);
      return m === null ? [line] : smExpected(chainAt(parseInt(m[2]!, 16)), names[k++]!, m[1]!);
    })
    .join('\n');
}

describe.each(BACKENDS)('real engines on c-trap.wasm (%s backend)', (backend) => {
  const a = () => artifactOf(TRAP, backend);

  it('the fixture traps inside inlined frames, called from inlined code', () => {
    const offs = [...trace('node', 'stripped').matchAll(/:0x([0-9a-f]+)$/gm)].map((m) => parseInt(m[1]!, 16));
    expect(offs.length).toBe(3);
    expect(offs.map((o) => chainAt(o).length)).toEqual([3, 2, 1]);
  });

  it('Wasmtime: the stripped trace symbolicated is what Wasmtime printed with DWARF and details, byte for byte', () => {
    const stripped = trace('wasmtime-details', 'stripped');
    const full = trace('wasmtime-details', 'dwarf');
    expect(stripped).not.toBe(full);
    expect(full).toContain('                - scale\n                    at /src/./trapx.h:12:10\n');
    expect(symbolicate(stripped, a())).toBe(full);
    for (const size of [1, 7, 64, 1 << 16]) expect(streamed(stripped, a(), size)).toBe(full);
    // Wasmtime's own trace, and funckey's output, stay as they are.
    expect(symbolicate(full, a())).toBe(full);
    const frames = symbolicateFrames(stripped, a());
    expect(frames.map((f) => [f.status, f.name, f.srcLocs.length])).toEqual([
      ['resolved', 'leaf', 3],
      ['resolved', 'middle', 2],
      ['resolved', 'run', 1],
    ]);
    expect(frames[0]!.srcLocs[1]).toEqual({ function: 'scale', file: '/src/./trapx.h', line: 12, column: 10 });
  });

  it('Wasmtime without details: with lineInfo false, the names Wasmtime printed', () => {
    const stripped = trace('wasmtime', 'stripped');
    // Wasmtime adds a note for a module with DWARF it did not read.
    const full = trace('wasmtime', 'dwarf').replace(/^note: .*\n/m, '');
    expect(symbolicate(stripped, a(), { lineInfo: false })).toBe(full);
    expect(streamed(stripped, a(), 5, { lineInfo: false })).toBe(full);
  });

  it('Wasmtime: the one-line form, the innermost location after the name', () => {
    const stripped = trace('wasmtime', 'stripped');
    const lines = symbolicate(stripped, a(), { inlines: false }).split('\n');
    const frames = stripped.split('\n').filter((l) => / - <unknown>!/.test(l));
    expect(lines.filter((l) => / - <unknown>!/.test(l))).toEqual(
      frames.map((l, k) => {
        const off = parseInt(/(0x[0-9a-f]+) -/.exec(l)![1]!, 16);
        return l.replace(/<wasm function \d+>/, `${['leaf', 'middle', 'run'][k]} [${loc(chainAt(off)[0]!)}]`);
      }),
    );
    expect(lines.length).toBe(stripped.split('\n').length);
  });

  it('V8 (node): inlined frames as V8 frames, innermost first, the frame itself keeping its URL and offset', () => {
    const stripped = trace('node', 'stripped');
    const expected = v8FromEngine(stripped, trace('node', 'dwarf'));
    expect(expected).toContain('    at check (/src/./trapx.h:7:5)\n    at scale (/src/./trapx.h:12:10)\n    at leaf [');
    const got = symbolicate(stripped, a());
    expect(got).toBe(expected);
    expect(symbolicate(got, a())).toBe(got);
    expect(streamed(stripped, a(), 3)).toBe(expected);
    expect(streamed(got, a(), 3)).toBe(got);
  });

  it('V8: the one-line form keeps one line per frame; lineInfo false gives the names alone', () => {
    const stripped = trace('node', 'stripped');
    const full = trace('node', 'dwarf');
    const one = symbolicate(stripped, a(), { inlines: false });
    expect(one.split('\n').length).toBe(stripped.split('\n').length);
    const frames = one.split('\n').filter((l) => l.includes('wasm-function'));
    expect(frames).toEqual(
      full
        .split('\n')
        .filter((l) => l.includes('wasm-function'))
        .map((l) => {
          const off = parseInt(/:0x([0-9a-f]+)\)$/.exec(l)![1]!, 16);
          return l.replace(/^( *at \w+)/, `$1 [${loc(chainAt(off)[0]!)}]`).replace(/wasm:\/\/wasm\/\w+/, 'URL');
        })
        .map((l, k) => l.replace('URL', /wasm:\/\/wasm\/\w+/.exec(frames[k]!)![0])),
    );
    expect(symbolicate(one, a(), { inlines: false })).toBe(one);
    const urlsAside = (t: string) => t.replace(/wasm:\/\/wasm\/\w+/g, 'URL');
    expect(urlsAside(symbolicate(stripped, a(), { lineInfo: false }))).toBe(urlsAside(full));
  });

  it('SpiderMonkey (gjs): inlined frames as SpiderMonkey frames', () => {
    const stripped = trace('gjs', 'stripped');
    const expected = smFromEngine(stripped, trace('gjs', 'dwarf'));
    expect(expected).toContain(
      'check@/src/./trapx.h:7:5\nscale@/src/./trapx.h:12:10\nleaf [/src/trap.c:8:10]@run-gjs.js',
    );
    const got = symbolicate(stripped, a());
    expect(got).toBe(expected);
    expect(symbolicate(got, a())).toBe(got);
    expect(symbolicateFrames(stripped, a()).map((f) => f.engine)).toEqual([
      'spidermonkey',
      'spidermonkey',
      'spidermonkey',
    ]);
    expect(symbolicateFrames(got, a()).map((f) => [f.status, f.printedName])).toEqual([
      ['resolved', 'leaf'],
      ['resolved', 'middle'],
      ['resolved', 'run'],
    ]);
  });

  it('JavaScriptCore prints no offsets: names only, no location, as JSC prints them for the full module', () => {
    const got = symbolicate(trace('jsc', 'stripped'), a());
    expect(got).toBe(trace('jsc', 'dwarf'));
    expect(symbolicateFrames(trace('jsc', 'stripped'), a()).map((f) => f.srcLocs)).toEqual([[], [], []]);
  });
});

// --- Live engines ----------------------------------------------------------------------------

interface EngineDef {
  id: string;
  debian?: boolean;
  find: (dir?: string) => string | undefined;
  run: (exe: string, module: string) => string;
}

describe('live engines on c-trap.wasm and its stripped build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'funckey-srclocs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const stripped = join(dir, 'c-trap.wasm');
  const drop = (n: string) => n === 'name' || n.startsWith('.debug_');
  writeFileSync(stripped, stripCustomSections(readFileSync(TRAP), drop));
  const engines = (ENGINES as EngineDef[]).filter((e) => ['node', 'gjs', 'jsc', 'wasmtime-details'].includes(e.id));
  for (const e of engines) {
    const exe = e.find();
    if (exe === undefined && IN_CI && e.debian) throw new Error(`CI: ${e.id} must be installed`);
    it.skipIf(exe === undefined).each(BACKENDS)(`${e.id} (%s backend)`, (backend) => {
      const a = artifactOf(TRAP, backend);
      const s = e.run(exe!, stripped);
      const full = e.run(exe!, TRAP);
      const got = symbolicate(s, a);
      if (e.id === 'node') expect(got).toBe(v8FromEngine(s, full));
      else if (e.id === 'gjs') expect(got).toBe(smFromEngine(s, full));
      else expect(got).toBe(full);
      expect(symbolicate(got, a)).toBe(got);
    });
  }
});

// --- Every instruction of every DWARF fixture ------------------------------------------------

const symbolizer = has('llvm-symbolizer-14');
if (IN_CI && !symbolizer) throw new Error('CI: llvm-symbolizer-14 must be installed');

const fixtures = readdirSync(DWARF)
  .filter((f) => f.endsWith('.wasm'))
  .sort();

describe.each(BACKENDS)('every instruction of the DWARF fixtures, each engine form (%s backend)', (backend) => {
  it.each(fixtures)('%s', (name) => {
    const file = join(DWARF, name);
    const a = artifactOf(file, backend);
    const { codeStart, bodies } = layout(readFileSync(file));
    const g = golden(name);
    const rows: [number, number, string[][]][] = [];
    for (const [addr, chain] of g) {
      const off = codeStart + addr;
      const body = bodies.find(([s, e]) => off >= s && off < e);
      if (body !== undefined && chain.length > 0) rows.push([off, body[2], chain]);
    }
    expect(rows.length).toBeGreaterThan(30);
    const url = 'wasm://wasm/0abc1234';
    const hex = (o: number) => '0x' + o.toString(16);
    const v8 = rows.map(([off, fi]) => `    at ${url}:wasm-function[${fi}]:${hex(off)}`).join('\n');
    const sm = rows.map(([off, fi]) => `f@http://h/m.wasm:wasm-function[${fi}]:${hex(off)}`).join('\n');
    const wt =
      'error while executing at wasm backtrace:\n' +
      rows
        .map(([off, fi], k) => `  ${String(k).padStart(3)}: ${hex(off).padStart(8)} - <unknown>!<wasm function ${fi}>`)
        .join('\n');
    const v8Out = symbolicate(v8, a).split('\n');
    const smOut = symbolicate(sm, a).split('\n');
    const wtOut = symbolicate(wt, a).split('\n');
    const v8One = symbolicate(v8, a, { inlines: false }).split('\n');
    let i = 0;
    let j = 0;
    let w = 1;
    const bad: string[] = [];
    const check = (got: string[], want: string[], what: string) => {
      if (got.length !== want.length || got.some((l, k) => !(want[k] === l || new RegExp(want[k]!).test(l))))
        bad.push(`${what}\n  want ${want.join('\n       ')}\n  got  ${got.join('\n       ')}`);
    };
    const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    rows.forEach(([off, fi, chain], k) => {
      const frameUrl = `${url}:wasm-function[${fi}]:${hex(off)}`;
      // The function's name is not what this test is about: any name.
      const want = v8Expected('    ', chain, 'NAME', frameUrl);
      want[want.length - 1] = `^${esc(want[want.length - 1]!).replace('NAME', '.+')}$`;
      check(v8Out.slice(i, i + chain.length), want, `V8 ${hex(off)}`);
      i += chain.length;
      const smWant = smExpected(chain, 'NAME', `http://h/m.wasm:wasm-function[${fi}]:${hex(off)}`);
      smWant[smWant.length - 1] = `^${esc(smWant[smWant.length - 1]!).replace('NAME', '.+')}$`;
      check(smOut.slice(j, j + chain.length), smWant, `SpiderMonkey ${hex(off)}`);
      j += chain.length;
      const prefix = `  ${String(k).padStart(3)}: ${hex(off).padStart(8)} - `;
      const wtWant = wasmtimeExpected(prefix, chain, 'RAW');
      const n = wtWant.length;
      check(
        wtOut.slice(w, w + n),
        wtWant.map((l) => (l.includes('RAW') ? `^${esc(l).replace('RAW', '.+')}$` : l)),
        `Wasmtime ${hex(off)}`,
      );
      w += n;
      const oneWant = `^    at .+ \\[${esc(loc(chain[0]!))}\\] \\(${esc(frameUrl)}\\)$`;
      check([v8One[k]!], [oneWant], `one line ${hex(off)}`);
    });
    expect(bad.slice(0, 3).join('\n'), `${bad.length} of ${rows.length * 4} frames differ`).toBe('');
    expect([i, j, w]).toEqual([v8Out.length, smOut.length, wtOut.length]);
    // Symbolicating the output again changes nothing, in every form.
    for (const out of [v8Out, smOut, wtOut, v8One]) expect(symbolicate(out.join('\n'), a).split('\n')).toEqual(out);
    // The chains as data: what llvm-symbolizer gives.
    const frames = symbolicateFrames(v8, a);
    expect(frames.map((f) => f.srcLocs.map((s) => [s.function, s.file, String(s.line), String(s.column)]))).toEqual(
      rows.map(([, , c]) => c),
    );
  });

  it.runIf(symbolizer)('the golden chains of c-trap.wasm are llvm-symbolizer-14 --inlines live', () => {
    const addrs = [...trapGolden.keys()].map((x) => '0x' + x.toString(16));
    const out = execFileSync(
      'llvm-symbolizer-14',
      ['--inlines', '--no-demangle', '--output-style=JSON', `--obj=${TRAP}`, ...addrs],
      { encoding: 'utf8' },
    );
    // With the addresses as arguments: one JSON array of answers.
    type Answer = { Symbol: { FunctionName: string; FileName: string; Line: number; Column: number }[] };
    const live = (JSON.parse(out) as Answer[]).map((r) =>
      r.Symbol.filter((s) => s.FunctionName !== '' || s.FileName !== '').map((s) => [
        s.FunctionName,
        s.FileName,
        String(s.Line),
        String(s.Column),
      ]),
    );
    expect(live).toEqual([...trapGolden.values()]);
  });
});

// --- The command line ------------------------------------------------------------------------

describe('funckey symbolicate: --no-inlines, --no-line-info, --json', () => {
  const CLI = join(__dirname, '..', 'dist', 'cli.js');
  const dir = mkdtempSync(join(tmpdir(), 'funckey-srclocs-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fkx = join(dir, 'c-trap.fkx');
  writeFileSync(fkx, buildFromWasm(readFileSync(TRAP)));
  const input = join(TRACES, 'wasmtime-details.trap-stripped.txt');
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, 'symbolicate', fkx, input, ...args], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout;
  };

  it('writes the detailed trace by default, and the forms the flags ask for', () => {
    expect(cli()).toBe(trace('wasmtime-details', 'dwarf'));
    const stripped = trace('wasmtime-details', 'stripped');
    expect(cli('--no-line-info')).toBe(trace('wasmtime', 'dwarf').replace(/^note: .*\n/m, ''));
    const one = cli('--no-inlines');
    expect(one.split('\n').length).toBe(stripped.split('\n').length);
    expect(one).toContain(`    0:     0xa0 - <unknown>!leaf [${loc(chainAt(0xa0)[0]!)}]\n`);
    const frames = JSON.parse(cli('--json')) as { srcLocs: { function: string }[] }[];
    expect(frames.map((f) => f.srcLocs.map((s) => s.function))).toEqual([
      ['check', 'scale', 'leaf'],
      ['relay', 'middle'],
      ['run'],
    ]);
  });
});

describe.each(BACKENDS)('source locations: the line around a frame (%s backend)', (backend) => {
  const a = () => artifactOf(TRAP, backend);
  const url = 'wasm://wasm/8c8300ca:wasm-function';
  // c-trap.wasm at 0xa2 (llvm-symbolizer-14 at code address 0x4b, the golden file).
  const inner = ['    at check (/src/./trapx.h:7:5)', '    at scale (/src/./trapx.h:12:10)'];

  it('a frame after other text on its line gets the one-line form; CRLF lines keep CRLF', () => {
    expect(symbolicate(`log: at ${url}[4]:0xa2 (worker 3)`, a())).toBe(
      `log: at leaf [/src/./trapx.h:7:5] (${url}[4]:0xa2) (worker 3)`,
    );
    expect(symbolicate(`E\r\n    at ${url}[4]:0xa2\r\n`, a())).toBe(
      `E\r\n${inner.join('\r\n')}\r\n    at leaf [/src/trap.c:8:10] (${url}[4]:0xa2)\r\n`,
    );
  });

  it("Deno's index 0: resolved by the offset, the name and locations added", () => {
    expect(symbolicate(`    at <anonymous> (${url}[0]:0xa2)`, a())).toBe(
      [...inner, `    at leaf [/src/trap.c:8:10] (${url}[0]:0xa2)`].join('\n'),
    );
  });

  it('a frame of another module (mismatch) gets no location; options are checked', () => {
    const t = `    at ${url}[2]:0xa2`;
    expect(symbolicate(t, a())).toBe(t);
    expect(symbolicateFrames(t, a())[0]).toMatchObject({ status: 'mismatch', srcLocs: [] });
    expect(() => symbolicate(t, a(), { inlines: 1 as unknown as boolean })).toThrow(/inlines must be a boolean/);
    expect(() => symbolicate(t, a(), { lineInfo: 'no' as unknown as boolean })).toThrow(/lineInfo must be a boolean/);
  });
});
