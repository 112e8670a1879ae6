/**
 * The source-location sections of an artifact (FORMAT.md 3.5) through the public API, in
 * every backend: an artifact without DWARF answers [], the argument checks, and damaged
 * sections give the same chain or the same code in js and native (the chains themselves are
 * compared with llvm-symbolizer-14 in test/dwarf-symbolizer.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactBuilder, buildFromWasm, FuncKey, open } from '../lib/index.js';
import { BACKENDS } from './helpers/backends.js';
import { codeOf } from './helpers/codes.js';
import { int, rng } from './helpers/gen.js';
import { artifactSections } from './helpers/mutate.js';
import { count } from './helpers/heavy.js';
import { FORMAT_SECTIONS, LINE_SECTIONS } from './helpers/expected.js';

const fixture = readFileSync(join(__dirname, 'fixtures', 'dwarf', 'c-O2-dwarf5.wasm'));
const DEMO = readFileSync(join(__dirname, '..', 'samples', 'demo.wasm'));

function plain(): Uint8Array {
  const b = new ArtifactBuilder();
  b.addModule({ importedFuncs: 0, definedFuncs: 2 });
  b.pushFunc(FuncKey.definedWasmFunction(0, 0), { start: 10, length: 5 });
  b.pushFunc(FuncKey.definedWasmFunction(0, 1), { start: 15, length: 5 });
  return b.finish();
}

/** Every answer of srcLocs at `offsets`, as text, or the error code. */
function answers(bytes: Uint8Array, backend: (typeof BACKENDS)[number], offsets: number[]): string {
  let a;
  try {
    a = open(bytes, { backend });
  } catch (e) {
    return `open:${codeOf(() => {
      throw e;
    })}`;
  }
  const out: string[] = [];
  for (const o of offsets) {
    try {
      out.push(JSON.stringify(a.srcLocs(o)));
    } catch (e) {
      out.push(
        `err:${codeOf(() => {
          throw e;
        })}`,
      );
    }
  }
  try {
    out.push(JSON.stringify(a.srcLocsByOffsets(Uint32Array.from(offsets))));
  } catch (e) {
    out.push(
      `batch:${codeOf(() => {
        throw e;
      })}`,
    );
  }
  a.close();
  return out.join('\n');
}

