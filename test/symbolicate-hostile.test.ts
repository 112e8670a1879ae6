/*
 * Hostile trace text and arguments (#15 items 4, 6, 11, 14, 15): every case checks the answer,
 * and that the work done is bounded by the input: lines of 1 MiB built to make a pattern
 * backtrack or a scanner re-read (they finish within the test timeout only if the cost is
 * linear), a text of nothing but newlines (no object per line: the heap barely grows), and
 * artifacts of many modules (lookups counted per frame). Both backends.
 */
import { describe, expect, it, vi } from 'vitest';
import { ArtifactBuilder, FuncKey, open, type Artifact } from '../lib/index.js';
import { MAX_PROBE, parseStack, symbolicate, symbolicateFrames } from '../lib/symbolicate.js';
import { BACKENDS } from './helpers/backends.js';
import { codeOf } from './helpers/codes.js';

const HEAVY = process.env.FUNCKEY_HEAVY === '1';
const MiB = 1 << 20;

/** samples/demo.wasm's layout (wasm-objdump): 3 imports, function 3 `unit_average` at body 0x72..0x79. */
function demo(backend: string): Artifact {
  const b = new ArtifactBuilder({ textSize: 564 });
  const m = b.addModule({ importedFuncs: 3, definedFuncs: 2 });
  b.pushFunc(FuncKey.definedWasmFunction(m, 0), { start: 0x72, length: 7 });
  b.pushFunc(FuncKey.definedWasmFunction(m, 1), { start: 0x7a, length: 7 });
  b.setFuncName(m, 3, 'unit_average');
  b.setFuncName(m, 4, 'order_total');
  return open(b.finish(), { backend: backend as 'js' | 'native' });
}

const V8 = '    at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77';
const V8_NAMED = '    at unit_average (wasm://wasm/c3ee2b3e:wasm-function[3]:0x77)';

