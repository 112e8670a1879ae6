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

/** A byte buffer grown by doubling; the writes after room(k) may take those k bytes unchecked. */
class Bytes {
  buf = new Uint8Array(1024);
  n = 0;
  room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const g = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    g.set(this.buf);
    this.buf = g;
  }
  byte(b: number): void {
    this.buf[this.n++] = b;
  }
  /** At most 8 bytes (a value below 2^53). */
  uleb(v: number): void {
    const buf = this.buf;
    let n = this.n;
    while (v >= 0x80) {
      buf[n++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[n++] = v;
    this.n = n;
  }
  /** At most 5 bytes (a 32-bit value). */
  sleb(v: number): void {
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

/** The most bytes a frame (five ULEB128s) or a piece (an op byte and six values) takes. */
const FRAME_MAX = 5 * 8,
  PIECE_MAX = 1 + 6 * 8;

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
 * Writes the frames of table `t` into `frames`: each row that is some row's parent becomes
 * a frame, in row order (a parent comes before its children, so before them in the table).
 * Returns each row's frame offset, -1 for a row that is no frame.
 */
function writeFrames(t: SrcLocTable, fnIds: Int32Array, fileIds: Int32Array, frames: Bytes): Float64Array {
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
    frames.room(FRAME_MAX);
    frames.uleb(fnIds[t.rowFunction[r]!]!);
    frames.uleb(fileIds[t.rowFile[r]!]!);
    frames.uleb(t.rowLine[r]! >>> 0);
    frames.uleb(t.rowColumn[r]!);
    frames.uleb(p >= 0 ? at - frameAt[p]! : 0);
  }
  return frameAt;
}

/**
 * The pieces and blocks being written, and the registers the last piece left (fn NONE: no
 * location): each piece is encoded against them (docs/DWARF.md, "Tables").
 */
interface PieceState {
  pieces: Bytes;
  blocks: Uint32Array;
  b: number;
  count: number;
  start: number;
  fn: number;
  file: number;
  line: number;
  column: number;
  parent: number;
}

/**
 * Writes the pieces of table `t`, placed at `base`, then one with no location at the end of
 * its code (when it has pieces); every BLOCK-th piece starts a block and resets the
 * registers. The registers are locals here (the loop is the encoder's hot one), kept in `w`
 * between tables.
 */
function writePieces(
  w: PieceState,
  t: SrcLocTable,
  base: number,
  fnIds: Int32Array,
  fileIds: Int32Array,
  frameAt: Float64Array,
): void {
  const { pieces, blocks } = w;
  const { rows, starts, rowParent, rowFunction, rowFile, rowLine, rowColumn } = t;
  let { b, count, start, fn, file, line, column, parent } = w;
  const n = starts.length;
  for (let i = 0; i < n + (n > 0 ? 1 : 0); i++) {
    const r = i < n ? rows[i]! : -1;
    const at = base + (i < n ? starts[i]! : t.codeSize);
    let f = NONE,
      fi = 0,
      l = 0,
      c = 0,
      p = NONE;
    if (r >= 0) {
      const rp = rowParent[r]!;
      f = fnIds[rowFunction[r]!]!;
      fi = fileIds[rowFile[r]!]!;
      l = rowLine[r]! >>> 0;
      c = rowColumn[r]!;
      p = rp >= 0 ? frameAt[rp]! : NONE;
    }
    const first = count % BLOCK === 0;
    let op = 0;
    if (first) {
      blocks[b++] = at;
      blocks[b++] = pieces.n;
      fn = parent = NONE;
      file = line = column = 0;
    } else if (at - start <= DELTA_MASK) op = at - start;
    if (f !== fn) op |= FLAG_FUNCTION;
    if (f !== NONE) {
      if (fi !== file) op |= FLAG_FILE;
      if (p !== parent) op |= FLAG_PARENT;
      if (c !== column) op |= FLAG_COLUMN;
      if (l !== line) op |= FLAG_LINE;
    }
    pieces.room(PIECE_MAX);
    pieces.byte(op);
    if (!first && (op & DELTA_MASK) === 0) pieces.uleb(at - start);
    if (op & FLAG_FUNCTION) pieces.uleb(f === NONE ? 0 : f + 1);
    if (op & FLAG_FILE) pieces.uleb((file = fi));
    if (op & FLAG_PARENT) pieces.uleb((parent = p) === NONE ? 0 : p + 1);
    if (op & FLAG_COLUMN) pieces.uleb((column = c));
    if (op & FLAG_LINE) pieces.sleb((l - line) | 0);
    if ((fn = f) !== NONE) line = l;
    count++;
    start = at;
  }
  Object.assign(w, { b, count, start, fn, file, line, column, parent });
}

/**
 * Encodes the tables of several modules, in ascending `base` order with disjoint code, into
 * one set of sections (docs/DWARF.md, "Tables"). A piece with no location ends each
 * module's code.
 */
export function encodeSrcLocs(modules: PlacedTable[]): SrcLocSections {
  const strings = new Strings();
  const frames = new Bytes();
  let total = 0;
  for (const { table: t } of modules) total += t.starts.length > 0 ? t.starts.length + 1 : 0;
  const w: PieceState = {
    pieces: new Bytes(),
    blocks: new Uint32Array(2 * Math.ceil(total / BLOCK)),
    b: 0,
    count: 0,
    start: 0,
    fn: NONE,
    file: 0,
    line: 0,
    column: 0,
    parent: NONE,
  };
  let lastEnd = -1;
  for (const { base, table: t } of modules) {
    if (base < lastEnd) throw new FunckeyError('E_ORDER', 'source-location tables overlap or are out of order');
    const fnIds = strings.idsOf(t.functions),
      fileIds = strings.idsOf(t.files);
    writePieces(w, t, base, fnIds, fileIds, writeFrames(t, fnIds, fileIds, frames));
    lastEnd = base + t.codeSize;
  }
  if (frames.n > 0xfffffffe) throw new FunckeyError('E_RANGE', 'source-location frames exceed 4 GiB');
  return { blocks: w.blocks, pieces: w.pieces.view(), frames: frames.view(), ...strings.encode() };
}
