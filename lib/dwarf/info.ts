import { readAbbrevs, type Abbrev } from './abbrev.js';
import { Cursor, cstrAt } from './cursor.js';
import { Kind, kind, readForm } from './forms.js';
import { readRanges, resolveAddr, allOnes, type RangeUnit } from './ranges.js';
import type { DebugSections } from './sections.js';

/** A compile unit of .debug_info and what its unit DIE says. */
export interface Unit extends RangeUnit {
  offset: number;
  /** Unit-relative references count from here (the unit header's offset). */
  unitOffset: number;
  end: number;
  compDir: string;
  /** Offset of the unit's line table in .debug_line, or -1. */
  stmtList: number;
  strOffsetsBase: number | undefined;
  /** The unit's address ranges (pairs), from its DIE's low/high pc or ranges. */
  ranges: number[];
  /** Its subroutine DIEs are subs[firstSub .. firstSub + subCount). */
  firstSub: number;
  subCount: number;
}

/**
 * Every DW_TAG_subprogram and DW_TAG_inlined_subroutine DIE, in .debug_info order (a parent
 * before its children), one index per DIE across the arrays.
 */
interface Subroutines {
  offset: number[];
  unit: number[];
  inlined: boolean[];
  /** The nearest enclosing subroutine DIE's index, or -1. */
  parent: number[];
  /** Its address ranges as pairs (low, high): rangeData[rangeStart[i] .. rangeStart[i + 1]) (the last to its end). */
  rangeStart: number[];
  rangeData: number[];
  callFile: number[];
  callLine: number[];
  callColumn: number[];
  /** Name attributes as (Kind, value) of readForm: DW_AT_name, DW_AT_linkage_name. */
  nameKind: Kind[];
  nameVal: number[];
  linkKind: Kind[];
  linkVal: number[];
  /** DW_AT_abstract_origin and DW_AT_specification as .debug_info offsets, or -1. */
  origin: number[];
  spec: number[];
}

export interface DebugInfo {
  units: Unit[];
  subs: Subroutines;
  /** A subroutine's index by the offset of its DIE. */
  byOffset: Map<number, number>;
}

const TAG_COMPILE_UNIT = 0x11,
  TAG_PARTIAL_UNIT = 0x3c,
  TAG_SKELETON_UNIT = 0x4a;
const TAG_SUBPROGRAM = 0x2e,
  TAG_INLINED = 0x1d;
const AT_NAME = 0x03,
  AT_STMT_LIST = 0x10,
  AT_LOW_PC = 0x11,
  AT_HIGH_PC = 0x12,
  AT_COMP_DIR = 0x1b;
const AT_ABSTRACT_ORIGIN = 0x31,
  AT_SPECIFICATION = 0x47,
  AT_RANGES = 0x55;
const AT_CALL_COLUMN = 0x57,
  AT_CALL_FILE = 0x58,
  AT_CALL_LINE = 0x59,
  AT_LINKAGE_NAME = 0x6e;
const AT_STR_OFFSETS_BASE = 0x72,
  AT_ADDR_BASE = 0x73,
  AT_RNGLISTS_BASE = 0x74;
const AT_MIPS_LINKAGE_NAME = 0x2007,
  AT_GNU_ADDR_BASE = 0x2133;

const KEPT = [
  AT_NAME,
  AT_STMT_LIST,
  AT_LOW_PC,
  AT_HIGH_PC,
  AT_COMP_DIR,
  AT_ABSTRACT_ORIGIN,
  AT_SPECIFICATION,
  AT_RANGES,
  AT_CALL_COLUMN,
  AT_CALL_FILE,
  AT_CALL_LINE,
  AT_LINKAGE_NAME,
  AT_STR_OFFSETS_BASE,
  AT_ADDR_BASE,
  AT_RNGLISTS_BASE,
  AT_MIPS_LINKAGE_NAME,
  AT_GNU_ADDR_BASE,
];
/** Slot of each kept attribute below 0x80 (the others are looked up in KEPT). */
const SLOT = new Int8Array(0x80).fill(-1);
KEPT.forEach((name, i) => {
  if (name < 0x80) SLOT[name] = i;
});
function slotOf(name: number): number {
  return name < 0x80 ? SLOT[name]! : KEPT.indexOf(name);
}

/** The attributes of one DIE that this reader keeps, as (Kind, value); first occurrence wins. */
class Attrs {
  private kinds = new Int32Array(KEPT.length);
  private vals = new Float64Array(KEPT.length);
  reset(): void {
    this.kinds.fill(-1);
  }
  set(slot: number, k: Kind, v: number): void {
    if (this.kinds[slot] !== -1) return;
    this.kinds[slot] = k;
    this.vals[slot] = v;
  }
  has(name: number): boolean {
    return this.kinds[slotOf(name)] !== -1;
  }
  kind(name: number): Kind | undefined {
    const k = this.kinds[slotOf(name)]!;
    return k === -1 ? undefined : k;
  }
  val(name: number): number | undefined {
    const i = slotOf(name);
    return this.kinds[i] === -1 ? undefined : this.vals[i];
  }
}

