// Lookups by key (FORMAT.md 5, funcLoc): the namespace, then its index by its encoding
// (dense, sorted, bitmap, buckets, direct: FORMAT.md 3.1, 3.3), and the reverse, the index of
// the d-th entry of a sparse run (BitmapSelect, BucketSelect) that a lookup by offset needs.
// Mirrors lib/table.ts function for function.
//
// Open established: N + 1 entries in each start array, starting at 0, never decreasing,
// ending at F, S, L, Bm and Bw; per namespace one encoding (nsx_[i].enc) whose runs have the
// lengths it requires: a sorted run as long as its func run, a nonempty bitmap run, a bucket
// run of exactly the words its header implies (nsx_[i] holds that header); a src run as long
// as its func run for kind 0. Every index below is within its array by those facts.
#include "reader.h"

namespace funckey {

namespace {

// Bit count of a word. On x86 without -mpopcnt (prebuilds target baseline x86-64)
// __builtin_popcount is a call into libgcc, so it is computed inline here; the batch of
// FuncLocs, where it counts, has a copy compiled for the popcnt instruction, taken when the
// CPU has it (FuncLocs below). FUNCKEY_COMPUTED_POPCOUNT leaves that copy out: the sanitizer
// build of scripts/asan-test.sh sets it, so that the suite runs the batch's other copy there
// (the fuzzer, built without it, runs the popcnt copy).
#if defined(__x86_64__) || defined(__i386__)
#if !defined(FUNCKEY_COMPUTED_POPCOUNT)
#define FUNCKEY_HW_POPCOUNT 1
#endif
inline uint32_t Popcount(uint32_t x) {
  x -= (x >> 1) & 0x55555555u;
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  return (((x + (x >> 4)) & 0x0F0F0F0Fu) * 0x01010101u) >> 24;
}
#else
inline uint32_t Popcount(uint32_t x) { return static_cast<uint32_t>(__builtin_popcount(x)); }
#endif
template <bool kHwPopcount>
inline uint32_t PopcountT(uint32_t x) {
  if constexpr (kHwPopcount) return static_cast<uint32_t>(__builtin_popcount(x));
  return Popcount(x);
}

}  // namespace

// Namespaces ascend, so those of one kind are consecutive; when their low bits count 0, 1, 2,
// ... (module m of a kind at kind_first_[kind] + m), one read finds any of them. Otherwise a
// search. Either way the answer is the namespace's unique position.
int64_t Reader::FindNs(uint32_t ns) const {
  const uint64_t g = static_cast<uint64_t>(kind_first_[ns >> 28]) + (ns & kLowMask);
  if (g < n_ && Ld(ns_, static_cast<size_t>(g)) == ns) return static_cast<int64_t>(g);
  return SearchNs(ns);
}

int64_t Reader::SearchNs(uint32_t ns) const {
  const uint32_t n = n_;
  if (n <= kLinearNs) {
    for (uint32_t i = 0; i < n; i++)
      if (Ld(ns_, i) == ns) return i;
    return -1;
  }
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    const uint32_t mid = lo + ((hi - lo) >> 1);
    if (Ld(ns_, mid) < ns)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && Ld(ns_, lo) == ns ? static_cast<int64_t>(lo) : -1;
}

int64_t Reader::Pos(uint32_t ns, uint32_t index, uint32_t* ns_pos) const {
  const int64_t found = FindNs(ns);
  if (found < 0) return -1;
  const uint32_t i = static_cast<uint32_t>(found);
  const int64_t p = PosIn(i, ns, index);
  if (p >= 0) *ns_pos = i;
  return p;
}

int64_t Reader::PosIn(uint32_t i, uint32_t ns, uint32_t index) const {
  const uint32_t fs = Ld(fls_, i);
  const uint32_t run = Ld(fls_, i + 1) - fs;
  const NsExtra& x = nsx_[i];
  int64_t d;
  if (x.enc <= Encoding::kDirect) {
    // Dense, and direct (a sparse namespace laid out as a dense one).
    if (index >= run) return -1;
    d = index;
  } else if (x.enc == Encoding::kBuckets) {
    d = BucketPos(x, run, index);
    if (d == -2) {
      corrupt_ns_ = ns;
      corrupt_enc_ = Encoding::kBuckets;
    }
  } else {
    d = SparsePos(i, ns, index);
  }
  if (d < 0) return d;
  const uint32_t p = fs + static_cast<uint32_t>(d);
  if (Ld(locs_, 2 * static_cast<size_t>(p) + 1) == 0) return -1;
  return p;
}

int64_t Reader::SparsePos(uint32_t i, uint32_t ns, uint32_t index) const {
  if (nsx_[i].enc != Encoding::kBitmap) return SortedPos(i, index);
  // Rank bitmap (FORMAT.md 3.3): one pair read, one popcount.
  const uint32_t b0 = Ld(bms_, i);
  const uint32_t blk = index >> 5;
  if (blk >= Ld(bms_, i + 1) - b0) return -1;
  const size_t w = 2 * (static_cast<size_t>(b0) + blk);
  const uint32_t bits = Ld(bitmaps_, w + 1);
  const uint32_t bit = index & 31;
  if (((bits >> bit) & 1) == 0) return -1;
  const uint64_t d = static_cast<uint64_t>(Ld(bitmaps_, w)) + Popcount(bits & ((1u << bit) - 1));
  if (d >= Ld(fls_, i + 1) - Ld(fls_, i)) {
    corrupt_ns_ = ns;
    corrupt_enc_ = Encoding::kBitmap;
    return -2;
  }
  return static_cast<int64_t>(d);
}

int64_t Reader::SortedPos(uint32_t i, uint32_t index) const {
  const uint32_t s0 = Ld(ss_, i);
  const uint32_t s1 = Ld(ss_, i + 1);
  const uint32_t lo = Search<false>(sparse_, 1, s0, s1, index);
  if (lo == s1 || Ld(sparse_, lo) != index) return -1;
  return lo - s0;
}

namespace {

// low[i] of a bucket run: u16 (kWide) or u8 values, little-endian.
template <bool kWide>
inline uint32_t LowAt(const uint8_t* low, uint32_t i) {
  if (kWide) return Ld16(low + 2 * static_cast<size_t>(i));
  return low[i];
}

// The search of FORMAT.md section 5 for the low part v among low[s, e), e <= K: the position
// j where it stops, and low[j] in *at (j <= e <= K, and low[K] exists, so the read is inside
// the run even when j == e).
//
// A bucket of at most kBucketScan indices takes the linear scan as written there. The writer
// sizes buckets to hold about one or two present indices, so the scan stops after a step or
// two; the loop ran faster than the same scan computed without branches from four reads.
// A larger bucket takes the lower_bound loop from lo = s, hi = e.
template <bool kWide>
inline uint32_t SearchLow(const uint8_t* low, uint32_t s, uint32_t e, uint32_t v, uint32_t* at) {
  if (e - s <= kBucketScan) {
    uint32_t j = s;
    while (j < e && LowAt<kWide>(low, j) < v) j++;
    *at = LowAt<kWide>(low, j);
    return j;
  }
  // The loop's two outcomes picked by masks, not a branch: with about as many entries below v
  // as not, a branch would be mispredicted at every other step.
  uint32_t lo = s, hi = e;
  while (lo < hi) {
    const uint32_t mid = lo + ((hi - lo) >> 1);
    const uint32_t right = 0u - static_cast<uint32_t>(LowAt<kWide>(low, mid) < v);  // all ones or 0
    lo = ((mid + 1) & right) | (lo & ~right);
    hi = (hi & right) | (mid & ~right);
  }
  *at = LowAt<kWide>(low, lo);
  return lo;
}

}  // namespace

// FORMAT.md section 5, sparse, buckets. Open established that the run holds filter[0, Fw),
// super[0, Q), rel[0, nb] and low[0, K], so with t >> 5 < Fw, b < nb and s + c <= K every
// read below is inside it. Inlined where it is called: in the batch, that lets the compiler
// keep the namespace's values in registers.
__attribute__((always_inline)) inline int64_t Reader::BucketPos(const NsExtra& x, uint32_t run, uint32_t index) const {
  // The filter: one bit per 2^f indices, clear where none is present.
  const uint32_t t = index >> x.f;
  if ((t >> 5) >= x.fw || ((Ld(buckets_, static_cast<size_t>(x.filter) + (t >> 5)) >> (t & 31)) & 1) == 0) return -1;
  const uint32_t k = x.k;
  const uint32_t b = index >> k;
  if (b >= x.nb) return -1;
  const uint8_t* rel = buckets_ + 4 * static_cast<size_t>(x.rel) + 2 * static_cast<size_t>(b);
  const uint32_t r0 = Ld16(rel), r1 = Ld16(rel + 2);
  const uint32_t c = (r1 - r0) & 0xFFFFu;
  if (c == 0) return -1;
  const uint32_t sup = Ld(buckets_, static_cast<size_t>(x.super_) + (b >> (16 - k)));
  const uint64_t s64 = static_cast<uint64_t>(sup) + ((r0 - sup) & 0xFFFFu);
  if (s64 > run || c > run - s64) return -2;
  const uint32_t s = static_cast<uint32_t>(s64);
  const uint32_t e = s + c;  // <= run
  const uint32_t v = index & ((1u << k) - 1);
  const uint8_t* low = buckets_ + 4 * static_cast<size_t>(x.low);
  uint32_t at;
  const uint32_t j = x.wide ? SearchLow<true>(low, s, e, v, &at) : SearchLow<false>(low, s, e, v, &at);
  if (j == e || at != v) return -1;
  return j;
}

uint64_t Reader::BucketStart(const NsExtra& x, uint32_t b) const {
  const uint32_t sup = Ld(buckets_, static_cast<size_t>(x.super_) + (b >> (16 - x.k)));
  const uint32_t rel = Ld16(buckets_ + 4 * static_cast<size_t>(x.rel) + 2 * static_cast<size_t>(b));
  return static_cast<uint64_t>(sup) + ((rel - sup) & 0xFFFFu);
}

// The bucket by its start (the upper_bound loop over start(b), b < nb), then low[d] (d < K,
// inside the run).
bool Reader::BucketSelect(uint32_t i, uint32_t d, uint32_t* index) const {
  const NsExtra& x = nsx_[i];
  corrupt_enc_ = Encoding::kBuckets;
  uint32_t lo = 0, hi = x.nb;
  while (lo < hi) {
    const uint32_t mid = lo + ((hi - lo) >> 1);
    const bool right = BucketStart(x, mid) <= d;
    lo = right ? mid + 1 : lo;
    hi = right ? hi : mid;
  }
  if (lo == 0) return false;
  const uint8_t* low = buckets_ + 4 * static_cast<size_t>(x.low);
  const uint32_t v = x.wide ? Ld16(low + 2 * static_cast<size_t>(d)) : low[d];
  if (v >> x.k != 0) return false;
  // (lo - 1) < nb <= 2^(32 - k), so the sum is below 2^32.
  *index = ((lo - 1) << x.k) + v;
  return true;
}

// The block by its rank, then the bit (FORMAT.md section 5).
bool Reader::BitmapSelect(uint32_t i, uint32_t d, uint32_t* index) const {
  corrupt_enc_ = Encoding::kBitmap;
  const uint32_t b0 = Ld(bms_, i);
  const uint32_t blocks = Ld(bms_, i + 1) - b0;
  const uint32_t t = Search<true>(bitmaps_ + 8 * static_cast<size_t>(b0), 2, 0, blocks, d);
  if (t == 0) return false;
  const size_t w = 2 * (static_cast<size_t>(b0) + t - 1);
  uint32_t bits = Ld(bitmaps_, w + 1);
  const uint32_t r = d - Ld(bitmaps_, w);  // rank <= d: the loop moved past block t - 1
  if (r >= Popcount(bits)) return false;
  for (uint32_t k = 0; k < r; k++) bits &= bits - 1;
  const uint64_t idx = kBitmapBlock * static_cast<uint64_t>(t - 1) + static_cast<uint32_t>(__builtin_ctz(bits));
  if (idx > 0xFFFFFFFFull) return false;
  *index = static_cast<uint32_t>(idx);
  return true;
}

std::string Reader::CorruptMessage() const {
  if (corrupt_enc_ == Encoding::kBuckets)
    return "the sparse buckets of namespace 0x" + Hex(corrupt_ns_) + " are damaged";
  return "the sparse bitmap of namespace 0x" + Hex(corrupt_ns_) + " is damaged";
}

void Reader::LoadRun(BatchRun* r, uint32_t ns) const {
  r->ns = ns;
  r->i = FindNs(ns);
  if (r->i < 0) return;
  const uint32_t u = static_cast<uint32_t>(r->i);
  r->x = nsx_[u];
  r->fs = Ld(fls_, u);
  r->run = Ld(fls_, u + 1) - r->fs;
  r->b0 = Ld(bms_, u);
  r->blocks = Ld(bms_, u + 1) - r->b0;
}

// One key of the batch in namespace run r: its position in .fk.func_locs, r.fs when it has
// none (*hit is then 0, else 1), or -2 for a damaged run. Every encoding is read without a
// branch on whether the key is present, so that the batch does not mispredict on it.
template <bool kHwPopcount>
__attribute__((always_inline)) inline int64_t Reader::BatchPos(const BatchRun& r, uint32_t index, uint32_t* hit) const {
  const NsExtra& x = r.x;
  if (x.enc <= Encoding::kDirect) {
    *hit = index < r.run;
    return r.fs + (*hit ? index : 0u);
  }
  if (x.enc == Encoding::kBitmap) {
    // FORMAT.md 5, sparse bitmap; only a present index whose rank points past the run is
    // E_CORRUPT, as in Pos. A block beyond the run reads block 0 instead (the run has at
    // least one) and is no answer.
    const uint32_t blk = index >> 5;
    const uint32_t in_run = blk < r.blocks;
    const size_t w = 2 * (static_cast<size_t>(r.b0) + (in_run ? blk : 0));
    const uint32_t bits = Ld(bitmaps_, w + 1);
    const uint32_t bit = index & 31;
    *hit = in_run & (bits >> bit) & 1;
    const uint64_t d = static_cast<uint64_t>(Ld(bitmaps_, w)) + PopcountT<kHwPopcount>(bits & ((1u << bit) - 1));
    if (*hit && d >= r.run) {
      corrupt_ns_ = r.ns;
      corrupt_enc_ = Encoding::kBitmap;
      return -2;
    }
    return r.fs + (*hit ? static_cast<uint32_t>(d) : 0u);
  }
  if (x.enc == Encoding::kBuckets) {
    const int64_t d = BucketPos(x, r.run, index);
    if (d == -2) {
      corrupt_ns_ = r.ns;
      corrupt_enc_ = Encoding::kBuckets;
      return -2;
    }
    *hit = d >= 0;
    return r.fs + (*hit ? static_cast<uint32_t>(d) : 0u);
  }
  const int64_t d = PosIn(static_cast<uint32_t>(r.i), r.ns, index);
  if (d == -2) return -2;
  *hit = d >= 0;
  return *hit ? d : r.fs;
}

// FuncLoc for a batch (FORMAT.md 5, batch forms): absent keys give (kNone, 0).
//
// What the keys of one namespace need is read into a local (BatchRun) when the namespace
// changes: the stores to starts and lengths could alias the mapping (read through uint8_t)
// and nsx_, so the compiler would otherwise load all of it again for every key. The namespace
// before is kept in a second slot, so that keys alternating between two namespaces (a
// function and its trampoline, as a lazy initialisation asks) read it only once.
template <bool kHwPopcount>
__attribute__((always_inline)) inline Reader::Found Reader::FuncLocsImpl(const uint32_t* nss, const uint32_t* indices,
                                                                         size_t n, uint32_t* starts,
                                                                         uint32_t* lengths) const {
  BatchRun slot[2] = {};
  LoadRun(&slot[0], 0);
  slot[1] = slot[0];
  unsigned c = 0;
  for (size_t k = 0; k < n;) {
    const uint32_t ns = nss[k];
    if (ns != slot[c].ns) {
      c ^= 1;
      if (ns != slot[c].ns) LoadRun(&slot[c], ns);
    }
    // The keys of this namespace that follow, with its values as locals (registers).
    const BatchRun r = slot[c];
    if (r.i < 0) {
      for (; k < n && nss[k] == ns; k++) {
        starts[k] = kNone;
        lengths[k] = 0;
      }
      continue;
    }
    for (; k < n && nss[k] == ns; k++) {
      uint32_t hit;
      const int64_t p = BatchPos<kHwPopcount>(r, indices[k], &hit);
      if (p == -2) return Found::kCorrupt;
      // p is a position in the namespace's run: the reads are inside it.
      const uint32_t start = Ld(locs_, 2 * static_cast<size_t>(p));
      const uint32_t length = Ld(locs_, 2 * static_cast<size_t>(p) + 1);
      const bool ok = hit && length != 0;
      starts[k] = ok ? start : kNone;
      lengths[k] = ok ? length : 0;
    }
  }
  return Found::kYes;
}

#ifdef FUNCKEY_HW_POPCOUNT
__attribute__((target("popcnt"))) Reader::Found Reader::FuncLocsHwPopcount(const uint32_t* nss, const uint32_t* indices,
                                                                           size_t n, uint32_t* starts,
                                                                           uint32_t* lengths) const {
  return FuncLocsImpl<true>(nss, indices, n, starts, lengths);
}
#endif

Reader::Found Reader::FuncLocs(const uint32_t* nss, const uint32_t* indices, size_t n, uint32_t* starts,
                               uint32_t* lengths) const {
#ifdef FUNCKEY_HW_POPCOUNT
  static const bool popcnt = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("popcnt") != 0;
  }();
  if (popcnt) return FuncLocsHwPopcount(nss, indices, n, starts, lengths);
#endif
  return FuncLocsImpl<false>(nss, indices, n, starts, lengths);
}

}  // namespace funckey
