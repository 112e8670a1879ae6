import { ArtifactBuilder, FuncKey } from '../../lib/index.js';
import type { SrcLocSections } from '../../lib/srclocs.js';
import { uleb } from './wasm-encoder.js';
import { int, pick, type Rand } from './gen.js';

/**
 * A copy of the tables with one value damaged: `which` 0 or 2 a word of blocks or strings
 * (one of SPECIAL), 1 a byte of frames, else a byte of pieces.
 */
export function damagedSrcLocs(
  clean: SrcLocSections,
  r: Rand,
  which: number,
  special: readonly number[],
): SrcLocSections {
  const s = {
    blocks: clean.blocks.slice(),
    pieces: clean.pieces.slice(),
    frames: clean.frames.slice(),
    strings: clean.strings.slice(),
    stringBytes: clean.stringBytes.slice(),
  };
  const table = [s.blocks, s.frames, s.strings][which % 3]!;
  if (which >= 3 || table.length === 0) s.pieces[int(r, 0, s.pieces.length - 1)] = int(r, 0, 255);
  else if (table instanceof Uint8Array) table[int(r, 0, table.length - 1)] = int(r, 0, 255);
  else table[int(r, 0, table.length - 1)] = pick(r, special) >>> 0;
  return s;
}

/**
 * An artifact whose tables are written by hand (lib/srclocs.ts describes them): one function
 * at [0x10, 0x110); from 0x10 on, the chain of `depth` frames, each named and placed in
 * string 0 (`len` bytes of 'x'), line 1, column 1: the innermost from the piece, the others
 * from the frames table, each frame (5 bytes) the parent of the one after it.
 */
export function deepSrcLocs(depth: number, len: number): Uint8Array {
  const frames = new Uint8Array(5 * (depth - 1));
  for (let k = 0; k < depth - 1; k++) frames.set([0, 0, 1, 1, k === 0 ? 0 : 5], 5 * k);
  // Op: no distance (the block's first piece), then function + 1, file, parent + 1, column, line.
  const parent = depth > 1 ? 5 * (depth - 2) + 1 : 0;
  const pieces = new Uint8Array([8 | 16 | 32 | 64 | 128, 1, 0, ...uleb(parent), 1, 1]);
  const b = new ArtifactBuilder();
  b.addModule({ importedFuncs: 0, definedFuncs: 1 });
  b.pushFunc(FuncKey.definedWasmFunction(0, 0), { start: 0x10, length: 0x100 });
  b.setSrcLocs({
    blocks: new Uint32Array([0x10, 0]),
    pieces,
    frames,
    strings: new Uint32Array([0, len]),
    stringBytes: new Uint8Array(len).fill(0x78),
  });
  return b.finish();
}
