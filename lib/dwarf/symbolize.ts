import { MAX_SRCLOC_CHAIN } from '../format.js';
import { AddrDieMap, UnitRanges } from './addrmap.js';
import { dwarfError } from './cursor.js';
import { Kind } from './forms.js';
import { readInfo, stringPlace, type DebugInfo, type Unit } from './info.js';
import { filePath, readLineTable, RowCursor, type LineTable } from './line.js';
import { ByteStrings, NumberIndex, RowTable, StringTable } from './rows.js';
import type { DebugSections } from './sections.js';

/** Puts x at out[k] when 0 < x < limit; returns where the next one goes. */
function within(out: Uint32Array, k: number, x: number, limit: number): number {
  if (x > 0 && x < limit) out[k++] = x;
  return k;
}

/**
 * `a` (every value below `limit`) sorted ascending, in linear time: counting passes over
 * digits of 11 bits (a count table that stays in the cache), as many as `limit` needs.
 */
function radixSort(a: Uint32Array, limit: number): Uint32Array {
  const n = a.length;
  let from: Uint32Array = a,
    to: Uint32Array = new Uint32Array(n);
  const count = new Uint32Array(2049);
  for (let shift = 0; shift < 32 && limit - 1 >= 2 ** shift; shift += 11) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[((from[i]! >>> shift) & 0x7ff) + 1]!++;
    for (let d = 1; d <= 2048; d++) count[d]! += count[d - 1]!;
    for (let i = 0; i < n; i++) to[count[(from[i]! >>> shift) & 0x7ff]!++] = from[i]!;
    [from, to] = [to, from];
  }
  if (from !== a) a.set(from);
  return a;
}

const EMPTY = new Uint8Array(0);

/** Whether an attribute of this kind can be a string (nameOf looks it up). */
function isString(k: Kind): boolean {
  return k === Kind.StrInfo || k === Kind.Strp || k === Kind.LineStrp || k === Kind.StrX;
}

/** One frame of a source location: innermost first in a chain. */
export interface SrcFrame {
  function: string;
  file: string;
  line: number;
  column: number;
}

/**
 * Answers, for a code-section-relative address, the inline chain llvm-symbolizer-14
 * `--inlines --no-demangle` gives (see docs/DWARF.md for the rule and its exceptions), as a
 * row of its RowTable. Built once per module; every lookup is a few binary searches.
 */
export class Symbolizer {
  private readonly s: DebugSections;
  readonly info: DebugInfo;
  private readonly units: UnitRanges;
  private readonly dieMaps: (AddrDieMap | undefined)[] = [];
  /** Per unit: the cursor over its line table (rowAt is called at ascending addresses). */
  private readonly rowCursors: (RowCursor | undefined)[] = [];
  private readonly lines = new Map<number, LineTable>();
  /** Each unit's line table (undefined: none). */
  private readonly unitLines: (LineTable | undefined)[] = [];
  /** Per subroutine: its name's string id, -1 not yet known. */
  private readonly fnIds: Int32Array;
  /** Per subroutine: the row of the frames it is inlined into (-1: none), -2 not yet known. */
  private readonly callerRows: Int32Array;
  /** Per subroutine whose callerRows is known: the frames of a chain whose innermost is its own. */
  private readonly depths: Int32Array;
  readonly rows = new RowTable();
  readonly functions = new ByteStrings();
  readonly files = new StringTable();

  constructor(s: DebugSections) {
    this.s = s;
    this.info = readInfo(s);
    const subCount = this.info.subs.count;
    this.fnIds = new Int32Array(subCount).fill(-1);
    this.callerRows = new Int32Array(subCount).fill(-2);
    this.depths = new Int32Array(subCount);
    this.units = new UnitRanges(this.info.units.map((u, index) => ({ offset: u.offset, index, pairs: u.ranges })));
    for (const u of this.info.units) {
      if (u.stmtList >= 0 && !this.lines.has(u.stmtList))
        this.lines.set(u.stmtList, readLineTable(s, u.stmtList, u.addrSize));
      this.unitLines.push(u.stmtList >= 0 ? this.lines.get(u.stmtList) : undefined);
    }
  }

  private dieMap(unit: number): AddrDieMap {
    let m = this.dieMaps[unit];
    if (m === undefined) {
      const u = this.info.units[unit]!;
      const { rangeStart, rangeData } = this.info.subs;
      const first = u.firstSub,
        end = first + u.subCount;
      const triples = new Float64Array(((rangeStart[end]! - rangeStart[first]!) >> 1) * 3);
      let n = 0;
      for (let i = first; i < end; i++) {
        for (let k = rangeStart[i]!; k + 1 < rangeStart[i + 1]!; k += 2) {
          triples[n++] = rangeData[k]!;
          triples[n++] = rangeData[k + 1]!;
          triples[n++] = i;
        }
      }
      this.dieMaps[unit] = m = new AddrDieMap(triples.subarray(0, n));
    }
    return m;
  }

