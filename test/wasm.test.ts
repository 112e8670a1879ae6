import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { open } from '../lib/artifact.js';
import { buildFromWasm, buildFromWasmFile, builderFromWasm } from '../lib/build.js';
import { FunckeyError } from '../lib/errors.js';
import { FuncKey } from '../lib/key.js';
import { parseWasm } from '../lib/wasm.js';
import { BACKENDS } from './helpers/backends.js';
import { describeWabt, objdump, objdumpBodyStarts, run } from './helpers/wabt.js';
import * as E from './helpers/wasm-encoder.js';

const tmp = mkdtempSync(join(tmpdir(), 'funckey-wasm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** One import of every kind and descriptor shape; three of them import functions. */
const ALL_IMPORTS: E.Bytes[] = [
  E.importFunc('f0'),
  E.importTable('t0', [0x70], [0x00, 1]), // funcref, min 1
  E.importTable('t1', [0x63, 0x00], [0x01, 1, 10]), // (ref null 0), min 1 max 10
  E.importTable('t2', [0x64, 0x70], [0x05, ...E.uleb(2 ** 33), ...E.uleb(2 ** 40)]), // (ref func), table64 with max
  E.importFunc('f1'),
  E.importMemory('m0', [0x00, 1]),
  E.importMemory('m1', [0x03, 1, 2]), // shared, with max
  E.importMemory('m2', [0x04, ...E.uleb(2 ** 45)]), // memory64, min beyond 2^32
  E.importMemory('m3', [0x07, ...E.uleb(2 ** 35), ...E.uleb(2 ** 36)]), // shared memory64 with max
  E.importMemory('m4', [0x09, 1, 2, 0]), // custom page size (log2 0) with max
  E.importGlobal('g0', [0x7f], false), // i32
  E.importGlobal('g1', [0x63, 0x6f], true), // (ref null extern), mutable
  E.importGlobal('g2', [0x64, ...E.uleb(300)], false), // (ref 300): a two-byte type index
  E.importGlobal('g3', [0x7b], false), // v128
  E.importTag('e0', 0),
  E.importFunc('f2'),
];

describe('parseWasm: core modules', () => {
  it('counts function imports among imports of every kind', () => {
    const enc = E.encodeModule({ imports: ALL_IMPORTS, bodies: [2] });
    const p = parseWasm(E.u8(enc.bytes));
    expect(p.kind).toBe('module');
    expect(p.modules).toHaveLength(1);
    expect(p.modules[0]!.importedFuncs).toBe(3);
    expect(p.modules[0]!.definedFuncs).toBe(1);
  });

  it('finds every body and the LEB128 before it, with one- to three-byte sizes', () => {
    const sizes = [2, 3, 127, 128, 200, 16383, 16384, 20000, 2];
    const enc = E.encodeModule({ imports: [E.importFunc('a')], bodies: sizes });
    const m = parseWasm(E.u8(enc.bytes)).modules[0]!;
    expect(m.byteOffset).toBe(0);
    expect(m.byteLength).toBe(enc.bytes.length);
    expect(m.definedFuncs).toBe(sizes.length);
    expect([...m.funcStarts]).toEqual(enc.bodies.map((b) => b.lebAt));
    expect([...m.bodyStarts]).toEqual(enc.bodies.map((b) => b.start));
    expect([...m.bodyEnds]).toEqual(enc.bodies.map((b) => b.end));
    // The sizes the encoder wrote, read back from the positions alone.
    expect([...m.bodyEnds].map((e, i) => e - m.bodyStarts[i]!)).toEqual(sizes);
  });

  it('reads a module without functions, imports or names', () => {
    const m = parseWasm(E.u8(E.encodeModule({}).bytes)).modules[0]!;
    expect(m).toMatchObject({ importedFuncs: 0, definedFuncs: 0, name: undefined });
    expect(m.names).toEqual([]);
    expect(m.nameIndices).toHaveLength(0);
    // The bare header is a valid module too.
    expect(parseWasm(E.u8([...E.MAGIC, ...E.MODULE_VERSION])).modules[0]!.definedFuncs).toBe(0);
  });

  it('accepts an empty function section and an empty code section together', () => {
    const bytes = [...E.MAGIC, ...E.MODULE_VERSION, ...E.section(3, [0]), ...E.section(10, [0])];
    expect(parseWasm(E.u8(bytes)).modules[0]!.definedFuncs).toBe(0);
  });

  it('accepts sections in the required order, tag before global and data count before code', () => {
    const bytes = [
      ...E.MAGIC,
      ...E.MODULE_VERSION,
      ...E.section(1, [1, 0x60, 0, 0]),
      ...E.section(3, [1, 0]),
      ...E.section(5, [1, 0x00, 1]), // memory
      ...E.section(13, [1, 0x00, 0]), // tag
      ...E.section(6, [1, 0x7f, 0x00, 0x41, 0x00, 0x0b]), // global
      ...E.customSection('between', [1, 2, 3]),
      ...E.section(12, [0]), // data count
      ...E.section(10, [1, 2, 0x00, 0x0b]),
      ...E.section(11, [0]), // data
    ];
    const m = parseWasm(E.u8(bytes)).modules[0]!;
    expect(m.definedFuncs).toBe(1);
    expect(m.bodyEnds[0]! - m.bodyStarts[0]!).toBe(2);
  });

  it('reads LEB128s padded to 5 bytes, as linkers write them for relocation', () => {
    const pad5 = (n: number) => [
      0x80 | (n & 0x7f),
      0x80 | ((n >>> 7) & 0x7f),
      0x80 | ((n >>> 14) & 0x7f),
      0x80 | ((n >>> 21) & 0x7f),
      (n >>> 28) & 0x0f,
    ];
    const code = [...pad5(2), ...pad5(3), 0x00, 0x01, 0x0b, ...pad5(4), 0x00, 0x01, 0x01, 0x0b];
    const bytes = [
      ...E.MAGIC,
      ...E.MODULE_VERSION,
      1,
      ...pad5(4),
      1,
      0x60,
      0,
      0,
      3,
      ...pad5(3),
      2,
      0,
      0,
      10,
      ...pad5(code.length),
      ...code,
    ];
    const codeContent = bytes.length - code.length;
    const m = parseWasm(E.u8(bytes)).modules[0]!;
    expect([...m.funcStarts]).toEqual([codeContent + 5, codeContent + 5 + 5 + 3]);
    expect([...m.bodyStarts]).toEqual([codeContent + 10, codeContent + 5 + 5 + 3 + 5]);
    expect([...m.bodyEnds]).toEqual([codeContent + 13, bytes.length]);
  });

  it('reads the module name and function names, including imports, non-ASCII and long ones', () => {
    const long = 'x'.repeat(10000) + 'y';
    const enc = E.encodeModule({
      imports: [E.importFunc('a'), E.importFunc('b')],
      bodies: [2, 2, 2, 2],
      names: {
        module: 'modulé',
        funcs: [
          [0, 'imported_a'],
          [2, 'café ☕ 𝄞'],
          [3, long],
          [4, ''],
          [5, 'last'],
        ],
        // Local names and a subsection id this reader does not know: skipped by size.
        extra: [
          [2, [1, 2, 1, 0, ...E.str('p')]],
          [42, [9, 9, 9]],
        ],
      },
    });
    const m = parseWasm(E.u8(enc.bytes)).modules[0]!;
    expect(m.name).toBe('modulé');
    expect([...m.nameIndices]).toEqual([0, 2, 3, 4, 5]);
    expect(m.names).toEqual(['imported_a', 'café ☕ 𝄞', long, '', 'last']);
  });

  it('skips the name section with names: false', () => {
    const enc = E.encodeModule({ bodies: [2], names: { module: 'm', funcs: [[0, 'f']] } });
    const m = parseWasm(E.u8(enc.bytes), { names: false }).modules[0]!;
    expect(m.name).toBeUndefined();
    expect(m.names).toEqual([]);
    // Even a broken name section is not read then.
    const broken = E.encodeModule({ bodies: [2], names: { funcs: [[7, 'out of range']] } });
    expect(() => parseWasm(E.u8(broken.bytes))).toThrow(FunckeyError);
    expect(parseWasm(E.u8(broken.bytes), { names: false }).modules[0]!.definedFuncs).toBe(1);
  });

  it('reads a name section placed before the code section, and only the first name section', () => {
    const enc = E.encodeModule({
      bodies: [2, 3],
      leading: [E.nameSection({ module: 'first', funcs: [[1, 'one']] })],
      names: { module: 'second', funcs: [[0, 'zero']] },
    });
    const m = parseWasm(E.u8(enc.bytes)).modules[0]!;
    expect(m.name).toBe('first');
    expect(m.names).toEqual(['one']);
  });
});

describe('parseWasm: components', () => {
  const a = E.encodeModule({
    bodies: [2, 5],
    names: {
      module: 'A',
      funcs: [
        [0, 'a0'],
        [1, 'a1'],
      ],
    },
  });
  const b = E.encodeModule({
    imports: [E.importFunc('x'), E.importMemory('mem', [0x00, 1])],
    bodies: [3],
    names: {
      funcs: [
        [0, 'bx'],
        [1, 'b0'],
      ],
    },
  });
  const c = E.encodeModule({ bodies: [4, 4, 300] });
  const d = E.encodeModule({ imports: [E.importFunc('y')], bodies: [6], names: { module: 'D' } });
  const inner = E.encodeComponent([{ raw: E.customSection('inner', [1]) }, { core: c }]);
  const middle = E.encodeComponent([
    { core: b },
    { raw: E.section(7, [0]) },
    { nested: inner },
    { raw: E.section(11, [0]) },
  ]);
  const comp = E.encodeComponent([
    { raw: E.customSection('component-name', [0, 1, 2]) },
    { core: a },
    { raw: E.section(2, [0]) }, // core instance section, skipped
    { nested: middle },
    { nested: E.encodeComponent([]) }, // an empty nested component
    { raw: E.section(6, [0]) }, // alias section
    { core: d },
    { raw: E.section(12, [1, 2]) }, // value section
  ]);

  it('finds every core module in binary order, through nested components', () => {
    const p = parseWasm(E.u8(comp.bytes));
    expect(p.kind).toBe('component');
    expect(p.modules.map((m) => m.byteOffset)).toEqual(comp.modules.map((m) => m.offset));
    expect(p.modules.map((m) => m.byteLength)).toEqual(comp.modules.map((m) => m.module.bytes.length));
    expect(p.modules.map((m) => m.name)).toEqual(['A', undefined, undefined, 'D']);
    expect(p.modules.map((m) => m.importedFuncs)).toEqual([0, 1, 0, 1]);
    expect(p.modules.map((m) => m.definedFuncs)).toEqual([2, 1, 3, 1]);
    p.modules.forEach((m, k) => {
      const { offset, module } = comp.modules[k]!;
      expect([...m.bodyStarts]).toEqual(module.bodies.map((x) => offset + x.start));
      expect([...m.bodyEnds]).toEqual(module.bodies.map((x) => offset + x.end));
      expect([...m.funcStarts]).toEqual(module.bodies.map((x) => offset + x.lebAt));
    });
    expect(p.modules[1]!.names).toEqual(['bx', 'b0']);
  });

  it('reads an empty component and deeply nested components without recursion', () => {
    expect(parseWasm(E.u8(E.encodeComponent([]).bytes)).modules).toEqual([]);
    // 20000 levels, laid out in one pass: each level's size is known from the inside out.
    const depth = 20000;
    const core = E.encodeModule({ bodies: [2] }).bytes;
    const sizes = [core.length];
    for (let k = 0; k < depth; k++) sizes.push(8 + 1 + E.uleb(sizes[k]!).length + sizes[k]!);
    const out: number[] = [];
    // Level k holds level k - 1 in a component section (4); level 1 holds the core module (1).
    for (let k = depth; k > 0; k--)
      out.push(...E.MAGIC, ...E.COMPONENT_VERSION, k === 1 ? 1 : 4, ...E.uleb(sizes[k - 1]!));
    const moduleAt = out.length;
    out.push(...core);
    const p = parseWasm(E.u8(out));
    expect(p.modules).toHaveLength(1);
    expect(p.modules[0]!.byteOffset).toBe(moduleAt);
    expect(p.modules[0]!.bodyStarts[0]).toBe(moduleAt + (core.length - 2));
  });
});

describe('buildFromWasm', () => {
  const imports = [E.importFunc('host_log'), E.importTable('t', [0x70], [0x00, 1]), E.importFunc('host_abort')];
  const enc = E.encodeModule({
    imports,
    bodies: [2, 40, 300, 3],
    names: {
      module: 'demo',
      funcs: [
        [0, 'host_log'],
        [2, 'main'],
        [3, 'helper'],
        [5, 'überlast'],
      ],
    },
  });
  const bytes = E.u8(enc.bytes);

  describe.each(BACKENDS)('opened with the %s backend', (backend) => {
    it('records the module, every body, its source location and the names', () => {
      const art = open(buildFromWasm(bytes), { backend });
      try {
        expect(art.describe().textSize).toBe(bytes.length);
        expect(art.modules).toEqual([
          { index: 0, name: 'demo', importedFuncs: 2, definedFuncs: 4, byteOffset: 0, sha256: sha256(bytes) },
        ]);
        enc.bodies.forEach((body, i) => {
          const key = FuncKey.definedWasmFunction(0, i);
          expect(art.funcLoc(key)).toEqual({ start: body.start, length: body.end - body.start });
          expect(art.srcLoc(key)).toBe(body.lebAt);
          for (const off of [body.start, (body.start + body.end) >>> 1, body.end - 1])
            expect(art.funcByOffset(off)?.toString()).toBe(key.toString());
          // The size LEB128 before a body belongs to no function.
          expect(art.funcByOffset(body.lebAt)).toBeUndefined();
        });
        expect(art.funcLoc(FuncKey.definedWasmFunction(0, 4))).toBeUndefined();
        expect(art.funcByOffset(bytes.length)).toBeUndefined();
        expect(art.funcNames(Uint32Array.from([0, 1, 2, 3, 4, 5, 6]))).toEqual([
          'host_log',
          undefined,
          'main',
          'helper',
          undefined,
          'überlast',
          undefined,
        ]);
      } finally {
        art.close();
      }
    });

    it('builds a component: one module record per core module, offsets in the outer binary', () => {
      const m0 = E.encodeModule({ bodies: [2, 9], names: { module: 'zero', funcs: [[1, 'z1']] } });
      const m1 = E.encodeModule({
        imports: [E.importFunc('i')],
        bodies: [4],
        names: {
          funcs: [
            [0, 'imp'],
            [1, 'one'],
          ],
        },
      });
      const m2 = E.encodeModule({});
      const m3 = E.encodeModule({ bodies: [7, 2, 5] });
      const comp = E.encodeComponent([
        { core: m0 },
        { nested: E.encodeComponent([{ raw: E.section(7, [0]) }, { core: m1 }, { core: m2 }]) },
        { core: m3 },
      ]);
      const cb = E.u8(comp.bytes);
      const art = open(buildFromWasm(cb), { backend });
      try {
        expect(art.describe().textSize).toBe(cb.length);
        expect(art.modules.map((m) => [m.name, m.importedFuncs, m.definedFuncs, m.byteOffset, m.sha256])).toEqual(
          comp.modules.map(({ offset, module }, k) => [
            k === 0 ? 'zero' : undefined,
            k === 1 ? 1 : 0,
            module.bodies.length,
            offset,
            sha256(cb.subarray(offset, offset + module.bytes.length)),
          ]),
        );
        comp.modules.forEach(({ offset, module }, k) => {
          module.bodies.forEach((body, i) => {
            const key = FuncKey.definedWasmFunction(k, i);
            expect(art.funcLoc(key)).toEqual({ start: offset + body.start, length: body.end - body.start });
            expect(art.srcLoc(key)).toBe(offset + body.lebAt);
            expect(art.funcByOffset(offset + body.start)?.toString()).toBe(key.toString());
            expect(art.funcByOffset(offset + body.end - 1)?.toString()).toBe(key.toString());
          });
        });
        expect(art.funcName(1, 0)).toBe('z1');
        expect(art.funcName(0, 1)).toBe('imp');
        expect(art.funcName(1, 1)).toBe('one');
        expect(art.funcName(0, 3)).toBeUndefined();
      } finally {
        art.close();
      }
    });

    it('answers the offsets and function indices of a V8 stack trace', async () => {
      // func 0 imported; 1 calls 2; 2 traps; 1 is exported as "run".
      const trap = E.encodeModule({
        imports: [E.importFunc('imp')],
        bodies: [
          [0x00, 0x01, 0x10, 0x02, 0x0b], // nop; call 2
          [0x00, 0x01, 0x01, 0x00, 0x0b], // nop; nop; unreachable
        ],
        names: {
          funcs: [
            [1, 'outer'],
            [2, 'inner'],
          ],
        },
      });
      // Export section (id 7) must come before the code section: rebuild with it leading is not
      // allowed, so splice it in right after the function section.
      const withExport = spliceAfterSection(trap, 3, E.section(7, [1, ...E.str('run'), 0x00, 1]));
      const wasmBytes = E.u8(withExport.bytes);
      const { instance } = await WebAssembly.instantiate(wasmBytes, { env: { imp: () => {} } });
      let stack = '';
      try {
        (instance.exports.run as () => void)();
      } catch (e) {
        stack = String((e as Error).stack);
      }
      const frames = [...stack.matchAll(/wasm-function\[(\d+)\]:0x([0-9a-f]+)/g)].map((m) => [
        Number(m[1]),
        parseInt(m[2]!, 16),
      ]);
      expect(frames.map((f) => f[0])).toEqual([2, 1]);
      const art = open(buildFromWasm(wasmBytes), { backend });
      try {
        for (const [funcIndex, offset] of frames) {
          const key = art.funcByOffset(offset!);
          expect(key?.toString()).toBe(FuncKey.definedWasmFunction(0, funcIndex! - 1).toString());
          expect(art.funcName(funcIndex!)).toBe(funcIndex === 2 ? 'inner' : 'outer');
        }
        // The trap is the unreachable at body byte 3 of function 2, the call at byte 2 of 1.
        expect(frames[0]![1]).toBe(withExport.bodies[1]!.start + 3);
        expect(frames[1]![1]).toBe(withExport.bodies[0]!.start + 2);
      } finally {
        art.close();
      }
    });
  });

  it('passes nameEncoding through and leaves names out with names: false', () => {
    const dense = open(buildFromWasm(bytes, { nameEncoding: 'dense' }), { backend: 'js' });
    const sparse = open(buildFromWasm(bytes, { nameEncoding: 'sparse' }), { backend: 'js' });
    const none = open(buildFromWasm(bytes, { names: false }), { backend: 'js' });
    expect(dense.describe().modules[0]!.nameEncoding).toBe(1);
    expect(sparse.describe().modules[0]!.nameEncoding).toBe(2);
    expect(none.describe().modules[0]!.nameEncoding).toBe(0);
    expect([dense.funcName(5), sparse.funcName(5), none.funcName(5)]).toEqual(['überlast', 'überlast', undefined]);
    expect(none.modules[0]!.name).toBeUndefined();
    expect(none.funcLoc(FuncKey.definedWasmFunction(0, 2))).toEqual({
      start: enc.bodies[2]!.start,
      length: 300,
    });
  });

  it('exposes the builder and the parsed modules', () => {
    const { builder, parsed } = builderFromWasm(bytes);
    expect(parsed.kind).toBe('module');
    expect(parsed.modules[0]!.definedFuncs).toBe(4);
    expect(builder.finish()).toEqual(buildFromWasm(bytes));
  });

  it('builds from a file, and reports an unreadable one as E_IO', () => {
    const path = join(tmp, 'demo.wasm');
    writeFileSync(path, bytes);
    expect(buildFromWasmFile(path)).toEqual(buildFromWasm(bytes));
    expect(() => buildFromWasmFile(join(tmp, 'missing.wasm'))).toThrow(expect.objectContaining({ code: 'E_IO' }));
  });

  it('rejects arguments of the wrong type with E_ARG', () => {
    for (const bad of [undefined, null, 'x.wasm', [0, 97, 115, 109], new ArrayBuffer(8)])
      expect(() => buildFromWasm(bad as unknown as Uint8Array)).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => buildFromWasm(bytes, 'dense' as never)).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => buildFromWasm(bytes, { names: 1 as never })).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => buildFromWasm(bytes, { nameEncoding: 'compact' as never })).toThrow(
      expect.objectContaining({ code: 'E_ARG' }),
    );
    expect(() => buildFromWasmFile('')).toThrow(expect.objectContaining({ code: 'E_ARG' }));
  });

  it('reads a binary held in a SharedArrayBuffer', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
    shared.set(bytes);
    expect(buildFromWasm(shared)).toEqual(buildFromWasm(bytes));
    expect(parseWasm(shared).modules[0]!.names).toEqual(['host_log', 'main', 'helper', 'überlast']);
  });

  it('reads a Buffer and a Uint8Array view at a non-zero offset', () => {
    const padded = new Uint8Array(bytes.length + 13);
    padded.set(bytes, 13);
    expect(buildFromWasm(padded.subarray(13))).toEqual(buildFromWasm(bytes));
    expect(buildFromWasm(Buffer.from(bytes))).toEqual(buildFromWasm(bytes));
  });
});

