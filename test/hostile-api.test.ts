/**
 * Hostile callers of the public API: text that makes a parser backtrack, builder calls that
 * throw half-way, names past the name limit, components of very many modules, bytes resized
 * or detached after open, getters, proxies and subclasses that lie. Each answer is right, or a
 * FunckeyError with the same code from both backends.
 */
import { describe, expect, it } from 'vitest';
import { ArtifactBuilder, FuncKey, FunckeyError, NONE, open } from '../lib/index.js';
import { buildFromWasm } from '../lib/build.js';
import { MAX_CORE_MODULES, parseWasm } from '../lib/wasm.js';
import { MAX_NAME_BYTES } from '../lib/format.js';
import { BACKENDS } from './helpers/backends.js';
import { codeOf } from './helpers/codes.js';
import { uleb } from './helpers/wasm-encoder.js';

const MiB = 1 << 20;

/** A FunckeyError's code and message, or 'ok'. */
function failure(f: () => unknown): { code: string; message: string } {
  try {
    f();
    return { code: 'ok', message: '' };
  } catch (e) {
    if (e instanceof FunckeyError) return { code: e.code, message: e.message };
    throw e;
  }
}

/** Two modules, dense and sparse keys, two names (the answers are written out below). */
function sample(): Uint8Array {
  const b = new ArtifactBuilder();
  b.addModule({ name: 'm', importedFuncs: 1, definedFuncs: 3 });
  b.pushFunc(FuncKey.definedWasmFunction(0, 0), { start: 10, length: 5 }, 8);
  b.pushFunc(FuncKey.definedWasmFunction(0, 2), { start: 20, length: 5 }, 18);
  b.pushFunc(FuncKey.arrayToWasmTrampoline(0, 2), { start: 40, length: 5 });
  b.pushFunc(FuncKey.wasmToBuiltinTrampoline(3), { start: 50, length: 5 });
  b.setFuncName(0, 1, 'one');
  b.setFuncName(0, 3, 'three');
  return b.finish();
}
const KEY_A = FuncKey.definedWasmFunction(0, 2);
const KEY_B = FuncKey.wasmToBuiltinTrampoline(3);

describe('FuncKey.parse is linear (adversarial text of 1 MiB)', () => {
  const spaces = ' '.repeat(MiB);
  it.each([
    ['an unclosed argument list', 'DefinedWasmFunction(' + spaces],
    ['an unclosed list after one argument', 'DefinedWasmFunction(1,' + spaces + '2'],
    ['a kind name of 1 MiB', 'A'.repeat(MiB) + '('],
    ['leading blanks before nonsense', spaces + '(' + spaces],
    ['a closing parenthesis inside', 'DefinedWasmFunction(' + spaces + ')' + spaces + ')'],
    ['one argument of 1 MiB of digits', 'WasmToArrayTrampoline(' + '9'.repeat(MiB) + ')'],
    ['commas', 'DefinedWasmFunction(' + ','.repeat(MiB) + ')'],
  ])('refuses %s with E_ARG', (_what, text) => {
    const f = failure(() => FuncKey.parse(text));
    expect(f.code).toBe('E_ARG');
    expect(f.message.length).toBeLessThan(300);
  });

  it('parses a key spread over 2 MiB of blanks', () => {
    expect(
      FuncKey.parse(
        spaces + 'DefinedWasmFunction(' + spaces + '0x7 ,' + spaces + '12' + spaces + ')' + spaces,
      ).toString(),
    ).toBe('DefinedWasmFunction(7, 12)');
    expect(FuncKey.parse('ResourceDropTrampoline ( ) ').toString()).toBe('ResourceDropTrampoline()');
    expect(codeOf(() => FuncKey.parse('toString(1)'))).toBe('E_ARG');
    expect(codeOf(() => FuncKey.parse('DefinedWasmFunction(1, 2))'))).toBe('E_ARG');
  });
});

