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
  constructor(ranges: ArrayLike<number>) {
    if (!this.bySplicing(ranges)) this.byTree(ranges);
  }

  /**
   * The map as LLVM builds it, in sorted arrays with insertions in place: fast where DIEs
   * come in address order (each insertion at or near the end), quadratic where they do not.
   * So it gives up (false, the arrays emptied) once the elements it has moved exceed a
   * bound linear in the ranges.
   */
  private bySplicing(ranges: ArrayLike<number>): boolean {
    let budget = 8 * ranges.length + 1024;
    const { low, high, die } = this;
    // 0: over budget; 1: an entry replaced; 2: one inserted.
    // The upper bound of a key in `low`, at once for one past the last (the usual case).
    const after = (key: number): number => {
      const n = low.length;
      return n === 0 || key > low[n - 1]! ? n : upperBound(low, 0, n, key);
    };
    const put = (key: number, h: number, d: number): number => {
      const i = after(key);
      if (i > 0 && low[i - 1] === key) {
        high[i - 1] = h;
        die[i - 1] = d;
        return 1;
      }
      if ((budget -= low.length - i) < 0) return 0;
      // Moved up by hand: splice builds an array of what it removes.
      low.push(key);
      high.push(h);
      die.push(d);
      for (let k = low.length - 1; k > i; k--) {
        low[k] = low[k - 1]!;
        high[k] = high[k - 1]!;
        die[k] = die[k - 1]!;
      }
      low[i] = key;
      high[i] = h;
      die[i] = d;
      return 2;
    };
    for (let r = 0; r + 2 < ranges.length; r += 3) {
      const lowPc = ranges[r]!,
        highPc = ranges[r + 1]!,
        d = ranges[r + 2]!;
      if (lowPc === highPc) continue;
      let b = after(lowPc) - 1;
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
  private byTree(ranges: ArrayLike<number>): void {
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
    const order = stableOrder(at); // undefined: already in order (one unit's ascending ranges)
    // The covering units, by offset (a multiset: a unit can cover an address twice), and a
    // min-heap of their offsets for the lowest one; an offset whose count fell to 0 leaves
    // the heap lazily, when it comes to the top. The heap holds at most one entry per start.
    const valid = new Map<number, { count: number; index: number }>();
    const heap = new OffsetHeap();
    let prev = -1,
      lastUnitOffset = -1;
    for (let k = 0; k < at.length; k++) {
      const e = order === undefined ? k : order[k]!;
      const eAt = at[e]!,
        eOffset = offsets[e]!;
      if (prev >= 0 && prev < eAt && valid.size > 0) {
        const n = this.low.length;
        if (n > 0 && this.high[n - 1] === prev && valid.has(lastUnitOffset)) this.high[n - 1] = eAt;
        else {
          while (!valid.has(heap.top())) heap.pop();
          lastUnitOffset = heap.top();
          this.low.push(prev);
          this.high.push(eAt);
          this.unit.push(valid.get(lastUnitOffset)!.index);
        }
      }
      const v = valid.get(eOffset);
      if (isStart[e]) {
        if (v === undefined) {
          heap.push(eOffset);
          valid.set(eOffset, { count: 1, index: indices[e]! });
        } else {
          v.count++;
          v.index = indices[e]!;
        }
      } else if (v !== undefined) {
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

/**
 * The indices of `at` in ascending order of their values, ties in index order; undefined
 * when `at` is ascending already. A natural merge sort: the ascending runs (each unit's
 * ranges, as producers write them) merged in pairs, O(n log runs).
 */
function stableOrder(at: number[]): Int32Array | undefined {
  const n = at.length;
  const runs: number[] = [0];
  for (let i = 1; i < n; i++) if (at[i]! < at[i - 1]!) runs.push(i);
  if (runs.length === 1) return undefined;
  runs.push(n);
  let a = new Int32Array(n),
    b = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  let bounds = runs;
  while (bounds.length > 2) {
    const next: number[] = [0];
    for (let r = 0; r + 1 < bounds.length; r += 2) {
      const lo = bounds[r]!,
        mid = bounds[r + 1]!,
        hi = r + 2 < bounds.length ? bounds[r + 2]! : mid;
      let i = lo,
        j = mid,
        k = lo;
      // Stable: on equal values the left run's (lower indices) comes first.
      while (i < mid && j < hi) b[k++] = at[a[j]!]! < at[a[i]!]! ? a[j++]! : a[i++]!;
      while (i < mid) b[k++] = a[i++]!;
      while (j < hi) b[k++] = a[j++]!;
      next.push(hi);
    }
    [a, b] = [b, a];
    bounds = next;
  }
  return a;
}

/** A binary min-heap of numbers. */
class OffsetHeap {
  private readonly a: number[] = [];

  top(): number {
    return this.a[0]!;
  }

  push(x: number): void {
    const a = this.a;
    let i = a.length;
    a.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= x) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = x;
  }

  pop(): void {
    const a = this.a;
    const x = a.pop()!;
    const n = a.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && a[c + 1]! < a[c]!) c++;
      if (a[c]! >= x) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = x;
  }
}
