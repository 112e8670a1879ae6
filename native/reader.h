// The C++ reader of a funckey artifact (docs/FORMAT.md). It validates an artifact at open
// exactly as FORMAT.md section 3.2 says (same order, same error codes as lib/open.ts) and
// answers the lookups of section 5 with the same loops, so that both readers agree even on
// a damaged file. Every read is bounds-checked against the bytes it was opened on, with
// 64-bit arithmetic where a sum of u32 values could overflow. What lookups index with (the
// namespace table, the module records and the headers of bucket runs) is copied at open and
// validated as copied, so bytes that change after open (a mapped file rewritten in place)
// can make answers wrong but cannot send a read outside them.
//
// No N-API here and no exceptions: failures are a returned Status (a code and a message).
//
// The files mirror lib/ file for file, with the same function names in the same order:
// format.h (lib/format.ts), open.cc (lib/open.ts: validation at open), table.cc
// (lib/table.ts: lookups by key, the sparse encodings), offsets.cc (lib/offsets.ts: lookups
// by offset), names.cc (lib/names.ts: names, UTF-8), reader.cc (lib/reader.ts: the rest of
// the reader's surface).
#ifndef FUNCKEY_READER_H_
#define FUNCKEY_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "format.h"

namespace funckey {

// Little-endian loads of 2, 4 and 8 bytes at p.
inline uint32_t Ld16(const uint8_t* p) { return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8; }
inline uint32_t Ld32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
inline uint64_t Ld64(const uint8_t* p) {
  return static_cast<uint64_t>(Ld32(p)) | static_cast<uint64_t>(Ld32(p + 4)) << 32;
}

// Hex digits (lowercase, no prefix) and decimal digits of a number, for messages.
std::string Hex(uint32_t v);
std::string Num(uint64_t v);

enum class Code : int {
  kOk = 0,
  kFormat,
  kVersion,
  kTruncated,
  kCorrupt,
  kArg,
  kRange,
  kClosed,
  kIo,
};

// "E_FORMAT" and so on: the codes of lib/errors.ts.
const char* CodeName(Code code);

struct Status {
  Code code = Code::kOk;
  std::string message;
  bool ok() const { return code == Code::kOk; }
  static Status Ok() { return Status(); }
  static Status Error(Code c, std::string m) {
    Status s;
    s.code = c;
    s.message = std::move(m);
    return s;
  }
};

// Decodes bytes as the WHATWG UTF-8 decoder does (each maximal invalid subpart becomes
// U+FFFD) and appends the result, which is valid UTF-8, to `out`. With `strip_bom`, a
// leading U+FEFF is dropped, as TextDecoder does by default.
void DecodeUtf8(const uint8_t* p, size_t n, bool strip_bom, std::string* out);

struct Section {
  std::string name;  // decoded as TextDecoder would (valid UTF-8)
  uint64_t offset;
  uint64_t size;
};

class Reader {
 public:
  // Validates `size` bytes at `data` (FORMAT.md 3.2). The bytes must outlive the reader;
  // they need no particular alignment. `data` may be null when `size` is 0.
  Status Open(const uint8_t* data, size_t size);

  // How a namespace's keys are stored (FORMAT.md 3.1, 3.3). The two laid out as dense runs
  // come first, so that one comparison picks the dense lookup.
  enum class Encoding : uint8_t { kDense, kDirect, kSorted, kBitmap, kBuckets };
  // "dense", "direct", ...: the names of lib/core.ts (NamespaceEncoding).
  static const char* EncodingName(Encoding e);

  // FORMAT.md section 5. kCorrupt: a damaged sparse bitmap or bucket run was met (E_CORRUPT);
  // the namespace it belongs to is then CorruptNamespace(), and CorruptMessage() says so as
  // lib/reader.ts does.
  enum class Found { kNo, kYes, kCorrupt };
  Found FuncLoc(uint32_t ns, uint32_t index, uint32_t* start, uint32_t* length) const;
  // FuncLoc for n keys: (start, length), or (kNone, 0) when absent. kCorrupt stops at the
  // first damaged run met (the outputs are then partly written). Keys of a bitmap namespace
  // are answered without a branch on whether they are present.
  Found FuncLocs(const uint32_t* ns, const uint32_t* indices, size_t n, uint32_t* starts, uint32_t* lengths) const;
  // kYes with the FilePos (kNone when the table has none) when the key is present.
  Found SrcLoc(uint32_t ns, uint32_t index, uint32_t* pos) const;
  Found FuncByOffset(uint32_t offset, uint32_t* ns, uint32_t* index) const;
  // FuncByOffset for n offsets: (namespace, index), or (kNone, kNone) when in no function.
  // kCorrupt stops at the first damaged run met (the outputs are then partly written).
  Found FuncsByOffset(const uint32_t* offsets, size_t n, uint32_t* ns, uint32_t* indices) const;
  uint32_t CorruptNamespace() const { return corrupt_ns_; }
  std::string CorruptMessage() const;

