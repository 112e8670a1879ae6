// See reader.h. The numbered steps of Open() are those of FORMAT.md section 3.2; the
// messages are those of lib/reader.ts, so that both readers report a damaged file alike.
#include "reader.h"

#include <cstdio>
#include <cstring>
#include <new>
#include <unordered_set>

namespace funckey {

namespace {

constexpr uint64_t kElfHeaderSize = 64;
constexpr uint64_t kSectionHeaderSize = 64;
constexpr uint64_t kInfoFixedSize = 64;
constexpr uint64_t kModuleRecordSize = 64;
constexpr uint32_t kFormatVersion = 3;
// Below this many namespaces a linear scan replaces the binary search (as in lib/reader.ts).
constexpr uint32_t kLinearNs = 8;
// The longest range of .fk.func_locs that a lookup by offset scans instead of searching (FORMAT.md section 5).
constexpr uint64_t kOffsetScan = 32;

// Kinds stored sparsely, indexed by kind (FORMAT.md 3).
constexpr bool kSparseKind[16] = {false, true, false, true, true, false, false, false,
                                  false, true, false, false, false, false, false, false};

// Byte offsets in .fk.info (FORMAT.md 2).
enum InfoField : uint32_t {
  kInfoVersion = 8,
  kInfoModuleCount = 16,
  kInfoNamespaceCount = 20,
  kInfoFuncCount = 24,
  kInfoSparseCount = 28,
  kInfoSrcLocCount = 32,
  kInfoNameIndexWords = 36,
  kInfoNameBytes = 40,
  kInfoModuleRecordSize = 44,
  kInfoTextSize = 48,
  kInfoBitmapBlocks = 52,
  kInfoOffsetShift = 56,
  kInfoOffsetCount = 60,
};

// The table sections in the order of FORMAT.md 1.3 (the order step 8 checks them in).
enum SectionId {
  kInfo, kNamespaces, kFuncLocStarts, kSparseStarts, kSrcLocStarts, kSparseIndices, kFuncLocs, kSrcLocs, kNameIndex, kNames,
  kBitmapStarts, kSparseBitmaps, kOffsetIndex, kBucketStarts, kSparseBuckets, kSectionCount
};
const char* const kSectionNames[kSectionCount] = {
    ".fk.info",           ".fk.namespaces", ".fk.func_loc_starts", ".fk.sparse_starts", ".fk.src_loc_starts",
    ".fk.sparse_indices", ".fk.func_locs",  ".fk.src_locs",        ".fk.name_index",    ".fk.names",
    ".fk.bitmap_starts",  ".fk.sparse_bitmaps", ".fk.offset_index", ".fk.bucket_starts", ".fk.sparse_buckets",
};

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

inline uint16_t Ld16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
inline uint32_t Ld32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
inline uint64_t Ld64(const uint8_t* p) { return static_cast<uint64_t>(Ld32(p)) | static_cast<uint64_t>(Ld32(p + 4)) << 32; }

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%x", v);
  return buf;
}

std::string Num(uint64_t v) { return std::to_string(v); }

void AppendCodePoint(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kFormat: return "E_FORMAT";
    case Code::kVersion: return "E_VERSION";
    case Code::kTruncated: return "E_TRUNCATED";
    case Code::kCorrupt: return "E_CORRUPT";
    case Code::kArg: return "E_ARG";
    case Code::kRange: return "E_RANGE";
    case Code::kClosed: return "E_CLOSED";
    case Code::kIo: return "E_IO";
  }
  return "E_CORRUPT";
}

void DecodeUtf8(const uint8_t* p, size_t n, bool strip_bom, std::string* out) {
  const size_t begin = out->size();
  uint32_t cp = 0, needed = 0, seen = 0, lower = 0x80, upper = 0xBF;
  for (size_t i = 0; i < n; i++) {
    const uint32_t b = p[i];
    if (needed == 0) {
      if (b <= 0x7F) {
        out->push_back(static_cast<char>(b));
      } else if (b >= 0xC2 && b <= 0xDF) {
        needed = 1;
        cp = b & 0x1F;
      } else if (b >= 0xE0 && b <= 0xEF) {
        if (b == 0xE0) lower = 0xA0;
        if (b == 0xED) upper = 0x9F;
        needed = 2;
        cp = b & 0x0F;
      } else if (b >= 0xF0 && b <= 0xF4) {
        if (b == 0xF0) lower = 0x90;
        if (b == 0xF4) upper = 0x8F;
        needed = 3;
        cp = b & 0x07;
      } else {
        AppendCodePoint(0xFFFD, out);
      }
      continue;
    }
    if (b < lower || b > upper) {
      // The sequence so far is one maximal invalid subpart; this byte starts afresh.
      cp = needed = seen = 0;
      lower = 0x80;
      upper = 0xBF;
      AppendCodePoint(0xFFFD, out);
      i--;
      continue;
    }
    lower = 0x80;
    upper = 0xBF;
    cp = (cp << 6) | (b & 0x3F);
    if (++seen == needed) {
      AppendCodePoint(cp, out);
      cp = needed = seen = 0;
    }
  }
  if (needed != 0) AppendCodePoint(0xFFFD, out);
  if (strip_bom && out->size() - begin >= 3 && static_cast<uint8_t>((*out)[begin]) == 0xEF &&
      static_cast<uint8_t>((*out)[begin + 1]) == 0xBB && static_cast<uint8_t>((*out)[begin + 2]) == 0xBF)
    out->erase(begin, 3);
}

