// libFuzzer target over the C++ reader alone (native/reader.h and its .cc files, native/mapped_file.*; no
// N-API). Built with AddressSanitizer and UndefinedBehaviorSanitizer by scripts/fuzz.sh.
//
// The whole input is the artifact: Reader::Open sees exactly the fuzzer's buffer, so a read
// one byte past its end is an ASan report. When Open succeeds, every lookup kind runs with
// arguments taken from two places:
//   - the table itself: every namespace present (and its neighbours), run ends and one past
//     them, the sparse indices present, the keys funcByOffset answers (and the next index),
//     the edges of the buckets of bucket runs, the starts and ends of function locations and
//     the offsets just around them, name counts and the function indices of sparse name records;
//   - the input's trailing bytes, those after the last section and after the section header
//     table (bytes the reader never interprets, so that the fuzzer can vary the arguments
//     without changing the artifact), read as u32 words, plus a few fixed edge values.
// The batch forms are the loops of native/binding.cc over the same calls and run as well.
//
// Properties checked (a failure aborts, which libFuzzer reports as a crash):
//   - an answered location has a nonzero length (a hole is never an answer);
//   - a key answered by funcByOffset has a namespace present in the table;
//   - each namespace has one encoding that its kind allows, and a bucket shift (1 to 15)
//     exactly when it is stored as buckets, and a filter shift (up to 31) only then;
//   - a name answered lies within .fk.names;
//   - names decode (as the addon decodes section names) into valid UTF-8;
//   - a source-location frame's strings lie within .fk.line_string_bytes;
//   - the same question asked twice gets the same answer.
// One input in 32 (by its size) is also written to a memfd and opened through MappedFile,
// the path the addon takes for a file.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../native/mapped_file.h"
#include "../native/reader.h"
#include "../native/srclocs.h"

using funckey::Reader;
using funckey::SrcFrameRef;
using funckey::SrcLocTables;
using funckey::Status;

