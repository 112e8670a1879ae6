// See reader.h: the reader's surface that lib/reader.ts's JsCore has in itself (the single
// lookups by key, the module records), and the names of codes and encodings.
#include "reader.h"

#include <cstdio>

namespace funckey {

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%x", v);
  return buf;
}

std::string Num(uint64_t v) { return std::to_string(v); }

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kFormat:
      return "E_FORMAT";
    case Code::kVersion:
      return "E_VERSION";
    case Code::kTruncated:
      return "E_TRUNCATED";
    case Code::kCorrupt:
      return "E_CORRUPT";
    case Code::kArg:
      return "E_ARG";
    case Code::kRange:
      return "E_RANGE";
    case Code::kClosed:
      return "E_CLOSED";
    case Code::kIo:
      return "E_IO";
  }
  return "E_CORRUPT";
}

const char* Reader::EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kDense:
      return "dense";
    case Encoding::kDirect:
      return "direct";
    case Encoding::kSorted:
      return "sorted";
    case Encoding::kBitmap:
      return "bitmap";
    case Encoding::kBuckets:
      return "buckets";
  }
  return "dense";
}

Reader::Module Reader::ModuleAt(uint32_t m) const {
  const uint8_t* r = info_ + kInfoFixedSize + kModuleRecordSize * m;
  Module out;
  out.name_offset = Ld32(r + kModNameOffset);
  out.name_length = Ld32(r + kModNameLength);
  out.imported_funcs = Ld32(r + kModImportedFuncs);
  out.defined_funcs = Ld32(r + kModDefinedFuncs);
  out.byte_offset = Ld32(r + kModByteOffset);
  out.name_encoding = Ld32(r + kModNameEncoding);
  out.name_index_start = Ld32(r + kModNameIndexStart);
  out.name_count = Ld32(r + kModNameCount);
  out.sha256 = r + kModSha256;
  return out;
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

}  // namespace funckey