describe.each(BACKENDS)('a builder call that throws changes nothing, backend %s', (backend) => {
  /** A builder with one module and one function, and the artifact it makes. */
  const start = () => {
    const b = new ArtifactBuilder();
    b.addModule({ name: 'm', importedFuncs: 0, definedFuncs: 4 });
    b.pushFunc(FuncKey.definedWasmFunction(0, 0), { start: 0, length: 4 });
    return b;
  };
  const untouched = start().finish();

  it.each<[string, string, (b: ArtifactBuilder) => void]>([
    [
      'a dense gap over the limit, in a new namespace',
      'E_RANGE',
      (b) => b.pushFunc(FuncKey.wasmToArrayTrampoline(1 << 25), { start: 8, length: 1 }),
    ],
    [
      'a loc that overlaps, in a new namespace',
      'E_ORDER',
      (b) => b.pushFunc(FuncKey.wasmToBuiltinTrampoline(0), { start: 2, length: 1 }),
    ],
    [
      'a bad length, in a new namespace',
      'E_ARG',
      (b) => b.pushFunc(FuncKey.pulleyHostCall(0), { start: 8, length: 0 }),
    ],
    [
      'a key beyond its module',
      'E_RANGE',
      (b) => b.pushFunc(FuncKey.arrayToWasmTrampoline(0, 4), { start: 8, length: 1 }),
    ],
    [
      'a source location on a kind without them',
      'E_ARG',
      (b) => b.pushFunc(FuncKey.pulleyHostCall(0), { start: 8, length: 1 }, 3),
    ],
    ['a key of an absent module', 'E_RANGE', (b) => b.pushFunc(FuncKey.moduleStartup(0, 1), { start: 8, length: 1 })],
    ['a module with a bad hash', 'E_ARG', (b) => b.addModule({ importedFuncs: 0, definedFuncs: 1, sha256: 'xyz' })],
    [
      'a module with a bad byte offset',
      'E_ARG',
      (b) => b.addModule({ importedFuncs: 0, definedFuncs: 1, byteOffset: -1 }),
    ],
    [
      'a module whose counts overflow',
      'E_RANGE',
      (b) => b.addModule({ importedFuncs: 2 ** 31, definedFuncs: 2 ** 31 }),
    ],
    ['a name outside its module', 'E_RANGE', (b) => b.setFuncName(0, 4, 'x')],
    ['a name that is no string', 'E_ARG', (b) => b.setFuncName(0, 0, 5 as unknown as string)],
  ])('%s: %s, and the same artifact as before', (_what, code, call) => {
    const b = start();
    expect(codeOf(() => call(b))).toBe(code);
    const bytes = b.finish();
    expect(bytes).toEqual(untouched);
    const a = open(bytes, { backend });
    expect(a.describe().namespaces.length).toBe(1);
    // And it goes on: the next call that is right is taken as if the bad one never came.
    b.pushFunc(FuncKey.wasmToArrayTrampoline(2), { start: 8, length: 1 });
    const after = open(b.finish(), { backend });
    expect(after.funcLoc(FuncKey.wasmToArrayTrampoline(2))).toEqual({ start: 8, length: 1 });
    expect(after.funcLoc(FuncKey.wasmToArrayTrampoline(1))).toBe(undefined);
  });

  it('reads every argument property once: getters that change their answer cannot slip past the checks', () => {
    const b = start();
    let reads = 0;
    const key = FuncKey.wasmToArrayTrampoline(0);
    // The first read is a valid key; any later read would be kind 10, which does not exist.
    Object.defineProperty(key, 'namespace', { get: () => (reads++ === 0 ? 0x20000000 : 0xa0000000) });
    let startReads = 0;
    b.pushFunc(key, {
      get start() {
        return startReads++ === 0 ? 8 : 0;
      },
      length: 1,
    });
    const spec = { importedFuncs: 0, definedFuncs: 1 } as {
      name?: string;
      importedFuncs: number;
      definedFuncs: number;
    };
    let nameReads = 0;
    Object.defineProperty(spec, 'name', { get: () => (nameReads++ === 0 ? 'second' : 7), enumerable: true });
    expect(b.addModule(spec)).toBe(1);
    const a = open(b.finish(), { backend });
    expect(a.funcLoc(FuncKey.wasmToArrayTrampoline(0))).toEqual({ start: 8, length: 1 });
    expect(a.modules[1]!.name).toBe('second');
    expect([reads, startReads, nameReads]).toEqual([1, 1, 1]);
  });

  it('copies a hash from the memory a Uint8Array really covers, whatever its length getter says', () => {
    class Liar extends Uint8Array {
      override get length() {
        return 32;
      }
    }
    const b = new ArtifactBuilder();
    expect(codeOf(() => b.addModule({ importedFuncs: 0, definedFuncs: 0, sha256: new Liar(4) }))).toBe('E_ARG');
    const hash = new Liar(32).fill(0xab);
    b.addModule({ importedFuncs: 0, definedFuncs: 0, sha256: hash });
    expect(open(b.finish(), { backend }).modules.map((m) => m.sha256)).toEqual(['ab'.repeat(32)]);
  });
});

