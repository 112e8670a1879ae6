// See srclocs.h; lib/srclocs.ts is the reference this mirrors line for line.
#include "srclocs.h"

#include <string>

namespace funckey {
namespace {

constexpr size_t kBlockWords = 2;
constexpr uint8_t kDeltaMask = 7, kFlagFunction = 8, kFlagFile = 16, kFlagParent = 32, kFlagColumn = 64,
                  kFlagLine = 128;

uint32_t U32(const uint8_t* p, size_t word) {
  const uint8_t* q = p + 4 * word;
  return static_cast<uint32_t>(q[0]) | static_cast<uint32_t>(q[1]) << 8 | static_cast<uint32_t>(q[2]) << 16 |
         static_cast<uint32_t>(q[3]) << 24;
}

Status Corrupt(const std::string& message) { return Status::Error(Code::kCorrupt, "source locations: " + message); }

// The outcome of reading one LEB128: a value, or why there is none.
enum class Leb { kOk, kPast, kWide };

// A ULEB128 of at most 32 bits at *pos, before end.
Leb Uleb(const uint8_t* p, size_t* pos, size_t end, uint32_t* value) {
  if (*pos < end && p[*pos] < 0x80) {
    *value = p[(*pos)++];
    return Leb::kOk;
  }
  uint64_t v = 0, mul = 1;
  for (;;) {
    if (*pos >= end) return Leb::kPast;
    const uint8_t byte = p[(*pos)++];
    v += static_cast<uint64_t>(byte & 0x7f) * mul;
    if ((byte & 0x80) == 0) break;
    mul *= 128;
    if (mul > (1ull << 28)) return Leb::kWide;
  }
  if (v > 0xFFFFFFFFull) return Leb::kWide;
  *value = static_cast<uint32_t>(v);
  return Leb::kOk;
}

// An SLEB128 of at most 32 bits at *pos, before end, modulo 2^32.
Leb Sleb(const uint8_t* p, size_t* pos, size_t end, uint32_t* value) {
  uint32_t v = 0;
  unsigned shift = 0;
  uint8_t byte = 0;
  do {
    if (*pos >= end) return Leb::kPast;
    if (shift > 28) return Leb::kWide;
    byte = p[(*pos)++];
    v |= static_cast<uint32_t>(byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  if (shift < 32 && (byte & 0x40)) v |= ~0u << shift;
  *value = v;
  return Leb::kOk;
}

Status Bad(size_t block, Leb why) {
  return Corrupt("block " + std::to_string(block) + ": " +
                 (why == Leb::kPast ? "a piece past the block's end" : "a value wider than 32 bits"));
}

Status BadFrame(uint32_t o, Leb why) {
  return Corrupt("frame at " + std::to_string(o) + ": " +
                 (why == Leb::kPast ? "past the end of its table" : "a value wider than 32 bits"));
}

// The registers of a lookup, and whether a block's pieces gave them.
struct Registers {
  uint32_t fn = kNone, file = 0, line = 0, column = 0, parent = kNone;
};

// Decodes the pieces of block `block` up to the last one starting at or before `offset`.
Status DecodeBlock(const SrcLocTables& t, size_t block, size_t block_count, uint32_t offset, Registers* r) {
  const uint8_t* p = t.pieces;
  size_t pos = U32(t.blocks, block * kBlockWords + 1);
  const size_t end = block + 1 < block_count ? U32(t.blocks, (block + 1) * kBlockWords + 1) : t.pieces_size;
  if (!(pos <= end && end <= t.pieces_size))
    return Corrupt("block " + std::to_string(block) + ": pieces outside their table");
  uint64_t start = U32(t.blocks, block * kBlockWords);
  Leb e;
  uint32_t v;
  for (bool first = true; pos < end; first = false) {
    const uint8_t op = p[pos++];
    uint32_t delta = op & kDeltaMask;
    if (first) {
      if (delta != 0) return Corrupt("block " + std::to_string(block) + ": its first piece has a distance");
    } else {
      if (delta == 0) {
        if ((e = Uleb(p, &pos, end, &delta)) != Leb::kOk) return Bad(block, e);
        if (delta == 0) return Corrupt("block " + std::to_string(block) + ": two pieces at one offset");
      }
      if (start + delta > offset) break;
      start += delta;
    }
    if (op < kFlagFunction) continue;
    if (op & kFlagFunction) {
      if ((e = Uleb(p, &pos, end, &v)) != Leb::kOk) return Bad(block, e);
      r->fn = v == 0 ? kNone : v - 1;
    }
    if ((op & kFlagFile) && (e = Uleb(p, &pos, end, &r->file)) != Leb::kOk) return Bad(block, e);
    if (op & kFlagParent) {
      if ((e = Uleb(p, &pos, end, &v)) != Leb::kOk) return Bad(block, e);
      r->parent = v == 0 ? kNone : v - 1;
    }
    if ((op & kFlagColumn) && (e = Uleb(p, &pos, end, &r->column)) != Leb::kOk) return Bad(block, e);
    if (op & kFlagLine) {
      if ((e = Sleb(p, &pos, end, &v)) != Leb::kOk) return Bad(block, e);
      r->line += v;  // modulo 2^32, as (line + v) >>> 0
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckSrcLocTables(const SrcLocTables& t) {
  if (t.blocks_size % (4 * kBlockWords) != 0) return Corrupt("the blocks are not a whole number of entries");
  return Status::Ok();
}

Status SrcLocString(const SrcLocTables& t, uint32_t i, const uint8_t** p, size_t* n) {
  const size_t entries = t.strings_size / 4;
  if (!(static_cast<size_t>(i) + 1 < entries))
    return Corrupt("string " + std::to_string(i) + " of " + std::to_string(entries > 0 ? entries - 1 : 0));
  const uint32_t off = U32(t.strings, i), end = U32(t.strings, static_cast<size_t>(i) + 1);
  if (!(off <= end && end <= t.string_bytes_size)) return Corrupt("string " + std::to_string(i) + " outside its bytes");
  *p = t.string_bytes + off;
  *n = end - off;
  return Status::Ok();
}

namespace {

Status PushFrame(const SrcLocTables& t, uint32_t fn, uint32_t file, uint32_t line, uint32_t column,
                 std::vector<SrcFrameRef>* out) {
  SrcFrameRef f;
  f.function_index = fn;
  f.file_index = file;
  Status s = SrcLocString(t, fn, &f.function, &f.function_size);
  if (s.ok()) s = SrcLocString(t, file, &f.file, &f.file_size);
  if (!s.ok()) return s;
  f.line = line;
  f.column = column;
  out->push_back(f);
  return Status::Ok();
}

}  // namespace

Status SrcLocLookup(const SrcLocTables& t, uint32_t offset, std::vector<SrcFrameRef>* out) {
  out->clear();
  const size_t block_count = t.blocks_size / (4 * kBlockWords);
  size_t lo = 0, hi = block_count;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (U32(t.blocks, mid * kBlockWords) <= offset)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0) return Status::Ok();
  Registers r;
  Status s = DecodeBlock(t, lo - 1, block_count, offset, &r);
  if (!s.ok()) return s;
  if (r.fn == kNone) return Status::Ok();
  s = PushFrame(t, r.fn, r.file, r.line, r.column, out);
  if (!s.ok()) return s;
  const uint8_t* f = t.frames;
  const size_t end = t.frames_size;
  for (uint32_t o = r.parent; o != kNone;) {
    // Each frame's parent lies before it, so the walk ends.
    size_t pos = o;
    uint32_t v[5];
    for (uint32_t& x : v) {
      const Leb e = Uleb(f, &pos, end, &x);
      if (e != Leb::kOk) return BadFrame(o, e);
    }
    if (out->size() >= kMaxSrcLocChain)
      return Corrupt("frame at " + std::to_string(o) + ": a chain of more than " + std::to_string(kMaxSrcLocChain) +
                     " frames");
    s = PushFrame(t, v[0], v[1], v[2], v[3], out);
    if (!s.ok()) return s;
    if (v[4] > o) return Corrupt("frame at " + std::to_string(o) + ": its parent lies before the table");
    o = v[4] == 0 ? kNone : o - v[4];
  }
  return Status::Ok();
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
