import { FunckeyError } from './errors.js';
import { MAX_SRCLOC_CHAIN, NONE } from './format.js';

/**
 * The source-location tables of an artifact, as bytes (written by lib/dwarf/encode.ts;
 * docs/DWARF.md, "Tables"):
 *
 * - `blocks`: u32 pairs, one per block of pieces: the block's start offset and where its
 *   pieces begin in `pieces` (they end where the next block's begin).
 * - `pieces`: each piece as an op byte (the distance from the piece before in its low 3 bits,
 *   then which registers change: FLAG_*), the distance as ULEB128 when those bits are 0, then
 *   the changed registers: function + 1 (0: no location), file, parent frame + 1 (0: none),
 *   column as ULEB128, the line as an SLEB128 difference.
 * - `frames`: the frames pieces are inlined into, each at its byte offset: function, file,
 *   line, column and the distance back to its parent frame (0: none), ULEB128 each.
 * - `strings`: u32 offsets into `stringBytes` (UTF-8): string i is [strings[i], strings[i + 1]).
 */
export interface SrcLocSections {
  blocks: Uint32Array;
  pieces: Uint8Array;
  frames: Uint8Array;
  strings: Uint32Array;
  stringBytes: Uint8Array;
}

export const BLOCK_WORDS = 2;
export const DELTA_MASK = 7,
  FLAG_FUNCTION = 8,
  FLAG_FILE = 16,
  FLAG_PARENT = 32,
  FLAG_COLUMN = 64,
  FLAG_LINE = 128;

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

/**
 * The strings of source-location tables met so far, by index, each decoded once: in pages of
 * 1,024 slots made when a string of theirs is first met, so that the first lookup of a table
 * of many strings costs no more than the next, and memory only what lookups meet. Both
 * readers keep theirs in one (SrcLocReader, and lib/native.ts's core).
 */
export class StringCache {
  readonly #pages: ((string | undefined)[] | undefined)[] = [];

  get(i: number): string | undefined {
    return this.#pages[i >>> 10]?.[i & 1023];
  }

  /** Keeps `text` as string i (i below 2^32, the table's string count checked by the caller). */
  set(i: number, text: string): void {
    const pages = this.#pages;
    const p = i >>> 10;
    while (pages.length <= p) pages.push(undefined);
    (pages[p] ??= new Array<string | undefined>(1024))[i & 1023] = text;
  }
}

/**
 * Reads source-location tables in place (lib/dwarf/encode.ts writes them): nothing is
 * decoded up front; a lookup finds its block by binary search, decodes at most one block of
 * pieces and follows the frames it is inlined into. Every read is checked against its table,
 * so damaged tables give E_CORRUPT, never a read elsewhere or a loop that does not end.
 */
export class SrcLocReader {
  private readonly blocks: Uint32Array;
  private readonly pieces: Uint8Array;
  private readonly frames: Uint8Array;
  private readonly strings: Uint32Array;
  private readonly stringBytes: Uint8Array;
  private readonly blockCount: number;
  /** Decoded strings by index, filled as lookups meet them. */
  private readonly cache = new StringCache();
  /** Where the last ULEB128 read stopped (no result pair allocated per read). */
  private end = 0;

  constructor(s: SrcLocSections) {
    if (s.blocks.length % BLOCK_WORDS !== 0) corrupt('the blocks are not a whole number of entries');
    this.blocks = s.blocks;
    this.pieces = s.pieces;
    this.frames = s.frames;
    this.strings = s.strings;
    this.stringBytes = s.stringBytes;
    this.blockCount = s.blocks.length / BLOCK_WORDS;
  }

  /** String `i` of the tables (a function name or a file path); E_CORRUPT when there is none. */
  string(i: number): string {
    let text = this.cache.get(i);
    if (text === undefined) {
      const s = this.strings;
      if (!(i + 1 < s.length)) corrupt(`string ${i} of ${Math.max(0, s.length - 1)}`);
      const off = s[i]!,
        end = s[i + 1]!;
      if (!(off <= end && end <= this.stringBytes.length)) corrupt(`string ${i} outside its bytes`);
      text = decoder.decode(this.stringBytes.subarray(off, end));
      this.cache.set(i, text);
    }
    return text;
  }

