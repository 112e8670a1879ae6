import { Cursor, cstrAt } from './cursor.js';
import { Kind, kind, readForm, type FormContext } from './forms.js';
import { readAddr } from './ranges.js';
import type { DebugSections } from './sections.js';

/** A file entry of a line table's header: its name and directory as DWARF gives them. */
interface FileEntry {
  name: string;
  dir: number;
}

/**
 * One line table of .debug_line: its rows (address, file, line, column) and its sequences
 * (runs of rows ending at an end_sequence row, [low, high) with low < high), sorted by high
 * address as LLVM sorts them.
 */
export interface LineTable {
  version: number;
  dirs: string[];
  files: FileEntry[];
  addr: Float64Array;
  file: Uint16Array;
  line: Uint32Array;
  column: Uint16Array;
  /** Per sequence: low and high address, first row and one past its end_sequence row. */
  seqLow: number[];
  seqHigh: number[];
  seqFirst: number[];
  seqEnd: number[];
  /** Per file index: its path's string id, -1 for none, -2 not yet known (filled by the Symbolizer). */
  fileIds: Int32Array | undefined;
}

const LNCT_PATH = 1,
  LNCT_DIRECTORY_INDEX = 2;

function stringForm(s: DebugSections, c: Cursor, form: number, fc: FormContext): string {
  const v = readForm(c, form, 0, fc);
  if (kind === Kind.StrInfo) return cstrAt('.debug_line', c.bytes, v);
  if (kind === Kind.LineStrp) return cstrAt('.debug_line_str', s.lineStr ?? new Uint8Array(0), v);
  if (kind === Kind.Strp) return cstrAt('.debug_str', s.str ?? new Uint8Array(0), v);
  return c.fail(`path of form 0x${form.toString(16)}`);
}

/** DWARF 5 directory or file entries: a format (content type, form pairs), then the entries. */
function readEntriesV5(s: DebugSections, c: Cursor, fc: FormContext, out: FileEntry[]): void {
  const formatCount = c.u8();
  const types: number[] = [],
    forms: number[] = [];
  for (let i = 0; i < formatCount; i++) {
    types.push(c.uleb());
    forms.push(c.uleb());
  }
  const count = c.uleb();
  for (let n = 0; n < count; n++) {
    const at = c.pos;
    let name = '',
      dir = 0;
    for (let i = 0; i < formatCount; i++) {
      if (types[i] === LNCT_PATH) name = stringForm(s, c, forms[i]!, fc);
      else {
        const v = readForm(c, forms[i]!, 0, fc);
        if (types[i] === LNCT_DIRECTORY_INDEX && kind === Kind.Const) dir = v;
      }
    }
    if (c.pos === at) c.fail('line table entries of no size'); // a count with nothing to read
    out.push({ name, dir });
  }
}

function readEntriesV4(c: Cursor, dirs: string[], files: FileEntry[]): void {
  for (;;) {
    const at = c.skipCStr();
    if (c.pos === at + 1) break;
    dirs.push(cstrAt('.debug_line', c.bytes, at));
  }
  for (;;) {
    const at = c.skipCStr();
    if (c.pos === at + 1) break;
    files.push({ name: cstrAt('.debug_line', c.bytes, at), dir: c.uleb() });
    c.uleb(); // modification time
    c.uleb(); // length
  }
}

interface Header {
  version: number;
  end: number;
  addrSize: number;
  minInst: number;
  defaultStmt: boolean;
  lineBase: number;
  lineRange: number;
  opcodeBase: number;
  opcodeLengths: number[];
  programStart: number;
}