namespace {

constexpr uint32_t kNone = funckey::kNone;
constexpr size_t kMaxPerList = 48;  // keeps an execution short on large tables

#define FK_CHECK(cond)                                                                       \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "reader_fuzz: property failed: %s (line %d)\n", #cond, __LINE__); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

uint32_t Ld32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

// A section's contents when Open validated it (present, in the file, of its declared size).
struct View {
  const uint8_t* p = nullptr;
  size_t words = 0;
  uint32_t At(size_t i) const { return Ld32(p + 4 * i); }
};

View Find(const Reader& r, const uint8_t* data, const char* name) {
  View v;
  for (const auto& s : r.Sections()) {
    if (s.name == name) {
      v.p = data + s.offset;
      v.words = static_cast<size_t>(s.size / 4);
      return v;
    }
  }
  return v;
}

// Picks at most kMaxPerList of n positions, spread evenly, always including both ends.
template <typename F>
void Sample(size_t n, F f) {
  if (n == 0) return;
  const size_t step = n <= kMaxPerList ? 1 : n / kMaxPerList;
  for (size_t i = 0; i < n; i += step) f(i);
  f(n - 1);
}

bool ValidUtf8(const std::string& s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    size_t len;
    uint32_t cp;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
      cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; k++) {
      const uint8_t c = static_cast<uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

void Lookups(const Reader& r, const uint8_t* data, size_t size) {
  // Where the interpreted bytes end: the section header table and every section.
  // Open checked that the section header table lies in the file; sections of unknown names
  // are not checked and count only when they do.
  uint64_t used = (static_cast<uint64_t>(Ld32(data + 40)) | static_cast<uint64_t>(Ld32(data + 44)) << 32) +
                  64 * static_cast<uint64_t>(data[60] | data[61] << 8);
  for (const auto& s : r.Sections())
    if (s.offset <= size && s.size <= size - s.offset) used = std::max<uint64_t>(used, s.offset + s.size);
  std::vector<uint32_t> extra = {0, 1, 2, 0x7FFFFFFF, 0x80000000, 0x0FFFFFFF, 0x10000000, 0xFFFFFFFE, kNone};
  for (uint64_t at = (used + 3) & ~uint64_t{3}; at + 4 <= size && extra.size() < 64 + 9; at += 4)
    extra.push_back(Ld32(data + at));

  const View sparse = Find(r, data, ".fk.sparse_indices");
  const View locs = Find(r, data, ".fk.func_locs");
  const View name_index = Find(r, data, ".fk.name_index");
  FK_CHECK(sparse.words == r.SparseCount() && locs.words == 2 * static_cast<size_t>(r.FuncCount()));
  FK_CHECK(name_index.words == r.NameIndexWords());

  // Keys: namespaces present and their neighbours, with edge indices and the sparse indices.
  std::vector<std::pair<uint32_t, uint32_t>> keys;
  std::vector<uint32_t> present;
  Sample(r.NamespaceCount(), [&](size_t i) {
    const uint32_t ns = r.Namespace(static_cast<uint32_t>(i));
    present.push_back(ns);
    const Reader::Encoding enc = r.EncodingOf(static_cast<uint32_t>(i));
    const bool sparse_kind = funckey::kKinds[ns >> 28].sparse;
    FK_CHECK(sparse_kind ? enc != Reader::Encoding::kDense : enc == Reader::Encoding::kDense);
    const uint32_t shift = r.BucketShift(static_cast<uint32_t>(i));
    FK_CHECK(enc == Reader::Encoding::kBuckets ? shift >= 1 && shift <= funckey::kMaxBucketShift : shift == 0);
    const uint32_t filter_shift = r.BucketFilterShift(static_cast<uint32_t>(i));
    FK_CHECK(enc == Reader::Encoding::kBuckets ? filter_shift <= funckey::kFilterShiftLimit : filter_shift == 0);
    if (enc == Reader::Encoding::kBuckets)
      for (uint32_t b : {0u, 1u, 2u, 3u, 0x7FFFu, 0x8000u, 0xFFFFu, 0x10000u})
        for (uint32_t d : {0u, 1u}) {
          keys.emplace_back(ns, (b << shift) - d);
          keys.emplace_back(ns, ((b + 1) << shift) - 1 - d);
        }
    const uint32_t run = r.FuncLocStart(static_cast<uint32_t>(i) + 1) - r.FuncLocStart(static_cast<uint32_t>(i));
    for (uint32_t idx : {0u, 1u, run - 1, run, run + 1, kNone}) keys.emplace_back(ns, idx);
    const uint32_t s0 = r.SparseStart(static_cast<uint32_t>(i)), s1 = r.SparseStart(static_cast<uint32_t>(i) + 1);
    Sample(s1 - s0, [&](size_t j) {
      const uint32_t k = sparse.At(s0 + j);
      keys.emplace_back(ns, k);
      keys.emplace_back(ns, k + 1);
    });
    keys.emplace_back(ns + 1, 0);
    keys.emplace_back(ns - 1, 0);
  });
  for (size_t k = 0; k + 1 < extra.size(); k++) keys.emplace_back(extra[k], extra[k + 1]);
  for (uint32_t x : extra)
    if (!present.empty()) keys.emplace_back(present[x % present.size()], x);

  std::vector<uint32_t> offsets = extra;
  Sample(r.FuncCount(), [&](size_t p) {
    const uint32_t start = locs.At(2 * p), length = locs.At(2 * p + 1);
    for (uint32_t o : {start - 1, start, start + length / 2, start + length - 1, start + length}) offsets.push_back(o);
  });

  const uint8_t* names_begin = r.NameBytesAt(0);
  const uint8_t* names_end = names_begin + r.NameBytes();

  // funcByOffset, single and batch.
  std::vector<uint32_t> ns_out(offsets.size()), idx_out(offsets.size());
  for (size_t k = 0; k < offsets.size(); k++) {
    uint32_t n = 0, i = 0;
    const bool found = r.FuncByOffset(offsets[k], &n, &i) == Reader::Found::kYes;
    if (found)
      FK_CHECK(std::find(present.begin(), present.end(), n) != present.end() || r.NamespaceCount() > kMaxPerList);
    ns_out[k] = found ? n : kNone;
    idx_out[k] = found ? i : kNone;
    if (found && keys.size() < 4096) {
      keys.emplace_back(n, i);
      keys.emplace_back(n, i + 1);
    }
  }
  for (size_t k = 0; k < offsets.size(); k++) {
    uint32_t n = 0, i = 0;
    const bool found = r.FuncByOffset(offsets[k], &n, &i) == Reader::Found::kYes;
    FK_CHECK(found ? (ns_out[k] == n && idx_out[k] == i) : (ns_out[k] == kNone && idx_out[k] == kNone));
  }
  {
    // The batch (with its prefetches) answers as the single lookups did, unless a damaged run
    // stopped it.
    std::vector<uint32_t> bn(offsets.size()), bi(offsets.size());
    if (r.FuncsByOffset(offsets.data(), offsets.size(), bn.data(), bi.data()) == Reader::Found::kYes)
      for (size_t k = 0; k < offsets.size(); k++) FK_CHECK(bn[k] == ns_out[k] && bi[k] == idx_out[k]);
  }
  // Source locations (the .fk.line_* sections) at the same offsets: each frame's strings lie
  // within .fk.line_string_bytes, and the same offset gets the same chain twice.
  {
    const SrcLocTables t = funckey::ArtifactSrcLocs(r);
    std::vector<SrcFrameRef> a, b;
    for (uint32_t o : offsets) {
      const Status sa = funckey::SrcLocLookup(t, o, &a), sb = funckey::SrcLocLookup(t, o, &b);
      FK_CHECK(sa.ok() == sb.ok() && a.size() == b.size());
      if (!sa.ok()) continue;
      for (size_t k = 0; k < a.size(); k++) {
        FK_CHECK(a[k].function == b[k].function && a[k].line == b[k].line && a[k].column == b[k].column);
        for (const auto& [p, n] : {std::pair{a[k].function, a[k].function_size}, std::pair{a[k].file, a[k].file_size}})
          FK_CHECK(p >= t.string_bytes && n <= t.string_bytes_size && p - t.string_bytes <= t.string_bytes_size - n);
      }
    }
  }
  // funcLoc / srcLoc, single and batch.
  std::vector<uint32_t> starts(keys.size()), lengths(keys.size());
  for (size_t k = 0; k < keys.size(); k++) {
    uint32_t s = 0, l = 0;
    const bool found = r.FuncLoc(keys[k].first, keys[k].second, &s, &l) == Reader::Found::kYes;
    if (found) FK_CHECK(l != 0);
    starts[k] = found ? s : kNone;
    lengths[k] = found ? l : 0;
    uint32_t pos = 0;
    (void)r.SrcLoc(keys[k].first, keys[k].second, &pos);
  }
  for (size_t k = 0; k < keys.size(); k++) {
    uint32_t s = 0, l = 0;
    const bool found = r.FuncLoc(keys[k].first, keys[k].second, &s, &l) == Reader::Found::kYes;
    FK_CHECK(found ? (starts[k] == s && lengths[k] == l) : (starts[k] == kNone && lengths[k] == 0));
  }
  {
    std::vector<uint32_t> kn(keys.size()), ki(keys.size()), bs(keys.size()), bl(keys.size());
    for (size_t k = 0; k < keys.size(); k++) {
      kn[k] = keys[k].first;
      ki[k] = keys[k].second;
    }
    if (r.FuncLocs(kn.data(), ki.data(), keys.size(), bs.data(), bl.data()) == Reader::Found::kYes)
      for (size_t k = 0; k < keys.size(); k++) FK_CHECK(bs[k] == starts[k] && bl[k] == lengths[k]);
  }
  // funcName over every module (sampled), single and batch, with the indices the name index holds.
  Sample(r.ModuleCount(), [&](size_t mi) {
    const uint32_t m = static_cast<uint32_t>(mi);
    const Reader::Module rec = r.ModuleAt(m);
    if (rec.name_offset != kNone) {
      std::string s;
      funckey::DecodeUtf8(r.NameBytesAt(rec.name_offset), rec.name_length, false, &s);
      FK_CHECK(ValidUtf8(s));
    }
    std::vector<uint32_t> fis = extra;
    for (uint32_t d : {0u, 1u, 2u}) {
      fis.push_back(rec.name_count + d);
      fis.push_back(rec.name_count - d);
      fis.push_back(rec.imported_funcs + rec.defined_funcs - d);
    }
    if (rec.name_encoding == 2)
      Sample(rec.name_count, [&](size_t j) {
        const uint32_t fi = name_index.At(rec.name_index_start + 3 * j);
        fis.push_back(fi);
        fis.push_back(fi + 1);
      });
    for (uint32_t fi : fis) {
      const uint8_t* bytes = nullptr;
      uint32_t length = 0;
      const Reader::NameResult res = r.FuncName(fi, m, &bytes, &length);
      if (res == Reader::NameResult::kFound) {
        FK_CHECK(bytes >= names_begin && bytes <= names_end && length <= static_cast<size_t>(names_end - bytes));
        std::string s;
        funckey::DecodeUtf8(bytes, length, false, &s);
        FK_CHECK(ValidUtf8(s));
        const uint8_t* again = nullptr;
        uint32_t again_length = 0;
        FK_CHECK(r.FuncName(fi, m, &again, &again_length) == res && again == bytes && again_length == length);
      }
    }
  });
}

void RunOnBytes(const uint8_t* data, size_t size) {
  Reader r;
  const funckey::Status st = r.Open(data, size);
  if (!st.ok()) {
    FK_CHECK(st.code != funckey::Code::kOk && !st.message.empty());
    return;
  }
  for (const auto& s : r.Sections()) FK_CHECK(ValidUtf8(s.name));
  Lookups(r, data, size);
}

// The same bytes through MappedFile (as the addon opens a path), from an anonymous memfd.
void RunMapped(const uint8_t* data, size_t size) {
  const int fd = memfd_create("reader_fuzz", MFD_CLOEXEC);
  if (fd < 0) return;
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  if (done == size) {
    funckey::MappedFile map;
    std::string error;
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (map.Open(path, &error)) {
      FK_CHECK(map.size() == size);
      FK_CHECK(size == 0 ? map.data() == nullptr : std::memcmp(map.data(), data, size) == 0);
      Reader a, b;
      const funckey::Status sa = a.Open(map.data(), map.size());
      const funckey::Status sb = b.Open(data, size);
      FK_CHECK(sa.code == sb.code && sa.message == sb.message);
      if (sa.ok()) Lookups(a, map.data(), map.size());
      map.Unmap();
      map.Unmap();  // twice: harmless
    }
  }
  ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  RunOnBytes(size == 0 ? nullptr : data, size);
  if ((size & 31) == 7) RunMapped(data, size);
  return 0;
}
