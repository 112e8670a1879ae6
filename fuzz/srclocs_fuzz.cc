// libFuzzer harness of native/srclocs.cc: the input is cut into the five source-location
// tables (docs/DWARF.md, "Tables") and looked up at offsets it also gives; any answer or
// E_CORRUPT is fine, a crash, a sanitizer report or a hang is not. Build and run:
//
//   clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
//     fuzz/srclocs_fuzz.cc native/srclocs.cc -o .fuzz/srclocs_fuzz
//   .fuzz/srclocs_fuzz -max_total_time=60 .fuzz/srclocs-work
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../native/srclocs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Header: five u16 table sizes (scaled: blocks by 8, strings by 4 bytes),
  // then the tables, then offsets (u32 each) to look up.
  if (size < 10) return 0;
  size_t sizes[5];
  const size_t scale[5] = {8, 1, 1, 4, 1};
  for (int i = 0; i < 5; i++)
    sizes[i] = (static_cast<size_t>(data[2 * i]) | static_cast<size_t>(data[2 * i + 1]) << 8) % 512 * scale[i];
  size_t pos = 10;
  const uint8_t* parts[5];
  for (int i = 0; i < 5; i++) {
    if (sizes[i] > size - pos) sizes[i] = (size - pos) / scale[i] * scale[i];
    parts[i] = data + pos;
    pos += sizes[i];
  }
  funckey::SrcLocTables t;
  t.blocks = parts[0], t.blocks_size = sizes[0];
  t.pieces = parts[1], t.pieces_size = sizes[1];
  t.frames = parts[2], t.frames_size = sizes[2];
  t.strings = parts[3], t.strings_size = sizes[3];
  t.string_bytes = parts[4], t.string_bytes_size = sizes[4];
  if (!funckey::CheckSrcLocTables(t).ok()) return 0;
  std::vector<funckey::SrcFrameRef> out;
  for (int k = 0; k < 64 && pos + 4 <= size; k++, pos += 4) {
    const uint32_t offset = static_cast<uint32_t>(data[pos]) | static_cast<uint32_t>(data[pos + 1]) << 8 |
                            static_cast<uint32_t>(data[pos + 2]) << 16 | static_cast<uint32_t>(data[pos + 3]) << 24;
    funckey::Status s = funckey::SrcLocLookup(t, offset, &out);
    if (s.ok()) {
      // Every frame's strings lie inside the string bytes.
      for (const auto& f : out) {
        if (f.function < t.string_bytes || f.function + f.function_size > t.string_bytes + t.string_bytes_size)
          __builtin_trap();
        if (f.file < t.string_bytes || f.file + f.file_size > t.string_bytes + t.string_bytes_size) __builtin_trap();
      }
    }
  }
  return 0;
}