function readHeader(s: DebugSections, c: Cursor, unitAddrSize: number, t: LineTable): Header {
  const start = c.pos;
  let length = c.u32(),
    offsetSize = 4;
  if (length === 0xffffffff) {
    length = c.u64();
    offsetSize = 8;
  } else if (length >= 0xfffffff0) c.fail(`reserved unit length 0x${length.toString(16)}`, start);
  if (length > c.end - c.pos) c.fail(`line table of ${length} bytes past the end of the section`, start);
  const end = c.pos + length;
  c.end = end;
  const version = c.u16();
  if (version < 2 || version > 5) c.fail(`unsupported line table version ${version}`, start);
  let addrSize = unitAddrSize;
  if (version >= 5) {
    addrSize = c.u8();
    c.u8(); // segment selector size
  }
  const headerLength = c.uN(offsetSize);
  if (headerLength > end - c.pos) c.fail('line table header past the table', start);
  const programStart = c.pos + headerLength;
  const minInst = c.u8();
  if (version >= 4) c.u8(); // maximum operations per instruction (VLIW only)
  const defaultStmt = c.u8() !== 0;
  const lineBase = (c.u8() << 24) >> 24;
  const lineRange = c.u8();
  const opcodeBase = c.u8();
  const opcodeLengths: number[] = [];
  for (let i = 1; i < opcodeBase; i++) opcodeLengths.push(c.u8());
  t.version = version;
  if (version >= 5) {
    const fc: FormContext = { version, addrSize, offsetSize, unitOffset: 0 };
    const dirs: FileEntry[] = [];
    readEntriesV5(s, c, fc, dirs);
    for (const d of dirs) t.dirs.push(d.name);
    readEntriesV5(s, c, fc, t.files);
  } else {
    readEntriesV4(c, t.dirs, t.files);
  }
  return { version, end, addrSize, minInst, defaultStmt, lineBase, lineRange, opcodeBase, opcodeLengths, programStart };
}

/**
 * Reads the line table at `offset` of .debug_line and runs its line program. Every opcode
 * reads at least one byte, so the work is bounded by the table's size. Registers wrap as
 * LLVM's do: line at 32 bits, column and file at 16.
 */
export function readLineTable(s: DebugSections, offset: number, unitAddrSize: number): LineTable {
  const c = new Cursor('.debug_line', s.line ?? new Uint8Array(0), offset);
  if (!(offset >= 0 && offset < c.end)) c.fail('line table offset out of the section', offset);
  const t: LineTable = {
    version: 0,
    dirs: [],
    files: [],
    addr: new Float64Array(0),
    file: new Uint16Array(0),
    line: new Uint32Array(0),
    column: new Uint16Array(0),
    seqLow: [],
    seqHigh: [],
    seqFirst: [],
    seqEnd: [],
    fileIds: undefined,
  };
  const h = readHeader(s, c, unitAddrSize, t);
  c.pos = h.programStart;
  // The registers are plain locals (no closure over them, which would keep them in a
  // context object the loop reads and writes through).
  let address = 0,
    file = 1,
    line = 1,
    column = 0,
    seqStart = -1;
  const rows = new RowColumns();
  const { opcodeBase, lineRange, lineBase, minInst } = h;
  const bytes = c.bytes; // c.end <= bytes.length: the loop's test bounds the opcode's read
  while (c.pos < c.end) {
    const op = bytes[c.pos++]!;
    if (op >= opcodeBase) {
      // special opcode
      const adj = op - opcodeBase;
      if (lineRange !== 0) {
        const q = (adj / lineRange) | 0;
        address += q * minInst;
        line = (line + lineBase + (adj - q * lineRange)) >>> 0;
      }
      if (seqStart < 0) seqStart = rows.n;
      rows.push(address, file, line, column);
    } else if (op === 0) {
      // extended opcode
      const len = c.uleb();
      const start = c.pos;
      if (len > c.end - start) c.fail('extended opcode past the table', start);
      if (len === 0) continue;
      const sub = c.u8();
      if (sub === 1) {
        // end_sequence: a row, the sequence it ends, the registers reset.
        if (seqStart < 0) seqStart = rows.n;
        rows.push(address, file, line, column);
        const low = rows.addr[seqStart]!;
        if (low < address) {
          t.seqLow.push(low);
          t.seqHigh.push(address);
          t.seqFirst.push(seqStart);
          t.seqEnd.push(rows.n);
        }
        seqStart = -1;
        address = 0;
        file = 1;
        line = 1;
        column = 0;
      } else if (sub === 2) {
        const size = len - 1;
        if (size === 4 || size === 8) address = readAddr(c, size);
        else if (size === 1 || size === 2) address = c.uN(size);
      } else if (sub === 3 && h.version < 5) {
        // define_file
        const at = c.skipCStr();
        t.files.push({ name: cstrAt('.debug_line', c.bytes, at), dir: c.uleb() });
      }
      c.pos = start + len;
    } else {
      switch (op) {
        case 1: // copy
          if (seqStart < 0) seqStart = rows.n;
          rows.push(address, file, line, column);
          break;
        case 2:
          address += c.uleb() * minInst;
          break; // advance_pc
        case 3:
          line = (line + c.sleb()) >>> 0;
          break; // advance_line
        case 4:
          file = c.uleb() & 0xffff;
          break; // set_file
        case 5:
          column = c.uleb() & 0xffff;
          break; // set_column
        case 8:
          if (lineRange !== 0) address += Math.floor((255 - opcodeBase) / lineRange) * minInst;
          break; // const_add_pc
        case 9:
          address += c.u16();
          break; // fixed_advance_pc
        case 6:
        case 7:
        case 10:
        case 11:
          break; // negate_stmt, basic_block, prologue_end, epilogue_begin
        case 12:
          c.uleb();
          break; // set_isa
        default:
          for (let i = 0; i < h.opcodeLengths[op - 1]!; i++) c.uleb();
      }
    }
  }
  t.addr = rows.addr.subarray(0, rows.n);
  t.file = rows.file.subarray(0, rows.n);
  t.line = rows.line.subarray(0, rows.n);
  t.column = rows.column.subarray(0, rows.n);
  sortSequences(t);
  return t;
}