function readDie(c: Cursor, ab: Abbrev, u: Unit, keep: boolean, out: Attrs): void {
  out.reset();
  const { names, forms, consts } = ab;
  for (let i = 0; i < names.length; i++) {
    const v = readForm(c, forms[i]!, consts[i]!, u);
    if (keep) {
      const slot = slotOf(names[i]!);
      if (slot >= 0) out.set(slot, kind, v);
    }
  }
}

/** A string attribute's text; undefined when the value is not of a string form. */
export function stringOf(s: DebugSections, u: Unit, k: Kind, v: number): string | undefined {
  switch (k) {
    case Kind.StrInfo:
      return cstrAt('.debug_info', s.info!, v);
    case Kind.Strp:
      return cstrAt('.debug_str', s.str ?? new Uint8Array(0), v);
    case Kind.LineStrp:
      return cstrAt('.debug_line_str', s.lineStr ?? new Uint8Array(0), v);
    case Kind.StrX: {
      if (u.strOffsetsBase === undefined || s.strOffsets === undefined) return undefined;
      const c = new Cursor('.debug_str_offsets', s.strOffsets, u.strOffsetsBase + v * u.offsetSize);
      return cstrAt('.debug_str', s.str ?? new Uint8Array(0), c.uN(u.offsetSize));
    }
    default:
      return undefined;
  }
}

/** The address ranges of a DIE with these attributes (LLVM's rule: low/high pc, else ranges), appended to `out`. */
function dieRanges(s: DebugSections, u: Unit, a: Attrs, out: number[]): number[] {
  const lowK = a.kind(AT_LOW_PC);
  const low = lowK === undefined ? undefined : resolveAddr(s, u, lowK, a.val(AT_LOW_PC)!);
  const highK = a.kind(AT_HIGH_PC);
  if (low !== undefined && highK !== undefined) {
    if (low === allOnes(u.addrSize)) return out; // a tombstone: code the linker removed
    const hv = a.val(AT_HIGH_PC)!;
    const high = highK === Kind.Const ? low + hv : resolveAddr(s, u, highK, hv);
    if (high !== undefined) {
      out.push(low, high);
      return out;
    }
  }
  const rk = a.kind(AT_RANGES);
  if (rk === Kind.Const || rk === Kind.RngListX) readRanges(s, u, rk, a.val(AT_RANGES)!, out);
  return out;
}

function constOf(a: Attrs, name: number): number | undefined {
  return a.kind(name) === Kind.Const ? a.val(name) : undefined;
}

interface Header {
  version: number;
  offsetSize: number;
  addrSize: number;
  abbrevOffset: number;
  end: number;
  /** false for type units and split units, which carry no code ranges here. */
  compile: boolean;
}

function readHeader(c: Cursor): Header {
  const start = c.pos;
  let length = c.u32();
  let offsetSize = 4;
  if (length === 0xffffffff) {
    length = c.u64();
    offsetSize = 8;
  } else if (length >= 0xfffffff0) c.fail(`reserved unit length 0x${length.toString(16)}`, start);
  if (length > c.end - c.pos) c.fail(`unit of ${length} bytes past the end of the section`, start);
  const end = c.pos + length;
  const version = c.u16();
  if (version < 2 || version > 5) c.fail(`unsupported DWARF version ${version}`, start);
  let compile = true,
    addrSize: number,
    abbrevOffset: number;
  if (version >= 5) {
    const type = c.u8();
    addrSize = c.u8();
    abbrevOffset = c.uN(offsetSize);
    compile = type === 1 || type === 3; // DW_UT_compile, DW_UT_partial
  } else {
    abbrevOffset = c.uN(offsetSize);
    addrSize = c.u8();
  }
  if (compile && addrSize !== 4 && addrSize !== 8) c.fail(`unsupported address size ${addrSize}`, start);
  if (c.pos > end) c.fail('unit header longer than the unit', start);
  return { version, offsetSize, addrSize, abbrevOffset, end, compile };
}

function newSubs(): Subroutines {
  return {
    offset: [],
    unit: [],
    inlined: [],
    parent: [],
    rangeStart: [],
    rangeData: [],
    callFile: [],
    callLine: [],
    callColumn: [],
    nameKind: [],
    nameVal: [],
    linkKind: [],
    linkVal: [],
    origin: [],
    spec: [],
  };
}

function refOf(a: Attrs, name: number): number {
  return a.kind(name) === Kind.Ref ? a.val(name)! : -1;
}