  enum class NameResult { kAbsent, kFound, kCorrupt, kTooLong };
  // kFound: *bytes, *length are the undecoded name inside .fk.names. kTooLong: *length is a
  // length past kMaxNameBytes (a damaged index), whatever .fk.names holds.
  NameResult FuncName(uint32_t func_index, uint32_t module, const uint8_t** bytes, uint32_t* length) const;

  // What describe() reports.
  size_t FileSize() const { return size_; }
  uint32_t FormatVersion() const { return version_; }
  uint32_t TextSize() const { return text_size_; }
  uint32_t ModuleCount() const { return m_; }
  uint32_t NamespaceCount() const { return n_; }
  uint32_t FuncCount() const { return f_; }
  uint32_t SparseCount() const { return s_; }
  uint32_t BitmapBlocks() const { return bm_; }
  uint64_t BucketWords() const { return bw_; }
  uint32_t OffsetShift() const { return shift_; }
  uint32_t OffsetCount() const { return c_; }
  uint32_t SrcLocCount() const { return l_; }
  uint32_t NameIndexWords() const { return w_; }
  uint32_t NameBytes() const { return b_; }
  const std::vector<Section>& Sections() const { return sections_; }
  // Source-location table i (0 blocks, 1 pieces, 2 frames, 3 strings, 4 string bytes: the
  // sections from .fk.line_blocks on, FORMAT.md 3.5), inside the mapping.
  const uint8_t* LineTable(int i) const { return lines_[i]; }
  size_t LineTableSize(int i) const { return lines_size_[i]; }
  uint32_t Namespace(uint32_t i) const { return Ld(ns_, i); }
  uint32_t FuncLocStart(uint32_t i) const { return Ld(fls_, i); }
  uint32_t SparseStart(uint32_t i) const { return Ld(ss_, i); }
  uint32_t SrcLocStart(uint32_t i) const { return Ld(sls_, i); }
  uint32_t BitmapStart(uint32_t i) const { return Ld(bms_, i); }
  uint32_t BucketStart(uint32_t i) const { return Ld(bks_, i); }
  Encoding EncodingOf(uint32_t i) const { return nsx_[i].enc; }
  // k and f of a namespace stored as buckets, else 0.
  uint32_t BucketShift(uint32_t i) const { return nsx_[i].k; }
  uint32_t BucketFilterShift(uint32_t i) const { return nsx_[i].f; }

  struct Module {
    uint32_t name_offset;
    uint32_t name_length;
    uint32_t imported_funcs;
    uint32_t defined_funcs;
    uint32_t byte_offset;
    uint32_t name_encoding;
    uint32_t name_index_start;
    uint32_t name_count;
    const uint8_t* sha256;  // 32 bytes
  };
  Module ModuleAt(uint32_t m) const;
  // The bytes of a range of .fk.names already checked to lie within it.
  const uint8_t* NameBytesAt(uint32_t offset) const { return names_ + offset; }

 private:
  // u32 number i of the little-endian array at p (p + 4 * i is within the data).
  static uint32_t Ld(const uint8_t* p, size_t i) { return Ld32(p + 4 * i); }
  // The normative search loop of FORMAT.md section 5 over the u32 at word `stride * i` of
  // `base`, for i in [lo, hi): upper_bound (count of entries <= x) when kUpper, else
  // lower_bound (entries < x). Written without branches and with both possible next probes
  // prefetched; it probes the same entries in the same order as the plain loop, so it gives
  // the same answer on any array, sorted or not.
  template <bool kUpper>
  static uint32_t Search(const uint8_t* base, size_t stride, uint32_t lo, uint32_t hi, uint32_t x) {
    while (lo < hi) {
      const uint32_t mid = lo + ((hi - lo) >> 1);
      Prefetch(base + 4 * stride * (lo + ((mid - lo) >> 1)));
      Prefetch(base + 4 * stride * (mid + 1 + ((hi - mid - 1) >> 1)));  // at most one past the end
      const uint32_t v = Ld(base, stride * mid);
      const bool right = kUpper ? v <= x : v < x;
      lo = right ? mid + 1 : lo;
      hi = right ? hi : mid;
    }
    return lo;
  }
  static void Prefetch(const uint8_t* p) { __builtin_prefetch(p); }
  // What open derived for namespace i: its encoding and, for a bucket run (FORMAT.md 3.3),
  // its header and the word offsets in .fk.sparse_buckets of its parts, all within the run.
  struct NsExtra {
    uint32_t nb;      // buckets
    uint32_t fw;      // filter words
    uint32_t filter;  // word offset of filter[0]
    uint32_t super_;  // word offset of super[0]
    uint32_t rel;     // word offset of rel[0]
    uint32_t low;     // word offset of low[0]
    Encoding enc;
    uint8_t k;     // bucket shift, 0 unless buckets
    uint8_t f;     // filter shift, 0 unless buckets
    uint8_t wide;  // low values are u16 (k > 8), else u8
  };

