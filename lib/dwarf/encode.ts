import { FunckeyError } from '../errors.js';
import { NONE } from '../format.js';
import type { SrcLocTable } from './index.js';
import {
  BLOCK,
  BLOCK_WORDS,
  FLAG_COLUMN,
  FLAG_FILE,
  FLAG_FUNCTION,
  FLAG_LINE,
  FLAG_NO_LOCATION,
  FLAG_PARENT,
  FRAME_WORDS,
  type SrcLocSections,
} from '../srclocs.js';

export { BLOCK, BLOCK_WORDS, FRAME_WORDS, type SrcLocSections } from '../srclocs.js';

class Bytes {
  buf = new Uint8Array(1024);
  n = 0;
  byte(b: number): void {
    if (this.n === this.buf.length) {
      const g = new Uint8Array(this.buf.length * 2);
      g.set(this.buf);
      this.buf = g;
    }
    this.buf[this.n++] = b;
  }
  uleb(v: number): void {
    do {
      const low = v % 128;
      v = Math.floor(v / 128);
      this.byte(v > 0 ? low | 0x80 : low);
    } while (v > 0);
  }
  sleb(v: number): void {
    for (;;) {
      const low = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (low & 0x40) === 0) || (v === -1 && (low & 0x40) !== 0);
      this.byte(done ? low : low | 0x80);
      if (done) return;
    }
  }
}

/** One module's table, placed: `base` is where its DWARF address 0 is in the text. */
export interface PlacedTable {
  base: number;
  table: SrcLocTable;
}

/**
 * Encodes the tables of several modules, in ascending `base` order with disjoint code, into
 * one set of sections. A piece with no location ends each module's code.
 */
export function encodeSrcLocs(modules: PlacedTable[]): SrcLocSections {
  const strings: string[] = [];
  const stringIds = new Map<string, number>();
  const sid = (s: string): number => {
    let i = stringIds.get(s);
    if (i === undefined) stringIds.set(s, (i = strings.push(s) - 1));
    return i;
  };
  const frames: number[] = [];
  const blocks: number[] = [];
  const pieces = new Bytes();
  let count = 0,
    lastEnd = -1;
  // The registers of the piece before.
  let start = 0,
    fn = 0,
    file = 0,
    line = 0,
    column = 0,
    parent = NONE;
  const piece = (at: number, loc: boolean, f: number, fi: number, l: number, c: number, p: number): void => {
    l >>>= 0;
    if (count % BLOCK === 0) {
      // A block starts afresh: its header holds the registers, changed by this piece if it
      // has a location (a piece without one leaves them for the pieces after it).
      if (loc) [fn, file, line, column, parent] = [f, fi, l, c, p];
      blocks.push(at, pieces.n, fn, file, line, column, parent, loc ? 1 : 0);
    } else {
      let flags = 0;
      if (!loc) flags = FLAG_NO_LOCATION;
      else {
        if (f !== fn) flags |= FLAG_FUNCTION;
        if (fi !== file) flags |= FLAG_FILE;
        if (p !== parent) flags |= FLAG_PARENT;
        if (c !== column) flags |= FLAG_COLUMN;
        if (l !== line) flags |= FLAG_LINE;
      }
      pieces.byte(flags);
      pieces.uleb(at - start);
      if (flags & FLAG_FUNCTION) pieces.uleb(f);
      if (flags & FLAG_FILE) pieces.uleb(fi);
      if (flags & FLAG_PARENT) pieces.uleb(p === NONE ? 0 : p + 1);
      if (flags & FLAG_COLUMN) pieces.uleb(c);
      if (flags & FLAG_LINE) pieces.sleb((l - line) | 0);
      if (loc) [fn, file, line, column, parent] = [f, fi, l, c, p];
    }
    count++;
    start = at;
  };
  for (const { base, table: t } of modules) {
    if (base < lastEnd) throw new FunckeyError('E_ORDER', 'source-location tables overlap or are out of order');
    // Each row that is some row's parent becomes a frame, numbered in row order (a parent
    // comes before its children, so a frame's parent has a smaller index).
    const frameOf = new Int32Array(t.rowLine.length).fill(-1);
    for (let r = 0; r < t.rowLine.length; r++) {
      const p = t.rowParent[r]!;
      if (p >= 0 && frameOf[p] === -1) frameOf[p] = -2;
    }
    for (let r = 0; r < t.rowLine.length; r++) {
      if (frameOf[r] !== -2) continue;
      const p = t.rowParent[r]!;
      frameOf[r] = frames.length / FRAME_WORDS;
      frames.push(
        sid(t.functions[t.rowFunction[r]!]!),
        sid(t.files[t.rowFile[r]!]!),
        t.rowLine[r]! >>> 0,
        t.rowColumn[r]!,
        p >= 0 ? frameOf[p]! : NONE,
      );
    }
    for (let i = 0; i < t.starts.length; i++) {
      const r = t.rows[i]!;
      const at = base + t.starts[i]!;
      if (r < 0) piece(at, false, 0, 0, 0, 0, NONE);
      else {
        const p = t.rowParent[r]!;
        piece(
          at,
          true,
          sid(t.functions[t.rowFunction[r]!]!),
          sid(t.files[t.rowFile[r]!]!),
          t.rowLine[r]!,
          t.rowColumn[r]!,
          p >= 0 ? frameOf[p]! : NONE,
        );
      }
    }
    lastEnd = base + t.codeSize;
    if (t.starts.length > 0) piece(lastEnd, false, 0, 0, 0, 0, NONE);
  }
  const enc = new TextEncoder();
  const encoded = strings.map((s) => enc.encode(s));
  const stringBytes = new Uint8Array(encoded.reduce((n, b) => n + b.length, 0));
  const refs = new Uint32Array(2 * strings.length);
  let o = 0;
  encoded.forEach((b, i) => {
    stringBytes.set(b, o);
    refs[2 * i] = o;
    refs[2 * i + 1] = b.length;
    o += b.length;
  });
  return {
    blocks: Uint32Array.from(blocks),
    pieces: pieces.buf.slice(0, pieces.n),
    frames: Uint32Array.from(frames),
    strings: refs,
    stringBytes,
  };
}