Status Reader::Open(const uint8_t* bytes, size_t len) {
  data_ = bytes;
  size_ = len;
  const uint64_t flen = len;
  auto in_file = [flen](uint64_t offset, uint64_t size) { return offset <= flen && size <= flen - offset; };
  auto fail = [](Code c, std::string m) { return Status::Error(c, std::move(m)); };

  // 1-3: ELF identification.
  if (len < 4 || bytes[0] != 0x7F || bytes[1] != 0x45 || bytes[2] != 0x4C || bytes[3] != 0x46)
    return fail(Code::kFormat, "not a funckey artifact: no ELF magic");
  if (len < kElfHeaderSize) return fail(Code::kTruncated, "file of " + Num(len) + " bytes ends inside the ELF header");
  const uint32_t shentsize = Ld16(bytes + 58);
  const uint32_t shnum = Ld16(bytes + 60);
  if (bytes[4] != 2 || bytes[5] != 1) return fail(Code::kFormat, "not a little-endian ELF64 file");
  if (shentsize != kSectionHeaderSize || shnum < 2)
    return fail(Code::kFormat, "not a funckey artifact: unexpected ELF section table");
  // 4: the section header table. shnum < 2^16, so the product cannot overflow.
  const uint64_t shoff = Ld64(bytes + 40);
  if (!in_file(shoff, kSectionHeaderSize * shnum))
    return fail(Code::kTruncated, "the section header table lies beyond the end of the file");
  // From here on, every section header lies within the file.
  auto sh = [bytes, shoff](uint32_t i) { return bytes + shoff + kSectionHeaderSize * i; };
  // 5: the section name table.
  const uint32_t shstrndx = Ld16(bytes + 62);
  if (shstrndx >= shnum)
    return fail(Code::kCorrupt, "section name table index " + Num(shstrndx) + " is not below the section count " + Num(shnum));
  const uint64_t str_off = Ld64(sh(shstrndx) + 24);
  const uint64_t str_size = Ld64(sh(shstrndx) + 32);
  if (!in_file(str_off, str_size)) return fail(Code::kTruncated, "the section name table lies beyond the end of the file");
  // 6: section names, decoded as TextDecoder would so that names compare as in lib/reader.ts.
  sections_.clear();
  sections_.reserve(shnum - 1);
  std::unordered_set<std::string> fk_names;
  int64_t found[kSectionCount];
  for (auto& f : found) f = -1;
  for (uint32_t i = 1; i < shnum; i++) {
    const uint64_t name_off = Ld32(sh(i));
    if (name_off >= str_size) return fail(Code::kCorrupt, "section " + Num(i) + " has its name outside the section name table");
    const uint8_t* start = bytes + str_off + name_off;
    const uint8_t* limit = bytes + str_off + str_size;
    const uint8_t* end = static_cast<const uint8_t*>(std::memchr(start, 0, static_cast<size_t>(limit - start)));
    if (end == nullptr) return fail(Code::kCorrupt, "section " + Num(i) + " has a name with no terminating NUL");
    Section s;
    DecodeUtf8(start, static_cast<size_t>(end - start), true, &s.name);
    s.offset = Ld64(sh(i) + 24);
    s.size = Ld64(sh(i) + 32);
    if (s.name.compare(0, 4, ".fk.") == 0) {
      if (!fk_names.insert(s.name).second) return fail(Code::kCorrupt, "section " + s.name + " appears twice");
      for (int k = 0; k < kSectionCount; k++)
        if (s.name == kSectionNames[k]) found[k] = static_cast<int64_t>(sections_.size());
    }
    sections_.push_back(std::move(s));
  }
  // 7: the info header.
  if (found[kInfo] < 0) return fail(Code::kFormat, "not a funckey artifact: an ELF file with no .fk.info section");
  const Section& info = sections_[static_cast<size_t>(found[kInfo])];
  if (!in_file(info.offset, info.size)) return fail(Code::kTruncated, ".fk.info lies beyond the end of the file");
  if (info.size < kInfoFixedSize)
    return fail(Code::kCorrupt, ".fk.info has " + Num(info.size) + " bytes, fewer than " + Num(kInfoFixedSize));
  info_ = bytes + info.offset;
  static const uint8_t kMagic[8] = {0x46, 0x55, 0x4E, 0x43, 0x4B, 0x45, 0x59, 0x00};
  if (std::memcmp(info_, kMagic, 8) != 0) return fail(Code::kFormat, "not a funckey artifact: bad magic in .fk.info");
  version_ = Ld32(info_ + kInfoVersion);
  if (version_ != kFormatVersion)
    return fail(Code::kVersion, "artifact format version " + Num(version_) + "; this reader reads version " + Num(kFormatVersion) +
                                    ": rebuild the artifact with this version of funckey");
  m_ = Ld32(info_ + kInfoModuleCount);
  if (Ld32(info_ + kInfoModuleRecordSize) != kModuleRecordSize || info.size < kInfoFixedSize + kModuleRecordSize * m_)
    return fail(Code::kCorrupt, ".fk.info is too small for " + Num(m_) + " module records");
  n_ = Ld32(info_ + kInfoNamespaceCount);
  f_ = Ld32(info_ + kInfoFuncCount);
  s_ = Ld32(info_ + kInfoSparseCount);
  l_ = Ld32(info_ + kInfoSrcLocCount);
  w_ = Ld32(info_ + kInfoNameIndexWords);
  b_ = Ld32(info_ + kInfoNameBytes);
  text_size_ = Ld32(info_ + kInfoTextSize);
  bm_ = Ld32(info_ + kInfoBitmapBlocks);
  shift_ = Ld32(info_ + kInfoOffsetShift);
  c_ = Ld32(info_ + kInfoOffsetCount);
  // 8: every table section: present, in the file, aligned, of the declared size.
  const uint64_t n1 = static_cast<uint64_t>(n_) + 1;
  // .fk.info is checked by step 7 and .fk.sparse_buckets, whose size gives its count, by
  // being a multiple of 4.
  const uint64_t expected[kSectionCount] = {
      0, 4ull * n_, 4 * n1, 4 * n1, 4 * n1, 4ull * s_, 8ull * f_, 4ull * l_, 4ull * w_, b_, 4 * n1, 8ull * bm_, 4ull * c_, 4 * n1, 0,
  };
  const uint8_t* at[kSectionCount];
  for (int k = 0; k < kSectionCount; k++) {
    const std::string name = kSectionNames[k];
    if (found[k] < 0) return fail(Code::kCorrupt, "section " + name + " is missing");
    const Section& s = sections_[static_cast<size_t>(found[k])];
    if (!in_file(s.offset, s.size)) return fail(Code::kTruncated, "section " + name + " lies beyond the end of the file");
    if (s.offset % 8 != 0) return fail(Code::kCorrupt, "section " + name + " is not aligned to 8 bytes");
    if (k == kSparseBuckets) {
      if (s.size % 4 != 0) return fail(Code::kCorrupt, "section " + name + " has " + Num(s.size) + " bytes, not a whole number of words");
    } else if (k != kInfo && s.size != expected[k]) {
      return fail(Code::kCorrupt, "section " + name + " has " + Num(s.size) + " bytes, the header implies " + Num(expected[k]));
    }
    at[k] = bytes + s.offset;
  }
  bw_ = sections_[static_cast<size_t>(found[kSparseBuckets])].size / 4;
  // The namespace table and the module records are what lookups index with: copy them
  // before they are validated, and validate the copy. A mapped file can change after open
  // (rewritten in place by another process); the indices open validated must not, or a
  // lookup could leave the mapping. N + 1 and M entries: the copy is as cheap as the checks.
  // The same holds for the header of each bucket run, kept in nsx_.
  const size_t info_bytes = static_cast<size_t>(kInfoFixedSize + kModuleRecordSize * m_);  // <= info.size
  const size_t table_bytes = static_cast<size_t>(4 * static_cast<uint64_t>(n_) + 5 * 4 * n1);
  meta_.reset(new (std::nothrow) uint8_t[info_bytes + table_bytes]);
  if (!meta_) return fail(Code::kIo, "cannot allocate " + Num(info_bytes + table_bytes) + " bytes for the artifact's header");
  nsx_.reset(new (std::nothrow) NsExtra[n_ == 0 ? 1 : n_]);
  if (!nsx_) return fail(Code::kIo, "cannot allocate the namespace table of " + Num(n_) + " namespaces");
  uint8_t* q = meta_.get();
  auto keep = [&q](const uint8_t* from, size_t n) {
    std::memcpy(q, from, n);
    q += n;
    return q - n;
  };
  info_ = keep(info_, info_bytes);
  ns_ = keep(at[kNamespaces], 4 * static_cast<size_t>(n_));
  fls_ = keep(at[kFuncLocStarts], 4 * static_cast<size_t>(n1));
  ss_ = keep(at[kSparseStarts], 4 * static_cast<size_t>(n1));
  sls_ = keep(at[kSrcLocStarts], 4 * static_cast<size_t>(n1));
  bms_ = keep(at[kBitmapStarts], 4 * static_cast<size_t>(n1));
  bks_ = keep(at[kBucketStarts], 4 * static_cast<size_t>(n1));
  bitmaps_ = at[kSparseBitmaps];
  buckets_ = at[kSparseBuckets];
  offset_index_ = at[kOffsetIndex];
  sparse_ = at[kSparseIndices];
  locs_ = at[kFuncLocs];
  src_ = at[kSrcLocs];
  name_index_ = at[kNameIndex];
  names_ = at[kNames];

  // 9: the namespace table.
  if (Ld(fls_, 0) != 0 || Ld(ss_, 0) != 0 || Ld(sls_, 0) != 0 || Ld(bms_, 0) != 0 || Ld(bks_, 0) != 0)
    return fail(Code::kCorrupt, "a namespace start array does not begin with 0");
  if (Ld(fls_, n_) != f_ || Ld(ss_, n_) != s_ || Ld(sls_, n_) != l_ || Ld(bms_, n_) != bm_ || Ld(bks_, n_) != bw_)
    return fail(Code::kCorrupt, "a namespace start array does not end with its array length");
  for (uint32_t i = 0; i < n_; i++) {
    const uint32_t n = Ld(ns_, i);
    if (i > 0 && n <= Ld(ns_, i - 1)) return fail(Code::kCorrupt, "namespaces are not strictly ascending");
    const uint32_t kind = n >> 28;
    const uint32_t low = n & 0x0FFFFFFFu;
    if (kind > 9) return fail(Code::kCorrupt, "namespace 0x" + Hex(n) + " has kind " + Num(kind));
    if ((kind == 2 || kind == 3 || kind == 4 || kind == 5 || kind == 7) && low != 0)
      return fail(Code::kCorrupt, "namespace 0x" + Hex(n) + " has low bits its kind does not allow");
    if ((kind == 6 || kind == 8) && low > 2) return fail(Code::kCorrupt, "namespace 0x" + Hex(n) + " has abi " + Num(low));
    if (Ld(fls_, i + 1) < Ld(fls_, i) || Ld(ss_, i + 1) < Ld(ss_, i) || Ld(sls_, i + 1) < Ld(sls_, i) ||
        Ld(bms_, i + 1) < Ld(bms_, i) || Ld(bks_, i + 1) < Ld(bks_, i))
      return fail(Code::kCorrupt, "a namespace start array decreases");
    const uint32_t run = Ld(fls_, i + 1) - Ld(fls_, i);
    if (run < 1) return fail(Code::kCorrupt, "namespace 0x" + Hex(n) + " has an empty run");
    // The encoding (FORMAT.md 3.2 step 9): exactly one of sorted, bitmap, buckets, direct for
    // the sparse kinds, all three sparse runs empty for the others.
    const uint32_t sorted_run = Ld(ss_, i + 1) - Ld(ss_, i);
    const uint32_t bitmap_run = Ld(bms_, i + 1) - Ld(bms_, i);
    const uint32_t bucket_run = Ld(bks_, i + 1) - Ld(bks_, i);
    NsExtra& x = nsx_[i];
    x = NsExtra{0, 0, 0, 0, 0, 0, Encoding::kDense, 0, 0, 0};
    bool sparse_ok;
    if (!kSparseKind[kind]) {
      sparse_ok = sorted_run == 0 && bitmap_run == 0 && bucket_run == 0;
    } else if (sorted_run == run && bitmap_run == 0 && bucket_run == 0) {
      sparse_ok = true;
      x.enc = Encoding::kSorted;
    } else if (sorted_run == 0 && bitmap_run > 0 && bucket_run == 0) {
      sparse_ok = true;
      x.enc = Encoding::kBitmap;
    } else if (sorted_run == 0 && bitmap_run == 0 && bucket_run > 0) {
      sparse_ok = true;
      x.enc = Encoding::kBuckets;
    } else {
      sparse_ok = sorted_run == 0 && bitmap_run == 0 && bucket_run == 0;
      x.enc = Encoding::kDirect;
    }
    if (!sparse_ok) return fail(Code::kCorrupt, "namespace 0x" + Hex(n) + " has sparse runs of the wrong length");
    if (x.enc == Encoding::kBuckets) {
      // The bucket header (FORMAT.md 3.3), read once here and kept: k, nb, f and Fw, and the
      // sizes of the parts must add up to the run exactly. All in 64 bits.
      // bucket_starts[i + 1] may still exceed Bw here (a later entry that decreases fails the
      // open, but has not been seen yet): the run must lie in the section before its header is
      // read (FORMAT.md 3.3).
      const uint64_t w0 = Ld(bks_, i);
      bool valid = bucket_run >= 4 && Ld(bks_, i + 1) <= bw_;
      uint64_t k = 0, nb = 0, f = 0, fw = 0, q = 0, rel_words = 0;
      if (valid) {
        k = Ld(buckets_, w0);
        nb = Ld(buckets_, w0 + 1);
        f = Ld(buckets_, w0 + 2);
        fw = Ld(buckets_, w0 + 3);
        valid = k >= 1 && k <= 15 && nb >= 1 && nb <= (1ull << (32 - k)) && f <= 31 && fw >= 1;
      }
      if (valid) {
        q = ((nb - 1) >> (16 - k)) + 1;
        rel_words = (nb + 2) / 2;
        const uint64_t low_words = ((static_cast<uint64_t>(run) + 1) * (k <= 8 ? 1 : 2) + 3) / 4;
        valid = bucket_run == 4 + fw + q + rel_words + low_words;
      }
      if (!valid) return fail(Code::kCorrupt, "the bucket header of namespace 0x" + Hex(n) + " is invalid");
      // Every offset below is within the run, hence at most bucket_starts[i + 1] < 2^32.
      x.k = static_cast<uint8_t>(k);
      x.f = static_cast<uint8_t>(f);
      x.wide = k > 8;
      x.nb = static_cast<uint32_t>(nb);
      x.fw = static_cast<uint32_t>(fw);
      x.filter = static_cast<uint32_t>(w0 + 4);
      x.super_ = static_cast<uint32_t>(w0 + 4 + fw);
      x.rel = static_cast<uint32_t>(w0 + 4 + fw + q);
      x.low = static_cast<uint32_t>(w0 + 4 + fw + q + rel_words);
    }
    if (Ld(sls_, i + 1) - Ld(sls_, i) != (kind == 0 ? run : 0))
      return fail(Code::kCorrupt, "namespace 0x" + Hex(n) + " has a source-location run of the wrong length");
  }
  for (int kind = 15, j = static_cast<int>(n_); kind >= 0; kind--) {
    while (j > 0 && (Ld(ns_, static_cast<size_t>(j - 1)) >> 28) >= static_cast<uint32_t>(kind)) j--;
    kind_first_[kind] = static_cast<uint32_t>(j);
  }
  // 10: the offset index.
  if (shift_ > 31 || (f_ == 0) != (c_ == 0))
    return fail(Code::kCorrupt, "the offset index (shift " + Num(shift_) + ", " + Num(c_) + " entries) does not fit " + Num(f_) + " functions");
  // 11: module records.
  for (uint32_t m = 0; m < m_; m++) {
    const Module r = ModuleAt(m);
    if (r.name_encoding > 2) return fail(Code::kCorrupt, "module " + Num(m) + " has name encoding " + Num(r.name_encoding));
    if (r.name_encoding == 0 && r.name_count != 0)
      return fail(Code::kCorrupt, "module " + Num(m) + " has no name index but a name count of " + Num(r.name_count));
    const uint64_t words = static_cast<uint64_t>(r.name_count) * (r.name_encoding == 1 ? 2 : r.name_encoding == 2 ? 3 : 0);
    if (r.name_index_start > w_ || words > w_ - r.name_index_start)
      return fail(Code::kCorrupt, "module " + Num(m) + " has its name index outside .fk.name_index");
    if (r.name_offset == kNone ? r.name_length != 0 : r.name_offset > b_ || r.name_length > b_ - r.name_offset)
      return fail(Code::kCorrupt, "module " + Num(m) + " has its name outside .fk.names");
  }
  return Status::Ok();
}

