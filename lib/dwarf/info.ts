import { readAbbrevs, type Abbrev } from './abbrev.js';
import { Cursor, cstrEnd, utf8 } from './cursor.js';
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

/** A copy of `a` with twice its room. */
function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T): T {
  const g = new (a.constructor as new (n: number) => T)(2 * a.length);
  g.set(a);
  return g;
}

/**
 * Every DW_TAG_subprogram and DW_TAG_inlined_subroutine DIE, in .debug_info order (a parent
 * before its children, and so at strictly ascending offsets), one index per DIE across the
 * columns (typed arrays grown by doubling, of which the first `count` entries are used).
 * Values read from attributes stay doubles, as readForm returns them.
 */
export class Subroutines {
  count = 0;
  offset = new Float64Array(64);
  unit = new Int32Array(64);
  /** 1 for a DW_TAG_inlined_subroutine. */
  inlined = new Uint8Array(64);
  /** The nearest enclosing subroutine DIE's index, or -1. */
  parent = new Int32Array(64);
  /** Its address ranges as pairs (low, high): rangeData[rangeStart[i] .. rangeStart[i + 1]). */
  rangeStart = new Int32Array(64);
  rangeData: number[] = [];
  callFile = new Float64Array(64);
  callLine = new Float64Array(64);
  callColumn = new Float64Array(64);
  /** Name attributes as (Kind, value) of readForm: DW_AT_name, DW_AT_linkage_name. */
  nameKind = new Uint8Array(64);
  nameVal = new Float64Array(64);
  linkKind = new Uint8Array(64);
  linkVal = new Float64Array(64);
  /** DW_AT_abstract_origin and DW_AT_specification as .debug_info offsets, or -1. */
  origin = new Float64Array(64);
  spec = new Float64Array(64);

  /** The index of one more DIE (its columns to be set). */
  add(): number {
    if (this.count === this.offset.length) this.grow();
    return this.count++;
  }

  private grow(): void {
    this.offset = grown(this.offset);
    this.unit = grown(this.unit);
    this.inlined = grown(this.inlined);
    this.parent = grown(this.parent);
    this.rangeStart = grown(this.rangeStart);
    this.callFile = grown(this.callFile);
    this.callLine = grown(this.callLine);
    this.callColumn = grown(this.callColumn);
    this.nameKind = grown(this.nameKind);
    this.nameVal = grown(this.nameVal);
    this.linkKind = grown(this.linkKind);
    this.linkVal = grown(this.linkVal);
    this.origin = grown(this.origin);
    this.spec = grown(this.spec);
  }

  /** Ends the walk: rangeStart gets its entry one past the last DIE. */
  finish(): void {
    const i = this.add();
    this.rangeStart[i] = this.rangeData.length;
    this.count = i;
  }

