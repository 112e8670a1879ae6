import { Cursor } from './cursor.js';
import { Kind } from './forms.js';
import type { DebugSections } from './sections.js';

/** What address and range-list lookups need of a unit. */
export interface RangeUnit {
  version: number;
  addrSize: number;
  offsetSize: number;
  /** The unit's base address (its DIE's DW_AT_low_pc), if it has one. */
  base: number | undefined;
  addrBase: number | undefined;
  rnglistsBase: number | undefined;
}

/** The all-ones value of an address of `size` bytes: a tombstone, or a base-address entry. */
export function allOnes(size: number): number {
  return size === 4 ? 0xffffffff : -1;
}

/**
 * An address of `size` bytes (4 or 8). An 8-byte all-ones value is -1; any other 8-byte value
 * from 2^53 up is 2^53, past every wasm code section.
 */
export function readAddr(c: Cursor, size: number): number {
  if (size === 4) return c.u32();
  if (size !== 8) c.fail(`unsupported address size ${size}`);
  const lo = c.u32();
  const hi = c.u32();
  if (hi === 0xffffffff && lo === 0xffffffff) return -1;
  return hi > 0x1fffff ? 2 ** 53 : hi * 0x100000000 + lo;
}

/** Entry `index` of the unit's .debug_addr contribution. */
function addrAt(s: DebugSections, u: RangeUnit, index: number): number {
  if (s.addr === undefined || u.addrBase === undefined) {
    return new Cursor('.debug_addr', new Uint8Array(0)).fail(`address index ${index} without a .debug_addr base`, 0);
  }
  const c = new Cursor('.debug_addr', s.addr, u.addrBase + index * u.addrSize);
  return readAddr(c, u.addrSize);
}

/** An address attribute value of `kind` (Addr or AddrX); undefined for any other kind. */
export function resolveAddr(s: DebugSections, u: RangeUnit, k: Kind, v: number): number | undefined {
  if (k === Kind.Addr) return v;
  if (k === Kind.AddrX) return addrAt(s, u, v);
  return undefined;
}

/** Appends the ranges of the DWARF 2-4 list at `offset` of .debug_ranges to `out` (pairs). */
function rangesV4(s: DebugSections, u: RangeUnit, offset: number, out: number[]): void {
  const c = new Cursor('.debug_ranges', s.ranges ?? new Uint8Array(0), offset);
  if (!(offset >= 0 && offset < c.end)) c.fail('range list offset out of the section', offset);
  const ones = allOnes(u.addrSize);
  let base = u.base;
  for (;;) {
    const start = readAddr(c, u.addrSize);
    const end = readAddr(c, u.addrSize);
    if (start === 0 && end === 0) return;
    if (start === ones) {
      base = end;
      continue;
    }
    if (base !== undefined) out.push(start + base, end + base);
    else out.push(start, end);
  }
}

/** The offset of range list `index` of the unit (DW_FORM_rnglistx). */
function rnglistOffset(s: DebugSections, u: RangeUnit, index: number): number {
  const bytes = s.rnglists ?? new Uint8Array(0);
  const base = u.rnglistsBase ?? (u.offsetSize === 8 ? 20 : 12);
  const c = new Cursor('.debug_rnglists', bytes, base - 4);
  // The table's header ends with its offset entry count, just before `base`.
  const count = c.u32();
  if (index >= count) c.fail(`range list index ${index} past the table's ${count} offsets`, base);
  c.pos = base + index * u.offsetSize;
  return base + c.uN(u.offsetSize);
}

/** Appends the ranges of the DWARF 5 list at `offset` of .debug_rnglists to `out` (pairs). */
function rangesV5(s: DebugSections, u: RangeUnit, offset: number, out: number[]): void {
  const c = new Cursor('.debug_rnglists', s.rnglists ?? new Uint8Array(0), offset);
  if (!(offset >= 0 && offset < c.end)) c.fail('range list offset out of the section', offset);
  const ones = allOnes(u.addrSize);
  let base = u.base;
  for (;;) {
    const at = c.pos;
    const kind = c.u8();
    let lo: number, hi: number;
    switch (kind) {
      case 0:
        return; // end_of_list
      case 1:
        base = addrAt(s, u, c.uleb());
        continue; // base_addressx
      case 5:
        base = readAddr(c, u.addrSize);
        continue; // base_address
      case 2:
        lo = addrAt(s, u, c.uleb());
        hi = addrAt(s, u, c.uleb());
        break; // startx_endx
      case 3:
        lo = addrAt(s, u, c.uleb());
        hi = lo + c.uleb();
        break; // startx_length
      case 4: {
        // offset_pair
        const a = c.uleb(),
          b = c.uleb();
        if (base === ones) continue;
        lo = base !== undefined ? a + base : a;
        hi = base !== undefined ? b + base : b;
        break;
      }
      case 6:
        lo = readAddr(c, u.addrSize);
        hi = readAddr(c, u.addrSize);
        break; // start_end
      case 7:
        lo = readAddr(c, u.addrSize);
        hi = lo + c.uleb();
        break; // start_length
      default:
        return c.fail(`unknown range list entry kind ${kind}`, at);
    }
    if (lo !== ones) out.push(lo, hi);
  }
}

/** The ranges of a DW_AT_ranges value (`kind` Const: an offset; RngListX: an index). */
export function readRanges(s: DebugSections, u: RangeUnit, k: Kind, v: number, out: number[]): void {
  if (u.version <= 4) return rangesV4(s, u, v, out);
  rangesV5(s, u, k === Kind.RngListX ? rnglistOffset(s, u, v) : v, out);
}
