import { describe, expect, it } from 'vitest';
import { open } from '../lib/artifact.js';
import { buildFromWasm } from '../lib/build.js';
import { FunckeyError } from '../lib/errors.js';
import { parseWasm } from '../lib/wasm.js';
import * as E from './helpers/wasm-encoder.js';
import { rng } from './helpers/gen.js';

const HEADER = [...E.MAGIC, ...E.MODULE_VERSION];
const TYPE = E.section(1, [1, 0x60, 0, 0]);

/** Parses `bytes`, expects E_WASM at `offset`, and returns the error. */
function expectWasmError(bytes: E.Bytes | Uint8Array, offset: number, message?: RegExp): FunckeyError {
  const input = bytes instanceof Uint8Array ? bytes : E.u8(bytes);
  let err: unknown;
  try {
    parseWasm(input);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FunckeyError);
  const fe = err as FunckeyError;
  expect(fe.code).toBe('E_WASM');
  if (message) expect(fe.message).toMatch(message);
  expect(fe.offset).toBe(offset);
  // buildFromWasm reports the same error.
  expect(() => buildFromWasm(input)).toThrow(expect.objectContaining({ code: 'E_WASM', offset }));
  return fe;
}

/** A module with one function whose body is `body` (size LEB included by the caller). */
function withCode(codeContent: E.Bytes, funcCount = 1): E.Bytes {
  return [
    ...HEADER,
    ...TYPE,
    ...E.section(3, [funcCount, ...new Array<number>(funcCount).fill(0)]),
    ...E.section(10, codeContent),
  ];
}

/** A valid one-function module followed by a name section with the given subsections. */
function withNames(subsections: E.Bytes, imports: E.Bytes[] = []): { bytes: E.Bytes; subAt: number } {
  const base = E.encodeModule({ imports, bodies: [2, 2] }).bytes;
  const name = E.customSection('name', subsections);
  // The subsections start after the section id, its size and the 5 bytes of "\x04name".
  const subAt = base.length + 1 + E.uleb(subsections.length + 5).length + 5;
  return { bytes: [...base, ...name], subAt };
}

