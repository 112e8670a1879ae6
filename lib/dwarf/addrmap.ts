import { upperBound } from './line.js';

/**
 * LLVM's per-unit map from addresses to the innermost subroutine DIE (DWARFUnit's
 * AddrDieMap, a std::map): ranges are added parent first; a range inside an earlier one
 * splits it. Built from all the ranges at once, in O(n log n) whatever their order (see
 * bySplicing and byTree), and kept as arrays sorted by low address: `die[i]` covers
 * [low[i], high[i]).
 */
export class AddrDieMap {
  low: number[] = [];
  high: number[] = [];
  die: number[] = [];

  /** `ranges`: (low, high, die) triples, in the order LLVM adds them. */
  constructor(ranges: number[]) {
    if (!this.bySplicing(ranges)) this.byTree(ranges);
  }

  /**
   * The map as LLVM builds it, in sorted arrays with insertions in place: fast where DIEs
   * come in address order (each insertion at or near the end), quadratic where they do not.
   * So it gives up (false, the arrays emptied) once the elements it has moved exceed a
   * bound linear in the ranges.
   */
  private bySplicing(ranges: number[]): boolean {
    let budget = 8 * ranges.length + 1024;
    const { low, high, die } = this;
    // 0: over budget; 1: an entry replaced; 2: one inserted.
    const put = (key: number, h: number, d: number): number => {
      const i = upperBound(low, 0, low.length, key);
      if (i > 0 && low[i - 1] === key) {
        high[i - 1] = h;
        die[i - 1] = d;
        return 1;
      }
      if ((budget -= low.length - i) < 0) return 0;
      if (i === low.length) {
        low.push(key);
        high.push(h);
        die.push(d);
      } else {
        low.splice(i, 0, key);
        high.splice(i, 0, h);
        die.splice(i, 0, d);
      }
      return 2;
    };
    for (let r = 0; r + 2 < ranges.length; r += 3) {
      const lowPc = ranges[r]!,
        highPc = ranges[r + 1]!,
        d = ranges[r + 2]!;
      if (lowPc === highPc) continue;
      let b = upperBound(low, 0, low.length, lowPc) - 1;
      if (b >= 0 && lowPc < high[b]!) {
        const bLow = low[b]!,
          bHigh = high[b]!,
          bDie = die[b]!;
        if (highPc < bHigh) {
          const done = put(highPc, bHigh, bDie);
          if (done === 0) break;
          // LLVM changes the entry by its key: one inserted before it (a range ending
          // before it starts) moves it.
          if (done === 2 && highPc < bLow) b++;
        }
        if (lowPc > bLow) high[b] = lowPc;
      }
      if (put(lowPc, highPc, d) === 0) break;
    }
    if (budget >= 0) return true;
    low.length = high.length = die.length = 0;
    return false;
  }

  /**
   * The same map in O(n log n) whatever the order: every key the map ever holds is the low
   * or high end of some range, so the keys are known up front and the map is a presence bit
   * per key, with a Fenwick tree to find the last key present at or below an address.
   */
  private byTree(ranges: number[]): void {
    let e = 0;
    const ends = new Float64Array(2 * Math.floor(ranges.length / 3));
    for (let i = 0; i + 2 < ranges.length; i += 3) {
      if (ranges[i] === ranges[i + 1]) continue;
      ends[e++] = ranges[i]!;
      ends[e++] = ranges[i + 1]!;
    }
    const keys = ends.subarray(0, e).sort();
    let n = 0;
    for (let i = 0; i < keys.length; i++) if (i === 0 || keys[i] !== keys[n - 1]) keys[n++] = keys[i]!;
    const present = new Uint8Array(n),
      high = new Float64Array(n),
      die = new Int32Array(n),
      tree = new Int32Array(n + 1);
    let top = 1;
    while (top * 2 <= n) top *= 2;
    for (let r = 0; r + 2 < ranges.length; r += 3) {
      const lowPc = ranges[r]!,
        highPc = ranges[r + 1]!,
        d = ranges[r + 2]!;
      if (lowPc === highPc) continue;
      const li = keyIndex(keys, n, lowPc);
      const b = lastPresent(tree, n, top, li);
      if (b >= 0 && lowPc < high[b]!) {
        const bHigh = high[b]!,
          bDie = die[b]!;
        if (highPc < bHigh) put(present, tree, n, high, die, keyIndex(keys, n, highPc), bHigh, bDie);
        if (lowPc > keys[b]!) high[b] = lowPc;
      }
      put(present, tree, n, high, die, li, highPc, d);
    }
    for (let i = 0; i < n; i++) {
      if (!present[i]) continue;
      this.low.push(keys[i]!);
      this.high.push(high[i]!);
      this.die.push(die[i]!);
    }
  }