/** The address, file, line and column registers of each row, in typed arrays grown by doubling. */
class RowColumns {
  addr = new Float64Array(256);
  file = new Uint16Array(256);
  line = new Uint32Array(256);
  column = new Uint16Array(256);
  n = 0;

  push(address: number, file: number, line: number, column: number): void {
    const n = this.n;
    if (n === this.file.length) this.grow();
    this.addr[n] = address;
    this.file[n] = file;
    this.line[n] = line;
    this.column[n] = column;
    this.n = n + 1;
  }

  private grow(): void {
    const n = this.n;
    const addr = new Float64Array(2 * n),
      file = new Uint16Array(2 * n),
      line = new Uint32Array(2 * n),
      column = new Uint16Array(2 * n);
    addr.set(this.addr);
    file.set(this.file);
    line.set(this.line);
    column.set(this.column);
    this.addr = addr;
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

/** Sorts the sequences by high address (ties by low address, then by position). */
function sortSequences(t: LineTable): void {
  const n = t.seqLow.length;
  let sorted = true; // as producers write them: nothing to do
  for (let i = 1; i < n && sorted; i++)
    sorted =
      t.seqHigh[i - 1]! < t.seqHigh[i]! || (t.seqHigh[i - 1] === t.seqHigh[i] && t.seqLow[i - 1]! <= t.seqLow[i]!);
  if (sorted) return;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => t.seqHigh[a]! - t.seqHigh[b]! || t.seqLow[a]! - t.seqLow[b]! || a - b);
  const pick = (xs: number[]): number[] => order.map((i) => xs[i]!);
  t.seqLow = pick(t.seqLow);
  t.seqHigh = pick(t.seqHigh);
  t.seqFirst = pick(t.seqFirst);
  t.seqEnd = pick(t.seqEnd);
}

/** std::upper_bound over xs[first, last) for a value: the first index whose element exceeds it. */
export function upperBound(xs: ArrayLike<number>, first: number, last: number, value: number): number {
  let count = last - first;
  while (count > 0) {
    const step = count >>> 1;
    const it = first + step;
    if (!(value < xs[it]!)) {
      first = it + 1;
      count -= step + 1;
    } else count = step;
  }
  return first;
}

/** LLVM's row lookup: the row for `address`, or -1 when no sequence covers it. */
export function lookupRow(t: LineTable, address: number): number {
  const s = upperBound(t.seqHigh, 0, t.seqHigh.length, address);
  if (s === t.seqHigh.length || !(t.seqLow[s]! <= address && address < t.seqHigh[s]!)) return -1;
  return upperBound(t.addr, t.seqFirst[s]! + 1, t.seqEnd[s]! - 1, address) - 1;
}

/**
 * lookupRow for ascending addresses, in amortized constant time: the same answers, from a
 * cursor that moves forward (sequences are sorted by high address; within a sequence whose
 * row addresses do not decrease the upper bound moves forward too; in one whose addresses
 * do, as in damaged DWARF, it is the binary search). An address below the one before starts
 * over.
 */
export class RowCursor {
  private readonly t: LineTable;
  /** Per sequence: whether its row addresses never decrease (1), or not yet known (0), or not (2). */
  private readonly sorted: Uint8Array;
  private last = -1;
  private seq = 0;
  private rowSeq = -1;
  private row = 0;

