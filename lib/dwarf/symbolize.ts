import { AddrDieMap, UnitRanges } from './addrmap.js';
import { readInfo, stringOf, type DebugInfo, type Unit } from './info.js';
import { filePath, lookupRow, readLineTable, type LineTable } from './line.js';
import type { DebugSections } from './sections.js';

/** One frame of a source location: innermost first in a chain. */
export interface SrcFrame {
  function: string;
  file: string;
  line: number;
  column: number;
}

/**
 * Answers, for a code-section-relative address, the inline chain llvm-symbolizer-14
 * `--inlines --no-demangle` gives (see docs/DWARF.md for the rule and its exceptions). Built
 * once per module; every lookup is a few binary searches.
 */
export class Symbolizer {
  private readonly s: DebugSections;
  readonly info: DebugInfo;
  private readonly units: UnitRanges;
  private readonly dieMaps: (AddrDieMap | undefined)[] = [];
  private readonly lines = new Map<number, LineTable>();
  private readonly names = new Map<number, string>();

  constructor(s: DebugSections) {
    this.s = s;
    this.info = readInfo(s);
    this.units = new UnitRanges(this.info.units.map((u, index) => ({ offset: u.offset, index, pairs: u.ranges })));
    for (const u of this.info.units) {
      if (u.stmtList >= 0 && !this.lines.has(u.stmtList)) this.lines.set(u.stmtList, readLineTable(s, u.stmtList, u.addrSize));
    }
  }

  private dieMap(unit: number): AddrDieMap {
    let m = this.dieMaps[unit];
    if (m === undefined) {
      m = new AddrDieMap();
      const u = this.info.units[unit]!;
      const { ranges } = this.info.subs;
      for (let i = u.firstSub; i < u.firstSub + u.subCount; i++) {
        const r = ranges[i]!;
        for (let k = 0; k + 1 < r.length; k += 2) m.add(r[k]!, r[k + 1]!, i);
      }
      this.dieMaps[unit] = m;
    }
    return m;
  }

  /** The addresses where an answer can change, within [0, limit): unit, DIE and row bounds. */
  breakpoints(limit: number): number[] {
    const out = [0];
    const push = (x: number): void => {
      if (x > 0 && x < limit) out.push(x);
    };
    for (let i = 0; i < this.units.low.length; i++) (push(this.units.low[i]!), push(this.units.high[i]!));
    for (let u = 0; u < this.info.units.length; u++) {
      const m = this.dieMap(u);
      for (let i = 0; i < m.low.length; i++) (push(m.low[i]!), push(m.high[i]!));
    }
    for (const t of this.lines.values()) {
      for (const a of t.addr) push(a);
      for (let i = 0; i < t.seqLow.length; i++) (push(t.seqLow[i]!), push(t.seqHigh[i]!));
    }
    out.sort((a, b) => a - b);
    let n = 0;
    for (let i = 0; i < out.length; i++) if (i === 0 || out[i] !== out[n - 1]) out[n++] = out[i]!;
    out.length = n;
    return out;
  }

  /** A subroutine's name: DW_AT_linkage_name, else DW_AT_name, through origins and specifications. */
  name(sub: number): string {
    let n = this.names.get(sub);
    if (n === undefined) {
      n = this.findName(sub, true) ?? this.findName(sub, false) ?? '';
      this.names.set(sub, n);
    }
    return n;
  }

  /** LLVM's findRecursively: a worklist over abstract_origin and specification, each DIE once. */
  private findName(sub: number, linkage: boolean): string | undefined {
    const subs = this.info.subs;
    const work = [sub];
    const seen = new Set([sub]);
    while (work.length > 0) {
      const d = work.pop()!;
      const u = this.info.units[subs.unit[d]!]!;
      const k = linkage ? subs.linkKind[d]! : subs.nameKind[d]!;
      const v = linkage ? subs.linkVal[d]! : subs.nameVal[d]!;
      const text = stringOf(this.s, u, k, v);
      if (text !== undefined) return text;
      for (const ref of [subs.origin[d]!, subs.spec[d]!]) {
        const r = ref >= 0 ? this.info.byOffset.get(ref) : undefined;
        if (r !== undefined && !seen.has(r)) {
          seen.add(r);
          work.push(r);
        }
      }
    }
    return undefined;
  }

  private file(t: LineTable | undefined, u: Unit, index: number): string {
    return (t !== undefined ? filePath(t, index, u.compDir) : undefined) ?? '';
  }

  /** The chain for one code-section-relative address, innermost first; [] without line info. */
  lookup(address: number): SrcFrame[] {
    const unit = this.units.find(address);
    if (unit < 0) return [];
    const u = this.info.units[unit]!;
    const t = u.stmtList >= 0 ? this.lines.get(u.stmtList) : undefined;
    const subs = this.info.subs;
    const frames: SrcFrame[] = [];
    let d = this.dieMap(unit).find(address);
    const row = t !== undefined ? lookupRow(t, address) : -1;
    if (d < 0) {
      if (row < 0) return frames;
      const file = filePath(t!, t!.file[row]!, u.compDir);
      if (file === undefined) return frames;
      frames.push({ function: '', file, line: t!.line[row]!, column: t!.column[row]! });
      return frames;
    }
    // The innermost frame's place comes from the line table, each outer one's from the
    // call site of the frame inside it.
    let file = '', line = 0, column = 0;
    if (row >= 0) {
      const f = t !== undefined ? filePath(t, t.file[row]!, u.compDir) : undefined;
      if (f !== undefined) [file, line, column] = [f, t!.line[row]!, t!.column[row]!];
    }
    for (let guard = 0; d >= 0 && guard <= subs.offset.length; guard++) {
      frames.push({ function: this.name(d), file, line, column });
      if (!subs.inlined[d]) break;
      file = this.file(t, u, subs.callFile[d]!);
      line = subs.callLine[d]!;
      column = subs.callColumn[d]!;
      d = subs.parent[d]!;
    }
    return frames;
  }
}
