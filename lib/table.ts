/**
 * Lookups by key (FORMAT.md 5, funcLoc): the namespace, then its index by its encoding
 * (dense, sorted, bitmap, buckets, direct: FORMAT.md 3.1, 3.3), and the reverse, the index
 * of the d-th entry of a sparse run (bitmapSelect, bucketSelect) that a lookup by offset
 * needs. Mirrored by native/table.cc.
 */
import { Lit } from './format.js';
import { fail, type Tables } from './open.js';

/**
 * How a namespace is looked up: by index (dense, or sparse stored directly), or by one of the
 * three index encodings. A const enum, so that tsc writes the values into the lookups.
 */
export const enum Mode {
  INDEXED = 0,
  SORTED = 1,
  BITMAP = 2,
  BUCKETS = 3,
}

/**
 * What a lookup needs of one namespace, copied at open from the words it validated. One
 * object per namespace, every field a small integer set in the constructor, so that all of
 * them share one hidden class and a lookup reads each field with one load: through typed
 * arrays, each would be an index computation and a bounds check, and more bytecode (which
 * decides whether V8 inlines a lookup into its caller).
 */
export class Nsp {
  /** Mode.* */
  mode = 0;
  /** Its run in .fk.func_locs: [fs, fs + run). */
  fs = 0;
  run = 0;
  /** Bitmap: its blocks in .fk.sparse_bitmaps, [a, a + b). Sorted: its run of .fk.sparse_indices, [a, b). */
  a = 0;
  b = 0;
  /** Buckets (FORMAT.md 3.3): shift k, bucket count nb, filter shift f and filter words fw. */
  k = 0;
  nb = 0;
  f = 0;
  fw = 0;
  /** Where the filter, superblocks (u32 elements), ranks (u16) and low parts (u8 if k <= 8, else u16) start in .fk.sparse_buckets. */
  filter = 0;
  sup = 0;
  rel = 0;
  low = 0;
  constructor(readonly i: number) {}
}

const bitmapDamaged = (namespace: number) => `the sparse bitmap of namespace 0x${namespace.toString(16)} is damaged`;
const bucketsDamaged = (namespace: number) => `the sparse buckets of namespace 0x${namespace.toString(16)} are damaged`;

/** Bit count of a u32, in int32 operations only (no Math.imul call: less bytecode to inline). */
function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  x += x >>> 8;
  return (x + (x >>> 16)) & 0x3f;
}

/**
 * The position of a namespace in the table, or -1. Namespaces ascend, so those of one kind
 * are consecutive and, when their low bits count 0, 1, 2, ... (module m's functions, with
 * every module having some), the one wanted is at kindFirst[kind] + low: one read for any
 * namespace of a usual table, wherever it lies. Otherwise, a search.
 */
function findNs(t: Tables, namespace: number): number {
  const g = t.kindFirst[namespace >>> 28]! + (namespace & Lit.LOW_MASK);
  if (g < t.N && t.ns[g] === namespace) return g;
  return searchNs(t, namespace);
}

function searchNs(t: Tables, namespace: number): number {
  const a = t.ns;
  const n = t.N;
  if (n <= Lit.LINEAR_NS) {
    for (let i = 0; i < n; i++) if (a[i] === namespace) return i;
    return -1;
  }
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = lo + ((hi - lo) >>> 1);
    if (a[mid]! < namespace) lo = mid + 1;
    else hi = mid;
  }
  return lo < n && a[lo] === namespace ? lo : -1;
}

/** Position of the key in func_locs, or -1 (absent or a hole). Sets t.lastNs. */
export function pos(t: Tables, namespace: number, index: number): number {
  const i = findNs(t, namespace);
  if (i < 0) return -1;
  const P = t.nsp[i]!;
  const m = P.mode;
  // The sparse encodings are kept out of line so that the dense path stays small.
  const d =
    m === Mode.INDEXED
      ? index < P.run
        ? index
        : -1
      : m === Mode.BUCKETS
        ? bucketPos(t, P, index)
        : sparsePos(t, P, index);
  if (d < 0) return -1;
  const p = P.fs + d;
  if (t.locs[2 * p + 1] === 0) return -1;
  t.lastNs = i;
  return p;
}

/** The position of index in bitmap or sorted namespace P's run (-1: absent); buckets go to bucketPos. */
function sparsePos(t: Tables, P: Nsp, index: number): number {
  if (P.mode !== Mode.BITMAP) return sortedPos(t, P, index);
  // Rank bitmap (FORMAT.md 3.3): one pair read, one popcount.
  const blk = index >>> 5;
  if (blk >= P.b) return -1;
  const w = 2 * (P.a + blk);
  const bits = t.bitmaps[w + 1]!;
  const bit = index & 31;
  if (((bits >>> bit) & 1) === 0) return -1;
  const d = t.bitmaps[w]! + popcount32(bits & ~(-1 << bit));
  if (d >= P.run) damaged(t, P);
  return d;
}