  /** The index of the DIE at `offset` of .debug_info, or -1 (a binary search: offsets ascend). */
  find(offset: number): number {
    const o = this.offset;
    let lo = 0,
      hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (o[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.count && o[lo] === offset ? lo : -1;
  }
}

export interface DebugInfo {
  units: Unit[];
  subs: Subroutines;
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
const SLOT_MIPS_LINKAGE_NAME = KEPT.indexOf(AT_MIPS_LINKAGE_NAME),
  SLOT_GNU_ADDR_BASE = KEPT.indexOf(AT_GNU_ADDR_BASE);
function slotOf(name: number): number {
  if (name < 0x80) return SLOT[name]!;
  return name === AT_MIPS_LINKAGE_NAME ? SLOT_MIPS_LINKAGE_NAME : name === AT_GNU_ADDR_BASE ? SLOT_GNU_ADDR_BASE : -1;
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

// Steps of a DIE plan below 0 (a step >= 0 skips that many bytes); READ - i reads attribute i.
const SKIP_LEB = -1,
  SKIP_LEB_BLOCK = -2,
  SKIP_CSTR = -3,
  SKIP_BLOCK1 = -4,
  SKIP_BLOCK2 = -5,
  SKIP_BLOCK4 = -6,
  READ = -16;

/** The bytes of a fixed-size form in this unit, a SKIP_ step for a variable one, undefined for others. */
function formStep(form: number, u: Unit): number | undefined {
  switch (form) {
    case 0x01:
      return u.addrSize;
    case 0x0b:
    case 0x0c:
    case 0x11:
    case 0x25:
    case 0x29:
      return 1;
    case 0x05:
    case 0x12:
    case 0x26:
    case 0x2a:
      return 2;
    case 0x27:
    case 0x2b:
      return 3;
    case 0x06:
    case 0x13:
    case 0x1c:
    case 0x28:
    case 0x2c:
      return 4;
    case 0x07:
    case 0x14:
    case 0x20:
    case 0x24:
      return 8;
    case 0x1e:
      return 16;
    case 0x19:
    case 0x21:
      return 0;
    case 0x0e:
    case 0x17:
    case 0x1d:
    case 0x1f:
    case 0x1f20:
    case 0x1f21:
      return u.offsetSize;
    case 0x10:
      return u.version <= 2 ? u.addrSize : u.offsetSize;
    case 0x0d:
    case 0x0f:
    case 0x15:
    case 0x1a:
    case 0x1b:
    case 0x22:
    case 0x23:
    case 0x1f01:
    case 0x1f02:
      return SKIP_LEB;
    case 0x09:
    case 0x18:
      return SKIP_LEB_BLOCK;
    case 0x08:
      return SKIP_CSTR;
    case 0x0a:
      return SKIP_BLOCK1;
    case 0x03:
      return SKIP_BLOCK2;
    case 0x04:
      return SKIP_BLOCK4;
    default:
      return undefined; // indirect, or unknown: read by readForm
  }
}

function isSubroutine(tag: number): boolean {
  return tag === TAG_SUBPROGRAM || tag === TAG_INLINED;
}

/**
 * How to read a DIE of `ab` in unit `u`: for a subroutine's, READ steps for the attributes
 * this reader keeps; for every other attribute, a byte count (runs of fixed-size forms
 * merged) or a SKIP_ step, so that it is passed over without being read. null when some
 * form to pass over has no step (readDie reads the DIE).
 */
function diePlan(ab: Abbrev, u: Unit): Int32Array | null {
  const key = u.addrSize * 64 + u.offsetSize * 4 + (u.version <= 2 ? 1 : 0);
  if (ab.planKey === key) return ab.plan!;
  const keep = isSubroutine(ab.tag);
  const steps: number[] = [];
  let plan: Int32Array | null = null;
  for (let i = 0; i <= ab.forms.length; i++) {
    if (i === ab.forms.length) {
      plan = Int32Array.from(steps);
      break;
    }
    const step = keep && slotOf(ab.names[i]!) >= 0 ? READ - i : formStep(ab.forms[i]!, u);
    if (step === undefined) break;
    if (step >= 0 && steps.length > 0 && steps[steps.length - 1]! >= 0) steps[steps.length - 1]! += step;
    else steps.push(step);
  }
  ab.planKey = key;
  return (ab.plan = plan);
}

/**
 * Reads a DIE by its plan, its kept attributes into `out` (reset by the caller); false (the
 * cursor where it was) when a step would pass the end, so that the caller reads the DIE with
 * readDie and fails as that does. A READ step fails as readDie would at the same place.
 */
function runPlan(c: Cursor, plan: Int32Array, ab: Abbrev, u: Unit, out: Attrs): boolean {
  const b = c.bytes,
    end = c.end,
    start = c.pos;
  let p = start;
  for (let i = 0; i < plan.length; i++) {
    const step = plan[i]!;
    if (step >= 0) p += step;
    else if (step <= READ) {
      const k = READ - step;
      c.pos = p;
      const v = readForm(c, ab.forms[k]!, ab.consts[k]!, u);
      out.set(slotOf(ab.names[k]!), kind, v);
      p = c.pos;
    } else if (step === SKIP_LEB) {
      while (p < end && b[p]! >= 0x80) p++;
      p++;
    } else if (step === SKIP_LEB_BLOCK) {
      let n = 0,
        mul = 1;
      for (;;) {
        if (p >= end) return rewind(c, start);
        const byte = b[p++]!;
        n += (byte & 0x7f) * mul;
        if ((byte & 0x80) === 0) break;
        if (mul < 2 ** 70) mul *= 128;
      }
      p += n;
    } else if (step === SKIP_CSTR) {
      const z = b.indexOf(0, p);
      if (z < 0 || z >= end) return rewind(c, start);
      p = z + 1;
    } else {
      const w = step === SKIP_BLOCK1 ? 1 : step === SKIP_BLOCK2 ? 2 : 4;
      if (p + w > end) return rewind(c, start);
      const n =
        w === 1
          ? b[p]!
          : w === 2
            ? b[p]! | (b[p + 1]! << 8)
            : (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
      p += w + n;
    }
    if (p > end) return rewind(c, start);
  }
  c.pos = p;
  return true;
}

function rewind(c: Cursor, start: number): false {
  c.pos = start;
  return false;
}

/** Where a string is: the bytes of its section, from `start` to its NUL at `end`. */
export interface StringPlace {
  bytes: Uint8Array;
  start: number;
  end: number;
}

function placeIn(section: string, bytes: Uint8Array | undefined, start: number): StringPlace {
  const b = bytes ?? new Uint8Array(0);
  return { bytes: b, start, end: cstrEnd(section, b, start) };
}

/** Where a string attribute's text is; undefined when the value is not of a string form. */
export function stringPlace(s: DebugSections, u: Unit, k: Kind, v: number): StringPlace | undefined {
  switch (k) {
    case Kind.StrInfo:
      return placeIn('.debug_info', s.info, v);
    case Kind.Strp:
      return placeIn('.debug_str', s.str, v);
    case Kind.LineStrp:
      return placeIn('.debug_line_str', s.lineStr, v);
    case Kind.StrX: {
      if (u.strOffsetsBase === undefined || s.strOffsets === undefined) return undefined;
      const c = new Cursor('.debug_str_offsets', s.strOffsets, u.strOffsetsBase + v * u.offsetSize);
      return placeIn('.debug_str', s.str, c.uN(u.offsetSize));
    }
    default:
      return undefined;
  }
}

/** A string attribute's text; undefined when the value is not of a string form. */
export function stringOf(s: DebugSections, u: Unit, k: Kind, v: number): string | undefined {
  const p = stringPlace(s, u, k, v);
  return p === undefined ? undefined : utf8(p.bytes.subarray(p.start, p.end));
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
  const i = subs.add();
  subs.offset[i] = at;
  subs.unit[i] = unitIndex;
  subs.inlined[i] = tag === TAG_INLINED ? 1 : 0;
  subs.parent[i] = parent;
  subs.rangeStart[i] = subs.rangeData.length;
  dieRanges(s, u, a, subs.rangeData);
  subs.callFile[i] = constOf(a, AT_CALL_FILE) ?? 0;
  subs.callLine[i] = constOf(a, AT_CALL_LINE) ?? 0;
  subs.callColumn[i] = constOf(a, AT_CALL_COLUMN) ?? 0;
  subs.nameKind[i] = a.kind(AT_NAME) ?? Kind.None;
  subs.nameVal[i] = a.val(AT_NAME) ?? 0;
  const lk = a.has(AT_MIPS_LINKAGE_NAME) ? AT_MIPS_LINKAGE_NAME : AT_LINKAGE_NAME; // LLVM asks for MIPS first
  subs.linkKind[i] = a.kind(lk) ?? Kind.None;
  subs.linkVal[i] = a.val(lk) ?? 0;
  subs.origin[i] = refOf(a, AT_ABSTRACT_ORIGIN);
  subs.spec[i] = refOf(a, AT_SPECIFICATION);
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
  const subs = new Subroutines();
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
      firstSub: subs.count,
      subCount: 0,
    };
    walkUnit(s, c, u, units.length, abbrevs, subs, a);
    u.subCount = subs.count - u.firstSub;
    units.push(u);
    c.pos = h.end;
  }
  subs.finish();
  return { units, subs };
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
    const isSub = isSubroutine(ab.tag);
    if (isSub) a.reset();
    const plan = diePlan(ab, u);
    if (plan === null || !runPlan(c, plan, ab, u, a)) readDie(c, ab, u, isSub, a);
    const parent = parents[parents.length - 1]!;
    const self = isSub ? pushSub(subs, s, u, unitIndex, at, ab.tag, parent, a) : parent;
    if (ab.children) parents.push(self);
  }
}
