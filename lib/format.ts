/**
 * Constants of the artifact format. docs/FORMAT.md is the normative description; the
 * section numbers in comments refer to it.
 */

/** The version this reader reads and the writer writes (FORMAT.md 2, 6). */
export const FORMAT_VERSION = 5;

/**
 * The constants a lookup uses, as a const enum so that tsc writes their values into the
 * lookups as literals: a module-level const is read from the module's context, with a check
 * that it is initialised, at every use in a hot path. The exported consts below are these.
 */
export const enum Lit {
  NONE = 0xffffffff,
  BUCKET_SCAN = 4,
  OFFSET_SCAN = 32,
  LINEAR_NS = 8,
  LOW_MASK = 0x0fffffff,
}

/** "Absent" in every u32 field that can be absent (FORMAT.md, introduction). */
export const NONE: number = Lit.NONE;

/** Kinds 0 to 9 exist; 10 to 15 do not (FORMAT.md 3). */
export const KIND_COUNT = 10;
/** The low 28 bits of a namespace (FORMAT.md 3): module index, ABI or zero. */
export const MAX_MODULE: number = Lit.LOW_MASK;
/** ABIs are 0 (wasm), 1 (array) and 2 (patchable) (FORMAT.md 3). */
export const MAX_ABI = 2;

/** What the low 28 bits of a namespace of a kind hold (FORMAT.md 3). */
type KindLow = 'module' | 'abi' | 'zero';
/** One row of the kind table of FORMAT.md 3. */
interface KindRule {
  readonly low: KindLow;
  /** Stored as a sparse namespace (3.3), else dense. */
  readonly sparse: boolean;
  /** Has source locations (3.1). */
  readonly srcLocs: boolean;
}
/** The kind table of FORMAT.md 3, by kind (0 to 9): the one place of these rules. */
export const KINDS: readonly KindRule[] = [
  { low: 'module', sparse: false, srcLocs: true }, // 0 DefinedWasmFunction
  { low: 'module', sparse: true, srcLocs: false }, // 1 ArrayToWasmTrampoline
  { low: 'zero', sparse: false, srcLocs: false }, // 2 WasmToArrayTrampoline
  { low: 'zero', sparse: true, srcLocs: false }, // 3 WasmToBuiltinTrampoline
  { low: 'zero', sparse: true, srcLocs: false }, // 4 PatchableToBuiltinTrampoline
  { low: 'zero', sparse: false, srcLocs: false }, // 5 PulleyHostCall
  { low: 'abi', sparse: false, srcLocs: false }, // 6 ComponentTrampoline
  { low: 'zero', sparse: false, srcLocs: false }, // 7 ResourceDropTrampoline
  { low: 'abi', sparse: false, srcLocs: false }, // 8 UnsafeIntrinsic
  { low: 'module', sparse: true, srcLocs: false }, // 9 ModuleStartup
];
/** KINDS[kind].sparse as 1 or 0 for every 4-bit kind (0 for 10 to 15), for lookups (FORMAT.md 3). */
export const SPARSE_KIND: Uint8Array = Uint8Array.from({ length: 16 }, (_, k) => (KINDS[k]?.sparse ? 1 : 0));

/** Bytes of the ELF header (FORMAT.md 1.1). */
export const ELF_HEADER_SIZE = 64;
/** Bytes of a section header (FORMAT.md 1.2). */
export const SECTION_HEADER_SIZE = 64;
/**
 * The longest name, module or function, in UTF-8 bytes: 2^28 (FORMAT.md 4). Readers hand a
 * name out as one JavaScript string, and this keeps every name well inside the engines'
 * string limit (V8: 2^29 - 24 UTF-16 units) whatever its characters.
 */
export const MAX_NAME_BYTES = 1 << 28;
/**
 * The most frames of one source-location chain (FORMAT.md 3.5): a reader that meets a longer
 * one gives E_CORRUPT, so that a lookup reads at most this many frames whatever the tables
 * hold; the builder refuses DWARF whose inlining is deeper (E_DWARF).
 */