/** E_CORRUPT for the bitmap or bucket run of namespace P (out of the lookups' code). */
function damaged(t: Tables, P: Nsp): never {
  const n = t.ns[P.i]!;
  fail('E_CORRUPT', P.mode === Mode.BITMAP ? bitmapDamaged(n) : bucketsDamaged(n));
}

/** The position of index in sorted namespace P's run (-1: absent). */
function sortedPos(t: Tables, P: Nsp, index: number): number {
  const a = t.sparse;
  const s0 = P.a;
  const s1 = P.b;
  let lo = s0;
  let hi = s1;
  while (lo < hi) {
    const mid = lo + ((hi - lo) >>> 1);
    if (a[mid]! < index) lo = mid + 1;
    else hi = mid;
  }
  if (lo === s1 || a[lo] !== index) return -1;
  return lo - s0;
}

/**
 * Buckets (FORMAT.md 3.3, 5). Most absent indices stop at the filter bit; then two u16
 * ranks and a superblock word give the bucket's start s and count c among the present
 * indices, and a scan of its u8 low parts finds the index. What is rare (u16 low parts, a
 * bucket of more than four, a damaged run) is left to bucketTail, so that this
 * stays small enough for V8 to inline (its bytecode under --max-inlined-bytecode-size).
 */
function bucketPos(t: Tables, P: Nsp, index: number): number {
  // Each view read once into a local (one map check each), and sums of positions within a
  // section (below 2^31 elements of u16 or wider) truncated to int32: no overflow checks.
  const b32 = t.buckets32;
  const b16 = t.buckets16;
  const u = index >>> P.f;
  const tw = u >>> 5;
  if (tw >= P.fw || ((b32[(P.filter + tw) | 0]! >>> (u & 31)) & 1) === 0) return -1;
  const k = P.k;
  const b = index >>> k;
  if (b >= P.nb) return -1;
  const r = (P.rel + b) | 0;
  const r0 = b16[r]!;
  const c = (b16[(r + 1) | 0]! - r0) & 0xffff;
  if (c === 0) return -1;
  const sup = b32[(P.sup + (index >>> 16)) | 0]!;
  const s = sup + ((r0 - sup) & 0xffff);
  const x = index & ((1 << k) - 1);
  const o = P.low + s;
  if (c > Lit.BUCKET_SCAN || k > 8 || s + c > P.run) return bucketTail(t, P, s, c, o, x);
  // s + c <= K < 2^29 (K entries of 8 bytes lie in a file below 4 GiB): o is exact as an int32.
  // A present index is most often the bucket's first (buckets hold one or two): the scan's
  // answer then, without entering its loop.
  const low = t.buckets8;
  if (low[o] === x) return s;
  let j = 0;
  while (j < c && low[o + j]! < x) j++;
  return j < c && low[o + j] === x ? s + j : -1;
}

/** bucketPos for a damaged run, u16 low parts or more than four of them (c >= 1). */
function bucketTail(t: Tables, P: Nsp, s: number, c: number, o: number, x: number): number {
  if (s > P.run || c > P.run - s) damaged(t, P);
  if (P.k <= 8) {
    const j = lowerBound8(t.buckets8, o, 0, c, x);
    return j < c && t.buckets8[o + j] === x ? s + j : -1;
  }
  const u = searchLow16(t.buckets16, o, c, x);
  return u < 0 ? -1 : s + u;
}

/*
 * The search of FORMAT.md 5 for the low part x among the c >= 1 u16 low parts of a bucket at
 * low[o ..]: its position in the bucket, or -1. Up to 4 parts, the linear scan as written
 * there (the writer sizes buckets to hold about one or two present indices, so it stops after
 * a step or two); larger buckets, the lower_bound loop. bucketPos does the same for u8 low
 * parts itself; the two are kept apart so that each typed-array read stays monomorphic.
 */
function searchLow16(low: Uint16Array, o: number, c: number, x: number): number {
  let j = 0;
  if (c <= Lit.BUCKET_SCAN) while (j < c && low[o + j]! < x) j++;
  else j = lowerBound16(low, o, 0, c, x);
  return j < c && low[o + j] === x ? j : -1;
}

