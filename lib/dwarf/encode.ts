import { FunckeyError } from '../errors.js';
import { NONE } from '../format.js';
import type { SrcLocTable } from './index.js';
import {
  DELTA_MASK,
  FLAG_COLUMN,
  FLAG_FILE,
  FLAG_FUNCTION,
  FLAG_LINE,
  FLAG_PARENT,
  type SrcLocSections,
} from '../srclocs.js';

export { BLOCK_WORDS, type SrcLocSections } from '../srclocs.js';

/** Pieces per block: a lookup decodes at most this many. */
export const BLOCK = 16;

class Bytes {
  buf = new Uint8Array(1024);
  n = 0;
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const g = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    g.set(this.buf);
    this.buf = g;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.n++] = b;
  }
  uleb(v: number): void {
    this.room(5);
    const buf = this.buf;
    let n = this.n;
    while (v >= 0x80) {
      buf[n++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[n++] = v;
    this.n = n;
  }
  sleb(v: number): void {
    this.room(5);
    for (;;) {
      const low = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (low & 0x40) === 0) || (v === -1 && (low & 0x40) !== 0);
      this.buf[this.n++] = done ? low : low | 0x80;
      if (done) return;
    }
  }
  view(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}

/** One module's table, placed: `base` is where its DWARF address 0 is in the text. */
export interface PlacedTable {
  base: number;
  table: SrcLocTable;
}

/** The string table: each string once, by index. */
class Strings {
  readonly list: string[] = [];
  private readonly ids = new Map<string, number>();
  /** The ids of a list of strings. */
  idsOf(xs: string[]): Int32Array {
    const out = new Int32Array(xs.length);
    for (let i = 0; i < xs.length; i++) {
      const s = xs[i]!;
      let id = this.ids.get(s);
      if (id === undefined) this.ids.set(s, (id = this.list.push(s) - 1));
      out[i] = id;
    }
    return out;
  }
  encode(): { strings: Uint32Array; stringBytes: Uint8Array } {
    const enc = new TextEncoder();
    let bytes = new Uint8Array(1024),
      n = 0;
    const strings = new Uint32Array(this.list.length + 1);
    for (let i = 0; i < this.list.length; i++) {
      const s = this.list[i]!;
      if (n + 3 * s.length > bytes.length) {
        const g = new Uint8Array(Math.max(2 * bytes.length, n + 3 * s.length));
        g.set(bytes.subarray(0, n));
        bytes = g;
      }
      n += enc.encodeInto(s, bytes.subarray(n)).written;
      strings[i + 1] = n;
    }
    return { strings: this.list.length > 0 ? strings : new Uint32Array(0), stringBytes: bytes.slice(0, n) };
  }
}

/**
 * Encodes the tables of several modules, in ascending `base` order with disjoint code, into
 * one set of sections (docs/DWARF.md, "Tables"). A piece with no location ends each
 * module's code.
 */
export function encodeSrcLocs(modules: PlacedTable[]): SrcLocSections {
  const strings = new Strings();
  const frames = new Bytes();
  const blocks: number[] = [];
  const pieces = new Bytes();
  let count = 0,
    lastEnd = -1;
  // The registers after the piece before (fn NONE: no location).
  let start = 0,
    fn = NONE,
    file = 0,
    line = 0,
    column = 0,
    parent = NONE;
  const piece = (at: number, f: number, fi: number, l: number, c: number, p: number): void => {
    l >>>= 0;
    let op = 0;
    if (count % BLOCK === 0) {
      blocks.push(at, pieces.n);
      [fn, file, line, column, parent] = [NONE, 0, 0, 0, NONE];
    } else if (at - start <= DELTA_MASK) op = at - start;
    if (f !== fn) op |= FLAG_FUNCTION;
    if (f !== NONE) {
      if (fi !== file) op |= FLAG_FILE;
      if (p !== parent) op |= FLAG_PARENT;
      if (c !== column) op |= FLAG_COLUMN;
      if (l !== line) op |= FLAG_LINE;
    }
    pieces.byte(op);
    if (count % BLOCK !== 0 && (op & DELTA_MASK) === 0) pieces.uleb(at - start);
    if (op & FLAG_FUNCTION) pieces.uleb(f === NONE ? 0 : f + 1);
    if (op & FLAG_FILE) pieces.uleb((file = fi));
    if (op & FLAG_PARENT) pieces.uleb((parent = p) === NONE ? 0 : p + 1);
    if (op & FLAG_COLUMN) pieces.uleb((column = c));
    if (op & FLAG_LINE) pieces.sleb((l - line) | 0);
    if ((fn = f) !== NONE) line = l;
    count++;
    start = at;
  };
  for (const { base, table: t } of modules) {
    if (base < lastEnd) throw new FunckeyError('E_ORDER', 'source-location tables overlap or are out of order');
    const fnIds = strings.idsOf(t.functions),
      fileIds = strings.idsOf(t.files);
    // Each row that is some row's parent becomes a frame, at its byte offset in the frames
    // table, in row order (a parent comes before its children, so before them in the table).
    const rows = t.rowLine.length;
    const frameAt = new Float64Array(rows).fill(-1);
    for (let r = 0; r < rows; r++) {
      const p = t.rowParent[r]!;
      if (p >= 0) frameAt[p] = -2;
    }
    for (let r = 0; r < rows; r++) {
      if (frameAt[r] !== -2) continue;
      const p = t.rowParent[r]!,
        at = frames.n;
      frameAt[r] = at;
      frames.uleb(fnIds[t.rowFunction[r]!]!);
      frames.uleb(fileIds[t.rowFile[r]!]!);
      frames.uleb(t.rowLine[r]! >>> 0);
      frames.uleb(t.rowColumn[r]!);
      frames.uleb(p >= 0 ? at - frameAt[p]! : 0);
    }
    for (let i = 0; i < t.starts.length; i++) {
      const r = t.rows[i]!;
      const at = base + t.starts[i]!;
      if (r < 0) piece(at, NONE, 0, 0, 0, NONE);
      else {
        const p = t.rowParent[r]!;
        piece(
          at,
          fnIds[t.rowFunction[r]!]!,
          fileIds[t.rowFile[r]!]!,
          t.rowLine[r]!,
          t.rowColumn[r]!,
          p >= 0 ? frameAt[p]! : NONE,
        );
      }
    }
    lastEnd = base + t.codeSize;
    if (t.starts.length > 0) piece(lastEnd, NONE, 0, 0, 0, NONE);
  }
  if (frames.n > 0xfffffffe) throw new FunckeyError('E_RANGE', 'source-location frames exceed 4 GiB');
  return { blocks: Uint32Array.from(blocks), pieces: pieces.view(), frames: frames.view(), ...strings.encode() };
}