describe('names: the limit is said, and checked before any encoding', () => {
  it(`a name of more than ${MAX_NAME_BYTES} bytes is E_RANGE naming the limit`, () => {
    expect(MAX_NAME_BYTES).toBe(2 ** 28);
    const b = new ArtifactBuilder();
    b.addModule({ importedFuncs: 0, definedFuncs: 1 });
    const long = 'x'.repeat(2 ** 28 + 1);
    const f = failure(() => b.setFuncName(0, 0, long));
    expect(f.code).toBe('E_RANGE');
    expect(f.message).toContain(String(2 ** 28));
    expect(codeOf(() => b.addModule({ name: long, importedFuncs: 0, definedFuncs: 0 }))).toBe('E_RANGE');
    // Exactly at the limit is taken (not encoded until finish, which is not called here).
    b.setFuncName(0, 0, 'x'.repeat(2 ** 28));
  });

  it.runIf(process.env.FUNCKEY_HEAVY === '1')(
    'counts UTF-8 bytes, not UTF-16 units: 2^26 + 1 characters of 4 bytes are E_RANGE',
    () => {
      const b = new ArtifactBuilder();
      b.addModule({ importedFuncs: 0, definedFuncs: 1 });
      expect(codeOf(() => b.setFuncName(0, 0, '\u{1F600}'.repeat(2 ** 26 + 1)))).toBe('E_RANGE');
    },
  );

  it('a wasm function name of 2^28 + 1 bytes is E_RANGE at its entry, not "invalid UTF-8"', () => {
    // One imported function, then a name section naming it with 2^28 + 1 zero bytes (valid
    // UTF-8). The bytes sit in a zero-filled buffer the reader must not touch.
    const len = 2 ** 28 + 1;
    const imports = [1, 1, 0x6d, 1, 0x66, 0x00, 0x00];
    const entry = [0x00, ...uleb(len)]; // function 0, the name's length
    const sub = [1, ...uleb(1 + entry.length + len), 1, ...entry]; // subsection 1: one entry
    const custom = [4, 0x6e, 0x61, 0x6d, 0x65, ...sub];
    const head = [
      0x00,
      0x61,
      0x73,
      0x6d,
      1,
      0,
      0,
      0,
      2,
      ...uleb(imports.length),
      ...imports,
      0,
      ...uleb(custom.length + len),
      ...custom,
    ];
    const wasm = new Uint8Array(head.length + len);
    wasm.set(head);
    const entryAt = head.length - entry.length;
    let err: unknown;
    try {
      parseWasm(wasm);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FunckeyError);
    expect((err as FunckeyError).code).toBe('E_RANGE');
    expect((err as FunckeyError).offset).toBe(entryAt);
    expect((err as FunckeyError).message).toContain(String(2 ** 28));
  });
});

