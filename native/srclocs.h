// The C++ reader of the source-location tables (docs/DWARF.md, "Tables"), the mirror of
// lib/srclocs.ts: the same lookup, the same checks, in the same order, so that both give the
// same chain or both E_CORRUPT on any bytes. Reads only inside the tables it is given.
#ifndef FUNCKEY_SRCLOCS_H_
#define FUNCKEY_SRCLOCS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "reader.h"

namespace funckey {

// The five tables, as byte ranges (u32 tables little-endian; any alignment; an absent one
// is empty: nullptr and size 0).
struct SrcLocTables {
  const uint8_t* blocks = nullptr;
  size_t blocks_size = 0;
  const uint8_t* pieces = nullptr;
  size_t pieces_size = 0;
  const uint8_t* frames = nullptr;
  size_t frames_size = 0;
  const uint8_t* strings = nullptr;
  size_t strings_size = 0;
  const uint8_t* string_bytes = nullptr;
  size_t string_bytes_size = 0;
};

// One frame: its function and file as string indices (checked: each names a string that
// lies inside string_bytes) and as those strings' byte ranges (UTF-8, not validated).
struct SrcFrameRef {
  uint32_t function_index;
  uint32_t file_index;
  const uint8_t* function;
  size_t function_size;
  const uint8_t* file;
  size_t file_size;
  uint32_t line;
  uint32_t column;
};

// E_CORRUPT unless the blocks are a whole number of entries (lib/srclocs.ts's constructor).
Status CheckSrcLocTables(const SrcLocTables& t);

// The chain at `offset`, innermost first, into `out` (cleared first); E_CORRUPT on damage.
Status SrcLocLookup(const SrcLocTables& t, uint32_t offset, std::vector<SrcFrameRef>* out);

// String i of the tables (a function name or a file path) as bytes; E_CORRUPT when there is
// none or it lies outside the string bytes.
Status SrcLocString(const SrcLocTables& t, uint32_t i, const uint8_t** p, size_t* n);

// The tables of an open artifact (its .fk.line_* sections), inside its mapping.
SrcLocTables ArtifactSrcLocs(const Reader& r);

}  // namespace funckey

#endif  // FUNCKEY_SRCLOCS_H_
