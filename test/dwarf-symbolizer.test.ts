/**
 * funckey's DWARF reader against llvm-symbolizer-14 on every instruction of every fixture of
 * test/fixtures/dwarf/ (made by scripts/make-dwarf-fixtures.sh): function, file, line,
 * column and the whole inline chain. The expected chains are the committed .golden files
 * (llvm-symbolizer's output, recorded by the script); where llvm-symbolizer-14 and wabt are
 * installed (always in CI) the golden files are checked against a live run as well.
 */
import { has } from './helpers/wabt.js';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSrcLocs, tableLookup, type SrcLocTable } from '../lib/dwarf/index.js';
import { encodeSrcLocs } from '../lib/dwarf/encode.js';
import { SrcLocReader, type SrcFrame } from '../lib/srclocs.js';
import { buildFromWasm, open } from '../lib/index.js';
import { BACKENDS } from './helpers/backends.js';

const dir = join(__dirname, 'fixtures', 'dwarf');
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.wasm'))
  .sort();

const live = has('llvm-symbolizer-14') && has('wasm-objdump');
if (process.env.CI === 'true' && !live) throw new Error('CI: llvm-symbolizer-14 and wasm-objdump must be installed');

/** A golden file as (address, frames "function|file|line|column", innermost first) pairs. */
function parseGolden(text: string): [number, string[]][] {
  const out: [number, string[]][] = [];
  let prev: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [addr, ...frames] = line.split('\t');
    const chain = frames.length === 1 && frames[0] === '=' ? prev : frames.filter((f) => f !== '');
    out.push([parseInt(addr!, 16), chain]);
    prev = chain;
  }
  return out;
}

const text = (frames: SrcFrame[]) => frames.map((f) => `${f.function}|${f.file}|${f.line}|${f.column}`);

function ours(t: SrcLocTable, address: number): string[] {
  return text(tableLookup(t, address));
}

describe.each(fixtures)('%s', (name) => {
  const bytes = readFileSync(join(dir, name));
  const golden = parseGolden(readFileSync(join(dir, name.replace(/\.wasm$/, '.golden')), 'utf8'));

  it('has a golden answer for a plausible number of instructions, with inline chains', () => {
    // c-trap.wasm is a small module for the traces of test/symbolicate-srclocs.test.ts.
    expect(golden.length).toBeGreaterThan(name === 'c-trap.wasm' ? 30 : 200);
    expect(golden.some(([, c]) => c.length >= 2)).toBe(true);
  });

  it('matches llvm-symbolizer-14 --inlines on every instruction', () => {
    const t = readSrcLocs(bytes)!;
    expect(t).toBeDefined();
    const diffs: string[] = [];
    for (const [addr, chain] of golden) {
      const got = ours(t, addr);
      if (JSON.stringify(got) !== JSON.stringify(chain)) {
        diffs.push(`0x${addr.toString(16)}\n  llvm: ${chain.join('\n        ')}\n  ours: ${got.join('\n        ')}`);
      }
    }
    expect(diffs.slice(0, 5).join('\n'), `${diffs.length} of ${golden.length} addresses differ`).toBe('');
  });

  it('the same from the encoded tables, read in place at offsets of the file', () => {
    const t = readSrcLocs(bytes)!;
    const base = 1000 + t.codeStart; // as if the module sat at 1000 in a component
    const r = new SrcLocReader(encodeSrcLocs([{ base, table: t }]));
    let diffs = 0;
    for (const [addr, chain] of golden)
      if (JSON.stringify(text(r.lookup(base + addr))) !== JSON.stringify(chain)) diffs++;
    expect(diffs).toBe(0);
    // Outside the code: nothing.
    expect([r.lookup(0), r.lookup(base - 1), r.lookup(base + t.codeSize), r.lookup(0xffffffff)]).toEqual([
      [],
      [],
      [],
      [],
    ]);
  });

  it.each(BACKENDS)('the same from the artifact (%s): open(buildFromWasm(module)).srcLocs', (backend) => {
    const codeStart = readSrcLocs(bytes)!.codeStart; // golden addresses count from the code section's payload
    const a = open(buildFromWasm(bytes), { backend });
    let diffs = 0;
    for (const [addr, chain] of golden)
      if (JSON.stringify(text(a.srcLocs(codeStart + addr))) !== JSON.stringify(chain)) diffs++;
    expect(diffs).toBe(0);
    const offs = Uint32Array.from(golden, ([addr]) => codeStart + addr);
    const batch = a.srcLocsByOffsets(offs);
    expect(batch.map(text)).toEqual(golden.map(([, chain]) => chain));
    expect([a.srcLocs(0), a.srcLocs(0xffffffff)]).toEqual([[], []]);
    a.close();
  });

  // A live run takes about half a second: every fixture in CI and heavy runs, one otherwise.
  const liveHere = live && (process.env.CI === 'true' || process.env.FUNCKEY_HEAVY === '1' || name === fixtures[0]);
  it.runIf(liveHere)('golden file is what llvm-symbolizer-14 says today', () => {
    const script = join(__dirname, '..', 'scripts', 'make-dwarf-fixtures.sh');
    const now = execFileSync('bash', [script, '--golden', join(dir, name)], { encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(parseGolden(now)).toEqual(golden);
  });
});
