import { upperBound } from './line.js';

/**
 * LLVM's per-unit map from addresses to the innermost subroutine DIE (DWARFUnit's
 * AddrDieMap): ranges are added parent first; a range inside an earlier one splits it.
 * Kept as arrays sorted by low address; `die[i]` covers [low[i], high[i]).
 */
export class AddrDieMap {
  low: number[] = [];
  high: number[] = [];
  die: number[] = [];

  private put(key: number, high: number, die: number): void {
    const i = upperBound(this.low, 0, this.low.length, key);
    if (i > 0 && this.low[i - 1] === key) {
      this.high[i - 1] = high;
      this.die[i - 1] = die;
      return;
    }
    this.low.splice(i, 0, key);
    this.high.splice(i, 0, high);
    this.die.splice(i, 0, die);
  }

  add(lowPc: number, highPc: number, die: number): void {
    if (lowPc === highPc) return;
    const b = upperBound(this.low, 0, this.low.length, lowPc) - 1;
    if (b >= 0 && lowPc < this.high[b]!) {
      const bLow = this.low[b]!,
        bHigh = this.high[b]!,
        bDie = this.die[b]!;
      if (highPc < bHigh) this.put(highPc, bHigh, bDie);
      if (lowPc > bLow) this.high[b] = lowPc;
    }
    this.put(lowPc, highPc, die);
  }

  /** The DIE for `address`, or -1. */
  find(address: number): number {
    const r = upperBound(this.low, 0, this.low.length, address) - 1;
    if (r < 0 || address >= this.high[r]!) return -1;
    return this.die[r]!;
  }
}

/**
 * LLVM's address-to-unit map (DWARFDebugAranges built from the units' ranges): an endpoint
 * sweep where a range keeps its unit while that unit still covers the next piece, and a new
 * piece goes to the covering unit of lowest offset.
 */
export class UnitRanges {
  low: number[] = [];
  high: number[] = [];
  unit: number[] = [];

  constructor(ranges: { offset: number; index: number; pairs: number[] }[]) {
    const ends: { at: number; start: boolean; offset: number; index: number }[] = [];
    for (const r of ranges) {
      for (let i = 0; i + 1 < r.pairs.length; i += 2) {
        if (!(r.pairs[i]! < r.pairs[i + 1]!)) continue;
        ends.push({ at: r.pairs[i]!, start: true, offset: r.offset, index: r.index });
        ends.push({ at: r.pairs[i + 1]!, start: false, offset: r.offset, index: r.index });
      }
    }
    ends.sort((a, b) => a.at - b.at);
    // The covering units, by offset (a multiset: a unit can cover an address twice).
    const valid = new Map<number, { count: number; index: number }>();
    let prev = -1,
      lastUnitOffset = -1;
    const lowest = (): { offset: number; index: number } => {
      let best = -1,
        index = -1;
      for (const [off, v] of valid)
        if (best < 0 || off < best) {
          best = off;
          index = v.index;
        }
      return { offset: best, index };
    };
    for (const e of ends) {
      if (prev >= 0 && prev < e.at && valid.size > 0) {
        const n = this.low.length;
        if (n > 0 && this.high[n - 1] === prev && valid.has(lastUnitOffset)) this.high[n - 1] = e.at;
        else {
          const l = lowest();
          this.low.push(prev);
          this.high.push(e.at);
          this.unit.push(l.index);
          lastUnitOffset = l.offset;
        }
      }
      const v = valid.get(e.offset);
      if (e.start) valid.set(e.offset, { count: (v?.count ?? 0) + 1, index: e.index });
      else if (v !== undefined) {
        if (v.count > 1) v.count--;
        else valid.delete(e.offset);
      }
      prev = e.at;
    }
  }

  /** The index of the unit for `address`, or -1. */
  find(address: number): number {
    // partition_point(high <= address)
    let lo = 0,
      hi = this.high.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.high[mid]! <= address) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.low.length && this.low[lo]! <= address ? this.unit[lo]! : -1;
  }
}