/** lower_bound over a[o + lo .. o + hi) for x (FORMAT.md 5), as a position in [lo, hi]; lowerBound8 for u8. */
function lowerBound16(a: Uint16Array, o: number, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = lo + ((hi - lo) >>> 1);
    if (a[o + mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lowerBound8(a: Uint8Array, o: number, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = lo + ((hi - lo) >>> 1);
    if (a[o + mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Start of bucket b of buckets namespace P among its present indices (FORMAT.md 3.3). */
function bucketStart(t: Tables, P: Nsp, b: number): number {
  const sup = t.buckets32[P.sup + Math.floor(b / 2 ** (16 - P.k))]!;
  return sup + ((t.buckets16[P.rel + b]! - sup) & 0xffff);
}

/** The index of entry d of buckets namespace i: the bucket by its start, then the low part. */
export function bucketSelect(t: Tables, i: number, d: number, namespace: number): number {
  const P = t.nsp[i]!;
  let lo = 0;
  let hi = P.nb;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (bucketStart(t, P, mid) <= d) lo = mid + 1;
    else hi = mid;
  }
  const u = lo - 1;
  const k = P.k;
  const o = P.low;
  const low = k <= 8 ? t.buckets8[o + d]! : t.buckets16[o + d]!;
  if (u < 0 || low >= 2 ** k) fail('E_CORRUPT', bucketsDamaged(namespace));
  return u * 2 ** k + low;
}

/** The index of entry d of bitmap namespace i: the block by its rank, then the bit. */
export function bitmapSelect(t: Tables, i: number, d: number, namespace: number): number {
  const bm = t.bitmaps;
  const b0 = t.bitmapStarts[i]!;
  let lo = 0;
  let hi = t.bitmapStarts[i + 1]! - b0;
  while (lo < hi) {
    const mid = lo + ((hi - lo) >>> 1);
    if (bm[2 * (b0 + mid)]! <= d) lo = mid + 1;
    else hi = mid;
  }
  const j = lo - 1;
  if (j < 0) fail('E_CORRUPT', bitmapDamaged(namespace));
  let bits = bm[2 * (b0 + j) + 1]!;
  const r = d - bm[2 * (b0 + j)]!;
  if (r >= popcount32(bits)) fail('E_CORRUPT', bitmapDamaged(namespace));
  for (let k = 0; k < r; k++) bits &= bits - 1;
  const index = j * 32 + (31 - Math.clz32(bits & -bits));
  if (index > 0xffffffff) fail('E_CORRUPT', bitmapDamaged(namespace));
  return index;
}

/** funcLoc for a batch (FORMAT.md 5, batch forms): absent keys give (NONE, 0). */
export function funcLocs(
  t: Tables,
  namespaces: Uint32Array,
  indices: Uint32Array,
  starts: Uint32Array,
  lengths: Uint32Array,
): void {
  const locs = t.locs;
  // The namespace of the keys (its Nsp), looked up again only when the namespace changes;
  // the one before it is kept too, so that keys alternating between two namespaces (a
  // function and its trampoline) look up neither.
  let lastNs = -1;
  let P: Nsp | null = null;
  let lastNs2 = -1;
  let P2: Nsp | null = null;
  for (let k = 0; k < namespaces.length; k++) {
    const namespace = namespaces[k]!;
    const index = indices[k]!;
    if (namespace !== lastNs) {
      const u = lastNs;
      const uP: Nsp | null = P;
      if (namespace === lastNs2) {
        lastNs = lastNs2;
        P = P2;
      } else {
        lastNs = namespace;
        const i = findNs(t, namespace);
        P = i < 0 ? null : t.nsp[i]!;
      }
      lastNs2 = u;
      P2 = uP;
    }
    let p = -1;
    if (P === null) {
      // No such namespace: no answer.
    } else if (P.mode === Mode.INDEXED) {
      if (index < P.run) p = P.fs + index;
    } else if (P.mode === Mode.BITMAP) {
      // As sparsePos, computed whether or not the index is present, so that the batch does
      // not branch on it: a block beyond the run reads block 0 (a bitmap run has one) and
      // is no answer; only a present index whose rank points past the run is E_CORRUPT.
      const blk = index >>> 5;
      const inRun = blk < P.b ? 1 : 0;
      const w = 2 * (P.a + blk * inRun);
      const bits = t.bitmaps[w + 1]!;
      const bit = index & 31;
      const hit = inRun & (bits >>> bit);
      const d = t.bitmaps[w]! + popcount32(bits & ~(-1 << bit));
      if (hit === 1 && d >= P.run) fail('E_CORRUPT', bitmapDamaged(namespace));
      const q = P.fs + d * hit;
      const length = locs[2 * q + 1]!;
      const ok = hit === 1 && length !== 0;
      starts[k] = ok ? locs[2 * q]! : Lit.NONE;
      lengths[k] = ok ? length : 0;
      continue;
    } else {
      const d = P.mode === Mode.BUCKETS ? bucketPos(t, P, index) : sparsePos(t, P, index);
      if (d >= 0) p = P.fs + d;
    }
    const length = p < 0 ? 0 : locs[2 * p + 1]!;
    if (length === 0) {
      // Absent, or a hole of a dense or direct run.
      starts[k] = Lit.NONE;
      lengths[k] = 0;
    } else {
      starts[k] = locs[2 * p]!;
      lengths[k] = length;
    }
  }
}
