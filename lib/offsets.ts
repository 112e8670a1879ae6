/**
 * Lookups by offset (FORMAT.md 5, funcByOffset): the offset index (FORMAT.md 3.4) narrows
 * the search of `.fk.func_locs` to one bucket, then the key of the position found. Mirrored
 * by native/offsets.cc.
 */
import { Lit } from './format.js';
import type { Tables } from './open.js';
import { Mode, bitmapSelect, bucketSelect } from './table.js';

/** Position in func_locs of the function containing offset, or -1. */
function posOfOffset(t: Tables, offset: number): number {
  const locs = t.locs;
  const F = t.F;
  if (F === 0) return -1;
  // The offset index narrows the search to the functions of one bucket (FORMAT.md 3.4).
  const idx = t.offsetIndex;
  const b = offset >>> t.offsetShift;
  let lo: number;
  let hi: number;
  if (b + 1 < t.offsetCount) {
    lo = idx[b]!;
    hi = idx[b + 1]! + 1;
  } else {
    lo = idx[t.offsetCount - 1]!;
    hi = F;
  }
  if (hi > F) hi = F;
  if (lo > hi) lo = hi;
  // A range of at most OFFSET_SCAN entries (an index bucket holds 8 to 16 on average) is
  // scanned up to its first start past offset (FORMAT.md section 5): one mispredicted branch,
  // where a binary search mispredicts at about every other step. A longer range (no index, a
  // crowded bucket) is searched.
  if (hi - lo <= Lit.OFFSET_SCAN) {
    while (lo < hi && locs[2 * lo]! <= offset) lo++;
  } else {
    while (lo < hi) {
      const mid = lo + ((hi - lo) >>> 1);
      if (locs[2 * mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
  }
  const p = lo - 1;
  if (p < 0) return -1;
  const start = locs[2 * p]!;
  if (start > offset || offset - start >= locs[2 * p + 1]!) return -1;
  return p;
}

/** Writes the key at position p to out[k], out[k + 1]. */
function keyAt(t: Tables, p: number, out: Uint32Array, k: number): void {
  const fls = t.funcLocStarts;
  let lo = 0;
  let hi = t.N;
  while (lo < hi) {
    const mid = lo + ((hi - lo) >>> 1);
    if (fls[mid]! <= p) lo = mid + 1;
    else hi = mid;
  }
  const i = lo - 1;
  const namespace = t.ns[i]!;
  const d = p - fls[i]!;
  out[k] = namespace;
  const mode = t.nsp[i]!.mode;
  if (mode === Mode.INDEXED) out[k + 1] = d;
  else if (mode === Mode.SORTED) out[k + 1] = t.sparse[t.sparseStarts[i]! + d]!;
  else if (mode === Mode.BITMAP) out[k + 1] = bitmapSelect(t, i, d, namespace);
  else out[k + 1] = bucketSelect(t, i, d, namespace);
}

/** Writes (namespace, index) of the function containing offset to out[0], out[1] and returns true, or returns false. */
export function funcByOffset(t: Tables, offset: number, out: Uint32Array): boolean {
  const p = posOfOffset(t, offset);
  if (p < 0) return false;
  keyAt(t, p, out, 0);
  return true;
}

/** funcByOffset for a batch (FORMAT.md 5, batch forms): absent keys give (NONE, NONE). */
export function funcsByOffset(t: Tables, offsets: Uint32Array, namespaces: Uint32Array, indices: Uint32Array): void {
  const pair = new Uint32Array(2);
  for (let k = 0; k < offsets.length; k++) {
    const p = posOfOffset(t, offsets[k]!);
    if (p < 0) {
      namespaces[k] = Lit.NONE;
      indices[k] = Lit.NONE;
    } else {
      keyAt(t, p, pair, 0);
      namespaces[k] = pair[0]!;
      indices[k] = pair[1]!;
    }
  }
}