describe.each(BACKENDS)('hostile trace text (%s backend)', (backend) => {
  // Each line is about 1 MiB and ends with a real frame (or is followed by one), which must
  // still be found: the scanner may not give up on long lines to stay fast.
  const lines: [string, string][] = [
    ['spaces before a marker', ' '.repeat(MiB) + 'wasm-function['],
    ['" at" repeated before a marker', '  at ' + ' at'.repeat(MiB / 3) + 'wasm-function['],
    ['markers with no index', 'wasm-function['.repeat(MiB / 14)],
    ['colon frames with no @ and no URL start', 'x:wasm-function[1]:0x1'.repeat(MiB / 22)],
    ['V8 named frames with no "at "', '(x:wasm-function[1]:0x1) '.repeat(MiB / 25)],
    ['@ then a long URL without the marker', '@' + 'u'.repeat(MiB)],
    ['names of 1 MiB before @', 'n'.repeat(MiB) + '@u:wasm-function[3]:0x77'],
    ['a name of 1 MiB inside a line', 'x ' + 'n'.repeat(MiB) + '@u:wasm-function[3]:0x77'],
    ['legacy slots never closed', '.wasm-function[abc'.repeat(MiB / 18) + '@[wasm code]'],
    ['@[wasm code] repeated', '@[wasm code]'.repeat(MiB / 12)],
    ['Wasmtime-like lines in a backtrace', 'wasm backtrace:\n' + '  1: 0x'.repeat(MiB / 7)],
    ['digits of an index', 'wasm-function[' + '9'.repeat(MiB) + ']:0x77'],
    ['hex digits of an offset', ' at u:wasm-function[3]:0x' + 'f'.repeat(MiB)],
  ];
  it.each(lines)('%s: linear, and the frame that follows is still named', (_, line) => {
    const a = demo(backend);
    const text = `${line}\n${V8}\n`;
    const out = symbolicate(text, a);
    expect(out.endsWith(`\n${V8_NAMED}\n`)).toBe(true);
    expect(out.length).toBeGreaterThanOrEqual(text.length);
    const frames = symbolicateFrames(text, a);
    const lineNo = line.split('\n').length + 1;
    expect(frames.filter((f) => f.status === 'resolved' && f.name === 'unit_average').map((f) => f.line)).toContain(
      lineNo,
    );
  });

  it('frames at the end of a 1 MiB line of near-frames are found', () => {
    const a = demo(backend);
    const line = 'x:wasm-function[1]:0x1 '.repeat(MiB / 23) + 'f@u:wasm-function[3]:0x77';
    const frames = symbolicateFrames(line, a);
    expect(frames.at(-1)).toMatchObject({
      engine: 'spidermonkey',
      funcIndex: 3,
      offset: 0x77,
      status: 'resolved',
      name: 'unit_average',
    });
  });

  it('a text of nothing but newlines: no object per line', () => {
    const a = demo(backend);
    const text = '\n'.repeat((HEAVY ? 100 : 8) * MiB);
    expect(text.indexOf('x')).toBe(-1); // flattens the string that repeat() built, before measuring
    const before = process.memoryUsage().heapUsed;
    expect(symbolicate(text, a)).toBe(text);
    expect(symbolicateFrames(text, a)).toEqual([]);
    expect(parseStack(text)).toEqual([]);
    // An object per line would take tens of bytes a line (hundreds of MiB here).
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(32 * MiB);
    const tail = text + V8;
    expect(symbolicateFrames(tail, a).map((f) => [f.line, f.name])).toEqual([[text.length + 1, 'unit_average']]);
  });

  it('offsets that do not fit in 32 bits, or in a double, are a mismatch, never a name', () => {
    const a = demo(backend);
    const offsets = ['0xffffffffffffffff', '0x100000077', '0x10000000000000077', '0x' + '7'.repeat(4096)];
    for (const off of offsets) {
      const text = [
        `    at wasm://wasm/c3ee2b3e:wasm-function[3]:${off}`,
        `    at f (wasm://wasm/c3ee2b3e:wasm-function[3]:${off})`,
        `@http://x/a.wasm:wasm-function[3]:${off}`,
        `    0: ${off} - <unknown>!<wasm function 3>`,
      ].join('\n');
      expect(symbolicate(text, a)).toBe(text);
      const frames = symbolicateFrames(text, a);
      expect(frames.map((f) => [f.engine, f.status, f.name])).toEqual([
        ['v8', 'mismatch', undefined],
        ['v8', 'mismatch', undefined],
        ['spidermonkey', 'mismatch', undefined],
        ['wasmtime', 'mismatch', undefined],
      ]);
      expect(frames.every((f) => f.offset! > 0xffffffff)).toBe(true);
    }
    // An index that does not fit: a mismatch with an offset, out of range without one.
    const idx = '9'.repeat(30);
    expect(
      symbolicateFrames(`    at u:wasm-function[${idx}]:0x77\n<?>.wasm-function[${idx}]@[wasm code]`, a).map(
        (f) => f.status,
      ),
    ).toEqual(['mismatch', 'no-function']);
  });

  it('an artifact that is not one, options that are not an object: E_ARG', () => {
    const a = demo(backend);
    for (const fn of [symbolicate, symbolicateFrames]) {
      for (const bad of [null, {}, undefined, 'demo.fkx', 42, Object.create(a)])
        expect(codeOf(() => fn(V8, bad as unknown as Artifact))).toBe('E_ARG');
      for (const bad of [null, 1, 'x']) expect(codeOf(() => fn(V8, a, bad as never))).toBe('E_ARG');
      expect(codeOf(() => fn(V8, a, { moduleNames: 'no' } as never))).toBe('E_ARG');
      expect(codeOf(() => fn(42 as never, a))).toBe('E_ARG');
    }
    expect(codeOf(() => parseStack(null as never))).toBe('E_ARG');
    a.close();
    expect(codeOf(() => symbolicate(V8, a))).toBe('E_CLOSED');
  });
});

