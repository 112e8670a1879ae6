import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ArtifactBuilder, FuncKey, FunckeyError, open, type Artifact } from '../lib/index.js';
import { parseStack, symbolicate, symbolicateFrames } from '../lib/symbolicate.js';
import { stripCustomSections, stripNameSection } from '../lib/wasm-strip.js';
import { BACKENDS } from './helpers/backends.js';

/*
 * The artifacts here are built by hand with ArtifactBuilder. Their function locations are
 * those of samples/demo.wasm as `wasm-objdump -d -x` (wabt 1.0.32) prints them: body start
 * (the byte after the body-size LEB128) and body size. Imports: 3 (host_log, host_now,
 * host_report), so defined function i has function index 3 + i.
 */
const DEMO_BODIES: [number, number][] = [
  [0x72, 7], // func[3] unit_average
  [0x7a, 7], // func[4] order_total
  [0x82, 28], // func[5] price_order
  [0x9f, 9], // func[6] apply_discount
  [0xa9, 21], // func[7] process_order
  [0xbf, 37], // func[8] process_batch
  [0xe5, 13], // func[9] run_pipeline
  [0xf3, 6], // func[10] main
];
const DEMO_NAMES: Record<number, string> = {
  0: 'host_log',
  1: 'host_now',
  2: 'host_report',
  3: 'unit_average',
  4: 'order_total',
  5: 'price_order',
  6: 'apply_discount',
  7: 'process_order',
  8: 'process_batch',
  9: 'run_pipeline',
  10: 'main',
};

function demoArtifact(backend: string, opts: { moduleName?: string; names?: Record<number, string> } = {}): Artifact {
  const b = new ArtifactBuilder({ textSize: 564 });
  const m = b.addModule({ name: opts.moduleName, importedFuncs: 3, definedFuncs: 8 });
  DEMO_BODIES.forEach(([start, length], i) =>
    b.pushFunc(FuncKey.definedWasmFunction(m, i), { start, length }, start - 1),
  );
  for (const [fi, n] of Object.entries(opts.names ?? DEMO_NAMES)) b.setFuncName(m, Number(fi), n);
  return open(b.finish(), { backend: backend as 'js' | 'native' });
}

// Captured from Node v20.20.2 (V8 11.3): samples/demo.wasm without its name section,
// instantiated with new WebAssembly.Module/Instance and run until it trapped.
const V8_CAPTURED = `RuntimeError: divide by zero
    at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77
    at wasm://wasm/c3ee2b3e:wasm-function[5]:0x9b
    at wasm://wasm/c3ee2b3e:wasm-function[6]:0xa2
    at wasm://wasm/c3ee2b3e:wasm-function[7]:0xb1
    at wasm://wasm/c3ee2b3e:wasm-function[8]:0xd1
    at wasm://wasm/c3ee2b3e:wasm-function[9]:0xef
    at wasm://wasm/c3ee2b3e:wasm-function[10]:0xf6
    at file:///tmp/s/try.mjs:15:39
    at ModuleJob.run (node:internal/modules/esm/module_job:325:25)
    at async ModuleLoader.import (node:internal/modules/esm/loader:606:24)
    at async asyncRunEntryPointWithESMLoader (node:internal/modules/run_main:117:5)`;

const V8_EXPECTED = `RuntimeError: divide by zero
    at unit_average (wasm://wasm/c3ee2b3e:wasm-function[3]:0x77)
    at price_order (wasm://wasm/c3ee2b3e:wasm-function[5]:0x9b)
    at apply_discount (wasm://wasm/c3ee2b3e:wasm-function[6]:0xa2)
    at process_order (wasm://wasm/c3ee2b3e:wasm-function[7]:0xb1)
    at process_batch (wasm://wasm/c3ee2b3e:wasm-function[8]:0xd1)
    at run_pipeline (wasm://wasm/c3ee2b3e:wasm-function[9]:0xef)
    at main (wasm://wasm/c3ee2b3e:wasm-function[10]:0xf6)
    at file:///tmp/s/try.mjs:15:39
    at ModuleJob.run (node:internal/modules/esm/module_job:325:25)
    at async ModuleLoader.import (node:internal/modules/esm/loader:606:24)
    at async asyncRunEntryPointWithESMLoader (node:internal/modules/run_main:117:5)`;

