// See srclocs.h; lib/srclocs.ts is the reference this mirrors line for line.
#include "srclocs.h"

#include <string>

namespace funckey {
namespace {

constexpr size_t kBlockWords = 8;
constexpr size_t kFrameWords = 5;
constexpr uint8_t kFlagFunction = 1, kFlagFile = 2, kFlagParent = 4, kFlagColumn = 8, kFlagLine = 16,
                  kFlagNoLocation = 32;

uint32_t U32(const uint8_t* p, size_t word) {
  const uint8_t* q = p + 4 * word;
  return static_cast<uint32_t>(q[0]) | static_cast<uint32_t>(q[1]) << 8 | static_cast<uint32_t>(q[2]) << 16 |
         static_cast<uint32_t>(q[3]) << 24;
}

Status Corrupt(const std::string& message) { return Status::Error(Code::kCorrupt, "source locations: " + message); }

std::string BlockText(size_t block) { return "block " + std::to_string(block) + ": "; }

// A ULEB128 of at most 32 bits at *pos, before end.
bool Uleb(const uint8_t* p, size_t* pos, size_t end, uint32_t* value) {
  uint64_t v = 0, mul = 1;
  for (;;) {
    if (*pos >= end) return false;
    const uint8_t byte = p[(*pos)++];
    v += static_cast<uint64_t>(byte & 0x7f) * mul;
    if ((byte & 0x80) == 0) break;
    mul *= 128;
    if (mul > (1ull << 28)) return false;
  }
  if (v > 0xFFFFFFFFull) return false;
  *value = static_cast<uint32_t>(v);
  return true;
}

struct Strings {
  const SrcLocTables& t;
  size_t count;
  Status Get(uint32_t i, const uint8_t** p, size_t* n) const {
    if (!(i < count)) return Corrupt("string " + std::to_string(i) + " of " + std::to_string(count));
    const uint32_t off = U32(t.strings, 2 * static_cast<size_t>(i)),
                   len = U32(t.strings, 2 * static_cast<size_t>(i) + 1);
    if (!(off <= t.string_bytes_size && len <= t.string_bytes_size - off))
      return Corrupt("string " + std::to_string(i) + " outside its bytes");
    *p = t.string_bytes + off;
    *n = len;
    return Status::Ok();
  }
};

}  // namespace

Status CheckSrcLocTables(const SrcLocTables& t) {
  if (t.blocks_size % (4 * kBlockWords) != 0 || t.frames_size % (4 * kFrameWords) != 0 || t.strings_size % 8 != 0)
    return Corrupt("a table is not a whole number of entries");
  return Status::Ok();
}

Status SrcLocLookup(const SrcLocTables& t, uint32_t offset, std::vector<SrcFrameRef>* out) {
  out->clear();
  const size_t block_count = t.blocks_size / (4 * kBlockWords);
  const size_t frame_count = t.frames_size / (4 * kFrameWords);
  const Strings strings{t, t.strings_size / 8};
  size_t lo = 0, hi = block_count;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (U32(t.blocks, mid * kBlockWords) <= offset)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0) return Status::Ok();
  const size_t block = lo - 1, k = block * kBlockWords;
  uint64_t start = U32(t.blocks, k);
  uint32_t fn = U32(t.blocks, k + 2), file = U32(t.blocks, k + 3), line = U32(t.blocks, k + 4);
  uint32_t column = U32(t.blocks, k + 5), parent = U32(t.blocks, k + 6);
  const uint32_t loc_word = U32(t.blocks, k + 7);
  bool loc = loc_word == 1;
  if (loc_word > 1) return Corrupt(BlockText(block) + "location flag " + std::to_string(loc_word));
  size_t pos = U32(t.blocks, k + 1);
  const size_t end = lo < block_count ? U32(t.blocks, lo * kBlockWords + 1) : t.pieces_size;
  const uint8_t* p = t.pieces;
  if (!(pos <= end && end <= t.pieces_size)) return Corrupt(BlockText(block) + "pieces outside their table");
  const auto past = [&]() { return Corrupt(BlockText(block) + "piece past the block's end or wider than 32 bits"); };
  while (pos < end) {
    const uint8_t flags = p[pos++];
    if (flags >= 64 || ((flags & kFlagNoLocation) != 0 && flags != kFlagNoLocation))
      return Corrupt(BlockText(block) + "piece flags " + std::to_string(flags));
    uint32_t delta;
    if (!Uleb(p, &pos, end, &delta)) return past();
    if (delta == 0) return Corrupt(BlockText(block) + "two pieces at one offset");
    if (start + delta > offset) break;
    start += delta;
    loc = flags != kFlagNoLocation;
    if ((flags & kFlagFunction) && !Uleb(p, &pos, end, &fn)) return past();
    if ((flags & kFlagFile) && !Uleb(p, &pos, end, &file)) return past();
    if (flags & kFlagParent) {
      uint32_t v;
      if (!Uleb(p, &pos, end, &v)) return past();
      parent = v == 0 ? kNone : v - 1;
    }
    if ((flags & kFlagColumn) && !Uleb(p, &pos, end, &column)) return past();
    if (flags & kFlagLine) {
      uint32_t v = 0;
      unsigned shift = 0;
      uint8_t byte = 0;
      do {
        if (pos >= end || shift > 28) return past();
        byte = p[pos++];
        v |= static_cast<uint32_t>(byte & 0x7f) << shift;
        shift += 7;
      } while (byte & 0x80);
      if (shift < 32 && (byte & 0x40)) v |= ~0u << shift;
      line += v;  // modulo 2^32, as (line + v) >>> 0
    }
  }
  if (!loc) return Status::Ok();
  SrcFrameRef f;
  f.function_index = fn;
  f.file_index = file;
  Status s = strings.Get(fn, &f.function, &f.function_size);
  if (s.ok()) s = strings.Get(file, &f.file, &f.file_size);
  if (!s.ok()) return s;
  f.line = line;
  f.column = column;
  out->push_back(f);
  for (uint32_t limit = kNone; parent != kNone;) {
    // Each frame's parent comes before it, so the walk ends.
    if (!(parent < frame_count && parent < limit))
      return Corrupt("frame " + std::to_string(parent) + ": not before the frame inside it");
    const size_t o = static_cast<size_t>(parent) * kFrameWords;
    SrcFrameRef g;
    g.function_index = U32(t.frames, o);
    g.file_index = U32(t.frames, o + 1);
    s = strings.Get(g.function_index, &g.function, &g.function_size);
    if (s.ok()) s = strings.Get(g.file_index, &g.file, &g.file_size);
    if (!s.ok()) return s;
    g.line = U32(t.frames, o + 2);
    g.column = U32(t.frames, o + 3);
    out->push_back(g);
    limit = parent;
    parent = U32(t.frames, o + 4);
  }
  return Status::Ok();
}

Status SrcLocString(const SrcLocTables& t, uint32_t i, const uint8_t** p, size_t* n) {
  const Strings strings{t, t.strings_size / 8};
  return strings.Get(i, p, n);
}

SrcLocTables ArtifactSrcLocs(const Reader& r) {
  SrcLocTables t;
  t.blocks = r.LineTable(0);
  t.blocks_size = r.LineTableSize(0);
  t.pieces = r.LineTable(1);
  t.pieces_size = r.LineTableSize(1);
  t.frames = r.LineTable(2);
  t.frames_size = r.LineTableSize(2);
  t.strings = r.LineTable(3);
  t.strings_size = r.LineTableSize(3);
  t.string_bytes = r.LineTable(4);
  t.string_bytes_size = r.LineTableSize(4);
  return t;
}

}  // namespace funckey