  constructor(t: LineTable) {
    this.t = t;
    this.sorted = new Uint8Array(t.seqHigh.length);
  }

  private isSorted(s: number): boolean {
    if (this.sorted[s] === 0) {
      const a = this.t.addr;
      let ok = 1;
      for (let r = this.t.seqFirst[s]! + 2; r < this.t.seqEnd[s]! - 1; r++) if (a[r]! < a[r - 1]!) ok = 2;
      this.sorted[s] = ok;
    }
    return this.sorted[s] === 1;
  }

  find(address: number): number {
    const t = this.t;
    if (address < this.last) {
      this.seq = 0;
      this.rowSeq = -1;
    }
    this.last = address;
    const high = t.seqHigh,
      n = high.length;
    let s = this.seq;
    while (s < n && high[s]! <= address) s++;
    this.seq = s;
    if (s === n || !(t.seqLow[s]! <= address && address < high[s]!)) return -1;
    const first = t.seqFirst[s]! + 1,
      end = t.seqEnd[s]! - 1;
    if (!this.isSorted(s)) return upperBound(t.addr, first, end, address) - 1;
    // row: the upper bound of address in [first, end), moving forward from the last one.
    let r = this.rowSeq === s ? this.row : first;
    const a = t.addr;
    while (r < end && a[r]! <= address) r++;
    this.rowSeq = s;
    this.row = r;
    return r - 1;
  }
}

function isAbsolute(p: string): boolean {
  if (p.startsWith('/')) return true;
  if (/^[A-Za-z]:[\\/]/.test(p)) return true;
  return /^[\\/]{2}[^\\/]/.test(p);
}

/** LLVM's sys::path::append for POSIX paths. */
function append(path: string, component: string): string {
  if (path.endsWith('/')) {
    let i = 0;
    while (i < component.length && component[i] === '/') i++;
    return path + component.slice(i);
  }
  if (!component.startsWith('/') && path !== '') path += '/';
  return path + component;
}

/**
 * The path of file `index` of the table, as llvm-symbolizer prints it: the file name when it
 * is absolute, else the directory joined with it, the unit's comp_dir first when the
 * directory is relative. undefined when there is no such file.
 */
export function filePath(t: LineTable, index: number, compDir: string): string | undefined {
  const v5 = t.version >= 5;
  const entry = v5 ? t.files[index] : index >= 1 ? t.files[index - 1] : undefined;
  if (entry === undefined) return undefined;
  if (isAbsolute(entry.name)) return entry.name;
  let dir = '';
  if (v5) {
    if (entry.dir < t.dirs.length) dir = t.dirs[entry.dir]!;
  } else if (entry.dir > 0 && entry.dir <= t.dirs.length) dir = t.dirs[entry.dir - 1]!;
  let path = '';
  if ((!v5 || entry.dir !== 0) && compDir !== '' && !isAbsolute(dir)) path = append(path, compDir);
  return append(append(path, dir), entry.name);
}