// Written by hand after SpiderMonkey's documented frame form `name@url:wasm-function[N]:0xOFF`
// (an empty name for a module without names; for a module compiled from bytes, the URL of
// the calling script followed by ` line N > WebAssembly.instantiate`). Not captured.
const SM_TEXT = `@http://localhost:8080/demo.wasm:wasm-function[3]:0x77
@http://localhost:8080/app.js line 42 > WebAssembly.instantiate:wasm-function[5]:0x9b
wasm-function[6]@http://localhost:8080/app.js line 42 > WebAssembly.instantiate:wasm-function[6]:0xa2
start@http://localhost:8080/app.js:57:11
async*@http://localhost:8080/app.js:60:1`;
const SM_EXPECTED = `unit_average@http://localhost:8080/demo.wasm:wasm-function[3]:0x77
price_order@http://localhost:8080/app.js line 42 > WebAssembly.instantiate:wasm-function[5]:0x9b
apply_discount@http://localhost:8080/app.js line 42 > WebAssembly.instantiate:wasm-function[6]:0xa2
start@http://localhost:8080/app.js:57:11
async*@http://localhost:8080/app.js:60:1`;

// Written by hand after JavaScriptCore's forms: the older `<?>.wasm-function[N]@[wasm code]`
// (as Safari reports show it, also without the `<?>.` prefix), a named frame with no index,
// and the newer `[name@][mod:]wasm-function[N][:0xOFF]`. Not captured.
const JSC_TEXT = `<?>.wasm-function[3]@[wasm code]
wasm-function[5]@[wasm code]
<?>:wasm-function[6]
wasm-function[7]:0xb1
process_batch@[wasm code]
run_pipeline@<?>:wasm-function[9]
start@http://localhost:8080/app.js:57:11`;
const JSC_EXPECTED = `<?>.wasm-function[unit_average]@[wasm code]
wasm-function[price_order]@[wasm code]
apply_discount@<?>:wasm-function[6]
process_order@wasm-function[7]:0xb1
process_batch@[wasm code]
run_pipeline@<?>:wasm-function[9]
start@http://localhost:8080/app.js:57:11`;