  /** The addresses where an answer can change, within [0, limit): unit, DIE and row bounds. */
  breakpoints(limit: number): Uint32Array {
    let n = 1;
    for (let u = 0; u < this.info.units.length; u++) n += 2 * this.dieMap(u).low.length;
    for (const t of this.lines.values()) n += t.addr.length + 2 * t.seqLow.length;
    const out = new Uint32Array(n + 2 * this.units.low.length);
    let k = 1; // out[0] = 0
    const ul = this.units;
    for (let i = 0; i < ul.low.length; i++) k = within(out, within(out, k, ul.low[i]!, limit), ul.high[i]!, limit);
    for (let u = 0; u < this.info.units.length; u++) {
      const m = this.dieMap(u);
      for (let i = 0; i < m.low.length; i++) k = within(out, within(out, k, m.low[i]!, limit), m.high[i]!, limit);
    }
    for (const t of this.lines.values()) {
      const a = t.addr;
      for (let i = 0; i < a.length; i++) k = within(out, k, a[i]!, limit);
      for (let i = 0; i < t.seqLow.length; i++)
        k = within(out, within(out, k, t.seqLow[i]!, limit), t.seqHigh[i]!, limit);
    }
    const sorted = radixSort(out.subarray(0, k), limit);
    let m = 0;
    for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[m - 1]) sorted[m++] = sorted[i]!;
    return sorted.subarray(0, m);
  }

  /** The string id of a subroutine's name: DW_AT_linkage_name, else DW_AT_name, through origins and specifications. */
  private nameId(sub: number): number {
    const id = this.findName(sub, true);
    if (id >= 0) return id;
    const name = this.findName(sub, false);
    return name >= 0 ? name : this.functions.id(EMPTY, 0, 0);
  }

  /** String ids of .debug_str strings already found, by offset (inlined copies share their origin's name). */
  private readonly strp = new NumberIndex();

  /** The string id of a name attribute's text; -1 when it is not of a string form. */
  private nameOf(u: Unit, k: Kind, v: number): number {
    let id = k === Kind.Strp ? this.strp.get(v) : -1;
    if (id < 0) {
      const p = stringPlace(this.s, u, k, v);
      if (p === undefined) return -1;
      id = this.functions.id(p.bytes, p.start, p.end);
      if (k === Kind.Strp) this.strp.set(v, id);
    }
    return id;
  }

  /** nameOf for subroutine `d`'s linkage name or its name. */
  private subNameOf(d: number, linkage: boolean): number {
    const subs = this.info.subs;
    const u = this.info.units[subs.unit[d]!]!;
    return linkage
      ? this.nameOf(u, subs.linkKind[d]!, subs.linkVal[d]!)
      : this.nameOf(u, subs.nameKind[d]!, subs.nameVal[d]!);
  }

  /**
   * LLVM's findRecursively: a worklist over abstract_origin and specification, each DIE
   * once, for the first with the name attribute; its string id, or -1.
   */
  private findName(sub: number, linkage: boolean): number {
    const subs = this.info.subs;
    // The DIE itself first, and nothing to follow when it has no references (most DIEs).
    const own = this.subNameOf(sub, linkage);
    if (own >= 0 || (subs.origin[sub]! < 0 && subs.spec[sub]! < 0)) return own;
    // A short chain of DIEs with one reference each (an inlined copy and its origin) is the
    // worklist's own order, without its set; anything else takes the worklist.
    for (let d = sub, steps = 0; steps < 8; steps++) {
      const o = subs.origin[d]!,
        sp = subs.spec[d]!;
      if (o >= 0 && sp >= 0) break;
      const r = subs.find(o >= 0 ? o : sp);
      if (r < 0 || r === sub) break;
      const id = this.subNameOf(r, linkage);
      if (id >= 0) return id;
      if (subs.origin[r]! < 0 && subs.spec[r]! < 0) return -1;
      d = r;
    }
    const work = [sub];
    const seen = new Set([sub]);
    while (work.length > 0) {
      const d = work.pop()!;
      const id = this.subNameOf(d, linkage);
      if (id >= 0) return id;
      for (const ref of [subs.origin[d]!, subs.spec[d]!]) {
        const r = ref >= 0 ? subs.find(ref) : -1;
        if (r >= 0 && !seen.has(r)) {
          seen.add(r);
          work.push(r);
        }
      }
    }
    return -1;
  }

  /** The file string id of file `index` of table `t`; -1 when the table has no such file. */
  private fileIdOrNone(t: LineTable, u: Unit, index: number): number {
    let ids = t.fileIds;
    if (ids === undefined) t.fileIds = ids = new Int32Array(t.files.length + 1).fill(-2);
    let id = index < ids.length ? ids[index]! : -1;
    if (id === -2) {
      const path = filePath(t, index, u.compDir);
      ids[index] = id = path === undefined ? -1 : this.files.id(path);
    }
    return id;
  }

  /** The file string id of file `index` of table `t`, '' when there is none. */
  private fileId(t: LineTable | undefined, u: Unit, index: number): number {
    const id = t === undefined ? -1 : this.fileIdOrNone(t, u, index);
    return id >= 0 ? id : this.files.id('');
  }

  private fnId(sub: number): number {
    let id = this.fnIds[sub]!;
    if (id < 0) {
      const r = this.copyOf(sub);
      id = r >= 0 ? this.fnId(r) : this.nameId(sub);
      this.fnIds[sub] = id;
    }
    return id;
  }

  /**
   * The DIE that `sub` is a copy of when `sub` has no name attributes of its own and one
   * reference (an inlined copy and its origin, mostly): then the worklist from `sub` finds
   * what the one from that DIE finds (`sub` adds no name, and nothing but that DIE to visit),
   * so the copies share the work. -1 for any other DIE.
   */
  private refOf(sub: number): number {
    const subs = this.info.subs;
    const o = subs.origin[sub]!,
      sp = subs.spec[sub]!;
    if (o >= 0 === sp >= 0 || isString(subs.nameKind[sub]!) || isString(subs.linkKind[sub]!)) return -1;
    const r = subs.find(o >= 0 ? o : sp);
    return r === sub ? -1 : r;
  }

  /** refOf(sub) when that DIE's function id is known or is no copy itself (so fnId recurses once at most), else -1. */
  private copyOf(sub: number): number {
    const r = this.refOf(sub);
    return r >= 0 && (this.fnIds[r]! >= 0 || this.refOf(r) < 0) ? r : -1;
  }

  /**
   * The row of the frames that `sub` is inlined into: its parent subroutine at the place of
   * `sub`'s call, inside that one's own callers (-1 for a subprogram, which is outermost).
   */
  private callerRow(sub: number, t: LineTable | undefined, u: Unit): number {
    const known = this.callerRows[sub]!;
    if (known !== -2) return known;
    const subs = this.info.subs;
    // Iterative, outermost first, so that a deep chain does not recurse.
    const chain: number[] = [];
    for (let d = sub; d >= 0 && this.callerRows[d] === -2 && chain.length <= subs.count; d = subs.parent[d]!) {
      chain.push(d);
      if (!subs.inlined[d]) break;
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const d = chain[i]!,
        p = subs.parent[d]!;
      let row = -1;
      const depth = subs.inlined[d] && p >= 0 ? Math.max(this.depths[p]!, 1) + 1 : 1;
      if (depth > MAX_SRCLOC_CHAIN)
        throw dwarfError('.debug_info', subs.offset[d]!, `inlined more than ${MAX_SRCLOC_CHAIN} frames deep`);
      this.depths[d] = depth;
      if (subs.inlined[d] && p >= 0) {
        const above = this.callerRows[p] === -2 ? -1 : this.callerRows[p]!;
        row = this.rows.get(
          this.fnId(p),
          this.fileId(t, u, subs.callFile[d]!),
          subs.callLine[d]!,
          subs.callColumn[d]!,
          above,
        );
      }
      this.callerRows[d] = row;
    }
    return this.callerRows[sub]!;
  }

  /** Row `prev` when it has these fields, else a new row with them. */
  private rowAfter(prev: number, fn: number, file: number, line: number, column: number, parent: number): number {
    return prev >= 0 && this.rows.is(prev, fn, file, line, column, parent)
      ? prev
      : this.rows.append(fn, file, line, column, parent);
  }

  private emptyFn = -1;
  private emptyFile = -1;

  /**
   * The row of the innermost frame at a code-section-relative address; -1 without line info.
   * `prev` is the row of the piece before: the answer when nothing differs. Called at
   * ascending addresses, lookups are amortized constant time (the cursors of the maps).
   */
  rowAt(address: number, prev = -1): number {
    const unit = this.units.find(address);
    if (unit < 0) return -1;
    const u = this.info.units[unit]!;
    const t = this.unitLines[unit];
    const d = this.dieMap(unit).find(address);
    const row = t !== undefined ? (this.rowCursors[unit] ??= new RowCursor(t)).find(address) : -1;
    // The innermost frame's place comes from the line table, each outer one's from the call
    // site of the frame inside it (callerRow).
    const file = row >= 0 ? this.fileIdOrNone(t!, u, t!.file[row]!) : -1;
    if (d < 0) {
      if (file < 0) return -1;
      if (this.emptyFn < 0) this.emptyFn = this.functions.id(EMPTY, 0, 0);
      return this.rowAfter(prev, this.emptyFn, file, t!.line[row]!, t!.column[row]!, -1);
    }
    const parent = this.callerRow(d, t, u);
    if (file < 0) {
      const fn = this.fnId(d);
      if (this.emptyFile < 0) this.emptyFile = this.files.id('');
      return this.rowAfter(prev, fn, this.emptyFile, 0, 0, parent);
    }
    return this.rowAfter(prev, this.fnId(d), file, t!.line[row]!, t!.column[row]!, parent);
  }
}