export const MAX_SRCLOC_CHAIN = 1024;
/** The longest section name a reader takes, in bytes before its NUL (FORMAT.md 3.2 step 6). */
export const MAX_SECTION_NAME = 255;
/** Bytes of the fixed part of `.fk.info` (FORMAT.md 2). */
export const INFO_FIXED_SIZE = 64;
/** Bytes of a module record (FORMAT.md 2). */
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

/** A module's name encodings: none, dense slots, sparse records (FORMAT.md 4). */
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
  lineBlocks: '.fk.line_blocks',
  linePieces: '.fk.line_pieces',
  lineFrames: '.fk.line_frames',
  lineStrings: '.fk.line_strings',
  lineStringBytes: '.fk.line_string_bytes',
} as const;

/** The same, as the list open checks them in (FORMAT.md 1.3, 3.2 step 8). */
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
  SECTION.lineBlocks,
  SECTION.linePieces,
  SECTION.lineFrames,
  SECTION.lineStrings,
  SECTION.lineStringBytes,
] as const;

/**
 * The source-location sections (FORMAT.md 3.5): the writer leaves all of them out when they
 * would all be empty, and a reader takes an absent one as empty.
 */
export const LINE_SECTIONS: readonly string[] = [
  SECTION.lineBlocks,
  SECTION.linePieces,
  SECTION.lineFrames,
  SECTION.lineStrings,
  SECTION.lineStringBytes,
];

/** Element size in bytes of each table section, 0 for bytes or structured (FORMAT.md 1.3). */
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
  [SECTION.lineBlocks]: 8,
  [SECTION.linePieces]: 0,
  [SECTION.lineFrames]: 0,
  [SECTION.lineStrings]: 4,
  [SECTION.lineStringBytes]: 0,
};

/** Indices per block of a sparse bitmap (FORMAT.md 3.3). */
export const BITMAP_BLOCK = 32;
/** The offset index aims at this many functions per bucket (FORMAT.md 3.4). */
export const OFFSET_BUCKET_TARGET = 8;
/** Largest bucket shift of a sparse namespace stored as buckets (FORMAT.md 3.3). */
export const MAX_BUCKET_SHIFT = 15;
/** A bucket of at most this many indices present is scanned, a larger one searched (FORMAT.md 5). */
export const BUCKET_SCAN: number = Lit.BUCKET_SCAN;
/** A range of the offset index of at most this many entries is scanned, a longer one searched (FORMAT.md 5). */
export const OFFSET_SCAN: number = Lit.OFFSET_SCAN;
/** Largest offset index shift (FORMAT.md 3.2 step 10). */
export const MAX_OFFSET_SHIFT = 31;
/** Largest filter shift a valid bucket header holds (FORMAT.md 3.3). */
export const FILTER_SHIFT_LIMIT = 31;
/** Up to this many namespaces a lookup scans the table rather than searching it (not normative: both readers alike). */
export const LINEAR_NS: number = Lit.LINEAR_NS;
/** Words of a bucket run's header: k, nb, f, Fw (FORMAT.md 3.3). */
export const BUCKET_HEADER_WORDS = 4;
/** A bucket run's low parts are u8 up to this bucket shift, u16 above (FORMAT.md 3.3). */
export const BUCKET_NARROW_SHIFT = 8;

/** Largest filter shift the writer tries for a bucket run (FORMAT.md 3.3, the writer's choice). */
export const MAX_FILTER_SHIFT = 15;

/**
 * Words of a bucket run (FORMAT.md 3.3): header, filter, superblock ranks, u16 ranks, low
 * parts. Exact below 2^53.
 */
export function bucketRunWords(shift: number, buckets: number, keys: number, filterWords: number): number {
  const supers = Math.floor((buckets - 1) / 2 ** (16 - shift)) + 1;
  const lowBytes = shift <= BUCKET_NARROW_SHIFT ? 1 : 2;
  return (
    BUCKET_HEADER_WORDS + filterWords + supers + Math.ceil((buckets + 1) / 2) + Math.ceil(((keys + 1) * lowBytes) / 4)
  );
}