describe('E_WASM for every kind of damage, with the offset where it was found', () => {
  it('bad magic', () => {
    expectWasmError([0x00, 0x61, 0x73, 0x6e, 1, 0, 0, 0], 0, /magic/);
    expectWasmError(new TextEncoder().encode('ELF binary file'), 0, /magic/);
  });

  it('bad version', () => {
    expectWasmError([...E.MAGIC, 0x02, 0, 0, 0], 4, /version/);
    expectWasmError([...E.MAGIC, 0x0d, 0, 0x02, 0], 4, /version/); // a component of another layer
  });

  it('shorter than the header', () => {
    expectWasmError([], 0, /fewer than its 8-byte header/);
    expectWasmError([0x00, 0x61, 0x73, 0x6d, 1, 0, 0], 0);
  });

  it('truncated LEB128', () => {
    expectWasmError([...HEADER, 0x01, 0x80], 9, /truncated LEB128/);
    expectWasmError([...HEADER, 0x01, 0xff, 0xff, 0xff, 0xff], 9, /truncated LEB128/);
    // Inside a section: the code count.
    expectWasmError(
      [...HEADER, ...TYPE, ...E.section(3, [1, 0]), 10, 1, 0x80],
      8 + TYPE.length + 4 + 2,
      /truncated LEB128 \(code count\)/,
    );
  });

  it('LEB128 too long or too large for 32 bits', () => {
    expectWasmError([...HEADER, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 9, /longer than 5 bytes/);
    expectWasmError([...HEADER, 0x01, 0xff, 0xff, 0xff, 0xff, 0x1f], 9, /does not fit in 32 bits/);
    // A body size written with 6 bytes.
    const code = [1, 0x82, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00, 0x0b];
    expectWasmError(withCode(code), 8 + TYPE.length + 4 + 2 + 1, /longer than 5 bytes \(size of function body 0\)/);
  });

  it('section past the end', () => {
    expectWasmError([...HEADER, 0x01, 0x10, 0x01], 8, /extends past the end/);
    const m = E.encodeModule({ bodies: [2] }).bytes;
    expectWasmError([...m, 0x00, 0x05, 0x01, 0x61], m.length, /extends past the end/);
  });

  it('function count different from the code count', () => {
    const bytes = [...HEADER, ...TYPE, ...E.section(3, [2, 0, 0]), ...E.section(10, [1, 2, 0x00, 0x0b])];
    expectWasmError(bytes, 8 + TYPE.length + 5, /declares 2 functions but the code section has 1/);
    // A function section and no code section.
    expectWasmError([...HEADER, ...TYPE, ...E.section(3, [1, 0])], 8 + TYPE.length, /no code section/);
    // A code section and no function section.
    expectWasmError([...HEADER, ...TYPE, ...E.section(10, [1, 2, 0x00, 0x0b])], 8 + TYPE.length, /no function section/);
  });

  it('function body past its section', () => {
    const codeAt = 8 + TYPE.length + 4;
    expectWasmError(
      withCode([1, 5, 0x00, 0x0b]),
      codeAt + 3,
      /function body 0 of 5 bytes extends past the end of the code section/,
    );
    // The second of two bodies.
    // (The function section is one byte longer here: codeAt + 1.)
    expectWasmError(
      withCode([2, 2, 0x00, 0x0b, 9, 0x00, 0x0b], 2),
      codeAt + 1 + 2 + 1 + 1 + 2,
      /function body 1 of 9 bytes/,
    );
  });

  it('empty function body, and bytes left after the last body', () => {
    const codeAt = 8 + TYPE.length + 4;
    expectWasmError(withCode([1, 0, 0x0b]), codeAt + 3, /function body 0 is empty/);
    expectWasmError(withCode([1, 2, 0x00, 0x0b, 0x00]), codeAt + 6, /1 bytes after its last body/);
  });

  it('counts larger than their section can hold are refused before any allocation', () => {
    const huge = E.uleb(0xfffffff0);
    expectWasmError(
      [...HEADER, ...TYPE, ...E.section(3, [...huge, 0])],
      8 + TYPE.length + 2,
      /function count 4294967280/,
    );
    expectWasmError(
      [...HEADER, ...TYPE, ...E.section(3, [1, 0]), ...E.section(10, [...huge, 2, 0, 0x0b])],
      8 + TYPE.length + 4 + 2,
      /code count/,
    );
    expectWasmError([...HEADER, ...E.section(2, [...huge, 0, 0, 0])], 10, /import count/);
    const { bytes, subAt } = withNames(E.section(1, [...huge, 0, 0]));
    expectWasmError(bytes, subAt + 2, /function name count/);
  });

  it('duplicate or out-of-order known section, unknown section id', () => {
    expectWasmError([...HEADER, ...TYPE, ...TYPE], 8 + TYPE.length, /duplicate type section/);
    expectWasmError([...HEADER, ...E.section(3, [0]), ...TYPE], 11, /type section after the function section/);
    expectWasmError(
      [...HEADER, ...E.section(6, [0]), ...E.section(13, [0])],
      11,
      /tag section after the global section/,
    );
    expectWasmError(
      [...HEADER, ...E.section(10, [0]), ...E.section(12, [0])],
      11,
      /data count section after the code section/,
    );
    expectWasmError([...HEADER, ...TYPE, ...E.section(14, [])], 8 + TYPE.length, /unknown section id 14/);
  });

  it('malformed imports: unknown kind, bad limits, bad global or tag, trailing bytes, truncated', () => {
    const sec = (entries: E.Bytes[], extra: E.Bytes = []) => [
      ...HEADER,
      ...E.section(2, [...E.uleb(entries.length), ...entries.flat(), ...extra]),
    ];
    // "env" "x" = 4 + 2 bytes before the kind byte; the section content starts at 11.
    const kindAt = 11 + 4 + 2;
    expectWasmError(sec([[...E.str('env'), ...E.str('x'), 0x05, 0]]), kindAt, /unknown kind 0x5/);
    expectWasmError(sec([E.importMemory('x', [0x10, 1])]), kindAt + 1, /limits flags 0x10/);
    // A 32-bit minimum written with 6 bytes; 64-bit limits accept up to 10.
    expectWasmError(
      sec([E.importMemory('x', [0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])]),
      kindAt + 2,
      /longer than 5 bytes/,
    );
    expect(
      parseWasm(E.u8(sec([E.importMemory('x', [0x04, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])]))).modules[0]!.importedFuncs,
    ).toBe(0);
    expectWasmError(
      sec([E.importMemory('x', [0x04, ...new Array<number>(10).fill(0x80), 0x01])]),
      kindAt + 2,
      /longer than 10 bytes/,
    );
    expectWasmError(
      sec([E.importGlobal('x', [0x7f], false).map((b, i, a) => (i === a.length - 1 ? 2 : b))]),
      kindAt + 2,
      /mutability 2/,
    );
    expectWasmError(sec([[...E.str('env'), ...E.str('x'), 0x04, 0x01, 0]]), kindAt + 1, /tag has attribute 1/);
    expectWasmError(sec([E.importFunc('x')], [0x00]), kindAt + 2, /1 bytes after its last entry/);
    // A module name longer than the section.
    expectWasmError(
      [...HEADER, ...E.section(2, [1, 50, 0x61, 0x61, 0x61, 0x61])],
      11,
      /import module name of 50 bytes/,
    );
    // A heap type that runs off the end of the section.
    expectWasmError(
      sec([E.importTable('x', [0x63], [])]),
      kindAt + 2,
      /truncated LEB128 \(imported table element type heap type\)/,
    );
  });

  it('custom section whose name overruns it', () => {
    // Reported at the name's length, the first byte of the section's content.
    expectWasmError([...HEADER, 0x00, 0x03, 0x09, 0x61, 0x62], 10, /custom section name of 9 bytes/);
  });

  it('name section whose subsections overrun it', () => {
    const { bytes, subAt } = withNames([1, 0x40, 1, 0, 1, 0x61]);
    expectWasmError(bytes, subAt, /name subsection 1 of 64 bytes extends past the name section/);
    // A function name longer than its subsection.
    const w = withNames(E.section(1, [1, 0, 9, 0x61]));
    expectWasmError(w.bytes, w.subAt + 3, /name of function 0 \(9 bytes\) extends past its subsection/);
    // A module name that does not fill its subsection exactly.
    const mod = withNames(E.section(0, [...E.str('m'), 0x00]));
    expectWasmError(mod.bytes, mod.subAt + 4, /bytes after the name/);
    // Entries that end before the subsection does.
    const t = withNames(E.section(1, [1, 0, ...E.str('f'), 0x00]));
    expectWasmError(t.bytes, t.subAt + 6, /1 bytes after its last entry/);
    // A truncated subsection size at the very end.
    const cut = withNames([0x01, 0x80]);
    expectWasmError(cut.bytes, cut.subAt + 1, /truncated LEB128 \(name subsection size\)/);
  });

  it('function index out of range, out of order or repeated in the name section', () => {
    // Two imports and two defined functions: indices 0 to 3.
    const imports = [E.importFunc('a'), E.importFunc('b')];
    const out = withNames(E.section(1, [2, 0, ...E.str('a'), 4, ...E.str('e')]), imports);
    expectWasmError(out.bytes, out.subAt + 2 + 1 + 3, /names function 4, but the module has 4 functions/);
    const order = withNames(E.section(1, [2, 3, ...E.str('d'), 1, ...E.str('b')]), imports);
    expectWasmError(order.bytes, order.subAt + 2 + 1 + 3, /out of order: 1 after 3/);
    const dup = withNames(E.section(1, [2, 1, ...E.str('b'), 1, ...E.str('b')]), imports);
    expectWasmError(dup.bytes, dup.subAt + 2 + 1 + 3, /out of order: 1 after 1/);
    const twice = withNames([...E.section(1, [0]), ...E.section(1, [0])], imports);
    expectWasmError(twice.bytes, twice.subAt + 3, /duplicate function name subsection/);
  });

  it('names that are not valid UTF-8', () => {
    const f = withNames(E.section(1, [1, 1, ...E.str([0x61, 0xff, 0x62])]));
    expectWasmError(f.bytes, f.subAt + 2 + 1, /name of function 1 is not valid UTF-8/);
    // A lone surrogate encoded in UTF-8, and a truncated sequence.
    const s = withNames(E.section(1, [1, 0, ...E.str([0xed, 0xa0, 0x80])]));
    expectWasmError(s.bytes, s.subAt + 3, /not valid UTF-8/);
    const m = withNames(E.section(0, E.str([0x6d, 0xe2, 0x82])));
    expectWasmError(m.bytes, m.subAt + 2, /module name is not valid UTF-8/);
  });

  it('components: bad nested headers, sections past the end, unknown ids', () => {
    const C = [...E.MAGIC, ...E.COMPONENT_VERSION];
    const core = E.encodeModule({ bodies: [2] }).bytes;
    // A core module section holding a component header.
    expectWasmError([...C, ...E.section(1, C)], 8 + 2 + 4, /core module: expected version 1/);
    // A nested component section holding a core module.
    expectWasmError([...C, ...E.section(4, core)], 8 + 2 + 4, /nested component: expected component version/);
    expectWasmError([...C, ...E.section(4, [0, 0x61, 0x73])], 8 + 2, /shorter than its 8-byte header/);
    expectWasmError([...C, 0x01, 0x40, ...core], 8, /extends past the end of its component/);
    expectWasmError([...C, ...E.section(13, [0])], 8, /unknown component section id 13/);
    // A section of a nested component running past the nested component's end (but not the file's).
    const inner = [...C, 0x07, 0x05, 0x00];
    expectWasmError(
      [...C, ...E.section(4, inner), ...E.section(7, [0, 0, 0, 0, 0])],
      8 + 2 + 8,
      /past the end of its component/,
    );
    // A core module whose section runs past the module's end (but not the file's).
    const bad = [...HEADER, 0x01, 0x08, 0x00];
    expectWasmError(
      [...C, ...E.section(1, bad), ...E.customSection('pad', [1, 2, 3, 4, 5, 6])],
      8 + 2 + 8,
      /past the end of the module/,
    );
    // Damage inside a nested module is reported at its offset in the outer binary.
    const comp = E.encodeComponent([
      { raw: E.customSection('x', [1]) },
      { nested: E.encodeComponent([{ core: E.encodeModule({ bodies: [2] }) }]) },
    ]);
    const at = comp.modules[0]!.offset;
    const broken = [...comp.bytes];
    broken[at + 4] = 0x02;
    expectWasmError(broken, at + 4, /expected version 1/);
  });
});

describe('damaged binaries: an artifact or E_WASM, nothing else', () => {
  const module = E.encodeModule({
    imports: [
      E.importFunc('f0'),
      E.importTable('t', [0x63, 0x00], [0x01, 1, 10]),
      E.importMemory('m', [0x07, ...E.uleb(2 ** 35), ...E.uleb(2 ** 36)]),
      E.importGlobal('g', [0x7f], true),
      E.importTag('e'),
      E.importFunc('f1'),
    ],
    bodies: [2, 3, 130, 7, 20, 2],
    leading: [E.customSection('producers', [0])],
    names: {
      module: 'damaged',
      funcs: [
        [0, 'f0'],
        [2, 'zwei'],
        [3, 'drei ✓'],
        [5, 'fünf'],
        [7, 'last'],
      ],
      extra: [[2, [0]]],
    },
  }).bytes;
  const component = E.encodeComponent([
    { core: E.encodeModule({ bodies: [3, 4], names: { funcs: [[1, 'b']] } }) },
    { raw: E.section(7, [0]) },
    { nested: E.encodeComponent([{ core: E.encodeModule({ imports: [E.importFunc('i')], bodies: [2] }) }]) },
  ]).bytes;

  function attempt(bytes: Uint8Array): 'ok' | 'E_WASM' {
    let artifact: Uint8Array;
    try {
      artifact = buildFromWasm(bytes);
    } catch (e) {
      if (!(e instanceof FunckeyError) || e.code !== 'E_WASM') throw e;
      if (!Number.isInteger(e.offset) || e.offset! < 0 || e.offset! > bytes.length)
        throw new Error(`E_WASM with offset ${e.offset} outside the input of ${bytes.length} bytes: ${e.message}`);
      return 'E_WASM';
    }
    const art = open(artifact, { backend: 'js' });
    art.close();
    return 'ok';
  }

  it.each([
    ['module', module],
    ['component', component],
  ])('every truncation of a %s', (_, bytes) => {
    const counts = { ok: 0, E_WASM: 0 };
    for (let n = 0; n < bytes.length; n++) counts[attempt(E.u8(bytes.slice(0, n)))]++;
    expect(attempt(E.u8(bytes))).toBe('ok');
    // A prefix that ends exactly between sections is a valid binary; most are not.
    expect(counts.E_WASM).toBeGreaterThan(bytes.length / 2);
  });

  it.each([
    ['module', module, 1],
    ['component', component, 2],
  ])('seeded random byte changes of a %s', (_, bytes, seed) => {
    const next = rng(0x5eed + seed);
    const counts = { ok: 0, E_WASM: 0 };
    for (let iter = 0; iter < 4000; iter++) {
      const b = E.u8(bytes);
      const changes = 1 + Math.floor(next() * 4);
      for (let c = 0; c < changes; c++) {
        const at = Math.floor(next() * b.length);
        const how = next();
        if (how < 0.4) b[at] ^= 1 << Math.floor(next() * 8);
        else if (how < 0.7) b[at] = Math.floor(next() * 256);
        else b[at] = [0x00, 0x7f, 0x80, 0xff][Math.floor(next() * 4)]!;
      }
      const cut = next() < 0.2 ? Math.floor(next() * b.length) : b.length;
      counts[attempt(b.subarray(0, cut))]++;
    }
    // Both outcomes occur: damage inside bodies or custom payloads goes unnoticed by design.
    expect(counts.ok).toBeGreaterThan(0);
    expect(counts.E_WASM).toBeGreaterThan(0);
  });
});
