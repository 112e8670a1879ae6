// Names (FORMAT.md 4, and funcName in 5): a module's name index, dense or sparse, gives the
// bytes of a name in .fk.names; DecodeUtf8 decodes bytes as TextDecoder does. Mirrors
// lib/names.ts.
#include "reader.h"

namespace funckey {

Reader::NameResult Reader::FuncName(uint32_t func_index, uint32_t module, const uint8_t** bytes,
                                    uint32_t* length) const {
  if (module >= m_) return NameResult::kAbsent;
  const uint8_t* r = info_ + kInfoFixedSize + kModuleRecordSize * module;
  const uint32_t enc = Ld32(r + kModNameEncoding);
  const size_t start = Ld32(r + kModNameIndexStart);
  const uint32_t count = Ld32(r + kModNameCount);
  // Open established start + count * (2 or 3) <= W.
  size_t slot;
  if (enc == kNameEncodingDense) {
    if (func_index >= count) return NameResult::kAbsent;
    slot = start + 2 * static_cast<size_t>(func_index);
  } else if (enc == kNameEncodingSparse) {
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
  if (len > kMaxNameBytes) {
    *length = len;
    return NameResult::kTooLong;
  }
  *bytes = names_ + off;
  *length = len;
  return NameResult::kFound;
}

namespace {

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

}  // namespace funckey
