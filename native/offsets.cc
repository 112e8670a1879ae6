// Lookups by offset (FORMAT.md 5, funcByOffset): the offset index (FORMAT.md 3.4) narrows
// the search of .fk.func_locs to one bucket, then the key of the position found. Mirrors
// lib/offsets.ts function for function.
#include "reader.h"

namespace funckey {

int64_t Reader::PosOfOffset(uint32_t offset) const {
  if (f_ == 0) return -1;
  // The offset index narrows the search to one bucket's functions (FORMAT.md 3.4). Open
  // established C >= 1 here; entries are not trusted: the range is clamped into [0, F].
  const uint32_t b = offset >> shift_;
  uint64_t lo, hi;
  if (static_cast<uint64_t>(b) + 1 < c_) {
    lo = Ld(offset_index_, b);
    hi = static_cast<uint64_t>(Ld(offset_index_, static_cast<size_t>(b) + 1)) + 1;
  } else {
    lo = Ld(offset_index_, c_ - 1);
    hi = f_;
  }
  if (hi > f_) hi = f_;
  if (lo > hi) lo = hi;
  // The bucket's entries (8 to 16 on average, one to three cache lines): all their lines asked
  // for at once, so that their misses overlap instead of following the search step by step.
  if (lo < hi && hi - lo <= 64) {
    for (uint64_t q = lo; q < hi; q += 8) Prefetch(locs_ + 8 * q);
    Prefetch(locs_ + 8 * (hi - 1));
  }
  // A range of at most kOffsetScan entries (an index bucket holds 8 to 16 on average) is
  // scanned for its first start past offset (FORMAT.md section 5): one bit per entry, set where
  // the start lies past offset, then the lowest set bit. The loads do not wait on each other
  // and nothing branches on what they read; the search's steps each wait on the one before.
  // A longer range (no index, a crowded bucket) is searched.
  uint32_t j;
  if (hi - lo <= kOffsetScan) {
    uint32_t past = 0;
    for (uint64_t q = lo; q < hi; q++) past |= static_cast<uint32_t>(Ld(locs_, 2 * q) > offset) << (q - lo);
    j = static_cast<uint32_t>(past != 0 ? lo + static_cast<uint32_t>(__builtin_ctz(past)) : hi);
  } else {
    j = Search<true>(locs_, 2, static_cast<uint32_t>(lo), static_cast<uint32_t>(hi), offset);
  }
  if (j == 0) return -1;
  const size_t p = j - 1;
  // The entry at p starts at or before offset when the loop moved past it; when j == lo (a
  // damaged index) it may not, hence the first test.
  const uint32_t start = Ld(locs_, 2 * p);
  if (start > offset || offset - start >= Ld(locs_, 2 * p + 1)) return -1;
  return static_cast<int64_t>(p);
}

bool Reader::KeyAt(uint32_t p, uint32_t* ns, uint32_t* index) const {
  const uint32_t lo = Search<true>(fls_, 1, 0, n_, p);
  // func_loc_starts[0] is 0 <= p and p < F = func_loc_starts[N], so 1 <= lo <= N.
  const uint32_t i = lo - 1;
  const uint32_t d = p - Ld(fls_, i);
  *ns = Ld(ns_, i);
  switch (nsx_[i].enc) {
    case Encoding::kDense:
    case Encoding::kDirect:
      *index = d;
      return true;
    case Encoding::kSorted:
      *index = Ld(sparse_, Ld(ss_, i) + d);
      return true;
    case Encoding::kBitmap:
      return BitmapSelect(i, d, index);
    case Encoding::kBuckets:
      return BucketSelect(i, d, index);
  }
  return false;
}

Reader::Found Reader::FuncByOffset(uint32_t offset, uint32_t* ns, uint32_t* index) const {
  const int64_t p = PosOfOffset(offset);
  if (p < 0) return Found::kNo;
  uint32_t n;
  if (!KeyAt(static_cast<uint32_t>(p), &n, index)) return Corrupt(n);
  *ns = n;
  return Found::kYes;
}

// The lookups of a batch overlap their cache misses: while offset k is looked up, the index
// entry of offset k + 16 and the first entries of offset k + 8's bucket are already asked
// for (prefetches only: what is read is read as FuncByOffset reads it, bounds-checked).
Reader::Found Reader::FuncsByOffset(const uint32_t* offsets, size_t n, uint32_t* nss, uint32_t* indices) const {
  constexpr size_t kIndexAhead = 16, kBucketAhead = 8;
  for (size_t k = 0; k < n; k++) {
    if (c_ > 0) {
      if (k + kIndexAhead < n) {
        const uint32_t b = offsets[k + kIndexAhead] >> shift_;
        if (b < c_) Prefetch(offset_index_ + 4 * static_cast<size_t>(b));
      }
      if (k + kBucketAhead < n) {
        const uint32_t b = offsets[k + kBucketAhead] >> shift_;
        if (b < c_) {
          const uint32_t lo = Ld(offset_index_, b);
          if (lo < f_) Prefetch(locs_ + 8 * static_cast<size_t>(lo));
        }
      }
    }
    uint32_t ns = kNone, index = kNone;
    const Found f = FuncByOffset(offsets[k], &ns, &index);
    if (f == Found::kCorrupt) return f;
    if (f == Found::kNo) ns = index = kNone;
    nss[k] = ns;
    indices[k] = index;
  }
  return Found::kYes;
}

}  // namespace funckey