describe.each(BACKENDS)('components of many core modules, backend %s', (backend) => {
  /** A component of n empty core modules: section 1 of 8 bytes, each a bare module header. */
  const component = (n: number) => {
    const b = new Uint8Array(8 + 10 * n);
    b.set([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
    for (let i = 0; i < n; i++) b.set([1, 8, 0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0], 8 + 10 * i);
    return b;
  };

  it(`builds ${MAX_CORE_MODULES} (the limit) and refuses one more with E_RANGE where it starts`, () => {
    expect(MAX_CORE_MODULES).toBe(2 ** 16);
    const a = open(buildFromWasm(component(MAX_CORE_MODULES)), { backend });
    const mods = a.modules;
    expect(mods.length).toBe(2 ** 16);
    expect(mods[2 ** 16 - 1]!.byteOffset).toBe(8 + 10 * (2 ** 16 - 1) + 2);
    let err: unknown;
    try {
      buildFromWasm(component(MAX_CORE_MODULES + 1));
    } catch (e) {
      err = e;
    }
    expect((err as FunckeyError).code).toBe('E_RANGE');
    expect((err as FunckeyError).offset).toBe(8 + 10 * 2 ** 16);
  });
});

describe.each(BACKENDS)('bytes given to open() and changed afterwards, backend %s', (backend) => {
  const art = sample();
  const check = (a: ReturnType<typeof open>) => {
    expect(a.funcLoc(KEY_A)).toEqual({ start: 20, length: 5 });
    expect(a.funcByOffset(52)?.toString()).toBe(KEY_B.toString());
    expect(a.funcName(3)).toBe('three');
    expect(a.srcLoc(KEY_A)).toBe(18);
  };

  it('a resizable buffer shrunk or grown after open: the answers stay right', () => {
    for (const tracking of [false, true]) {
      const ab = new ArrayBuffer(art.length, { maxByteLength: 4 * art.length });
      new Uint8Array(ab).set(art);
      const a = open(tracking ? new Uint8Array(ab) : new Uint8Array(ab, 0, art.length), { backend });
      ab.resize(8);
      check(a);
      ab.resize(4 * art.length);
      check(a);
      ab.resize(0);
      check(a);
    }
  });

  it('a buffer detached after open: right answers (native copied it) or E_CLOSED (js read it in place), never anything else', () => {
    const ab = art.slice().buffer;
    const a = open(new Uint8Array(ab), { backend });
    structuredClone(ab, { transfer: [ab] });
    expect(ab.byteLength).toBe(0);
    if (backend === 'native') check(a);
    else
      for (const f of [
        () => a.funcLoc(KEY_A),
        () => a.funcName(3),
        () => a.funcByOffset(52),
        () => a.funcLocs(new Uint32Array(1), new Uint32Array(1)),
        () => a.describe(),
      ])
        expect(codeOf(f)).toBe('E_CLOSED');
  });

  it('an unaligned view and a subclass lying about its length are read as the memory they cover', () => {
    const buf = new Uint8Array(art.length + 3);
    buf.set(art, 3);
    check(open(buf.subarray(3), { backend }));
    class Liar extends Uint8Array {
      override get length() {
        return 7;
      }
      override get byteLength() {
        return 7;
      }
    }
    const liar = new Liar(art.length);
    liar.set(art);
    check(open(liar, { backend }));
    expect(codeOf(() => open(new Proxy(art, {}) as Uint8Array, { backend }))).toBe('E_ARG');
  });
});

describe.each(BACKENDS)('hostile arguments of batch calls, backend %s', (backend) => {
  const art = sample();
  const ns = () => new Uint32Array([KEY_A.namespace, KEY_B.namespace, 0, 0x20000000]);
  const idx = () => new Uint32Array([KEY_A.index, KEY_B.index, 1, 0]);
  const expectedStarts = [20, 50, NONE, NONE];

  it('a getter on out.starts that closes the artifact: E_CLOSED', () => {
    const a = open(art, { backend });
    const out = {
      get starts() {
        a.close();
        return new Uint32Array(4);
      },
      lengths: new Uint32Array(4),
    };
    expect(codeOf(() => a.funcLocs(ns(), idx(), out))).toBe('E_CLOSED');
    const b = open(art, { backend });
    const out2 = {
      namespaces: new Uint32Array(1),
      get indices() {
        b.close();
        return new Uint32Array(1);
      },
    };
    expect(codeOf(() => b.funcsByOffset(new Uint32Array([52]), out2))).toBe('E_CLOSED');
  });

  it('an element getter that closes the artifact: E_CLOSED, for every batch call and key', () => {
    const closing = (a: ReturnType<typeof open>) => {
      const arr = [0, 0];
      Object.defineProperty(arr, 1, { get: () => (a.close(), 0) });
      return arr as unknown as Uint32Array;
    };
    let a = open(art, { backend });
    expect(codeOf(() => a.funcLocs(closing(a), [0, 0] as unknown as Uint32Array))).toBe('E_CLOSED');
    a = open(art, { backend });
    expect(codeOf(() => a.funcsByOffset(closing(a)))).toBe('E_CLOSED');
    a = open(art, { backend });
    expect(codeOf(() => a.funcNames(closing(a)))).toBe('E_CLOSED');
    a = open(art, { backend });
    const key = FuncKey.definedWasmFunction(0, 2);
    const ka = a;
    Object.defineProperty(key, 'index', { get: () => (ka.close(), 2) });
    expect(codeOf(() => a.funcLoc(key))).toBe('E_CLOSED');
  });

  it('a Uint32Array subclass lying about its length: the memory it covers decides', () => {
    class Liar extends Uint32Array {
      override get length() {
        return 1000;
      }
    }
    const a = open(art, { backend });
    const n = new Liar(4);
    n.set(ns());
    const r = a.funcLocs(n, idx());
    expect([...r.starts]).toEqual(expectedStarts);
    const out = { starts: new Liar(4), lengths: new Liar(4) };
    a.funcLocs(ns(), idx(), out);
    expect([...new Uint32Array(out.starts.buffer)]).toEqual(expectedStarts);
    expect(codeOf(() => a.funcLocs(ns(), idx(), { starts: new Liar(3), lengths: new Uint32Array(4) }))).toBe('E_ARG');
    expect([...a.funcsByOffset(new Liar(2).fill(52)).indices]).toEqual([3, 3]);
    expect(a.funcNames(new Liar(1).fill(3))).toEqual(['three']);
  });

  it('a resizable input shrunk inside an out getter: the lengths after every getter decide (E_ARG here)', () => {
    const a = open(art, { backend });
    const ab = new ArrayBuffer(16, { maxByteLength: 16 });
    const n = new Uint32Array(ab);
    n.set(ns());
    const out = {
      get starts() {
        ab.resize(8);
        return new Uint32Array(4);
      },
      lengths: new Uint32Array(4),
    };
    const f = failure(() => a.funcLocs(n, idx(), out));
    expect(f.code).toBe('E_ARG');
    expect(f.message).toContain('(2, 4)');
    // Shrunk to the out arrays' length instead: answered over the two elements left.
    const ab2 = new ArrayBuffer(16, { maxByteLength: 16 });
    const n2 = new Uint32Array(ab2);
    n2.set(ns());
    const i2 = new Uint32Array(new ArrayBuffer(16, { maxByteLength: 16 }));
    i2.set(idx());
    const out2 = {
      get starts() {
        ab2.resize(8);
        (i2.buffer as ArrayBuffer).resize(8);
        return new Uint32Array(2);
      },
      lengths: new Uint32Array(2),
    };
    a.funcLocs(n2, i2, out2);
    expect([...out2.lengths]).toEqual([5, 5]);
  });

  it('proxies and keys that lie are E_ARG; a proxied array of length 2^32 - 1 fails at its first bad element', () => {
    const a = open(art, { backend });
    expect(codeOf(() => a.funcLocs(new Proxy(ns(), {}), idx()))).toBe('E_ARG');
    const huge = new Proxy([], {
      get: (t, p) => (p === 'length' ? 2 ** 32 - 1 : Reflect.get(t, p)),
    }) as unknown as Uint32Array;
    expect(codeOf(() => a.funcsByOffset(huge))).toBe('E_ARG');
    const key = FuncKey.definedWasmFunction(0, 2);
    Object.defineProperty(key, 'namespace', { get: () => -1 });
    expect(codeOf(() => a.funcLoc(key))).toBe('E_ARG');
    expect(codeOf(() => a.srcLoc(key))).toBe('E_ARG');
  });
});
