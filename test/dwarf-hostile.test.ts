/**
 * Damaged DWARF: the fixtures of test/fixtures/dwarf/ with their .debug_* sections mutated
 * (the module around them intact). The reader must return a well-formed table or throw
 * E_DWARF, never anything else, and what it returns stays within bounds set by the input.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FunckeyError } from '../lib/errors.js';
import { readSrcLocs, type SrcLocTable } from '../lib/dwarf/index.js';
import { findDebugSections } from '../lib/dwarf/sections.js';
import { encodeSrcLocs } from '../lib/dwarf/encode.js';
import { SrcLocReader } from '../lib/srclocs.js';
import { int, pick, rng, type Rand } from './helpers/gen.js';
import { damagedSrcLocs } from './helpers/srclocs.js';

const dir = join(__dirname, 'fixtures', 'dwarf');
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.wasm'))
  .sort();
const COUNT = process.env.FUNCKEY_HEAVY === '1' ? 1500 : 100;
const SPECIAL = [0, 1, 2, 4, 5, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffffe, 0xffffffff];

/** The [start, end) of every .debug_* payload of a module. */
function debugSpans(bytes: Uint8Array): [number, number][] {
  const d = findDebugSections(bytes)!;
  return Object.values(d.sections).map((v) => [
    v!.byteOffset - bytes.byteOffset,
    v!.byteOffset - bytes.byteOffset + v!.length,
  ]);
}

function mutate(src: Uint8Array, spans: [number, number][], r: Rand): Uint8Array {
  const b = src.slice();
  const n = int(r, 1, 3);
  for (let k = 0; k < n; k++) {
    const [s, e] = pick(r, spans);
    if (e - s < 8) continue;
    const at = int(r, s, e - 5);
    switch (int(r, 0, 3)) {
      case 0:
        b[at]! ^= 1 << int(r, 0, 7);
        break;
      case 1:
        b[at] = int(r, 0, 255);
        break;
      case 2:
        new DataView(b.buffer).setUint32(at, pick(r, SPECIAL) >>> 0, true);
        break;
      default:
        b.fill(pick(r, [0, 0xff, 0x80]), at, Math.min(e, at + int(r, 1, 32)));
    }
  }
  return b;
}

/** What is wrong with a table, or '' (plain checks: expect() per element is slow). */
function checkTable(t: SrcLocTable, inputSize: number): string {
  const rows = t.rowLine.length;
  if (t.starts.length !== t.rows.length) return 'starts and rows differ in length';
  for (let i = 0; i < t.starts.length; i++) {
    if (!(t.starts[i]! >= 0 && t.starts[i]! < t.codeSize)) return `start ${i} outside the code`;
    if (i > 0 && !(t.starts[i]! > t.starts[i - 1]!)) return `start ${i} out of order`;
    if (!(t.rows[i]! >= -1 && t.rows[i]! < rows)) return `piece ${i} has no row`;
  }
  for (let r = 0; r < rows; r++) {
    // A row's parent was made before it: every chain ends.
    if (!(t.rowParent[r]! >= -1 && t.rowParent[r]! < r)) return `row ${r}'s parent`;
    if (!(t.rowFunction[r]! < t.functions.length && t.rowFile[r]! < t.files.length)) return `row ${r}'s strings`;
  }
  if (t.starts.length + rows > 4 * inputSize) return 'more rows than the input can describe';
  return '';
}

describe.each(fixtures)('%s', (name) => {
  it(`${COUNT} mutants of its .debug_* sections: a table within bounds, or E_DWARF`, () => {
    const src = new Uint8Array(readFileSync(join(dir, name)));
    const spans = debugSpans(src);
    const r = rng(0xd3a4f + name.length * 7919 + name.charCodeAt(0));
    const codes = new Map<string, number>();
    for (let i = 0; i < COUNT; i++) {
      const m = mutate(src, spans, r);
      let outcome = 'ok';
      try {
        const t = readSrcLocs(m);
        if (t !== undefined) expect(checkTable(t, m.length)).toBe('');
      } catch (e) {
        if (!(e instanceof FunckeyError)) throw e;
        expect(e.code).toBe('E_DWARF');
        outcome = e.code;
      }
      codes.set(outcome, (codes.get(outcome) ?? 0) + 1);
    }
    if (process.env.DWARF_HOSTILE_LOG) console.log(name, Object.fromEntries(codes));
    // Both outcomes occur: the mutations reach what the reader checks.
    expect(codes.get('E_DWARF') ?? 0).toBeGreaterThan(0);
  });
});

describe('damaged source-location tables, read in place', () => {
  it(`${COUNT * 5} mutants of the encoded tables of every fixture: an answer or E_CORRUPT at every address`, () => {
    const r = rng(0x5eed);
    let corrupt = 0;
    for (const name of fixtures) {
      const t = readSrcLocs(new Uint8Array(readFileSync(join(dir, name))))!;
      const clean = encodeSrcLocs([{ base: t.codeStart, table: t }]);
      for (let i = 0; i < COUNT / 2; i++) {
        const s = damagedSrcLocs(clean, r, int(r, 0, 3), SPECIAL);
        const reader = new SrcLocReader(s);
        for (let a = 0; a < t.codeSize; a += int(r, 1, 40)) {
          try {
            const frames = reader.lookup(t.codeStart + a);
            expect(frames.length).toBeLessThanOrEqual(s.frames.length / 5 + 1);
          } catch (e) {
            if (!(e instanceof FunckeyError)) throw e;
            expect(e.code).toBe('E_CORRUPT');
            corrupt++;
          }
        }
      }
    }
    expect(corrupt).toBeGreaterThan(0);
  });
});