describe.each(BACKENDS)('srcLocs, backend %s', (backend) => {
  it('an artifact without DWARF: [] everywhere, no line sections', () => {
    const bytes = plain();
    const a = open(bytes, { backend });
    for (const o of [0, 10, 12, 19, 20, 0xffffffff]) expect(a.srcLocs(o)).toEqual([]);
    expect(a.srcLocsByOffsets(new Uint32Array([0, 12]))).toEqual([[], []]);
    expect(a.describe().sections.filter((s) => s.name.startsWith('.fk.line_'))).toEqual([]);
    // dwarf: false leaves them out too.
    const b = open(buildFromWasm(fixture, { dwarf: false }), { backend });
    expect(b.srcLocs(0x100)).toEqual([]);
    // Opened from a file (which the js backend may read in parts): the same.
    const dir = mkdtempSync(join(tmpdir(), 'funckey-srclocs-'));
    try {
      writeFileSync(join(dir, 'plain.fkx'), bytes);
      const c = open(join(dir, 'plain.fkx'), { backend });
      expect([c.srcLocs(12), c.srcLocsByOffsets(new Uint32Array([0, 12]))]).toEqual([[], [[], []]]);
      expect(c.funcByOffset(12)).toBeDefined();
      c.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a chain of 71 frames (tables written by hand, FORMAT.md 3.5): every frame, innermost first', () => {
    // Strings "f" and "a.c"; frame k (k = 0..69) at byte 5k: function 0, file 1, line k + 1,
    // column 0, its parent 5 bytes back (frame 0: none). One block at 10: a piece with
    // function 0 (+1), file 1, parent frame 69 (at 345, +1 = 346 = DA 02), line 7; a piece
    // without a location at 20 (distance 10 as a ULEB128).
    const frames: number[] = [];
    for (let k = 0; k < 70; k++) frames.push(0, 1, k + 1, 0, k === 0 ? 0 : 5);
    const b = new ArtifactBuilder({ textSize: 64 });
    b.addModule({ importedFuncs: 0, definedFuncs: 1 });
    b.pushFunc(FuncKey.definedWasmFunction(0, 0), { start: 10, length: 10 });
    b.setSrcLocs({
      blocks: new Uint32Array([10, 0]),
      pieces: new Uint8Array([8 | 16 | 32 | 128, 1, 1, 0xda, 0x02, 7, 8, 10, 0]),
      frames: Uint8Array.from(frames),
      strings: new Uint32Array([0, 1, 4]),
      stringBytes: new TextEncoder().encode('fa.c'),
    });
    const a = open(b.finish(), { backend });
    const want = [{ function: 'f', file: 'a.c', line: 7, column: 0 }];
    for (let k = 69; k >= 0; k--) want.push({ function: 'f', file: 'a.c', line: k + 1, column: 0 });
    for (const o of [10, 15, 19]) expect(a.srcLocs(o)).toEqual(want);
    for (const o of [0, 9, 20, 63]) expect(a.srcLocs(o)).toEqual([]);
    expect(a.srcLocsByOffsets(new Uint32Array([9, 10, 20]))).toEqual([[], want, []]);
    a.close();
  });

  it('checks its arguments and the artifact being open', () => {
    const a = open(buildFromWasm(fixture), { backend });
    for (const bad of [-1, 1.5, 2 ** 32, '1', NaN, undefined])
      expect(codeOf(() => a.srcLocs(bad as number))).toBe('E_ARG');
    expect(codeOf(() => a.srcLocsByOffsets(new Float64Array(2) as unknown as Uint32Array))).toBe('E_ARG');
    a.close();
    expect(codeOf(() => a.srcLocs(0))).toBe('E_CLOSED');
    expect(codeOf(() => a.srcLocsByOffsets(new Uint32Array(1)))).toBe('E_CLOSED');
  });

  it('a line section whose size is not whole entries: E_CORRUPT at open', () => {
    const src = buildFromWasm(fixture);
    for (const name of ['.fk.line_blocks', '.fk.line_strings']) {
      const s = artifactSections(src).find((x) => x.name === name)!;
      expect(s.size).toBeGreaterThan(8);
      const b = src.slice();
      new DataView(b.buffer).setBigUint64(s.header + 32, BigInt(s.size - 2), true);
      expect(
        codeOf(() => open(b, { backend })),
        name,
      ).toBe('E_CORRUPT');
    }
  });
});

describe('an artifact with and without DWARF', () => {
  it('without: the sections of FORMAT.md 1.3 but the line ones, and not a byte beyond them', () => {
    for (const bytes of [buildFromWasm(fixture, { dwarf: false }), buildFromWasm(DEMO), plain()]) {
      const sections = artifactSections(bytes);
      expect(sections.map((s) => s.name)).toEqual([...FORMAT_SECTIONS]);
      expect(bytes.length).toBe(Math.max(...sections.map((s) => s.offset + s.size)));
    }
    expect(buildFromWasm(DEMO)).toEqual(buildFromWasm(DEMO, { dwarf: false }));
  });

  it('with: the same sections and then the five line ones, holding all the extra bytes', () => {
    const without = buildFromWasm(fixture, { dwarf: false });
    const withDwarf = buildFromWasm(fixture);
    const sections = artifactSections(withDwarf);
    expect(sections.map((s) => s.name)).toEqual([...FORMAT_SECTIONS, ...LINE_SECTIONS]);
    const lines = sections.filter((s) => s.name.startsWith('.fk.line_'));
    // Five more headers (64 bytes each), their names in .shstrtab, the sections (each at a
    // multiple of 8): nothing else grows.
    const names = LINE_SECTIONS.reduce((n, s) => n + s.length + 1, 0);
    const aligned = lines.reduce((n, s) => n + Math.ceil(s.size / 8) * 8, 0);
    const grown = withDwarf.length - without.length;
    expect(grown).toBeGreaterThanOrEqual(5 * 64 + names + aligned - 16);
    expect(grown).toBeLessThanOrEqual(5 * 64 + names + aligned + 16);
  });
});

describe('damaged line sections', () => {
  it(`same chain or same code in ${BACKENDS.join(' and ')}, and E_CORRUPT seen`, () => {
    const src = buildFromWasm(fixture);
    const lines = artifactSections(src).filter((s) => s.name.startsWith('.fk.line_') && s.size > 0);
    const code = artifactSections(src).find((s) => s.name === '.fk.func_locs')!;
    const v0 = new DataView(src.buffer, src.byteOffset);
    const first = v0.getUint32(code.offset, true);
    const r = rng(7);
    let corrupt = 0;
    for (let n = 0; n < count('line mutations', 60, 600); n++) {
      const b = src.slice();
      const s = lines[int(r, 0, lines.length - 1)]!;
      for (let k = 0; k < int(r, 1, 3); k++) b[s.offset + int(r, 0, s.size - 1)] = int(r, 0, 255);
      const offsets = Array.from({ length: 40 }, () => first + int(r, 0, 4000));
      const prints = BACKENDS.map((be) => answers(b, be, offsets));
      for (const p of prints.slice(1)) expect(p).toBe(prints[0]);
      if (prints[0]!.includes('E_CORRUPT')) corrupt++;
    }
    expect(corrupt).toBeGreaterThan(0);
  });
});

describe('the readers’ string cache', () => {
  it('keeps strings by index across its pages, and nothing else', async () => {
    const { StringCache } = await import('../lib/srclocs.js');
    const c = new StringCache();
    const at = [0, 1, 1023, 1024, 1025, 5000, 2 ** 20 + 3, 2 ** 32 - 1];
    for (const i of at) expect(c.get(i)).toBeUndefined();
    for (const i of at) c.set(i, `s${i}`);
    for (const i of at) expect(c.get(i)).toBe(`s${i}`);
    for (const i of [2, 1022, 1026, 4999, 5001, 2 ** 20 + 2, 2 ** 32 - 2]) expect(c.get(i)).toBeUndefined();
  });
});
