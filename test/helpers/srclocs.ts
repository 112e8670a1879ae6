import type { SrcLocSections } from '../../lib/srclocs.js';
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
