/**
 * The depth of inlining (FORMAT.md 3.5, MAX_SRCLOC_CHAIN): a chain has at most 1,024 frames.
 * The builder refuses DWARF nested deeper (a warning and no source locations, E_DWARF when
 * strict: the names and functions are built as without it), and both readers refuse a table
 * whose chain is longer (E_CORRUPT), so that a lookup reads a bounded number of frames
 * whatever the artifact holds. The module is assembled by hand: one function whose
 * subprogram holds `depth - 1` inlined subroutines, each inside the one before, all over the
 * whole code; the chain anywhere in it is the innermost first, down to the subprogram.
 */
import { describe, expect, it } from 'vitest';
import { ArtifactBuilder, builderFromWasm, FuncKey, open } from '../lib/index.js';
import { BACKENDS } from './helpers/backends.js';
import { codeOf } from './helpers/codes.js';
import { deepSrcLocs } from './helpers/srclocs.js';
import { dwarfModule, u16le as u16, u32le as u32, utf8, type Bytes } from './helpers/wasm-encoder.js';

const CODE = 16;

/** The module of the file's comment: frames named f (the subprogram), i1, i2, ... inwards. */
function nested(depth: number): Uint8Array {
  const [CU, SUB, INL] = [0x11, 0x2e, 0x1d];
  const [NAME, LOW, HIGH] = [0x03, 0x11, 0x12];
  const [ADDR, DATA4, STRING] = [0x01, 0x06, 0x08];
  const abbrev = [
    ...[1, CU, 1, LOW, ADDR, HIGH, DATA4, 0, 0],
    ...[2, SUB, 1, LOW, ADDR, HIGH, DATA4, NAME, STRING, 0, 0],
    ...[3, INL, 1, LOW, ADDR, HIGH, DATA4, NAME, STRING, 0, 0],
    0,
  ];
  const dies: Bytes = [1, ...u32(0), ...u32(CODE), 2, ...u32(0), ...u32(CODE), ...utf8('f'), 0];
  for (let k = 1; k < depth; k++) dies.push(3, ...u32(0), ...u32(CODE), ...utf8(`i${k}`), 0);
  // Each DIE has children: one terminator for each inlined subroutine, the subprogram, the unit.
  for (let k = 0; k < depth + 1; k++) dies.push(0);
  const unit = [...u16(4), ...u32(0), 4, ...dies];
  return dwarfModule(CODE - 3, abbrev, [...u32(unit.length), ...unit]);
}

/** Where the code section's payload starts in `wasm` (DWARF address 0). */
function codeStart(wasm: Uint8Array): number {
  const b = builderFromWasm(wasm);
  return b.srcLocs[0]!.base;
}

describe('inlining 1,024 frames deep, and one more', () => {
  it.each(BACKENDS)('1,024 frames: the whole chain, innermost first (%s)', (backend) => {
    const wasm = nested(1024);
    const a = open(builderFromWasm(wasm).builder.finish(), { backend });
    const chain = a.srcLocs(codeStart(wasm) + 4);
    expect(chain).toHaveLength(1024);
    expect(chain[0]!.function).toBe('i1023');
    expect(chain[1]!.function).toBe('i1022');
    expect(chain[1023]!.function).toBe('f');
  });

  it('1,025 frames: a warning that says where, no source locations, the functions and names kept', () => {
    const wasm = nested(1025);
    const b = builderFromWasm(wasm);
    expect(b.srcLocs).toEqual([]);
    expect(b.warnings).toHaveLength(1);
    expect(b.warnings[0]).toMatch(/\.debug_info at byte \d+ .*inlined more than 1024 frames deep/);
    const a = open(b.builder.finish());
    expect(a.describe().funcCount).toBe(1);
    expect(a.funcName(0)).toBeUndefined();
    expect(a.srcLocs(a.funcLoc(FuncKey.definedWasmFunction(0, 0))!.start)).toEqual([]);
  });

  it("1,025 frames with dwarf: 'strict': E_DWARF", () => {
    expect(codeOf(() => builderFromWasm(nested(1025), { dwarf: 'strict' }))).toBe('E_DWARF');
  });
});

describe.each(BACKENDS)('a table whose chain is longer than 1,024 frames (%s)', (backend) => {
  it('1,024 frames answer; 1,025 are E_CORRUPT, one offset and in a batch', () => {
    expect(open(deepSrcLocs(1024, 1), { backend }).srcLocs(0x20)).toHaveLength(1024);
    const a = open(deepSrcLocs(1025, 1), { backend });
    expect(codeOf(() => a.srcLocs(0x20))).toBe('E_CORRUPT');
    expect(codeOf(() => a.srcLocsByOffsets(Uint32Array.of(0x20)))).toBe('E_CORRUPT');
    expect(a.srcLocs(0x8)).toEqual([]);
  });
});