Reader::Module Reader::ModuleAt(uint32_t m) const {
  const uint8_t* r = info_ + kInfoFixedSize + kModuleRecordSize * m;
  Module out;
  out.name_offset = Ld32(r + 0);
  out.name_length = Ld32(r + 4);
  out.imported_funcs = Ld32(r + 8);
  out.defined_funcs = Ld32(r + 12);
  out.byte_offset = Ld32(r + 16);
  out.name_encoding = Ld32(r + 20);
  out.name_index_start = Ld32(r + 24);
  out.name_count = Ld32(r + 28);
  out.sha256 = r + 32;
  return out;
}

// ---- lookups (FORMAT.md section 5) ----
// Open established: N + 1 entries in each start array, starting at 0, never decreasing,
// ending at F, S, L, Bm and Bw; per namespace one encoding (nsx_[i].enc) whose runs have the
// lengths it requires: a sorted run as long as its func run, a nonempty bitmap run, a bucket
// run of exactly the words its header implies (nsx_[i] holds that header); a src run as long
// as its func run for kind 0. Every index below is within its array by those facts.

// Namespaces ascend, so those of one kind are consecutive; when their low bits count 0, 1, 2,
// ... (module m of a kind at kind_first_[kind] + m), one read finds any of them. Otherwise a
// search. Either way the answer is the namespace's unique position.
int64_t Reader::FindNs(uint32_t ns) const {
  const uint64_t g = static_cast<uint64_t>(kind_first_[ns >> 28]) + (ns & 0x0FFFFFFFu);
  if (g < n_ && Ld(ns_, static_cast<size_t>(g)) == ns) return static_cast<int64_t>(g);
  const uint32_t n = n_;
  if (n <= kLinearNs) {
    for (uint32_t i = 0; i < n; i++)
      if (Ld(ns_, i) == ns) return i;
    return -1;
  }
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    const uint32_t mid = lo + ((hi - lo) >> 1);
    if (Ld(ns_, mid) < ns) lo = mid + 1;
    else hi = mid;
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

// Pos in namespace i (at position i of the table, namespace ns).
int64_t Reader::PosIn(uint32_t i, uint32_t ns, uint32_t index) const {
  const uint32_t fs = Ld(fls_, i);
  const NsExtra& x = nsx_[i];
  uint32_t p;
  if (x.enc <= Encoding::kDirect) {
    // Dense, and direct (a sparse namespace laid out as a dense one).
    if (index >= Ld(fls_, i + 1) - fs) return -1;
    p = fs + index;
  } else if (x.enc == Encoding::kBuckets) {
    const int64_t d = BucketPos(x, Ld(fls_, i + 1) - fs, index);
    if (d < 0) {
      if (d == -2) {
        corrupt_ns_ = ns;
        corrupt_enc_ = Encoding::kBuckets;
      }
      return d;
    }
    p = fs + static_cast<uint32_t>(d);
  } else if (x.enc == Encoding::kBitmap) {
    // Rank bitmap (FORMAT.md 3.3): one pair read, one popcount.
    const uint32_t b0 = Ld(bms_, i);
    const uint32_t blk = index >> 5;
    if (blk >= Ld(bms_, i + 1) - b0) return -1;
    const size_t w = 2 * (static_cast<size_t>(b0) + blk);
    const uint32_t bits = Ld(bitmaps_, w + 1);
    const uint32_t bit = index & 31;
    if (((bits >> bit) & 1) == 0) return -1;
    const uint64_t d = static_cast<uint64_t>(Ld(bitmaps_, w)) + Popcount(bits & ((1u << bit) - 1));
    if (d >= Ld(fls_, i + 1) - fs) {
      corrupt_ns_ = ns;
      corrupt_enc_ = Encoding::kBitmap;
      return -2;
    }
    p = fs + static_cast<uint32_t>(d);
  } else {
    const uint32_t s0 = Ld(ss_, i);
    const uint32_t s1 = Ld(ss_, i + 1);
    const uint32_t lo = Search<false>(sparse_, 1, s0, s1, index);
    if (lo == s1 || Ld(sparse_, lo) != index) return -1;
    p = fs + (lo - s0);
  }
  if (Ld(locs_, 2 * static_cast<size_t>(p) + 1) == 0) return -1;
  return p;
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
// A bucket of at most 4 indices (c <= 4) takes the linear scan as written there. The writer
// sizes buckets to hold about one or two present indices, so the scan stops after a step or
// two; on this machine the loop ran faster than the same scan computed without branches from
// four reads (12.9 ns against 16.4 ns per present key at 1 index in 100, this reader alone).
// A larger bucket takes the lower_bound loop from lo = s, hi = e.
template <bool kWide>
inline uint32_t SearchLow(const uint8_t* low, uint32_t s, uint32_t e, uint32_t v, uint32_t* at) {
  if (e - s <= 4) {
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
// keep the namespace's values in registers (7.6 to 6.2 ns a key at 1 index in 100).
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

template <bool kHwPopcount>
__attribute__((always_inline)) inline Reader::Found Reader::FuncLocsImpl(const uint32_t* nss, const uint32_t* indices,
                                                                          size_t n, uint32_t* starts,
                                                                          uint32_t* lengths) const {
  // What the keys of one namespace need, read into a local when the namespace changes: the
  // stores to starts and lengths could alias the mapping (read through uint8_t) and nsx_,
  // so the compiler would otherwise load all of it again for every key. The namespace
  // before is kept in a second slot, so that keys alternating between two namespaces (a
  // function and its trampoline, as a lazy initialisation asks) read it only once.
  struct Run {
    uint32_t ns;
    int64_t i;
    NsExtra x;
    uint32_t fs, run, b0, blocks;
  };
  const auto load = [this](Run& r, uint32_t ns) {
    r.ns = ns;
    r.i = FindNs(ns);
    if (r.i < 0) return;
    const uint32_t u = static_cast<uint32_t>(r.i);
    r.x = nsx_[u];
    r.fs = Ld(fls_, u);
    r.run = Ld(fls_, u + 1) - r.fs;
    r.b0 = Ld(bms_, u);
    r.blocks = Ld(bms_, u + 1) - r.b0;
  };
  Run slot[2] = {};
  load(slot[0], 0);
  slot[1] = slot[0];
  unsigned c = 0;
  for (size_t k = 0; k < n;) {
    const uint32_t ns = nss[k];
    if (ns != slot[c].ns) {
      c ^= 1;
      if (ns != slot[c].ns) load(slot[c], ns);
    }
    // The keys of this namespace that follow, with its values as locals (registers).
    const Run r = slot[c];
    if (r.i < 0) {
      for (; k < n && nss[k] == ns; k++) {
        starts[k] = kNone;
        lengths[k] = 0;
      }
      continue;
    }
    const NsExtra x = r.x;
    const uint32_t fs = r.fs, run = r.run, b0 = r.b0, blocks = r.blocks;
    for (; k < n && nss[k] == ns; k++) {
      const uint32_t index = indices[k];
      uint32_t hit;
      size_t p;
      if (x.enc <= Encoding::kDirect) {
        hit = index < run;
        p = fs + (hit ? index : 0u);
      } else if (x.enc == Encoding::kBitmap) {
        // FORMAT.md 5, sparse bitmap, computed whether or not the index is present; only a
        // present index whose rank points past the run is E_CORRUPT, as in Pos. A block
        // beyond the run reads block 0 instead (the run has at least one) and is no answer.
        const uint32_t blk = index >> 5;
        const uint32_t in_run = blk < blocks;
        const size_t w = 2 * (static_cast<size_t>(b0) + (in_run ? blk : 0));
        const uint32_t bits = Ld(bitmaps_, w + 1);
        const uint32_t bit = index & 31;
        hit = in_run & (bits >> bit) & 1;
        const uint64_t d = static_cast<uint64_t>(Ld(bitmaps_, w)) + PopcountT<kHwPopcount>(bits & ((1u << bit) - 1));
        if (hit && d >= run) {
          corrupt_ns_ = ns;
          corrupt_enc_ = Encoding::kBitmap;
          return Found::kCorrupt;
        }
        p = fs + (hit ? static_cast<uint32_t>(d) : 0u);
      } else if (x.enc == Encoding::kBuckets) {
        const int64_t d = BucketPos(x, run, index);
        if (d == -2) {
          corrupt_ns_ = ns;
          corrupt_enc_ = Encoding::kBuckets;
          return Found::kCorrupt;
        }
        hit = d >= 0;
        p = fs + (hit ? static_cast<uint32_t>(d) : 0u);
      } else {
        const int64_t d = PosIn(static_cast<uint32_t>(r.i), ns, index);
        if (d == -2) return Found::kCorrupt;
        hit = d >= 0;
        p = hit ? static_cast<size_t>(d) : fs;
      }
      // p is a position in the namespace's run (fs when there is no hit): the reads are inside it.
      const uint32_t start = Ld(locs_, 2 * p);
      const uint32_t length = Ld(locs_, 2 * p + 1);
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

Reader::Found Reader::FuncLoc(uint32_t ns, uint32_t index, uint32_t* start, uint32_t* length) const {
  uint32_t i;
  const int64_t p = Pos(ns, index, &i);
  if (p == -2) return Found::kCorrupt;
  if (p < 0) return Found::kNo;
  *start = Ld(locs_, 2 * static_cast<size_t>(p));
  *length = Ld(locs_, 2 * static_cast<size_t>(p) + 1);
  return Found::kYes;
}

Reader::Found Reader::SrcLoc(uint32_t ns, uint32_t index, uint32_t* pos) const {
  if ((ns >> 28) != 0) return Found::kNo;
  uint32_t i;
  const int64_t p = Pos(ns, index, &i);
  if (p == -2) return Found::kCorrupt;
  if (p < 0) return Found::kNo;
  *pos = Ld(src_, Ld(sls_, i) + (static_cast<uint32_t>(p) - Ld(fls_, i)));
  return Found::kYes;
}

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
  // and nothing branches on what they read; the search's steps each wait on the one before
  // (FuncByOffset alone, 65,536 random offsets one at a time: 41 to 38 ns at 64Ki functions, 69
  // to 64 ns at 1Mi). A longer range (no index, a crowded bucket) is searched.
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
  const uint32_t namespace_ = Ld(ns_, i);
  const uint32_t d = p - Ld(fls_, i);
  *ns = namespace_;
  const NsExtra& x = nsx_[i];
  switch (x.enc) {
    case Encoding::kDense:
    case Encoding::kDirect:
      *index = d;
      return true;
    case Encoding::kSorted:
      *index = Ld(sparse_, Ld(ss_, i) + d);
      return true;
    case Encoding::kBuckets: {
      // The bucket by its start (the upper_bound loop over start(b), b < nb), then low[d]
      // (d < K, inside the run).
      corrupt_enc_ = Encoding::kBuckets;
      uint32_t lo = 0, hi = x.nb;
      while (lo < hi) {
        const uint32_t mid = lo + ((hi - lo) >> 1);
        const bool right = BucketStartOf(x, mid) <= d;
        lo = right ? mid + 1 : lo;
        hi = right ? hi : mid;
      }
      if (lo == 0) return false;
      const uint8_t* low = buckets_ + 4 * static_cast<size_t>(x.low);
      const uint32_t v = x.wide ? Ld16At(low + 2 * static_cast<size_t>(d)) : low[d];
      if (v >> x.k != 0) return false;
      // (lo - 1) < nb <= 2^(32 - k), so the sum is below 2^32.
      *index = ((lo - 1) << x.k) + v;
      return true;
    }
    case Encoding::kBitmap:
      break;
  }
  // Bitmap: the block by its rank, then the bit (FORMAT.md section 5).
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
  const uint64_t idx = 32 * static_cast<uint64_t>(t - 1) + static_cast<uint32_t>(__builtin_ctz(bits));
  if (idx > 0xFFFFFFFFull) return false;
  *index = static_cast<uint32_t>(idx);
  return true;
}

const char* Reader::EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kDense: return "dense";
    case Encoding::kDirect: return "direct";
    case Encoding::kSorted: return "sorted";
    case Encoding::kBitmap: return "bitmap";
    case Encoding::kBuckets: return "buckets";
  }
  return "dense";
}

std::string Reader::CorruptMessage() const {
  if (corrupt_enc_ == Encoding::kBuckets) return "the sparse buckets of namespace 0x" + Hex(corrupt_ns_) + " are damaged";
  return "the sparse bitmap of namespace 0x" + Hex(corrupt_ns_) + " is damaged";
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

Reader::NameResult Reader::FuncName(uint32_t func_index, uint32_t module, const uint8_t** bytes,
                                    uint32_t* length) const {
  if (module >= m_) return NameResult::kAbsent;
  const uint8_t* r = info_ + kInfoFixedSize + kModuleRecordSize * module;
  const uint32_t enc = Ld32(r + 20);
  const size_t start = Ld32(r + 24);
  const uint32_t count = Ld32(r + 28);
  // Open established start + count * (2 or 3) <= W.
  size_t slot;
  if (enc == 1) {
    if (func_index >= count) return NameResult::kAbsent;
    slot = start + 2 * static_cast<size_t>(func_index);
  } else if (enc == 2) {
    const uint32_t lo = Search<false>(name_index_ + 4 * start, 3, 0, count, func_index);
    if (lo == count || Ld(name_index_, start + 3 * static_cast<size_t>(lo)) != func_index) return NameResult::kAbsent;
    slot = start + 3 * static_cast<size_t>(lo) + 1;
  } else {
    return NameResult::kAbsent;
  }
  const uint32_t off = Ld(name_index_, slot);
  if (off == kNone) return NameResult::kAbsent;
  const uint32_t len = Ld(name_index_, slot + 1);
  if (off > b_ || len > b_ - off) return NameResult::kCorrupt;
  *bytes = names_ + off;
  *length = len;
  return NameResult::kFound;
}

}  // namespace funckey
