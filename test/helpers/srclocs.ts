import type { SrcLocSections } from '../../lib/srclocs.js';
import { int, pick, type Rand } from './gen.js';

/** A copy of the tables with one value damaged: `which` 0-2 a word of blocks, frames or strings (one of SPECIAL), else a byte of pieces. */
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
  const words = [s.blocks, s.frames, s.strings][which % 3]!;
  if (which >= 3 || words.length === 0) s.pieces[int(r, 0, s.pieces.length - 1)] = int(r, 0, 255);
  else words[int(r, 0, words.length - 1)] = pick(r, special) >>> 0;
  return s;
}
