import { FunckeyError } from './errors.js';
import { NONE } from './format.js';

/**
 * The source-location tables of an artifact, as bytes (written by lib/dwarf/encode.ts;
 * docs/DWARF.md, "Tables"):
 *
 * - `blocks`: per block of up to BLOCK pieces, 8 u32: the first piece's start, the offset of
 *   the block's other pieces in `pieces`, and the first piece's registers: function, file,
 *   line, column, parent frame (NONE: the outermost), and whether it has a location (1, or 0).
 * - `pieces`: each further piece as a flags byte, the ULEB128 distance from the piece before,
 *   then the registers its flags say changed (FLAG_*), each ULEB128, the line SLEB128.
 * - `frames`: the frames pieces are inlined into, 5 u32 each: function, file, line, column,
 *   parent frame (NONE, or a smaller index).
 * - `strings`: (offset, length) u32 pairs into `stringBytes` (UTF-8): functions and files.
 */
export interface SrcLocSections {
  blocks: Uint32Array;
  pieces: Uint8Array;
  frames: Uint32Array;
  strings: Uint32Array;
  stringBytes: Uint8Array;
}

export const BLOCK = 32;
export const BLOCK_WORDS = 8;
export const FRAME_WORDS = 5;
export const FLAG_FUNCTION = 1,
  FLAG_FILE = 2,
  FLAG_PARENT = 4,
  FLAG_COLUMN = 8,
  FLAG_LINE = 16,
  FLAG_NO_LOCATION = 32;

/** One frame of a source location; a chain lists them innermost first. */
export interface SrcFrame {
  function: string;
  file: string;
  line: number;
  column: number;
}

function corrupt(message: string): never {
  throw new FunckeyError('E_CORRUPT', `source locations: ${message}`);
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true }); // as the native reader's strings

/** Where the last uleb() stopped (no result pair allocated per read). */
let ulebEnd = 0;

/** A ULEB128 of at most 32 bits at `pos`, before `end`; E_CORRUPT past it or wider. */
function uleb(p: Uint8Array, pos: number, end: number, block: number): number {
  let v = 0,
    mul = 1;
  for (;;) {
    if (pos >= end) corrupt(`block ${block}: piece past the block's end`);
    const byte = p[pos++]!;
    v += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) break;
    mul *= 128;
    if (mul > 2 ** 28) corrupt(`block ${block}: value wider than 32 bits`);
  }
  if (v > 0xffffffff) corrupt(`block ${block}: value wider than 32 bits`);
  ulebEnd = pos;
  return v;
}

/**
 * Reads source-location tables in place (lib/dwarf/encode.ts describes them): nothing is
 * decoded up front; a lookup finds its block by binary search, decodes at most one block of
 * pieces and follows the frames it is inlined into. Every read is checked against its table,
 * so damaged tables give E_CORRUPT, never a read elsewhere or a loop that does not end.
 */
export class SrcLocReader {
  private readonly s: SrcLocSections;
  private readonly blockCount: number;
  private readonly frameCount: number;
  private readonly stringCount: number;
  private readonly cache: (string | undefined)[] = [];

  constructor(s: SrcLocSections) {
    if (s.blocks.length % BLOCK_WORDS !== 0 || s.frames.length % FRAME_WORDS !== 0 || s.strings.length % 2 !== 0) {
      corrupt('a table is not a whole number of entries');
    }
    this.s = s;
    this.blockCount = s.blocks.length / BLOCK_WORDS;
    this.frameCount = s.frames.length / FRAME_WORDS;
    this.stringCount = s.strings.length / 2;
  }

  /** String `i` of the tables (a function name or a file path); E_CORRUPT when there is none. */
  string(i: number): string {
    if (!(i < this.stringCount)) corrupt(`string ${i} of ${this.stringCount}`);
    let text = this.cache[i];
    if (text === undefined) {
      const off = this.s.strings[2 * i]!,
        len = this.s.strings[2 * i + 1]!;
      if (!(off <= this.s.stringBytes.length && len <= this.s.stringBytes.length - off))
        corrupt(`string ${i} outside its bytes`);
      text = decoder.decode(this.s.stringBytes.subarray(off, off + len));
      this.cache[i] = text;
    }
    return text;
  }

  /** The chain at a byte offset of the text, innermost first; [] where there is no location. */
  lookup(offset: number): SrcFrame[] {
    const b = this.s.blocks;
    // The last block starting at or before the offset.
    let lo = 0,
      hi = this.blockCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid * BLOCK_WORDS]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return [];
    const block = lo - 1,
      k = block * BLOCK_WORDS;
    let start = b[k]!,
      fn = b[k + 2]!,
      file = b[k + 3]!,
      line = b[k + 4]!,
      column = b[k + 5]!,
      parent = b[k + 6]!;
    let loc = b[k + 7] === 1;
    if (b[k + 7]! > 1) corrupt(`block ${block}: location flag ${b[k + 7]}`);
    let pos = b[k + 1]!;
    const end = lo < this.blockCount ? b[lo * BLOCK_WORDS + 1]! : this.s.pieces.length;
    const p = this.s.pieces;
    if (!(pos <= end && end <= p.length)) corrupt(`block ${block}: pieces outside their table`);
    while (pos < end) {
      const flags = p[pos++]!;
      if (flags >= 64 || ((flags & FLAG_NO_LOCATION) !== 0 && flags !== FLAG_NO_LOCATION))
        corrupt(`block ${block}: piece flags 0x${flags.toString(16)}`);
      const delta = uleb(p, pos, end, block);
      pos = ulebEnd;
      if (delta === 0) corrupt(`block ${block}: two pieces at one offset`);
      if (start + delta > offset) break;
      start += delta;
      loc = flags !== FLAG_NO_LOCATION;
      if (flags & FLAG_FUNCTION) ((fn = uleb(p, pos, end, block)), (pos = ulebEnd));
      if (flags & FLAG_FILE) ((file = uleb(p, pos, end, block)), (pos = ulebEnd));
      if (flags & FLAG_PARENT) {
        const v = uleb(p, pos, end, block);
        pos = ulebEnd;
        parent = v === 0 ? NONE : v - 1;
      }
      if (flags & FLAG_COLUMN) ((column = uleb(p, pos, end, block)), (pos = ulebEnd));
      if (flags & FLAG_LINE) {
        let v = 0,
          shift = 0,
          byte = 0;
        do {
          if (pos >= end) corrupt(`block ${block}: piece past the block's end`);
          if (shift > 28) corrupt(`block ${block}: value wider than 32 bits`);
          byte = p[pos++]!;
          v |= (byte & 0x7f) << shift;
          shift += 7;
        } while (byte & 0x80);
        if (shift < 32 && byte & 0x40) v |= -1 << shift;
        line = (line + v) >>> 0;
      }
    }
    if (!loc) return [];
    const frames: SrcFrame[] = [{ function: this.string(fn), file: this.string(file), line, column }];
    const f = this.s.frames;
    for (let limit = NONE; parent !== NONE;) {
      // Each frame's parent comes before it, so the walk ends.
      if (!(parent < this.frameCount && parent < limit)) corrupt(`frame ${parent}: not before the frame inside it`);
      const o = parent * FRAME_WORDS;
      frames.push({ function: this.string(f[o]!), file: this.string(f[o + 1]!), line: f[o + 2]!, column: f[o + 3]! });
      limit = parent;
      parent = f[o + 4]!;
    }
    return frames;
  }
}
