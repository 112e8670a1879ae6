/**
 * The builder and DWARF: each core module's source locations, placed at the module's code
 * section in the outer binary (wasm-objdump -h gives where that is), for plain modules and
 * for modules inside components; nothing for modules without DWARF; damaged DWARF leaves the
 * module without source locations, with a warning, or fails with E_DWARF when strict, and
 * the rest of the artifact is what it would have been without DWARF.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builderFromWasm } from '../lib/build.js';
import { tableLookup } from '../lib/dwarf/index.js';
import { codeOf } from './helpers/codes.js';
import { describeWabt, run } from './helpers/wabt.js';
import { encodeComponent, type Encoded } from './helpers/wasm-encoder.js';

const dir = join(__dirname, 'fixtures', 'dwarf');
const fixture = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
const DEMO = new Uint8Array(readFileSync(join(__dirname, '..', 'samples', 'demo.wasm')));

/** The code section's payload offset, from wasm-objdump -h. */
function codeStart(name: string): number {
  const m = /Code start=0x([0-9a-f]+)/.exec(run('wasm-objdump', ['-h', join(dir, name)]));
  return parseInt(m![1]!, 16);
}

/** The first `.debug_info` unit's length field (offset in the module): 0xffffffff makes it reserved. */
function damaged(bytes: Uint8Array): Uint8Array {
  const name = new TextEncoder().encode('.debug_info');
  const at = bytes.findIndex((_, i) => name.every((b, k) => bytes[i + k] === b));
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(at + name.length, 0xfffffff3, true);
  return out;
}

describeWabt('builder with DWARF', () => {
  it('a module: its source locations start at the code section wasm-objdump reports', () => {
    const b = builderFromWasm(fixture('c-O2-dwarf5.wasm'));
    expect(b.warnings).toEqual([]);
    expect(b.srcLocs.map((s) => s.module)).toEqual([0]);
    expect(b.srcLocs[0]!.base).toBe(codeStart('c-O2-dwarf5.wasm'));
    // Golden: address 0x9d of this fixture is mix, inlined into bump, inlined into step.
    expect(tableLookup(b.srcLocs[0]!.table, 0x9d).map((f) => f.function)).toEqual(['mix', 'bump', 'step']);
  });

  it('modules inside a component: each one placed at its own code section in the outer binary', () => {
    const core = (name: string): Encoded =>
      ({ bytes: Array.from(fixture(name)), bodies: [], sections: [] }) as unknown as Encoded;
    const c = encodeComponent([
      { core: core('c-O0-dwarf4.wasm') },
      { nested: encodeComponent([{ core: core('rust-O2.wasm') }]) },
    ]);
    const b = builderFromWasm(Uint8Array.from(c.bytes));
    expect(b.warnings).toEqual([]);
    expect(b.srcLocs.map((s) => s.module)).toEqual([0, 1]);
    expect(b.srcLocs[0]!.base).toBe(c.modules[0]!.offset + codeStart('c-O0-dwarf4.wasm'));
    expect(b.srcLocs[1]!.base).toBe(c.modules[1]!.offset + codeStart('rust-O2.wasm'));
  });

  it('a module without DWARF: no source locations, no warning, the same artifact', () => {
    const b = builderFromWasm(DEMO);
    expect([b.srcLocs, b.warnings]).toEqual([[], []]);
    expect(b.builder.finish()).toEqual(builderFromWasm(DEMO, { dwarf: false }).builder.finish());
  });

  it('damaged DWARF: a warning naming .debug_info, or E_DWARF when strict; the rest intact', () => {
    const bad = damaged(fixture('cpp-O2-dwarf4.wasm'));
    const b = builderFromWasm(bad);
    expect(b.srcLocs).toEqual([]);
    expect(b.warnings.length).toBe(1);
    expect(b.warnings[0]).toMatch(/^module 0: no source locations: \.debug_info at byte 0 /);
    expect(b.builder.finish()).toEqual(builderFromWasm(bad, { dwarf: false }).builder.finish());
    expect(codeOf(() => builderFromWasm(bad, { dwarf: 'strict' }))).toBe('E_DWARF');
    expect(codeOf(() => builderFromWasm(fixture('cpp-O2-dwarf4.wasm'), { dwarf: 'strict' }))).toBe('ok');
  });
});

describe('builder options.dwarf', () => {
  it('takes a boolean or "strict", anything else is E_ARG', () => {
    for (const dwarf of ['yes', 1, null]) expect(codeOf(() => builderFromWasm(DEMO, { dwarf } as never))).toBe('E_ARG');
    expect(builderFromWasm(fixture('rust-O0.wasm'), { dwarf: false }).srcLocs).toEqual([]);
  });
});
