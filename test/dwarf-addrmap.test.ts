/**
 * The per-unit address map of subroutine DIEs (lib/dwarf/addrmap.ts, LLVM's AddrDieMap) on
 * DIEs in an order chosen to hurt: a hand-assembled module whose one compile unit has many
 * subprograms in descending address order, each added in front of all the others. An
 * array-insertion map takes quadratic time there (more than a minute at this count: past
 * the test's 30 s); the answers are checked at every address against the names the module was
 * written with.
 */
import { describe, expect, it } from 'vitest';
import { readSrcLocs, tableLookup } from '../lib/dwarf/index.js';
import { AddrDieMap } from '../lib/dwarf/addrmap.js';
import { int, rng } from './helpers/gen.js';
import { buildFromWasm, open } from '../lib/index.js';
import { BACKENDS } from './helpers/backends.js';
import { customSection, MAGIC, MODULE_VERSION, section, uleb, utf8, type Bytes } from './helpers/wasm-encoder.js';

const u16 = (v: number): Bytes => [v & 0xff, v >>> 8];
const u32 = (v: number): Bytes => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

/**
 * A module with one function of `2n` nops and DWARF 4 with one compile unit over the code and
 * `n` subprograms: the k-th DIE is f<i> for i = n - 1 - k, covering code address [2i, 2i + 1).
 */
function hostileOrder(n: number): Uint8Array {
  const DW_TAG_compile_unit = 0x11,
    DW_TAG_subprogram = 0x2e,
    DW_AT_name = 0x03,
    DW_AT_low_pc = 0x11,
    DW_AT_high_pc = 0x12,
    DW_FORM_addr = 0x01,
    DW_FORM_data4 = 0x06,
    DW_FORM_string = 0x08;
  const abbrev = [
    ...[1, DW_TAG_compile_unit, 1, DW_AT_low_pc, DW_FORM_addr, DW_AT_high_pc, DW_FORM_data4, 0, 0],
    ...[2, DW_TAG_subprogram, 0, DW_AT_low_pc, DW_FORM_addr, DW_AT_high_pc, DW_FORM_data4],
    ...[DW_AT_name, DW_FORM_string, 0, 0, 0],
  ];
  const codeSize = 2 * n + 8;
  const dies: Bytes = [1, ...u32(0), ...u32(codeSize)];
  for (let k = 0; k < n; k++) {
    const i = n - 1 - k;
    dies.push(2, ...u32(2 * i), ...u32(1), ...utf8(`f${i}`), 0);
  }
  dies.push(0);
  // DWARF 4 unit header after the length: version, abbreviation offset, address size.
  const unit = [...u16(4), ...u32(0), 4, ...dies];
  const info = [...u32(unit.length), ...unit];
  const body = [0, ...new Array<number>(2 * n).fill(0x01), 0x0b]; // no locals, nops, end
  const code = [1, ...uleb(body.length), ...body];
  return Uint8Array.from([
    ...MAGIC,
    ...MODULE_VERSION,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(3, [1, 0]),
    ...section(10, code),
    ...customSection('.debug_abbrev', abbrev),
    ...customSection('.debug_info', info),
  ]);
}

describe('subprograms in descending address order', () => {
  const N = 500_000;
  const wasm = hostileOrder(N);
  let artifact: Uint8Array | undefined;

  it(`${N} of them: each address answers its own subprogram, or none between them`, () => {
    const t = readSrcLocs(wasm)!;
    expect(t).toBeDefined();
    let wrong = 0;
    for (let a = 0; a < 2 * N; a++) {
      const got = tableLookup(t, a).map((f) => `${f.function}|${f.file}|${f.line}|${f.column}`);
      const want = a % 2 === 0 ? [`f${a / 2}||0|0`] : [];
      if (JSON.stringify(got) !== JSON.stringify(want)) wrong++;
    }
    expect(wrong).toBe(0);
  }, 30_000);

  it.each(BACKENDS)('the same through the artifact, backend %s (a sample)', (backend) => {
    const a = open((artifact ??= buildFromWasm(wasm)), { backend });
    const codeStart = readSrcLocs(wasm)!.codeStart;
    for (const i of [0, 1, 2, 777, N / 2, N - 2, N - 1]) {
      expect(a.srcLocs(codeStart + 2 * i)).toEqual([{ function: `f${i}`, file: '', line: 0, column: 0 }]);
      expect(a.srcLocs(codeStart + 2 * i + 1)).toEqual([]);
    }
    a.close();
  });
});

/**
 * LLVM's DWARFUnit::updateAddressDieMap written out plainly (its std::map as a sorted array
 * of [low, high, die]), the reference for the map's two ways of building.
 */
function reference(triples: number[]): number[][] {
  const map: number[][] = [];
  const at = (key: number): number => {
    let i = 0;
    while (i < map.length && map[i]![0]! <= key) i++;
    return i; // upper_bound
  };
  const set = (key: number, high: number, die: number): void => {
    const i = at(key);
    if (i > 0 && map[i - 1]![0] === key) map[i - 1] = [key, high, die];
    else map.splice(i, 0, [key, high, die]);
  };
  for (let r = 0; r < triples.length; r += 3) {
    const [lo, hi, die] = [triples[r]!, triples[r + 1]!, triples[r + 2]!];
    if (lo === hi) continue;
    const b = at(lo) - 1;
    if (b >= 0 && lo < map[b]![1]!) {
      const [bLow, bHigh, bDie] = map[b]!;
      if (hi < bHigh!) set(hi, bHigh!, bDie!);
      // By key, as std::map's operator[] (the set above may have moved it).
      if (lo > bLow!) map.find((e) => e[0] === bLow)![1] = lo;
    }
    set(lo, hi, die);
  }
  return map;
}

describe("the address map against LLVM's algorithm", () => {
  it('random ranges in random order, few (built in place) and many (built with the tree)', () => {
    const r = rng(0xadd7);
    for (let trial = 0; trial < 120; trial++) {
      const n = trial % 3 === 0 ? int(r, 500, 1500) : int(r, 1, 30);
      const span = int(r, 4, 4 * n);
      const triples: number[] = [];
      for (let k = 0; k < n; k++) {
        const lo = int(r, 0, span);
        triples.push(lo, trial % 7 === 0 ? int(r, 0, span) : lo + int(r, 0, 20), k);
      }
      const m = new AddrDieMap(triples);
      const got = m.low.map((low, i) => [low, m.high[i]!, m.die[i]!]);
      expect(got).toEqual(reference(triples));
    }
  });
});