describe.each(BACKENDS)('symbolicate (%s backend)', (backend) => {
  it('rewrites a V8 trace captured from Node and leaves its JS frames alone', () => {
    const a = demoArtifact(backend);
    expect(symbolicate(V8_CAPTURED, a)).toBe(V8_EXPECTED);
  });

  it('replaces a name V8 printed, keeps async, URL, index and offset', () => {
    const a = demoArtifact(backend);
    const text = [
      '    at $old_name (wasm://wasm/c3ee2b3e:wasm-function[3]:0x77)',
      '    at my_mod.f (wasm://wasm/my_mod-26933f4e:wasm-function[5]:0x9b)',
      '    at async wasm://wasm/c3ee2b3e:wasm-function[6]:0xa2',
      '    at operator()(int, char) (https://cdn.example.com/app.wasm:wasm-function[7]:0xb1)',
      '\tat blob:https://example.com/1f0e:wasm-function[8]:0xd1',
    ].join('\n');
    expect(symbolicate(text, a)).toBe(
      [
        '    at unit_average (wasm://wasm/c3ee2b3e:wasm-function[3]:0x77)',
        '    at price_order (wasm://wasm/my_mod-26933f4e:wasm-function[5]:0x9b)',
        '    at async apply_discount (wasm://wasm/c3ee2b3e:wasm-function[6]:0xa2)',
        '    at process_order (https://cdn.example.com/app.wasm:wasm-function[7]:0xb1)',
        '\tat process_batch (blob:https://example.com/1f0e:wasm-function[8]:0xd1)',
      ].join('\n'),
    );
  });

  it('names of any script, in any order, in ASCII text and in text that is not', () => {
    // Latin-1 names before and after one that is not (the text is edited as bytes until then).
    const a = demoArtifact(backend, { names: { 3: 'unit_avérage', 5: 'price_🦀', 6: 'apply' } });
    const frames = ['3]:0x77', '6]:0xa2', '5]:0x9b', '3]:0x77'].map(
      (x) => `    at wasm://wasm/c3ee2b3e:wasm-function[${x}`,
    );
    const named = [
      '    at unit_avérage (wasm://wasm/c3ee2b3e:wasm-function[3]:0x77)',
      '    at apply (wasm://wasm/c3ee2b3e:wasm-function[6]:0xa2)',
      '    at price_🦀 (wasm://wasm/c3ee2b3e:wasm-function[5]:0x9b)',
      '    at unit_avérage (wasm://wasm/c3ee2b3e:wasm-function[3]:0x77)',
    ];
    const sm = '@http://localhost:8080/demo.wasm:wasm-function[6]:0xa2';
    const smNamed = 'apply@http://localhost:8080/demo.wasm:wasm-function[6]:0xa2';
    for (const head of ['RuntimeError: unreachable', 'RuntimeError: ünreachable ☃']) {
      expect(symbolicate([head, ...frames, sm, ''].join('\n'), a)).toBe([head, ...named, smNamed, ''].join('\n'));
      expect(symbolicate([head, frames[0]!, sm, frames[1]!].join('\n'), a)).toBe(
        [head, named[0]!, smNamed, named[1]!].join('\n'),
      );
    }
  });

  it('texts of many blocks: every edit lands, the text between stays unit for unit', () => {
    // The string is edited a block of about 64 Ki characters at a time (lib/trace-out.ts):
    // frames on both sides of block ends, long runs without frames, text that is not ASCII
    // (lone surrogates too) and names that are not Latin-1, in blocks of each kind.
    const a = demoArtifact(backend, { names: { 3: 'unit_avérage', 5: 'price_🦀', 6: 'apply' } });
    const pairs: [string, string][] = [
      [
        '    at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77',
        '    at unit_avérage (wasm://wasm/c3ee2b3e:wasm-function[3]:0x77)',
      ],
      [
        '    at wasm://wasm/c3ee2b3e:wasm-function[5]:0x9b',
        '    at price_🦀 (wasm://wasm/c3ee2b3e:wasm-function[5]:0x9b)',
      ],
      [
        '    at old (wasm://wasm/c3ee2b3e:wasm-function[6]:0xa2)',
        '    at apply (wasm://wasm/c3ee2b3e:wasm-function[6]:0xa2)',
      ],
      [
        '@http://localhost:8080/demo.wasm:wasm-function[5]:0x9b',
        'price_🦀@http://localhost:8080/demo.wasm:wasm-function[5]:0x9b',
      ],
      ['    at wasm://wasm/c3ee2b3e:wasm-function[4]:0x7b', '    at wasm://wasm/c3ee2b3e:wasm-function[4]:0x7b'], // no name
      [
        'x at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77 y\r',
        'x at unit_avérage (wasm://wasm/c3ee2b3e:wasm-function[3]:0x77) y\r',
      ],
    ];
    const other = ['plain log line', 'ünïcode ☃ line', 'lone \ud800 surrogate \udc00 line', ''];
    const input: string[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 9000; i++) {
      const [x, y] = pairs[i % pairs.length]!;
      const o = other[(i >> 3) % other.length]! + ' '.repeat(i % 37);
      input.push(x, o);
      expected.push(y, o);
      if (i % 2500 === 1000) {
        const gap = 'no frames here '.repeat(9000); // more than a block without an edit
        input.push(gap);
        expected.push(gap);
      }
    }
    for (const sep of ['\n', '\r\n']) {
      const out = symbolicate(input.join(sep), a);
      expect(out.length).toBe(expected.join(sep).length);
      expect(out === expected.join(sep)).toBe(true);
    }
    const ascii = input.filter((l) => /^[\x00-\x7f]*$/.test(l));
    const asciiExpected = expected.filter((_, i) => /^[\x00-\x7f]*$/.test(input[i]!));
    expect(symbolicate(ascii.join('\n'), a) === asciiExpected.join('\n')).toBe(true);
  });

  it('names of more bytes than the per-call table of names holds (1 MiB), each frame right', () => {
    // 20,000 functions of 4 bytes at 0x100 + 4i, named with 100 characters or more; every
    // function's frame three times, in an order that comes back to earlier ones.
    const n = 20000;
    const b = new ArtifactBuilder({ textSize: 0x100 + 4 * n });
    const m = b.addModule({ name: 'big', importedFuncs: 0, definedFuncs: n });
    const name = (i: number) => `f${i}_${'x'.repeat(100)}${i % 7 === 0 ? '\u00e9' : i % 11 === 0 ? '\u{1f980}' : ''}`;
    for (let i = 0; i < n; i++) {
      b.pushFunc(FuncKey.definedWasmFunction(m, i), { start: 0x100 + 4 * i, length: 4 }, 0x100 + 4 * i - 1);
      b.setFuncName(m, i, name(i));
    }
    const a = open(b.finish(), { backend: backend as 'js' | 'native' });
    const order = [...Array(n).keys()].flatMap((i) => [i, (i * 7919) % n, n - 1 - i]);
    const hex = (i: number) => (0x101 + 4 * i).toString(16);
    const text = order.map((i) => `    at wasm://wasm/0badf00d:wasm-function[${i}]:0x${hex(i)}`).join('\n');
    const expected = order
      .map((i) => `    at big.${name(i)} (wasm://wasm/0badf00d:wasm-function[${i}]:0x${hex(i)})`)
      .join('\n');
    expect(symbolicate(text, a) === expected).toBe(true);
    a.close();
  });

  it('rewrites SpiderMonkey frames, including the instantiate form', () => {
    expect(symbolicate(SM_TEXT, demoArtifact(backend))).toBe(SM_EXPECTED);
  });

  it('rewrites JavaScriptCore frames, older and newer forms', () => {
    expect(symbolicate(JSC_TEXT, demoArtifact(backend))).toBe(JSC_EXPECTED);
  });

  it('finds frames inside a line and changes nothing around them', () => {
    const a = demoArtifact(backend);
    const text =
      'exception thrown: RangeError: Maximum call stack size exceeded.,<?>.wasm-function[4]@[wasm code]\n' +
      '[worker 3] crash: at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77 (reported twice)';
    expect(symbolicate(text, a)).toBe(
      'exception thrown: RangeError: Maximum call stack size exceeded.,<?>.wasm-function[order_total]@[wasm code]\n' +
        '[worker 3] crash: at unit_average (wasm://wasm/c3ee2b3e:wasm-function[3]:0x77) (reported twice)',
    );
  });

  it('leaves every line that is not a wasm frame untouched, line endings included', () => {
    const a = demoArtifact(backend);
    const text = [
      'Error: wasm-function is not a frame here, nor is [wasm code]',
      '    at Object.<anonymous> (/srv/app/index.js:12:5)',
      '',
      '  at wasm-function[3] in prose without offset and url',
      'fetch@http://localhost/wasm-function.js:1:1',
      '\u00e9t\u00e9 \u{1f600} wasm://wasm/c3ee2b3e',
      '   ',
    ].join('\r\n');
    expect(symbolicate(text, a)).toBe(text);
    expect(parseStack(text)).toEqual([]);
    const mixed = 'x\r\n    at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77\r\ny\n\n';
    expect(symbolicate(mixed, a)).toBe(
      'x\r\n    at unit_average (wasm://wasm/c3ee2b3e:wasm-function[3]:0x77)\r\ny\n\n',
    );
  });

  it('leaves frames with offsets in no function, or a contradicting index, as they were', () => {
    const a = demoArtifact(backend);
    const text = [
      '    at wasm://wasm/c3ee2b3e:wasm-function[3]:0x10', // in the import section
      '    at wasm://wasm/c3ee2b3e:wasm-function[3]:0x79', // the size byte between two bodies
      '    at wasm://wasm/c3ee2b3e:wasm-function[10]:0xf9', // one past the last body
      '    at wasm://wasm/c3ee2b3e:wasm-function[3]:0xffffffffff', // beyond u32: a mismatch
      '    at wasm://wasm/c3ee2b3e:wasm-function[4]:0x77', // 0x77 is in function 3, not 4
    ].join('\n');
    expect(symbolicate(text, a)).toBe(text);
    expect(symbolicateFrames(text, a).map((f) => f.status)).toEqual([
      'no-function',
      'no-function',
      'no-function',
      'mismatch',
      'mismatch',
    ]);
    const mismatch = symbolicateFrames(text, a)[4]!;
    expect(mismatch.key?.toString()).toBe('DefinedWasmFunction(0, 0)');
    expect(mismatch.name).toBeUndefined();
  });

  it('uses the index when there is no offset; an index out of range stays as it was', () => {
    const a = demoArtifact(backend);
    expect(symbolicate('<?>.wasm-function[1]@[wasm code]', a)).toBe('<?>.wasm-function[host_now]@[wasm code]');
    expect(symbolicate('<?>.wasm-function[11]@[wasm code]', a)).toBe('<?>.wasm-function[11]@[wasm code]');
    expect(symbolicateFrames('<?>.wasm-function[11]@[wasm code]', a)[0]!.status).toBe('no-function');
  });

  it('leaves functions without a name as they were; module names as V8 prints them', () => {
    const partial = demoArtifact(backend, { names: { 5: 'price_order' } });
    const text = '    at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77\n    at wasm://wasm/c3ee2b3e:wasm-function[5]:0x9b';
    expect(symbolicate(text, partial)).toBe(
      '    at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77\n    at price_order (wasm://wasm/c3ee2b3e:wasm-function[5]:0x9b)',
    );
    const f = symbolicateFrames(text, partial);
    expect([f[0]!.status, f[0]!.name, f[1]!.name]).toEqual(['resolved', undefined, 'price_order']);

    // V8 prints `module.function`, and the module name alone for a function without a name
    // (captured: `at my_mod.g (...)`, `at my_mod (...)`).
    const named = demoArtifact(backend, { moduleName: 'my_mod', names: { 5: 'price_order' } });
    expect(symbolicate(text, named)).toBe(
      '    at my_mod (wasm://wasm/c3ee2b3e:wasm-function[3]:0x77)\n    at my_mod.price_order (wasm://wasm/c3ee2b3e:wasm-function[5]:0x9b)',
    );
    expect(symbolicate(text, named, { moduleNames: false })).toBe(
      '    at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77\n    at price_order (wasm://wasm/c3ee2b3e:wasm-function[5]:0x9b)',
    );
    // JavaScriptCore prints the module name where a stripped module has `<?>`, and `(null)`
    // for a function without a name (captured from jsc, test/fixtures/traces/jsc.*.txt).
    expect(symbolicate('<?>:wasm-function[5]', named)).toBe('price_order@my_mod:wasm-function[5]');
    expect(symbolicate('3@<?>:wasm-function[3]\n5@<?>:wasm-function[5]', named)).toBe(
      '(null)@my_mod:wasm-function[3]\nprice_order@my_mod:wasm-function[5]',
    );
    expect(symbolicate('5@<?>:wasm-function[5]', named, { moduleNames: false })).toBe(
      'price_order@<?>:wasm-function[5]',
    );
  });

  it('Wasmtime: frames by offset, the detail lines of WASMTIME_BACKTRACE_DETAILS passed through', () => {
    // Captured frames are in test/fixtures/traces/wasmtime.*.txt (engines.test.ts); the `at`
    // lines are written by hand after Wasmtime's backtrace format (the Python bindings print
    // none): they, and a frame naming another module, stay as they are.
    const a = demoArtifact(backend);
    const text = [
      'error while executing at wasm backtrace:',
      '    0:     0x77 - <unknown>!<wasm function 3>',
      '                    at /src/demo.c:3:5',
      '    1:     0x9b - other!price_order',
      '    2:     0xa2 - <unknown>!<wasm function 6>',
      '',
      'Caused by:',
      "    0: 0x77 - <unknown>!<wasm function 9> and more: a name that is not the artifact's",
    ].join('\n');
    expect(symbolicate(text, a).split('\n')).toEqual([
      'error while executing at wasm backtrace:',
      '    0:     0x77 - <unknown>!unit_average',
      '                    at /src/demo.c:3:5',
      '    1:     0x9b - other!price_order',
      '    2:     0xa2 - <unknown>!apply_discount',
      '',
      'Caused by:',
      "    0: 0x77 - <unknown>!<wasm function 9> and more: a name that is not the artifact's",
    ]);
    expect(symbolicateFrames(text, a).map((f) => [f.engine, f.status, f.funcIndex, f.offset])).toEqual([
      ['wasmtime', 'resolved', 3, 0x77],
      ['wasmtime', 'mismatch', undefined, 0x9b],
      ['wasmtime', 'resolved', 6, 0xa2],
      ['wasmtime', 'mismatch', undefined, 0x77],
    ]);
  });

  it('JavaScriptCore: one frame that contradicts the artifact marks every frame of its module prefix', () => {
    const a = demoArtifact(backend);
    // demo has 11 functions: index 99 is not one of them, so this trace is not demo's, and
    // its frame 5 (which demo has) must not be named either, before or after it.
    const text = '5@<?>:wasm-function[5]\n99@<?>:wasm-function[99]\n3@<?>:wasm-function[3]';
    expect(symbolicate(text, a)).toBe(text);
    expect(symbolicateFrames(text, a).map((f) => f.status)).toEqual(['mismatch', 'no-function', 'mismatch']);
    // In a stream, only the frames after it can be (test/symbolicate-stream.test.ts); alone, 5 is named.
    expect(symbolicate('5@<?>:wasm-function[5]', a)).toBe('price_order@<?>:wasm-function[5]');
  });

  it('with urls, rewrites only the frames whose URL maps to a module', () => {
    const a = demoArtifact(backend);
    const text = [
      '    at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77',
      '    at wasm://wasm/0badf00d:wasm-function[3]:0x77',
      '@http://localhost:8080/demo.wasm:wasm-function[5]:0x9b',
      '@http://localhost:8080/other.wasm:wasm-function[5]:0x9b',
    ].join('\n');
    const onlyFirst = (urls: Parameters<typeof symbolicate>[2]) => symbolicate(text, a, urls).split('\n');
    expect(onlyFirst({ urls: [['wasm://wasm/c3ee2b3e', 0]] })).toEqual([
      '    at unit_average (wasm://wasm/c3ee2b3e:wasm-function[3]:0x77)',
      '    at wasm://wasm/0badf00d:wasm-function[3]:0x77',
      '@http://localhost:8080/demo.wasm:wasm-function[5]:0x9b',
      '@http://localhost:8080/other.wasm:wasm-function[5]:0x9b',
    ]);
    expect(onlyFirst({ urls: new Map([[/\/demo\.wasm$/g, 0]]) })).toEqual([
      '    at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77',
      '    at wasm://wasm/0badf00d:wasm-function[3]:0x77',
      'price_order@http://localhost:8080/demo.wasm:wasm-function[5]:0x9b',
      '@http://localhost:8080/other.wasm:wasm-function[5]:0x9b',
    ]);
    const seen: string[] = [];
    const lines = onlyFirst({ urls: [[(u: string) => (seen.push(u), u.includes('0badf00d')), 0]] });
    expect(lines[1]).toBe('    at unit_average (wasm://wasm/0badf00d:wasm-function[3]:0x77)');
    expect(lines[0]).toBe('    at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77');
    expect(seen).toEqual([
      'wasm://wasm/c3ee2b3e',
      'wasm://wasm/0badf00d',
      'http://localhost:8080/demo.wasm',
      'http://localhost:8080/other.wasm',
    ]);
    expect(symbolicateFrames(text, a, { urls: [] }).map((f) => f.status)).toEqual([
      'foreign',
      'foreign',
      'foreign',
      'foreign',
    ]);
  });

  it('rejects bad options with E_ARG / E_RANGE', () => {
    const a = demoArtifact(backend);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof FunckeyError ? e.code : 'other';
      }
      return 'none';
    };
    expect(code(() => symbolicate('x', a, { urls: [['u', 1]] }))).toBe('E_RANGE');
    expect(code(() => symbolicate('x', a, { module: 1 }))).toBe('E_RANGE');
    expect(code(() => symbolicate('x', a, { urls: [[42 as unknown as string, 0]] }))).toBe('E_ARG');
    expect(code(() => symbolicate('x', a, { urls: 5 as unknown as [] }))).toBe('E_ARG');
    expect(code(() => symbolicate(7 as unknown as string, a))).toBe('E_ARG');
    expect(code(() => symbolicate('x', a, null as unknown as {}))).toBe('E_ARG');
    a.close();
    expect(code(() => symbolicate('x', a))).toBe('E_CLOSED');
  });

  describe('an artifact of several modules (a component)', () => {
    // Module 0 starts at 0x100 of the outer binary, module 1 at 0x400; each engine offset
    // counts from the start of its own core module.
    function component(): Artifact {
      const b = new ArtifactBuilder();
      const m0 = b.addModule({ name: 'left', importedFuncs: 1, definedFuncs: 2, byteOffset: 0x100 });
      const m1 = b.addModule({ name: 'right', importedFuncs: 2, definedFuncs: 2, byteOffset: 0x400 });
      b.pushFunc(FuncKey.definedWasmFunction(m0, 0), { start: 0x140, length: 0x20 }); // left: 0x40..0x60, func 1
      b.pushFunc(FuncKey.definedWasmFunction(m0, 1), { start: 0x160, length: 0x20 }); // left: 0x60..0x80, func 2
      b.pushFunc(FuncKey.definedWasmFunction(m1, 0), { start: 0x440, length: 0x10 }); // right: 0x40..0x50, func 2
      b.pushFunc(FuncKey.definedWasmFunction(m1, 1), { start: 0x450, length: 0x30 }); // right: 0x50..0x80, func 3
      b.setFuncName(m0, 1, 'l_one');
      b.setFuncName(m0, 2, 'l_two');
      b.setFuncName(m1, 2, 'r_two');
      b.setFuncName(m1, 3, 'r_three');
      return open(b.finish(), { backend: backend as 'js' | 'native' });
    }

    it('places a frame in the one module where offset and index agree', () => {
      const a = component();
      const text = [
        '    at wasm://wasm/aaaa:wasm-function[1]:0x44', // left func 1 (right has no func 1 there)
        '    at wasm://wasm/bbbb:wasm-function[3]:0x70', // right func 3 (left's 0x70 is func 2)
        '    at wasm://wasm/aaaa:wasm-function[2]:0x45', // left 0x45 is func 1, right 0x45 is func 2: right
        '    at wasm://wasm/cccc:wasm-function[2]:0x65', // left 0x65 is func 2, right 0x65 is func 3: left
        '    at wasm://wasm/dddd:wasm-function[9]:0x65', // no module has func 9 there
        '<?>.wasm-function[2]@[wasm code]', // no offset: cannot tell
      ].join('\n');
      expect(symbolicate(text, a).split('\n')).toEqual([
        '    at left.l_one (wasm://wasm/aaaa:wasm-function[1]:0x44)',
        '    at right.r_three (wasm://wasm/bbbb:wasm-function[3]:0x70)',
        '    at right.r_two (wasm://wasm/aaaa:wasm-function[2]:0x45)',
        '    at left.l_two (wasm://wasm/cccc:wasm-function[2]:0x65)',
        '    at wasm://wasm/dddd:wasm-function[9]:0x65',
        '<?>.wasm-function[2]@[wasm code]',
      ]);
      const frames = symbolicateFrames(text, a);
      expect(frames.map((f) => [f.status, f.module, f.key?.toString()])).toEqual([
        ['resolved', 0, 'DefinedWasmFunction(0, 0)'],
        ['resolved', 1, 'DefinedWasmFunction(1, 1)'],
        ['resolved', 1, 'DefinedWasmFunction(1, 0)'],
        ['resolved', 0, 'DefinedWasmFunction(0, 1)'],
        ['no-function', undefined, undefined],
        ['ambiguous', undefined, undefined],
      ]);
    });

    it('reports a frame two modules explain as ambiguous; module and urls decide', () => {
      const b = new ArtifactBuilder();
      for (const [i, off] of [0x100, 0x400].entries()) {
        const m = b.addModule({ importedFuncs: 0, definedFuncs: 1, byteOffset: off });
        b.pushFunc(FuncKey.definedWasmFunction(m, 0), { start: off + 0x10, length: 0x10 });
        b.setFuncName(m, 0, `only_${i}`);
      }
      const a = open(b.finish(), { backend: backend as 'js' | 'native' });
      const text = '    at wasm://wasm/x:wasm-function[0]:0x18\n<?>.wasm-function[0]@[wasm code]';
      expect(symbolicate(text, a)).toBe(text);
      expect(symbolicateFrames(text, a).map((f) => f.status)).toEqual(['ambiguous', 'ambiguous']);
      expect(symbolicate(text, a, { module: 1 })).toBe(
        '    at only_1 (wasm://wasm/x:wasm-function[0]:0x18)\n<?>.wasm-function[only_1]@[wasm code]',
      );
      expect(
        symbolicate(text, a, {
          urls: [
            ['wasm://wasm/x', 0],
            ['[wasm code]', 1],
          ],
        }),
      ).toBe('    at only_0 (wasm://wasm/x:wasm-function[0]:0x18)\n<?>.wasm-function[only_1]@[wasm code]');
    });
  });

  it('symbolicateFrames gives line, engine, url, index, offset, key and name', () => {
    const a = demoArtifact(backend);
    const text = `prefix line\n${V8_CAPTURED.split('\n').slice(1, 3).join('\n')}\n${SM_TEXT.split('\n')[1]}\n${JSC_TEXT}`;
    const frames = symbolicateFrames(text, a);
    expect(
      frames.map((f) => ({
        line: f.line,
        engine: f.engine,
        url: f.url,
        funcIndex: f.funcIndex,
        offset: f.offset,
        key: f.key?.toString(),
        name: f.name,
        status: f.status,
      })),
    ).toEqual([
      {
        line: 2,
        engine: 'v8',
        url: 'wasm://wasm/c3ee2b3e',
        funcIndex: 3,
        offset: 0x77,
        key: 'DefinedWasmFunction(0, 0)',
        name: 'unit_average',
        status: 'resolved',
      },
      {
        line: 3,
        engine: 'v8',
        url: 'wasm://wasm/c3ee2b3e',
        funcIndex: 5,
        offset: 0x9b,
        key: 'DefinedWasmFunction(0, 2)',
        name: 'price_order',
        status: 'resolved',
      },
      {
        line: 4,
        engine: 'spidermonkey',
        url: 'http://localhost:8080/app.js line 42 > WebAssembly.instantiate',
        funcIndex: 5,
        offset: 0x9b,
        key: 'DefinedWasmFunction(0, 2)',
        name: 'price_order',
        status: 'resolved',
      },
      {
        line: 5,
        engine: 'jsc',
        url: '[wasm code]',
        funcIndex: 3,
        offset: undefined,
        key: undefined,
        name: 'unit_average',
        status: 'resolved',
      },
      {
        line: 6,
        engine: 'jsc',
        url: '[wasm code]',
        funcIndex: 5,
        offset: undefined,
        key: undefined,
        name: 'price_order',
        status: 'resolved',
      },
      {
        line: 7,
        engine: 'jsc',
        url: '<?>',
        funcIndex: 6,
        offset: undefined,
        key: undefined,
        name: 'apply_discount',
        status: 'resolved',
      },
      {
        line: 8,
        engine: 'jsc',
        url: '',
        funcIndex: 7,
        offset: 0xb1,
        key: 'DefinedWasmFunction(0, 4)',
        name: 'process_order',
        status: 'resolved',
      },
      {
        line: 9,
        engine: 'jsc',
        url: '[wasm code]',
        funcIndex: undefined,
        offset: undefined,
        key: undefined,
        name: undefined,
        status: 'no-index',
      },
      {
        line: 10,
        engine: 'jsc',
        url: '<?>',
        funcIndex: 9,
        offset: undefined,
        key: undefined,
        name: 'run_pipeline',
        status: 'resolved',
      },
    ]);
    expect(frames[0]!.rewritten).toBe('at unit_average (wasm://wasm/c3ee2b3e:wasm-function[3]:0x77)');
    expect(frames[0]!.text).toBe('at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77');
    expect(frames[7]!.printedName).toBe('process_batch');
  });
});