  // ---- open.cc: the steps of FORMAT.md 3.2, in order ----
  Status CheckElf(uint64_t* shoff) const;
  Status ReadSections(uint64_t shoff, int64_t found[kSectionCount]);
  Status ReadInfo(const int64_t found[kSectionCount]);
  Status CheckSections(const int64_t found[kSectionCount], const uint8_t* at[kSectionCount]);
  Status CopyTables(const uint8_t* const at[kSectionCount]);
  Status CheckNamespaces();
  Status CheckNamespace(uint32_t i);
  Status ReadBucketHeader(uint32_t i, uint32_t run, NsExtra* x) const;
  Status CheckOffsetIndex() const;
  Status CheckModules() const;

  // ---- table.cc: lookups by key ----
  int64_t FindNs(uint32_t ns) const;
  int64_t SearchNs(uint32_t ns) const;
  // Position of the key in .fk.func_locs, -1 (absent or a hole) or -2 (a damaged bitmap or
  // bucket run); *ns_pos is its namespace.
  int64_t Pos(uint32_t ns, uint32_t index, uint32_t* ns_pos) const;
  // Pos in namespace i (at position i of the table, namespace ns).
  int64_t PosIn(uint32_t i, uint32_t ns, uint32_t index) const;
  // The position of index in bitmap or sorted namespace i's run (-1 absent, -2 damaged).
  int64_t SparsePos(uint32_t i, uint32_t ns, uint32_t index) const;
  int64_t SortedPos(uint32_t i, uint32_t index) const;
  // The position in namespace i's func run of `index` stored as buckets: -1 absent, -2 damaged.
  int64_t BucketPos(const NsExtra& x, uint32_t run, uint32_t index) const;
  // The sum over the 16-bit ranks of bucket run `x` (FORMAT.md 3.3): where bucket b starts
  // among the present indices (at most 2^32 - 1 + 65535, hence 64 bits).
  uint64_t BucketStart(const NsExtra& x, uint32_t b) const;
  // The index of entry d of buckets or bitmap namespace i; false when its run is damaged.
  bool BucketSelect(uint32_t i, uint32_t d, uint32_t* index) const;
  bool BitmapSelect(uint32_t i, uint32_t d, uint32_t* index) const;
  // What the batch of FuncLocs keeps of the namespace of its keys (see FuncLocsImpl).
  struct BatchRun {
    uint32_t ns;
    int64_t i;  // its position, or -1 when absent
    NsExtra x;
    uint32_t fs, run, b0, blocks;
  };
  void LoadRun(BatchRun* r, uint32_t ns) const;
  template <bool kHwPopcount>
  int64_t BatchPos(const BatchRun& r, uint32_t index, uint32_t* hit) const;
  // FuncLocs, with the bit count as the popcnt instruction (kHwPopcount) or computed.
  template <bool kHwPopcount>
  Found FuncLocsImpl(const uint32_t* nss, const uint32_t* indices, size_t n, uint32_t* starts, uint32_t* lengths) const;
  Found FuncLocsHwPopcount(const uint32_t* nss, const uint32_t* indices, size_t n, uint32_t* starts,
                           uint32_t* lengths) const;

  // ---- offsets.cc: lookups by offset ----
  int64_t PosOfOffset(uint32_t offset) const;
  // False when a damaged bitmap or bucket run was met.
  bool KeyAt(uint32_t p, uint32_t* ns, uint32_t* index) const;

  Found Corrupt(uint32_t ns) const {
    corrupt_ns_ = ns;
    return Found::kCorrupt;
  }

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0, text_size_ = 0;
  uint32_t m_ = 0, n_ = 0, f_ = 0, s_ = 0, l_ = 0, w_ = 0, b_ = 0, bm_ = 0, shift_ = 0, c_ = 0;
  uint64_t bw_ = 0;  // Bw: u32 words of .fk.sparse_buckets
  mutable uint32_t corrupt_ns_ = 0;
  mutable Encoding corrupt_enc_ = Encoding::kBitmap;
  // info_ (fixed part and module records), ns_, fls_, ss_, sls_, bms_ and bks_ point into
  // meta_, a copy made at open (see Open), and nsx_ holds what open derived per namespace; the
  // other section pointers point into the caller's bytes.
  std::unique_ptr<uint8_t[]> meta_;
  std::unique_ptr<NsExtra[]> nsx_;
  // Per kind, the position of its first namespace (or of the first of a later kind): see FindNs.
  uint32_t kind_first_[16] = {};
  const uint8_t* info_ = nullptr;
  const uint8_t* ns_ = nullptr;
  const uint8_t* fls_ = nullptr;
  const uint8_t* ss_ = nullptr;
  const uint8_t* sls_ = nullptr;
  const uint8_t* bms_ = nullptr;
  const uint8_t* bks_ = nullptr;
  const uint8_t* buckets_ = nullptr;
  const uint8_t* bitmaps_ = nullptr;
  const uint8_t* offset_index_ = nullptr;
  const uint8_t* sparse_ = nullptr;
  const uint8_t* locs_ = nullptr;
  const uint8_t* src_ = nullptr;
  const uint8_t* name_index_ = nullptr;
  const uint8_t* names_ = nullptr;
  const uint8_t* lines_[5] = {};
  size_t lines_size_[5] = {};
  std::vector<Section> sections_;
};

}  // namespace funckey

#endif  // FUNCKEY_READER_H_