function pushSub(
  subs: Subroutines,
  s: DebugSections,
  u: Unit,
  unitIndex: number,
  at: number,
  tag: number,
  parent: number,
  a: Attrs,
): number {
  const i = subs.offset.length;
  subs.offset.push(at);
  subs.unit.push(unitIndex);
  subs.inlined.push(tag === TAG_INLINED);
  subs.parent.push(parent);
  subs.rangeStart.push(subs.rangeData.length);
  dieRanges(s, u, a, subs.rangeData);
  subs.callFile.push(constOf(a, AT_CALL_FILE) ?? 0);
  subs.callLine.push(constOf(a, AT_CALL_LINE) ?? 0);
  subs.callColumn.push(constOf(a, AT_CALL_COLUMN) ?? 0);
  subs.nameKind.push(a.kind(AT_NAME) ?? Kind.None);
  subs.nameVal.push(a.val(AT_NAME) ?? 0);
  const lk = a.has(AT_MIPS_LINKAGE_NAME) ? AT_MIPS_LINKAGE_NAME : AT_LINKAGE_NAME; // LLVM asks for MIPS first
  subs.linkKind.push(a.kind(lk) ?? Kind.None);
  subs.linkVal.push(a.val(lk) ?? 0);
  subs.origin.push(refOf(a, AT_ABSTRACT_ORIGIN));
  subs.spec.push(refOf(a, AT_SPECIFICATION));
  return i;
}

/** Reads the unit DIE's attributes into `u` (they must be known before its children's). */
function readUnitDie(s: DebugSections, u: Unit, a: Attrs): void {
  u.strOffsetsBase = constOf(a, AT_STR_OFFSETS_BASE);
  u.addrBase = constOf(a, AT_ADDR_BASE) ?? constOf(a, AT_GNU_ADDR_BASE);
  u.rnglistsBase = constOf(a, AT_RNGLISTS_BASE);
  const lowK = a.kind(AT_LOW_PC);
  u.base = lowK === undefined ? undefined : resolveAddr(s, u, lowK, a.val(AT_LOW_PC)!);
  u.stmtList = constOf(a, AT_STMT_LIST) ?? -1;
  const dirK = a.kind(AT_COMP_DIR);
  u.compDir = (dirK !== undefined ? stringOf(s, u, dirK, a.val(AT_COMP_DIR)!) : undefined) ?? '';
  u.ranges = dieRanges(s, u, a, []);
}

/**
 * Walks every compile unit of .debug_info: the unit DIE's attributes and every subroutine
 * DIE. Each DIE reads at least one byte and each unit at least its header, so the work is
 * bounded by the section's size; nesting is bounded by it too.
 */
export function readInfo(s: DebugSections): DebugInfo {
  const info = s.info!;
  const abbrevSection = s.abbrev ?? new Uint8Array(0);
  const abbrevCache = new Map<number, Map<number, Abbrev>>();
  const units: Unit[] = [];
  const subs = newSubs();
  const a = new Attrs();
  const c = new Cursor('.debug_info', info);
  while (c.pos < c.end) {
    const offset = c.pos;
    const h = readHeader(c);
    if (!h.compile) {
      c.pos = h.end;
      continue;
    }
    let abbrevs = abbrevCache.get(h.abbrevOffset);
    if (abbrevs === undefined) abbrevCache.set(h.abbrevOffset, (abbrevs = readAbbrevs(abbrevSection, h.abbrevOffset)));
    const u: Unit = {
      offset,
      end: h.end,
      version: h.version,
      addrSize: h.addrSize,
      offsetSize: h.offsetSize,
      unitOffset: offset,
      base: undefined,
      addrBase: undefined,
      rnglistsBase: undefined,
      strOffsetsBase: undefined,
      compDir: '',
      stmtList: -1,
      ranges: [],
      firstSub: subs.offset.length,
      subCount: 0,
    };
    walkUnit(s, c, u, units.length, abbrevs, subs, a);
    u.subCount = subs.offset.length - u.firstSub;
    units.push(u);
    c.pos = h.end;
  }
  const byOffset = new Map<number, number>();
  for (let i = 0; i < subs.offset.length; i++) byOffset.set(subs.offset[i]!, i);
  return { units, subs, byOffset };
}

function walkUnit(
  s: DebugSections,
  outer: Cursor,
  u: Unit,
  unitIndex: number,
  abbrevs: Map<number, Abbrev>,
  subs: Subroutines,
  a: Attrs,
): void {
  const c = new Cursor('.debug_info', outer.bytes, outer.pos, u.end);
  const code = c.uleb();
  const ab = abbrevs.get(code) ?? c.fail(`unknown abbreviation code ${code}`, outer.pos);
  if (ab.tag !== TAG_COMPILE_UNIT && ab.tag !== TAG_PARTIAL_UNIT && ab.tag !== TAG_SKELETON_UNIT) {
    c.fail(`unit DIE with tag 0x${ab.tag.toString(16)}`, outer.pos);
  }
  readDie(c, ab, u, true, a);
  readUnitDie(s, u, a);
  if (!ab.children) return;
  // parents[d] is the nearest subroutine enclosing depth d (-1: none).
  const parents: number[] = [-1];
  while (c.pos < c.end && parents.length > 0) {
    const at = c.pos;
    const code = c.uleb();
    if (code === 0) {
      parents.pop();
      continue;
    }
    const ab = abbrevs.get(code) ?? c.fail(`unknown abbreviation code ${code}`, at);
    const isSub = ab.tag === TAG_SUBPROGRAM || ab.tag === TAG_INLINED;
    readDie(c, ab, u, isSub, a);
    const parent = parents[parents.length - 1]!;
    const self = isSub ? pushSub(subs, s, u, unitIndex, at, ab.tag, parent, a) : parent;
    if (ab.children) parents.push(self);
  }
}