describe('hostile input', () => {
  it('long lines built to make patterns backtrack come back unchanged', () => {
    const b = new ArtifactBuilder();
    b.addModule({ importedFuncs: 0, definedFuncs: 0 });
    const a = open(b.finish(), { backend: 'js' });
    const lines = [
      '    at ' + ' (a'.repeat(20000) + ' wasm-function[',
      '.'.repeat(20000) + 'wasm-function[1]@[wasm cod',
      'at '.repeat(20000) + 'wasm-function[',
      'x at a ('.repeat(5000) + ':wasm-function[1]:0x',
      'a@b '.repeat(20000) + ':wasm-function[1',
      '    at ' + 'n'.repeat(600) + ' (wasm://wasm/ab:wasm-function[1]:0x10)', // a name longer than recognised
    ];
    for (const line of lines) expect(symbolicate(line, a)).toBe(line);
  });
});

describe('parseStack', () => {
  it('finds the frames of every form with their columns', () => {
    const text = [
      'RuntimeError: unreachable',
      '    at my_mod.h (wasm://wasm/my_mod-26933f4e:wasm-function[3]:0x3a)', // captured (Node 20)
      '    at wasm://wasm/f4cfa8e6:wasm-function[4]:0x69', // captured (Node 20)
      '    at cb ([eval]:3:77)',
      'wasm-function[42]@http://example.com/my-module.wasm:wasm-function[42]:0x1a3b',
      '  <?>.wasm-function[1693]@[wasm code]',
      'mod.wasm-function[run]@[wasm code]',
      'run@<?>:wasm-function[1]',
      'abc123:wasm-function[2]:0x2a',
    ].join('\n');
    const frames = parseStack(text);
    expect(frames.map((f) => [f.line, f.engine, f.form, f.url, f.funcIndex, f.offset, f.printedName])).toEqual([
      [2, 'v8', 'v8-named', 'wasm://wasm/my_mod-26933f4e', 3, 0x3a, 'my_mod.h'],
      [3, 'v8', 'v8', 'wasm://wasm/f4cfa8e6', 4, 0x69, undefined],
      [5, 'spidermonkey', 'spidermonkey', 'http://example.com/my-module.wasm', 42, 0x1a3b, 'wasm-function[42]'],
      [6, 'jsc', 'jsc-legacy', '[wasm code]', 1693, undefined, undefined],
      [7, 'jsc', 'jsc-legacy', '[wasm code]', undefined, undefined, 'run'],
      [8, 'jsc', 'jsc', '<?>', 1, undefined, 'run'],
      [9, 'jsc', 'jsc', 'abc123', 2, 0x2a, undefined],
    ]);
    const lines = text.split('\n');
    for (const f of frames) expect(lines[f.line - 1]!.slice(f.start, f.end)).toBe(f.text);
    expect(frames[0]!.text).toBe('at my_mod.h (wasm://wasm/my_mod-26933f4e:wasm-function[3]:0x3a)');
    expect(frames[3]!.text).toBe('<?>.wasm-function[1693]@[wasm code]');
  });

  it('is empty for text without wasm frames', () => {
    expect(parseStack('')).toEqual([]);
    expect(parseStack('Error: x\n    at f (a.js:1:1)\n')).toEqual([]);
  });
});

