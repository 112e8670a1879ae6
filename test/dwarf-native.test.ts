/**
 * The two readers of the source-location tables, lib/srclocs.ts and native/srclocs.cc (the
 * addon's srcLocLookup), on the encoded tables of every fixture: at every instruction
 * address both give llvm-symbolizer-14's chain (the golden files); on mutated tables both
 * give the same chain or both E_CORRUPT, address by address.
 */
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSrcLocs } from '../lib/dwarf/index.js';
import { encodeSrcLocs, type SrcLocSections } from '../lib/dwarf/encode.js';
import { FunckeyError } from '../lib/errors.js';
import { SrcLocReader, type SrcFrame } from '../lib/srclocs.js';
import { int, pick, rng } from './helpers/gen.js';
import { damagedSrcLocs } from './helpers/srclocs.js';
import { BACKENDS } from './helpers/backends.js';

type Lookup = (
  b: Uint32Array,
  p: Uint8Array,
  f: Uint8Array,
  s: Uint32Array,
  sb: Uint8Array,
  offset: number,
  out: Uint32Array,
) => number;
const addon = BACKENDS.includes('native')
  ? (createRequire(import.meta.url)('node-gyp-build')(join(__dirname, '..')) as { srcLocLookup?: Lookup })
  : undefined;
const native = addon?.srcLocLookup;
// An addon built before native/srclocs.cc existed: rebuild it (node-gyp rebuild). In CI it
// is built fresh, so there a missing srcLocLookup is a failure.
if (process.env.CI === 'true' && BACKENDS.includes('native') && native === undefined)
  throw new Error('the addon has no srcLocLookup');

const dir = join(__dirname, 'fixtures', 'dwarf');
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.wasm'))
  .sort();
const COUNT = process.env.FUNCKEY_HEAVY === '1' ? 400 : 30;
const SPECIAL = [0, 1, 2, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function goldenChains(name: string): [number, string[]][] {
  const out: [number, string[]][] = [];
  let prev: string[] = [];
  for (const line of readFileSync(join(dir, name.replace(/\.wasm$/, '.golden')), 'utf8').split('\n')) {
    if (line === '') continue;
    const [addr, ...frames] = line.split('\t');
    prev = frames.length === 1 && frames[0] === '=' ? prev : frames.filter((f) => f !== '');
    out.push([parseInt(addr!, 16), prev]);
  }
  return out;
}

/** A lookup's outcome as text: the chain, or the error code. */
function outcome(f: () => SrcFrame[]): string {
  try {
    return JSON.stringify(f());
  } catch (e) {
    if (e instanceof FunckeyError || (e instanceof Error && typeof (e as { code?: unknown }).code === 'string'))
      return (e as FunckeyError).code;
    throw e;
  }
}

/** The native lookup, its string indices turned into strings by the js reader's string table. */
function nativeLookup(s: SrcLocSections, offset: number, strings = new SrcLocReader(s)): SrcFrame[] {
  let out = new Uint32Array(4);
  let n = native!(s.blocks, s.pieces, s.frames, s.strings, s.stringBytes, offset, out);
  if (n < 0) {
    out = new Uint32Array(4 * -n);
    n = native!(s.blocks, s.pieces, s.frames, s.strings, s.stringBytes, offset, out);
  }
  const frames: SrcFrame[] = [];
  for (let i = 0; i < n; i++)
    frames.push({
      function: strings.string(out[4 * i]!),
      file: strings.string(out[4 * i + 1]!),
      line: out[4 * i + 2]!,
      column: out[4 * i + 3]!,
    });
  return frames;
}

describe.runIf(native !== undefined)('source-location tables, js and native', () => {
  it.each(fixtures)('%s: both readers give the golden chain at every instruction', (name) => {
    const t = readSrcLocs(new Uint8Array(readFileSync(join(dir, name))))!;
    const s = encodeSrcLocs([{ base: t.codeStart, table: t }]);
    const js = new SrcLocReader(s);
    let diffs = 0;
    for (const [addr, chain] of goldenChains(name)) {
      const a = js.lookup(t.codeStart + addr);
      const n = nativeLookup(s, t.codeStart + addr, js);
      if (JSON.stringify(n) !== JSON.stringify(a)) diffs++;
      if (JSON.stringify(n.map((f) => `${f.function}|${f.file}|${f.line}|${f.column}`)) !== JSON.stringify(chain))
        diffs++;
    }
    expect(diffs).toBe(0);
  });

  it.each(fixtures)(
    `%s: ${COUNT} mutants of its tables, the same answer or E_CORRUPT from both at every address`,
    (name) => {
      const t = readSrcLocs(new Uint8Array(readFileSync(join(dir, name))))!;
      const clean = encodeSrcLocs([{ base: t.codeStart, table: t }]);
      const r = rng(0xabc + name.length);
      let corrupt = 0;
      for (let i = 0; i < COUNT; i++) {
        const s = damagedSrcLocs(clean, r, int(r, 0, 4), SPECIAL);
        const js = new SrcLocReader(s);
        for (let a = 0; a < t.codeSize; a += int(r, 1, 24)) {
          const want = outcome(() => js.lookup(t.codeStart + a));
          expect(outcome(() => nativeLookup(s, t.codeStart + a, js))).toBe(want);
          if (want === 'E_CORRUPT') corrupt++;
        }
      }
      expect(corrupt).toBeGreaterThan(0);
    },
  );
});