/** Inserts a raw section right after the first section with id `after`, shifting the bodies. */
function spliceAfterSection(enc: E.Encoded, after: number, raw: E.Bytes): E.Encoded {
  const idx = enc.sections.findIndex(([id]) => id === after);
  const next = enc.sections[idx + 1]![1];
  const bytes = [...enc.bytes.slice(0, next), ...raw, ...enc.bytes.slice(next)];
  const shift = (x: number) => (x >= next ? x + raw.length : x);
  return {
    bytes,
    bodies: enc.bodies.map((b) => ({ lebAt: shift(b.lebAt), start: shift(b.start), end: shift(b.end) })),
    sections: enc.sections.map(([id, off]) => [id, shift(off)] as [number, number]),
  };
}

describeWabt('parseWasm against wabt (wat2wasm, wasm-objdump)', () => {
  const WAT = `(module $all_kinds
  (type $sig (func (param i32) (result i32)))
  (type $v (func))
  (import "env" "f0" (func $f0 (type $sig)))
  (import "env" "t0" (table $t0 2 funcref))
  (import "env" "t1" (table $t1 1 10 externref))
  (import "env" "m0" (memory $m0 1 4 shared))
  (import "env" "m1" (memory $m1 i64 1 70000))
  (import "env" "g0" (global $g0 (mut i64)))
  (import "env" "g1" (global $g1 externref))
  (import "env" "g2" (global $g2 v128))
  (import "env" "e0" (tag $e0 (param i32)))
  (import "env" "f1" (func $f1 (type $v)))
  (import "env" "f2" (func $f2 (type $sig)))
  (memory $own 1)
  (global $mine (mut i32) (i32.const 7))
  (export "first" (func $first))
  (func $first (type $sig) local.get 0)
  (func $caf\\c3\\a9<T>::x (type $v))
  (func (type $v) (local i32 i64) nop nop)
  ${Array.from({ length: 40 }, (_, i) => `(func $f_${i} (type $sig) ${'local.get 0 i32.const 1 i32.add drop '.repeat(i * 5)}local.get 0)`).join('\n  ')}
  (data (i32.const 0) "hello")
)`;

  it('gives the imports, body ranges and names wasm-objdump reports', () => {
    const wat = join(tmp, 'all.wat');
    const wasm = join(tmp, 'all.wasm');
    writeFileSync(wat, WAT);
    run('wat2wasm', ['--enable-all', '--debug-names', wat, '-o', wasm]);
    const bytes = new Uint8Array(readFileSync(wasm));
    const ref = objdump(wasm);
    const starts = objdumpBodyStarts(wasm);
    const m = parseWasm(bytes).modules[0]!;
    expect(ref.importedFuncs).toBe(3);
    expect(m.importedFuncs).toBe(ref.importedFuncs);
    expect(m.definedFuncs).toBe(ref.code.length);
    expect(m.definedFuncs).toBe(43);
    expect(m.name).toBe(ref.moduleName);
    ref.code.forEach(({ index, size }, i) => {
      expect(index).toBe(m.importedFuncs + i);
      expect(m.bodyStarts[i]).toBe(starts.get(index));
      expect(m.bodyEnds[i]! - m.bodyStarts[i]!).toBe(size);
    });
    expect(new Map([...m.nameIndices].map((fi, k) => [fi, m.names[k]]))).toEqual(ref.names);
    expect(ref.names.get(4)).toBe('caf\\c3\\a9<T>::x');

    const art = open(buildFromWasm(bytes), { backend: 'js' });
    for (const { index, size } of ref.code) {
      const key = FuncKey.definedWasmFunction(0, index - ref.importedFuncs);
      expect(art.funcLoc(key)).toEqual({ start: starts.get(index), length: size });
      expect(art.funcByOffset(starts.get(index)! + size - 1)?.toString()).toBe(key.toString());
    }
    for (let fi = 0; fi < ref.importedFuncs + ref.code.length; fi++) expect(art.funcName(fi)).toBe(ref.names.get(fi));
  });
});