  /**
   * A ULEB128 of at most 32 bits at `pos` of `p`, before `end`; where it stops in this.end.
   * -1 when it runs past `end`, -2 when it is wider than 32 bits.
   */
  private uleb(p: Uint8Array, pos: number, end: number): number {
    if (pos < end) {
      const b = p[pos]!;
      if (b < 0x80) {
        this.end = pos + 1;
        return b;
      }
    }
    let v = 0,
      mul = 1;
    for (;;) {
      if (pos >= end) return -1;
      const byte = p[pos++]!;
      v += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) break;
      mul *= 128;
      if (mul > 2 ** 28) return -2;
    }
    if (v > 0xffffffff) return -2;
    this.end = pos;
    return v;
  }

  /** An SLEB128 of at most 32 bits, modulo 2^32, as uleb() reads (-1, -2 likewise). */
  private sleb(p: Uint8Array, pos: number, end: number): number {
    let v = 0,
      shift = 0,
      byte = 0;
    do {
      if (pos >= end) return -1;
      if (shift > 28) return -2;
      byte = p[pos++]!;
      v |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    if (shift < 32 && byte & 0x40) v |= -1 << shift;
    this.end = pos;
    return v >>> 0;
  }

  /** The chain at a byte offset of the text, innermost first; [] where there is no location. */
  lookup(offset: number): SrcFrame[] {
    const b = this.blocks;
    // The last block starting at or before the offset.
    let lo = 0,
      hi = this.blockCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[2 * mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return [];
    const block = lo - 1,
      p = this.pieces;
    let pos = b[2 * block + 1]!;
    const end = lo < this.blockCount ? b[2 * lo + 1]! : p.length;
    if (!(pos <= end && end <= p.length)) corrupt(`block ${block}: pieces outside their table`);
    let start = b[2 * block]!,
      fn = NONE,
      file = 0,
      line = 0,
      column = 0,
      parent = NONE,
      v = 0;
    for (let first = true; pos < end; first = false) {
      const op = p[pos++]!;
      let delta = op & DELTA_MASK;
      if (first) {
        if (delta !== 0) corrupt(`block ${block}: its first piece has a distance`);
      } else {
        if (delta === 0) {
          if ((delta = this.uleb(p, pos, end)) < 0) bad(block, delta);
          pos = this.end;
          if (delta === 0) corrupt(`block ${block}: two pieces at one offset`);
        }
        if (start + delta > offset) break;
        start += delta;
      }
      if (op < FLAG_FUNCTION) continue;
      // Each value: one byte below 0x80 read here, a longer one by uleb().
      if (op & FLAG_FUNCTION) {
        if (pos < end && (v = p[pos]!) < 0x80) pos++;
        else if ((v = this.uleb(p, pos, end)) < 0) bad(block, v);
        else pos = this.end;
        fn = v === 0 ? NONE : v - 1;
      }
      if (op & FLAG_FILE) {
        if (pos < end && (file = p[pos]!) < 0x80) pos++;
        else if ((file = this.uleb(p, pos, end)) < 0) bad(block, file);
        else pos = this.end;
      }
      if (op & FLAG_PARENT) {
        if (pos < end && (v = p[pos]!) < 0x80) pos++;
        else if ((v = this.uleb(p, pos, end)) < 0) bad(block, v);
        else pos = this.end;
        parent = v === 0 ? NONE : v - 1;
      }
      if (op & FLAG_COLUMN) {
        if (pos < end && (column = p[pos]!) < 0x80) pos++;
        else if ((column = this.uleb(p, pos, end)) < 0) bad(block, column);
        else pos = this.end;
      }
      if (op & FLAG_LINE) {
        if (pos < end && (v = p[pos]!) < 0x80) {
          pos++;
          line = (line + ((v << 25) >> 25)) >>> 0;
        } else if ((v = this.sleb(p, pos, end)) < 0) bad(block, v);
        else {
          pos = this.end;
          line = (line + v) >>> 0;
        }
      }
    }
    if (fn === NONE) return [];
    const frames: SrcFrame[] = [{ function: this.string(fn), file: this.string(file), line, column }];
    return parent === NONE ? frames : this.outer(frames, parent);
  }

  /** Appends the chain of frames from the one at byte `o` of the frames table outwards. */
  private outer(frames: SrcFrame[], o: number): SrcFrame[] {
    const f = this.frames,
      end = f.length;
    while (o !== NONE) {
      // Each frame's parent lies before it, so the walk ends.
      const fnIndex = this.uleb(f, o, end);
      if (fnIndex < 0) badFrame(o, fnIndex);
      const fileIndex = this.uleb(f, this.end, end);
      if (fileIndex < 0) badFrame(o, fileIndex);
      const line = this.uleb(f, this.end, end);
      if (line < 0) badFrame(o, line);
      const column = this.uleb(f, this.end, end);
      if (column < 0) badFrame(o, column);
      const back = this.uleb(f, this.end, end);
      if (back < 0) badFrame(o, back);
      if (frames.length >= MAX_SRCLOC_CHAIN) corrupt(`frame at ${o}: a chain of more than ${MAX_SRCLOC_CHAIN} frames`);
      frames.push({ function: this.string(fnIndex), file: this.string(fileIndex), line, column });
      if (back > o) corrupt(`frame at ${o}: its parent lies before the table`);
      o = back === 0 ? NONE : o - back;
    }
    return frames;
  }
}

function bad(block: number, why: number): never {
  corrupt(`block ${block}: ${why === -1 ? "a piece past the block's end" : 'a value wider than 32 bits'}`);
}

function badFrame(o: number, why: number): never {
  corrupt(`frame at ${o}: ${why === -1 ? 'past the end of its table' : 'a value wider than 32 bits'}`);
}
