// Constants of the artifact format, mirroring lib/format.ts: docs/FORMAT.md is the normative
// description, and the section numbers in comments refer to it.
#ifndef FUNCKEY_FORMAT_H_
#define FUNCKEY_FORMAT_H_

#include <cstdint>

namespace funckey {

// The version this reader reads (FORMAT.md 2, 6).
constexpr uint32_t kFormatVersion = 5;
// "Absent" in every u32 field that can be absent (FORMAT.md, introduction).
constexpr uint32_t kNone = 0xFFFFFFFFu;

// Kinds 0 to 9 exist; 10 to 15 do not (FORMAT.md 3).
constexpr uint32_t kKindCount = 10;
// The low 28 bits of a namespace (FORMAT.md 3): module index, ABI or zero.
constexpr uint32_t kLowMask = 0x0FFFFFFFu;
// ABIs are 0 (wasm), 1 (array) and 2 (patchable) (FORMAT.md 3).
constexpr uint32_t kMaxAbi = 2;

// What the low 28 bits of a namespace of a kind hold (FORMAT.md 3).
enum class KindLow : uint8_t { kModule, kAbi, kZero };
// One row of the kind table of FORMAT.md 3.
struct KindRule {
  KindLow low;
  bool sparse;    // stored as a sparse namespace (3.3), else dense
  bool src_locs;  // has source locations (3.1)
};
// The kind table of FORMAT.md 3, by kind (0 to 9), as lib/format.ts's KINDS.
constexpr KindRule kKinds[kKindCount] = {
    {KindLow::kModule, false, true},  // 0 DefinedWasmFunction
    {KindLow::kModule, true, false},  // 1 ArrayToWasmTrampoline
    {KindLow::kZero, false, false},   // 2 WasmToArrayTrampoline
    {KindLow::kZero, true, false},    // 3 WasmToBuiltinTrampoline
    {KindLow::kZero, true, false},    // 4 PatchableToBuiltinTrampoline
    {KindLow::kZero, false, false},   // 5 PulleyHostCall
    {KindLow::kAbi, false, false},    // 6 ComponentTrampoline
    {KindLow::kZero, false, false},   // 7 ResourceDropTrampoline
    {KindLow::kAbi, false, false},    // 8 UnsafeIntrinsic
    {KindLow::kModule, true, false},  // 9 ModuleStartup
};

// Bytes of the ELF header (FORMAT.md 1.1).
constexpr uint64_t kElfHeaderSize = 64;
// Bytes of a section header (FORMAT.md 1.2).
constexpr uint64_t kSectionHeaderSize = 64;
// The longest name, module or function, in UTF-8 bytes: 2^28 (FORMAT.md 4). A reader hands a
// name out as one JavaScript string; this keeps it well inside the engines' string limit.
constexpr uint32_t kMaxNameBytes = 1u << 28;
// The most frames of one source-location chain (FORMAT.md 3.5): a reader that meets a longer
// one gives E_CORRUPT, so a lookup reads at most this many frames whatever the tables hold.
constexpr size_t kMaxSrcLocChain = 1024;
// The longest section name a reader takes, in bytes before its NUL (FORMAT.md 3.2 step 6).
constexpr uint64_t kMaxSectionName = 255;
// Bytes of the fixed part of .fk.info (FORMAT.md 2).
constexpr uint64_t kInfoFixedSize = 64;
// Bytes of a module record (FORMAT.md 2).
constexpr uint64_t kModuleRecordSize = 64;
// "FUNCKEY\0" (FORMAT.md 2).
constexpr uint8_t kInfoMagic[8] = {0x46, 0x55, 0x4E, 0x43, 0x4B, 0x45, 0x59, 0x00};

// Byte offsets of the fixed part of .fk.info (FORMAT.md 2).
enum InfoField : uint32_t {
  kInfoMagicAt = 0,
  kInfoVersion = 8,
  kInfoFlags = 12,
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

// Byte offsets inside a module record (FORMAT.md 2).
enum ModRecField : uint32_t {
  kModNameOffset = 0,
  kModNameLength = 4,
  kModImportedFuncs = 8,
  kModDefinedFuncs = 12,
  kModByteOffset = 16,
  kModNameEncoding = 20,
  kModNameIndexStart = 24,
  kModNameCount = 28,
  kModSha256 = 32,
};

// A module's name encodings: none, dense slots, sparse records (FORMAT.md 4).
constexpr uint32_t kNameEncodingNone = 0;
constexpr uint32_t kNameEncodingDense = 1;
constexpr uint32_t kNameEncodingSparse = 2;

// The .fk.* sections in the order the writer emits them and open checks them (FORMAT.md 1.3, 3.2 step 8).
enum SectionId {
  kInfo,
  kNamespaces,
  kFuncLocStarts,
  kSparseStarts,
  kSrcLocStarts,
  kSparseIndices,
  kFuncLocs,
  kSrcLocs,
  kNameIndex,
  kNames,
  kBitmapStarts,
  kSparseBitmaps,
  kOffsetIndex,
  kBucketStarts,
  kSparseBuckets,
  kLineBlocks,
  kLinePieces,
  kLineFrames,
  kLineStrings,
  kLineStringBytes,
  kSectionCount
};
constexpr const char* kSectionNames[kSectionCount] = {
    ".fk.info",           ".fk.namespaces",     ".fk.func_loc_starts", ".fk.sparse_starts", ".fk.src_loc_starts",
    ".fk.sparse_indices", ".fk.func_locs",      ".fk.src_locs",        ".fk.name_index",    ".fk.names",
    ".fk.bitmap_starts",  ".fk.sparse_bitmaps", ".fk.offset_index",    ".fk.bucket_starts", ".fk.sparse_buckets",
    ".fk.line_blocks",    ".fk.line_pieces",    ".fk.line_frames",     ".fk.line_strings",  ".fk.line_string_bytes",
};

// Indices per block of a sparse bitmap (FORMAT.md 3.3).
constexpr uint32_t kBitmapBlock = 32;
// Largest bucket shift of a sparse namespace stored as buckets (FORMAT.md 3.3).
constexpr uint32_t kMaxBucketShift = 15;
// A bucket of at most this many indices present is scanned, a larger one searched (FORMAT.md 5).
constexpr uint32_t kBucketScan = 4;
// A range of the offset index of at most this many entries is scanned, a longer one searched (FORMAT.md 5).
constexpr uint64_t kOffsetScan = 32;
// Largest offset index shift (FORMAT.md 3.2 step 10).
constexpr uint32_t kMaxOffsetShift = 31;
// Largest filter shift a valid bucket header holds (FORMAT.md 3.3).
constexpr uint32_t kFilterShiftLimit = 31;
// Up to this many namespaces a lookup scans the table rather than searching it (not normative: both readers alike).
constexpr uint32_t kLinearNs = 8;
// Words of a bucket run's header: k, nb, f, Fw (FORMAT.md 3.3).
constexpr uint32_t kBucketHeaderWords = 4;
// A bucket run's low parts are u8 up to this bucket shift, u16 above (FORMAT.md 3.3).
constexpr uint32_t kBucketNarrowShift = 8;

}  // namespace funckey

#endif  // FUNCKEY_FORMAT_H_
