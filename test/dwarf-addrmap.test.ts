/**
 * The address maps of lib/dwarf/addrmap.ts on inputs chosen to hurt. The per-unit map of
 * subroutine DIEs (LLVM's AddrDieMap): a hand-assembled module whose one compile unit has
 * many subprograms in descending address order, each added in front of all the others (an
 * array-insertion map takes quadratic time there: more than a minute at this count, past the
 * test's 30 s). The map from addresses to units (LLVM's DWARFDebugAranges): many compile
 * units that all overlap, where a scan of the covering units for the lowest one at each new
 * piece takes units x pieces steps (hours at this count). The answers are checked at every
 * address against the names the module was written with, and both maps against LLVM's
 * algorithms written plainly on random ranges.
 */
import { describe, expect, it } from 'vitest';
import { readSrcLocs, tableLookup } from '../lib/dwarf/index.js';
import { AddrDieMap, UnitRanges } from '../lib/dwarf/addrmap.js';
import { int, rng } from './helpers/gen.js';
import { buildFromWasm, open } from '../lib/index.js';
import { BACKENDS } from './helpers/backends.js';
import { dwarfModule, u16le as u16, u32le as u32, utf8, type Bytes } from './helpers/wasm-encoder.js';

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
  return dwarfModule(2 * n, abbrev, [...u32(unit.length), ...unit]);
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

/**
 * A module with one function of `2n + 8` nops and DWARF 4 with `n` compile units: unit i
 * covers [i, n + i) and has one subprogram u<i> over the same range.
 */
function overlappingUnits(n: number): Uint8Array {
  const abbrev = [
    ...[1, 0x11, 1, 0x11, 0x01, 0x12, 0x06, 0, 0], // compile_unit: low_pc addr, high_pc data4
    ...[2, 0x2e, 0, 0x11, 0x01, 0x12, 0x06, 0x03, 0x08, 0, 0], // subprogram: the same, name string
    0,
  ];
  const info: Bytes = [];
  for (let i = 0; i < n; i++) {
    const dies = [1, ...u32(i), ...u32(n), 2, ...u32(i), ...u32(n), ...utf8(`u${i}`), 0, 0];
    const unit = [...u16(4), ...u32(0), 4, ...dies];
    info.push(...u32(unit.length), ...unit);
  }
  return dwarfModule(2 * n + 8, abbrev, info);
}

describe('compile units that all overlap', () => {
  const N = 200_000;
  const wasm = overlappingUnits(N);
  // Unit 0 keeps the range it starts until it ends at N; from there each address a is the
  // first of the units still covering it, the one of offset a - N + 1.
  const want = (a: number): string => (a < N ? 'u0' : a < 2 * N - 1 ? `u${a - N + 1}` : '');

  it(`${N} of them: each address answers the subprogram of the unit LLVM picks`, () => {
    const t = readSrcLocs(wasm)!;
    expect(t).toBeDefined();
    let wrong = 0;
    for (let a = 0; a < 2 * N + 8; a++) {
      const got = tableLookup(t, a).map((f) => `${f.function}|${f.file}|${f.line}|${f.column}`);
      const w = want(a);
      if (JSON.stringify(got) !== JSON.stringify(w === '' ? [] : [`${w}||0|0`])) wrong++;
    }
    expect(wrong).toBe(0);
  }, 30_000);

  it.each(BACKENDS)(
    'the same through the artifact, backend %s (a sample)',
    (backend) => {
      const a = open(buildFromWasm(wasm), { backend });
      const codeStart = readSrcLocs(wasm)!.codeStart;
      for (const at of [0, 1, N - 1, N, N + 1, N + 777, 2 * N - 2, 2 * N - 1, 2 * N + 7]) {
        const w = want(at);
        expect(a.srcLocs(codeStart + at)).toEqual(w === '' ? [] : [{ function: w, file: '', line: 0, column: 0 }]);
      }
      a.close();
    },
    30_000,
  );
});

/**
 * LLVM's DWARFDebugAranges::construct written out plainly: the ends of every range sorted by
 * address (ties in the order given), a multiset of the covering units' offsets as an array,
 * and a new piece for the lowest one unless the last piece's unit still covers.
 */
function unitReference(units: { offset: number; index: number; pairs: number[] }[]): number[][] {
  const ends: { at: number; start: boolean; offset: number; index: number }[] = [];
  for (const u of units)
    for (let i = 0; i + 1 < u.pairs.length; i += 2)
      if (u.pairs[i]! < u.pairs[i + 1]!) {
        ends.push({ at: u.pairs[i]!, start: true, offset: u.offset, index: u.index });
        ends.push({ at: u.pairs[i + 1]!, start: false, offset: u.offset, index: u.index });
      }
  ends.sort((x, y) => x.at - y.at); // stable
  const out: number[][] = [];
  const valid: { offset: number; index: number }[] = [];
  let prev = -1;
  for (const e of ends) {
    if (prev >= 0 && prev < e.at && valid.length > 0) {
      const last = out[out.length - 1];
      const lowest = valid.reduce((m, v) => (v.offset < m.offset ? v : m));
      if (last !== undefined && last[1] === prev && valid.some((v) => v.offset === last[3])) last[1] = e.at;
      else out.push([prev, e.at, lowest.index, lowest.offset]);
    }
    if (e.start) valid.push({ offset: e.offset, index: e.index });
    else {
      const i = valid.findIndex((v) => v.offset === e.offset);
      if (i >= 0) valid.splice(i, 1);
    }
    prev = e.at;
  }
  return out.map(([lo, hi, index]) => [lo!, hi!, index!]);
}

describe("the unit map against LLVM's algorithm", () => {
  it('random units of random, overlapping ranges', () => {
    const r = rng(0x0417);
    for (let trial = 0; trial < 300; trial++) {
      const n = int(r, 1, trial % 5 === 0 ? 200 : 12);
      const span = int(r, 2, 8 * n);
      // Distinct offsets (as units have), in any order against the indices.
      const offsets = Array.from({ length: n }, (_, k) => 11 * k);
      for (let k = n - 1; k > 0; k--) {
        const j = int(r, 0, k);
        [offsets[k], offsets[j]] = [offsets[j]!, offsets[k]!];
      }
      const units = Array.from({ length: n }, (_, index) => {
        const pairs: number[] = [];
        for (let k = int(r, 0, 4); k > 0; k--) {
          const lo = int(r, 0, span);
          pairs.push(lo, trial % 4 === 0 ? int(r, 0, span) : lo + int(r, 0, span));
        }
        return { offset: offsets[index]!, index, pairs };
      });
      const m = new UnitRanges(units);
      const got = m.low.map((low, i) => [low, m.high[i]!, m.unit[i]!]);
      expect(got).toEqual(unitReference(units));
    }
  });
});
