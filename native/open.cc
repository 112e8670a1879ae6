// Open: the validation of FORMAT.md 3.2, one function per step (or group of steps), in the
// order the steps are numbered there; the first failure decides the error code, and the
// messages are those of lib/open.ts, which this mirrors function for function.
#include <cstring>
#include <new>
#include <unordered_set>

#include "reader.h"

namespace funckey {

namespace {

Status Fail(Code c, std::string m) { return Status::Error(c, std::move(m)); }

// Words of a bucket run (FORMAT.md 3.3): header, filter, superblock ranks, u16 ranks, low
// parts, in 64 bits (lib/format.ts's bucketRunWords).
uint64_t BucketRunWords(uint64_t k, uint64_t nb, uint64_t keys, uint64_t fw) {
  const uint64_t q = ((nb - 1) >> (16 - k)) + 1;
  const uint64_t low_words = ((keys + 1) * (k <= kBucketNarrowShift ? 1 : 2) + 3) / 4;
  return kBucketHeaderWords + fw + q + (nb + 2) / 2 + low_words;
}

// Offset and size lie in the file, compared without overflow (FORMAT.md 3.2 step 8).
bool InFile(uint64_t flen, uint64_t offset, uint64_t size) { return offset <= flen && size <= flen - offset; }

}  // namespace

Status Reader::Open(const uint8_t* bytes, size_t len) {
  data_ = bytes;
  size_ = len;
  uint64_t shoff;
  int64_t found[kSectionCount];
  const uint8_t* at[kSectionCount];
  Status st = CheckElf(&shoff);
  if (st.ok()) st = ReadSections(shoff, found);
  if (st.ok()) st = ReadInfo(found);
  if (st.ok()) st = CheckSections(found, at);
  if (st.ok()) st = CopyTables(at);
  if (st.ok()) st = CheckNamespaces();
  if (st.ok()) st = CheckOffsetIndex();
  if (st.ok()) st = CheckModules();
  return st;
}

// Steps 1 to 4: the ELF identification and the section header table; *shoff is e_shoff.
Status Reader::CheckElf(uint64_t* shoff) const {
  const uint8_t* bytes = data_;
  const size_t len = size_;
  if (len < 4 || bytes[0] != 0x7F || bytes[1] != 0x45 || bytes[2] != 0x4C || bytes[3] != 0x46)
    return Fail(Code::kFormat, "not a funckey artifact: no ELF magic");
  if (len < kElfHeaderSize) return Fail(Code::kTruncated, "file of " + Num(len) + " bytes ends inside the ELF header");
  const uint32_t shentsize = Ld16(bytes + 58);
  const uint32_t shnum = Ld16(bytes + 60);
  if (bytes[4] != 2 || bytes[5] != 1) return Fail(Code::kFormat, "not a little-endian ELF64 file");
  if (shentsize != kSectionHeaderSize || shnum < 2)
    return Fail(Code::kFormat, "not a funckey artifact: unexpected ELF section table");
  // shnum < 2^16, so the product cannot overflow.
  *shoff = Ld64(bytes + 40);
  if (!InFile(len, *shoff, kSectionHeaderSize * shnum))
    return Fail(Code::kTruncated, "the section header table lies beyond the end of the file");
  return Status::Ok();
}

// Steps 5 and 6: the section name table and every section's name, decoded as TextDecoder
// would so that names compare as in lib/open.ts; found[k] is the position of section k.
Status Reader::ReadSections(uint64_t shoff, int64_t found[kSectionCount]) {
  const uint8_t* bytes = data_;
  const uint32_t shnum = Ld16(bytes + 60);
  // Every section header lies within the file (step 4).
  auto sh = [bytes, shoff](uint32_t i) { return bytes + shoff + kSectionHeaderSize * i; };
  const uint32_t shstrndx = Ld16(bytes + 62);
  if (shstrndx >= shnum)
    return Fail(Code::kCorrupt,
                "section name table index " + Num(shstrndx) + " is not below the section count " + Num(shnum));
  const uint64_t str_off = Ld64(sh(shstrndx) + 24);
  const uint64_t str_size = Ld64(sh(shstrndx) + 32);
  if (!InFile(size_, str_off, str_size))
    return Fail(Code::kTruncated, "the section name table lies beyond the end of the file");
  sections_.clear();
  sections_.reserve(shnum - 1);
  std::unordered_set<std::string> fk_names;
  for (int k = 0; k < kSectionCount; k++) found[k] = -1;
  const uint8_t* limit = bytes + str_off + str_size;
  for (uint32_t i = 1; i < shnum; i++) {
    const uint64_t name_off = Ld32(sh(i));
    if (name_off >= str_size)
      return Fail(Code::kCorrupt, "section " + Num(i) + " has its name outside the section name table");
    // At most kMaxSectionName + 1 bytes are looked at: the cost of a name is bounded
    // whatever .shstrtab holds.
    const uint8_t* start = bytes + str_off + name_off;
    const size_t span = static_cast<size_t>(limit - start);
    const bool capped = span > kMaxSectionName + 1;
    const uint8_t* end = static_cast<const uint8_t*>(std::memchr(start, 0, capped ? kMaxSectionName + 1 : span));
    if (end == nullptr && !capped)
      return Fail(Code::kCorrupt, "section " + Num(i) + " has a name with no terminating NUL");
    if (end == nullptr)
      return Fail(Code::kCorrupt, "section " + Num(i) + " has a name longer than " + Num(kMaxSectionName) + " bytes");
    Section s;
    DecodeUtf8(start, static_cast<size_t>(end - start), true, &s.name);
    s.offset = Ld64(sh(i) + 24);
    s.size = Ld64(sh(i) + 32);
    if (s.name.compare(0, 4, ".fk.") == 0) {
      if (!fk_names.insert(s.name).second) return Fail(Code::kCorrupt, "section " + s.name + " appears twice");
      for (int k = 0; k < kSectionCount; k++)
        if (s.name == kSectionNames[k]) found[k] = static_cast<int64_t>(sections_.size());
    }
    sections_.push_back(std::move(s));
  }
  return Status::Ok();
}

// Step 7: the info header.
Status Reader::ReadInfo(const int64_t found[kSectionCount]) {
  if (found[kInfo] < 0) return Fail(Code::kFormat, "not a funckey artifact: an ELF file with no .fk.info section");
  const Section& info = sections_[static_cast<size_t>(found[kInfo])];
  if (!InFile(size_, info.offset, info.size)) return Fail(Code::kTruncated, ".fk.info lies beyond the end of the file");
  if (info.size < kInfoFixedSize)
    return Fail(Code::kCorrupt, ".fk.info has " + Num(info.size) + " bytes, fewer than " + Num(kInfoFixedSize));
  info_ = data_ + info.offset;
  if (std::memcmp(info_ + kInfoMagicAt, kInfoMagic, sizeof kInfoMagic) != 0)
    return Fail(Code::kFormat, "not a funckey artifact: bad magic in .fk.info");
  version_ = Ld32(info_ + kInfoVersion);
  if (version_ != kFormatVersion)
    return Fail(Code::kVersion, "artifact format version " + Num(version_) + "; this reader reads version " +
                                    Num(kFormatVersion) + ": rebuild the artifact with this version of funckey");
  m_ = Ld32(info_ + kInfoModuleCount);
  if (Ld32(info_ + kInfoModuleRecordSize) != kModuleRecordSize || info.size < kInfoFixedSize + kModuleRecordSize * m_)
    return Fail(Code::kCorrupt, ".fk.info is too small for " + Num(m_) + " module records");
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
  return Status::Ok();
}

// Entry size of a source-location section, whose size gives its count (FORMAT.md 3.5).
namespace {
uint64_t LineEntry(int k) {
  switch (k) {
    case kLineBlocks:
      return 8;
    case kLineStrings:
      return 4;
    default:
      return 1;
  }
}
}  // namespace

// Step 8: every table section present (the source-location ones may be absent: empty), in
// the file, aligned, of the declared size; at[k] is where section k starts (nullptr for an
// absent one), and Bw the word count of .fk.sparse_buckets.
Status Reader::CheckSections(const int64_t found[kSectionCount], const uint8_t* at[kSectionCount]) {
  const uint64_t n1 = static_cast<uint64_t>(n_) + 1;
  // .fk.info is checked by step 7 and .fk.sparse_buckets, whose size gives its count, by
  // being a multiple of 4.
  const uint64_t expected[kSectionCount] = {
      0,      4ull * n_,  4 * n1,    4 * n1, 4 * n1, 4ull * s_, 8ull * f_, 4ull * l_, 4ull * w_, b_,
      4 * n1, 8ull * bm_, 4ull * c_, 4 * n1, 0,      0,         0,         0,         0,         0,
  };

  for (int k = 0; k < kSectionCount; k++) {
    const std::string name = kSectionNames[k];
    if (found[k] < 0 && k >= kLineBlocks) {
      at[k] = nullptr;
      lines_[k - kLineBlocks] = nullptr;
      lines_size_[k - kLineBlocks] = 0;
      continue;
    }
    if (found[k] < 0) return Fail(Code::kCorrupt, "section " + name + " is missing");
    const Section& s = sections_[static_cast<size_t>(found[k])];
    if (!InFile(size_, s.offset, s.size))
      return Fail(Code::kTruncated, "section " + name + " lies beyond the end of the file");
    if (s.offset % 8 != 0) return Fail(Code::kCorrupt, "section " + name + " is not aligned to 8 bytes");
    if (k >= kLineBlocks) {
      const uint64_t entry = LineEntry(k);
      if (s.size % entry != 0)
        return Fail(Code::kCorrupt, "section " + name + " has " + Num(s.size) + " bytes, not a whole number of " +
                                        Num(entry) + "-byte entries");
      lines_[k - kLineBlocks] = data_ + s.offset;
      lines_size_[k - kLineBlocks] = static_cast<size_t>(s.size);
    } else if (k == kSparseBuckets) {
      if (s.size % 4 != 0)
        return Fail(Code::kCorrupt, "section " + name + " has " + Num(s.size) + " bytes, not a whole number of words");
    } else if (k != kInfo && s.size != expected[k]) {
      return Fail(Code::kCorrupt,
                  "section " + name + " has " + Num(s.size) + " bytes, the header implies " + Num(expected[k]));
    }
    at[k] = data_ + s.offset;
  }
  bw_ = sections_[static_cast<size_t>(found[kSparseBuckets])].size / 4;
  return Status::Ok();
}

// The namespace table and the module records are what lookups index with: copied before
// they are validated, and the copy validated. A mapped file can change after open (rewritten
// in place by another process); the indices open validated must not, or a lookup could leave
// the mapping. N + 1 and M entries: the copy is as cheap as the checks. The same holds for
// the header of each bucket run, kept in nsx_.
Status Reader::CopyTables(const uint8_t* const at[kSectionCount]) {
  const uint64_t n1 = static_cast<uint64_t>(n_) + 1;
  const size_t info_bytes = static_cast<size_t>(kInfoFixedSize + kModuleRecordSize * m_);  // <= the size of .fk.info
  const size_t table_bytes = static_cast<size_t>(4 * static_cast<uint64_t>(n_) + 5 * 4 * n1);
  meta_.reset(new (std::nothrow) uint8_t[info_bytes + table_bytes]);
  if (!meta_)
    return Fail(Code::kIo, "cannot allocate " + Num(info_bytes + table_bytes) + " bytes for the artifact's header");
  nsx_.reset(new (std::nothrow) NsExtra[n_ == 0 ? 1 : n_]);
  if (!nsx_) return Fail(Code::kIo, "cannot allocate the namespace table of " + Num(n_) + " namespaces");
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
  return Status::Ok();
}

// Step 9: the namespace table; then kind_first_, which FORMAT.md leaves to the reader.
Status Reader::CheckNamespaces() {
  if (Ld(fls_, 0) != 0 || Ld(ss_, 0) != 0 || Ld(sls_, 0) != 0 || Ld(bms_, 0) != 0 || Ld(bks_, 0) != 0)
    return Fail(Code::kCorrupt, "a namespace start array does not begin with 0");
  if (Ld(fls_, n_) != f_ || Ld(ss_, n_) != s_ || Ld(sls_, n_) != l_ || Ld(bms_, n_) != bm_ || Ld(bks_, n_) != bw_)
    return Fail(Code::kCorrupt, "a namespace start array does not end with its array length");
  for (uint32_t i = 0; i < n_; i++) {
    Status st = CheckNamespace(i);
    if (!st.ok()) return st;
  }
  for (int kind = 15, j = static_cast<int>(n_); kind >= 0; kind--) {
    while (j > 0 && (Ld(ns_, static_cast<size_t>(j - 1)) >> 28) >= static_cast<uint32_t>(kind)) j--;
    kind_first_[kind] = static_cast<uint32_t>(j);
  }
  return Status::Ok();
}

// Step 9 for namespace i: its key rules, its runs and its encoding (FORMAT.md 3, 3.1, 3.3).
Status Reader::CheckNamespace(uint32_t i) {
  const uint32_t n = Ld(ns_, i);
  if (i > 0 && n <= Ld(ns_, i - 1)) return Fail(Code::kCorrupt, "namespaces are not strictly ascending");
  const uint32_t kind = n >> 28;
  const uint32_t low = n & kLowMask;
  if (kind >= kKindCount) return Fail(Code::kCorrupt, "namespace 0x" + Hex(n) + " has kind " + Num(kind));
  const KindRule& rule = kKinds[kind];
  if (rule.low == KindLow::kZero && low != 0)
    return Fail(Code::kCorrupt, "namespace 0x" + Hex(n) + " has low bits its kind does not allow");
  if (rule.low == KindLow::kAbi && low > kMaxAbi)
    return Fail(Code::kCorrupt, "namespace 0x" + Hex(n) + " has abi " + Num(low));
  if (Ld(fls_, i + 1) < Ld(fls_, i) || Ld(ss_, i + 1) < Ld(ss_, i) || Ld(sls_, i + 1) < Ld(sls_, i) ||
      Ld(bms_, i + 1) < Ld(bms_, i) || Ld(bks_, i + 1) < Ld(bks_, i))
    return Fail(Code::kCorrupt, "a namespace start array decreases");
  const uint32_t run = Ld(fls_, i + 1) - Ld(fls_, i);
  if (run < 1) return Fail(Code::kCorrupt, "namespace 0x" + Hex(n) + " has an empty run");
  const uint32_t sorted_run = Ld(ss_, i + 1) - Ld(ss_, i);
  const uint32_t bitmap_run = Ld(bms_, i + 1) - Ld(bms_, i);
  const uint32_t bucket_run = Ld(bks_, i + 1) - Ld(bks_, i);
  NsExtra& x = nsx_[i];
  x = NsExtra{0, 0, 0, 0, 0, 0, Encoding::kDense, 0, 0, 0};
  bool sparse_ok;
  if (!rule.sparse) {
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
  if (!sparse_ok) return Fail(Code::kCorrupt, "namespace 0x" + Hex(n) + " has sparse runs of the wrong length");
  if (x.enc == Encoding::kBuckets) {
    Status st = ReadBucketHeader(i, run, &x);
    if (!st.ok()) return st;
  }
  if (Ld(sls_, i + 1) - Ld(sls_, i) != (rule.src_locs ? run : 0))
    return Fail(Code::kCorrupt, "namespace 0x" + Hex(n) + " has a source-location run of the wrong length");
  return Status::Ok();
}

// Step 9, buckets: the header of namespace i's run (FORMAT.md 3.3), read once, validated in
// 64 bits and kept in *x. bucket_starts[i + 1] may still exceed Bw here (a later entry that
// decreases fails the open, but has not been seen yet): the run must lie in the section
// before its header is read.
Status Reader::ReadBucketHeader(uint32_t i, uint32_t run, NsExtra* x) const {
  const uint64_t w0 = Ld(bks_, i);
  const uint64_t bucket_run = Ld(bks_, i + 1) - w0;
  bool valid = bucket_run >= kBucketHeaderWords && Ld(bks_, i + 1) <= bw_;
  uint64_t k = 0, nb = 0, f = 0, fw = 0;
  if (valid) {
    k = Ld(buckets_, w0);
    nb = Ld(buckets_, w0 + 1);
    f = Ld(buckets_, w0 + 2);
    fw = Ld(buckets_, w0 + 3);
    valid = k >= 1 && k <= kMaxBucketShift && nb >= 1 && nb <= (1ull << (32 - k)) && f <= kFilterShiftLimit &&
            fw >= 1 && bucket_run == BucketRunWords(k, nb, run, fw);
  }
  if (!valid) return Fail(Code::kCorrupt, "the bucket header of namespace 0x" + Hex(Ld(ns_, i)) + " is invalid");
  // Every offset below is within the run, hence at most bucket_starts[i + 1] < 2^32.
  const uint64_t q = ((nb - 1) >> (16 - k)) + 1;
  x->k = static_cast<uint8_t>(k);
  x->f = static_cast<uint8_t>(f);
  x->wide = k > kBucketNarrowShift;
  x->nb = static_cast<uint32_t>(nb);
  x->fw = static_cast<uint32_t>(fw);
  x->filter = static_cast<uint32_t>(w0 + kBucketHeaderWords);
  x->super_ = static_cast<uint32_t>(w0 + kBucketHeaderWords + fw);
  x->rel = static_cast<uint32_t>(w0 + kBucketHeaderWords + fw + q);
  x->low = static_cast<uint32_t>(w0 + kBucketHeaderWords + fw + q + (nb + 2) / 2);
  return Status::Ok();
}

// Step 10: the offset index.
Status Reader::CheckOffsetIndex() const {
  if (shift_ > kMaxOffsetShift || (f_ == 0) != (c_ == 0))
    return Fail(Code::kCorrupt, "the offset index (shift " + Num(shift_) + ", " + Num(c_) + " entries) does not fit " +
                                    Num(f_) + " functions");
  return Status::Ok();
}

// Step 11: every module record.
Status Reader::CheckModules() const {
  for (uint32_t m = 0; m < m_; m++) {
    const Module r = ModuleAt(m);
    if (r.name_encoding > kNameEncodingSparse)
      return Fail(Code::kCorrupt, "module " + Num(m) + " has name encoding " + Num(r.name_encoding));
    if (r.name_encoding == kNameEncodingNone && r.name_count != 0)
      return Fail(Code::kCorrupt, "module " + Num(m) + " has no name index but a name count of " + Num(r.name_count));
    const uint64_t per = r.name_encoding == kNameEncodingDense ? 2 : r.name_encoding == kNameEncodingSparse ? 3 : 0;
    const uint64_t words = static_cast<uint64_t>(r.name_count) * per;
    if (r.name_index_start > w_ || words > w_ - r.name_index_start)
      return Fail(Code::kCorrupt, "module " + Num(m) + " has its name index outside .fk.name_index");
    if (r.name_offset == kNone ? r.name_length != 0 : r.name_offset > b_ || r.name_length > b_ - r.name_offset)
      return Fail(Code::kCorrupt, "module " + Num(m) + " has its name outside .fk.names");
    if (r.name_length > kMaxNameBytes)
      return Fail(Code::kCorrupt, "module " + Num(m) + " has a name of " + Num(r.name_length) +
                                      " bytes, more than any name has (" + Num(kMaxNameBytes) + ")");
  }
  return Status::Ok();
}

}  // namespace funckey
