/**
 * Constants of the artifact format. docs/FORMAT.md is the normative description; the
 * section numbers in comments refer to it.
 */

export const FORMAT_VERSION = 3;

/** "Absent" in every u32 field that can be absent. */
export const NONE = 0xffffffff;

export const ELF_HEADER_SIZE = 64;
export const SECTION_HEADER_SIZE = 64;
export const INFO_FIXED_SIZE = 64;
export const MODULE_RECORD_SIZE = 64;
/** "FUNCKEY\0" */
export const INFO_MAGIC = new Uint8Array([0x46, 0x55, 0x4e, 0x43, 0x4b, 0x45, 0x59, 0x00]);

/** Byte offsets of the fixed part of `.fk.info` (FORMAT.md section 2). */
export const INFO = {
  magic: 0,
  version: 8,
  flags: 12,
  moduleCount: 16,
  namespaceCount: 20,
  funcCount: 24,
  sparseCount: 28,
  srcLocCount: 32,
  nameIndexWords: 36,
  nameBytes: 40,
  moduleRecordSize: 44,
  textSize: 48,
  bitmapBlocks: 52,
  offsetShift: 56,
  offsetCount: 60,
} as const;

/** Byte offsets inside a module record (FORMAT.md section 2). */
export const MODREC = {
  nameOffset: 0,
  nameLength: 4,
  importedFuncs: 8,
  definedFuncs: 12,
  byteOffset: 16,
  nameEncoding: 20,
  nameIndexStart: 24,
  nameCount: 28,
  sha256: 32,
} as const;

export const NAME_ENCODING_NONE = 0;
export const NAME_ENCODING_DENSE = 1;
export const NAME_ENCODING_SPARSE = 2;

/** The `.fk.*` sections in the order the writer emits them (FORMAT.md 1.3). */
export const SECTION = {
  info: '.fk.info',
  namespaces: '.fk.namespaces',
  funcLocStarts: '.fk.func_loc_starts',
  sparseStarts: '.fk.sparse_starts',
  srcLocStarts: '.fk.src_loc_starts',
  sparseIndices: '.fk.sparse_indices',
  funcLocs: '.fk.func_locs',
  srcLocs: '.fk.src_locs',
  nameIndex: '.fk.name_index',
  names: '.fk.names',
  bitmapStarts: '.fk.bitmap_starts',
  sparseBitmaps: '.fk.sparse_bitmaps',
  offsetIndex: '.fk.offset_index',
  bucketStarts: '.fk.bucket_starts',
  sparseBuckets: '.fk.sparse_buckets',
} as const;

export const SECTION_ORDER = [
  SECTION.info,
  SECTION.namespaces,
  SECTION.funcLocStarts,
  SECTION.sparseStarts,
  SECTION.srcLocStarts,
  SECTION.sparseIndices,
  SECTION.funcLocs,
  SECTION.srcLocs,
  SECTION.nameIndex,
  SECTION.names,
  SECTION.bitmapStarts,
  SECTION.sparseBitmaps,
  SECTION.offsetIndex,
  SECTION.bucketStarts,
  SECTION.sparseBuckets,
] as const;

/** Element size in bytes of each table section (0: bytes or structured). */
export const SECTION_ENTSIZE: Record<string, number> = {
  [SECTION.info]: 0,
  [SECTION.namespaces]: 4,
  [SECTION.funcLocStarts]: 4,
  [SECTION.sparseStarts]: 4,
  [SECTION.srcLocStarts]: 4,
  [SECTION.sparseIndices]: 4,
  [SECTION.funcLocs]: 8,
  [SECTION.srcLocs]: 4,
  [SECTION.nameIndex]: 4,
  [SECTION.names]: 0,
  [SECTION.bitmapStarts]: 4,
  [SECTION.sparseBitmaps]: 8,
  [SECTION.offsetIndex]: 4,
  [SECTION.bucketStarts]: 4,
  [SECTION.sparseBuckets]: 4,
};

/** Indices per block of a sparse bitmap (FORMAT.md 3.3). */
export const BITMAP_BLOCK = 32;
/** The offset index aims at this many functions per bucket (FORMAT.md 3.4). */
export const OFFSET_BUCKET_TARGET = 8;
/** Largest bucket shift of a sparse namespace stored as buckets (FORMAT.md 3.3). */
export const MAX_BUCKET_SHIFT = 15;
/** A bucket of at most this many indices present is scanned, a larger one searched (FORMAT.md 5). */
export const BUCKET_SCAN = 4;

/** Largest filter shift the writer tries for a bucket run (FORMAT.md 3.3). */
export const MAX_FILTER_SHIFT = 15;

/**
 * Words of a bucket run (FORMAT.md 3.3): header, filter, superblock ranks, u16 ranks, low
 * parts. Exact below 2^53.
 */
export function bucketRunWords(shift: number, buckets: number, keys: number, filterWords: number): number {
  const supers = Math.floor((buckets - 1) / 2 ** (16 - shift)) + 1;
  const lowBytes = shift <= 8 ? 1 : 2;
  return 4 + filterWords + supers + Math.ceil((buckets + 1) / 2) + Math.ceil(((keys + 1) * lowBytes) / 4);
}