describe('stripNameSection', () => {
  const demo = new Uint8Array(readFileSync(new URL('../samples/demo.wasm', import.meta.url)));

  it('drops the name section of samples/demo.wasm and nothing else', () => {
    // wasm-objdump -h: the name section's contents are 0x124..0x234; its id byte is at 0x121
    // (then a 2-byte size), and it is the last section.
    const stripped = stripNameSection(demo);
    expect(stripped.length).toBe(0x121);
    expect(Buffer.from(stripped).equals(Buffer.from(demo.subarray(0, 0x121)))).toBe(true);
    const mod = new WebAssembly.Module(stripped);
    expect(WebAssembly.Module.customSections(mod, 'name')).toHaveLength(0);
    expect(WebAssembly.Module.customSections(new WebAssembly.Module(demo), 'name')).toHaveLength(1);
  });

  it('keeps other custom sections and drops what it is asked to', () => {
    // Module header, a custom section "keep" (id 0, size 6: name length 4, "keep", 1 byte of payload; bytes 8..15),
    // then a custom section "name" with an empty payload (bytes 16..22).
    const bytes = new Uint8Array([
      0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, 6, 4, 0x6b, 0x65, 0x65, 0x70, 9, 0, 5, 4, 0x6e, 0x61, 0x6d, 0x65,
    ]);
    expect([...stripNameSection(bytes)]).toEqual([...bytes.subarray(0, 16)]);
    expect([...stripCustomSections(bytes, () => true)]).toEqual([...bytes.subarray(0, 8)]);
    expect([...stripCustomSections(bytes, () => false)]).toEqual([...bytes]);
  });

  it('rejects what is not a wasm binary with E_WASM', () => {
    const code = (b: Uint8Array) => {
      try {
        stripNameSection(b);
      } catch (e) {
        return (e as FunckeyError).code;
      }
      return 'none';
    };
    expect(code(new Uint8Array([1, 2, 3]))).toBe('E_WASM');
    expect(code(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 50, 0]))).toBe('E_WASM'); // section runs past the end
    expect(code(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, 0x80]))).toBe('E_WASM'); // truncated LEB
    expect(code(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, 2, 9, 0]))).toBe('E_WASM'); // name past the section
  });
});