  private last = -1;
  private cursor = 0;

  /**
   * The DIE for `address`, or -1. The keys are strictly ascending, so for ascending
   * addresses the upper bound moves forward from the last one (an address below the one
   * before starts over).
   */
  find(address: number): number {
    if (address < this.last) this.cursor = 0;
    this.last = address;
    const low = this.low,
      n = low.length;
    let u = this.cursor;
    while (u < n && low[u]! <= address) u++;
    this.cursor = u;
    const r = u - 1;
    if (r < 0 || address >= this.high[r]!) return -1;
    return this.die[r]!;
  }
}

/** The index of key x (present among the n sorted keys). */
function keyIndex(keys: Float64Array, n: number, x: number): number {
  let lo = 0,
    hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The last key present at or below key i, or -1 (`top`: the largest power of 2 up to n). */
function lastPresent(tree: Int32Array, n: number, top: number, i: number): number {
  let count = 0;
  for (let k = i + 1; k > 0; k -= k & -k) count += tree[k]!;
  if (count === 0) return -1;
  // The position of the count-th present key.
  let pos = 0;
  for (let step = top; step > 0; step >>= 1)
    if (pos + step <= n && tree[pos + step]! < count) {
      pos += step;
      count -= tree[pos]!;
    }
  return pos;
}

/** Key i present, covering up to h for die d. */
function put(
  present: Uint8Array,
  tree: Int32Array,
  n: number,
  high: Float64Array,
  die: Int32Array,
  i: number,
  h: number,
  d: number,
): void {
  if (!present[i]) {
    present[i] = 1;
    for (let k = i + 1; k <= n; k += k & -k) tree[k]!++;
  }
  high[i] = h;
  die[i] = d;
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
    // The ends of every range: where (at), whether it starts one, and the unit's offset and
    // index; in address order, a stable sort (ties keep this order).
    const at: number[] = [],
      isStart: boolean[] = [],
      offsets: number[] = [],
      indices: number[] = [];
    for (const r of ranges) {
      for (let i = 0; i + 1 < r.pairs.length; i += 2) {
        if (!(r.pairs[i]! < r.pairs[i + 1]!)) continue;
        at.push(r.pairs[i]!, r.pairs[i + 1]!);
        isStart.push(true, false);
        offsets.push(r.offset, r.offset);
        indices.push(r.index, r.index);
      }
    }
    let order: number[] | undefined; // undefined: already in order (one unit's ascending ranges)
    for (let i = 1; i < at.length; i++)
      if (at[i]! < at[i - 1]!) {
        order = Array.from({ length: at.length }, (_, k) => k);
        order.sort((a, b) => at[a]! - at[b]! || a - b);
        break;
      }
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
    for (let k = 0; k < at.length; k++) {
      const e = order === undefined ? k : order[k]!;
      const eAt = at[e]!,
        eOffset = offsets[e]!;
      if (prev >= 0 && prev < eAt && valid.size > 0) {
        const n = this.low.length;
        if (n > 0 && this.high[n - 1] === prev && valid.has(lastUnitOffset)) this.high[n - 1] = eAt;
        else {
          const l = lowest();
          this.low.push(prev);
          this.high.push(eAt);
          this.unit.push(l.index);
          lastUnitOffset = l.offset;
        }
      }
      const v = valid.get(eOffset);
      if (isStart[e]) valid.set(eOffset, { count: (v?.count ?? 0) + 1, index: indices[e]! });
      else if (v !== undefined) {
        if (v.count > 1) v.count--;
        else valid.delete(eOffset);
      }
      prev = eAt;
    }
  }

  private last = -1;
  private cursor = 0;

  /**
   * The index of the unit for `address`, or -1: partition_point(high <= address). The sweep
   * makes the pieces ascending, so for ascending addresses the point moves forward from the
   * last one (an address below the one before starts over).
   */
  find(address: number): number {
    if (address < this.last) this.cursor = 0;
    this.last = address;
    const high = this.high,
      n = high.length;
    let lo = this.cursor;
    while (lo < n && high[lo]! <= address) lo++;
    this.cursor = lo;
    return lo < this.low.length && this.low[lo]! <= address ? this.unit[lo]! : -1;
  }
}