describe.each(BACKENDS)('work per frame whatever the module count (%s backend)', (backend) => {
  /**
   * n modules, module m at byte offset 0x100 * m with one function named `f<m>` at
   * +0x40..+0x60, or with `spread` at 0x1000 * m + 0x40 + 0x20 * m (so that only module m
   * has a function at that offset).
   */
  function many(n: number, spread = false): Artifact {
    const b = new ArtifactBuilder();
    const stride = spread ? 0x1000 : 0x100;
    for (let m = 0; m < n; m++) {
      b.addModule({ importedFuncs: 0, definedFuncs: 1, byteOffset: m * stride });
      b.pushFunc(FuncKey.definedWasmFunction(m, 0), {
        start: m * stride + 0x40 + (spread ? 0x20 * m : 0),
        length: 0x20,
      });
      b.setFuncName(m, 0, `f${m}`);
    }
    return open(b.finish(), { backend: backend as 'js' | 'native' });
  }
  const trace = (frames: number) =>
    Array.from({ length: frames }, () => '    at wasm://wasm/aa:wasm-function[0]:0x48').join('\n');
  /** Counts the offsets looked up in `a`, one by one (funcByOffset) or in batches (funcsByOffset). */
  function lookups(a: Artifact) {
    const one = vi.spyOn(a, 'funcByOffset');
    const batch = vi.spyOn(a, 'funcsByOffset');
    return {
      count: () => one.mock.calls.length + batch.mock.calls.reduce((n, c) => n + (c[0] as Uint32Array).length, 0),
      clear: () => (one.mockClear(), batch.mockClear()),
    };
  }

  it('more modules than MAX_PROBE: ambiguous unless module or urls decide, one lookup a frame', () => {
    const n = HEAVY ? 100_000 : 2 * MAX_PROBE;
    const a = many(n);
    const spy = lookups(a);
    const frames = 1000;
    expect(symbolicateFrames(trace(frames), a).every((f) => f.status === 'ambiguous')).toBe(true);
    expect(spy.count()).toBe(0);
    const last = n - 1;
    expect(symbolicate(trace(frames), a, { module: last })).toBe(
      trace(frames).replaceAll(
        'at wasm://wasm/aa:wasm-function[0]:0x48',
        `at f${last} (wasm://wasm/aa:wasm-function[0]:0x48)`,
      ),
    );
    expect(spy.count()).toBe(frames);
    spy.clear();
    expect(symbolicateFrames(trace(frames), a, { urls: [['wasm://wasm/aa', 7]] }).every((f) => f.name === 'f7')).toBe(
      true,
    );
    expect(spy.count()).toBe(frames);
  });

  it('up to MAX_PROBE modules: the first frame of a URL tries each, the next ones its module first', () => {
    const a = many(MAX_PROBE, true);
    const spy = vi.spyOn(a, 'funcByOffset');
    const k = MAX_PROBE - 5;
    const off = (0x48 + 0x20 * k).toString(16);
    const text = Array.from({ length: 10 }, () => `    at wasm://wasm/bb:wasm-function[0]:0x${off}`).join('\n');
    expect(symbolicateFrames(text, a).map((f) => [f.status, f.module, f.name])).toEqual(
      Array.from({ length: 10 }, () => ['resolved', k, `f${k}`]),
    );
    expect(spy.mock.calls.length).toBe(MAX_PROBE + 9);
    // Every module has a function at 0x48 in many(n): ambiguous as soon as two modules fit.
    spy.mockRestore();
    const b = many(MAX_PROBE);
    const spy2 = vi.spyOn(b, 'funcByOffset');
    expect(symbolicateFrames(trace(3), b).map((f) => f.status)).toEqual(['ambiguous', 'ambiguous', 'ambiguous']);
    expect(spy2.mock.calls.length).toBe(3 * 2);
  });
});
