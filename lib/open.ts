/**
 * Open: the validation of FORMAT.md 3.2, one function per step (or group of steps), in the
 * order the steps are numbered there; the first failure decides the error code. What it
 * returns is what the lookups read (lib/table.ts, lib/offsets.ts, lib/names.ts). Mirrored by
 * native/open.cc.
 */
import { BLOCK_WORDS, type SrcLocSections } from './srclocs.js';
import type { NamespaceEncoding } from './core.js';
import { FunckeyError, type ErrorCode } from './errors.js';
import type { FileImage } from './file.js';
import { NameFile } from './names.js';
import {
  BUCKET_HEADER_WORDS,
  BUCKET_NARROW_SHIFT,
  ELF_HEADER_SIZE,
  FILTER_SHIFT_LIMIT,
  FORMAT_VERSION,
  INFO,
  INFO_FIXED_SIZE,
  INFO_MAGIC,
  KINDS,
  KIND_COUNT,
  Lit,
  MAX_ABI,
  MAX_BUCKET_SHIFT,
  MAX_OFFSET_SHIFT,
  MODREC,
  MODULE_RECORD_SIZE,
  NAME_ENCODING_DENSE,
  NAME_ENCODING_NONE,
  NAME_ENCODING_SPARSE,
  SECTION,
  SECTION_HEADER_SIZE,
  MAX_NAME_BYTES,
  MAX_SECTION_NAME,
  SECTION_ORDER,
  LINE_SECTIONS,
  SPARSE_KIND,
  bucketRunWords,
} from './format.js';
import { Mode, Nsp } from './table.js';

export interface SectionRef {
  name: string;
  offset: number;
  size: number;
}

/**
 * What open validated and the lookups read. The header, the namespace table and the module
 * records are copies (O(N + M)), validated as copied, so that bytes changed after open can
 * give wrong answers but never send a lookup outside its arrays; the other tables are views.
 */
export interface Tables {
  readonly bytes: Uint8Array;
  /** `.fk.info` as u32 words, its module records included. */
  readonly info: Uint32Array;
  readonly ns: Uint32Array;
  readonly funcLocStarts: Uint32Array;
  readonly sparseStarts: Uint32Array;
  readonly srcLocStarts: Uint32Array;
  readonly sparse: Uint32Array;
  readonly bitmapStarts: Uint32Array;
  /** (rank, bits) pairs of the sparse namespaces stored as bitmaps. */
  readonly bitmaps: Uint32Array;
  readonly bucketStarts: Uint32Array;
  /** `.fk.sparse_buckets` as u32, u16 and u8 values. */
  readonly buckets32: Uint32Array;
  readonly buckets16: Uint16Array;
  readonly buckets8: Uint8Array;
  /** Per kind (0 to 15), the position of its first namespace, or of the first of a later kind. */
  readonly kindFirst: Int32Array;
  readonly encodings: NamespaceEncoding[];
  /** Per namespace, what its lookups read (Nsp). */
  readonly nsp: Nsp[];
  /** Entry b: the last function starting at or before b << offsetShift. */
  readonly offsetIndex: Uint32Array;
  readonly offsetShift: number;
  readonly offsetCount: number;
  /** (start, length) pairs. */
  readonly locs: Uint32Array;
  readonly src: Uint32Array;
  readonly nameIndex: Uint32Array;
  readonly names: Uint8Array;
  readonly namesBuf: Buffer | undefined;
  /** For a file read in parts, until `.fk.names` is read whole: reads each name alone (lib/names.ts). */
  nameFile: NameFile | undefined;
  /** The source-location tables (FORMAT.md 3.5), views. */
  readonly lines: SrcLocSections;
  readonly N: number;
  readonly F: number;
  readonly B: number;
  readonly sections: SectionRef[];
  /** The `.fk.*` sections by name. */
  readonly byName: Map<string, SectionRef>;
  /** The file being read in parts, for a path the js backend opened; else undefined. */
  readonly image: FileImage | undefined;
  readonly version: number;
  readonly textSize: number;
  /** Namespace index of the last successful `pos` call. */
  lastNs: number;
}

/** The counts of the info header (FORMAT.md 2). */
interface Header {
  version: number;
  /** Offset of `.fk.info` in the file. */
  at: number;
  M: number;
  N: number;
  F: number;
  S: number;
  L: number;
  W: number;
  B: number;
  textSize: number;
  Bm: number;
  shift: number;
  C: number;
}

/**
 * Little-endian reads of the file, and the overflow-free bounds check of FORMAT.md 3.2 step 8.
 * For a file read in parts (`image`), each step first reads what it looks at (need()).
 */
class File {
  readonly len: number;
  private readonly dv: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly image?: FileImage,
  ) {
    this.len = bytes.length;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  /** Reads [offset, offset + size) of an image, clipped to the file. */
  need(offset: number, size: number): void {
    if (this.image === undefined || offset >= this.len) return;
    this.image.read(offset, Math.min(size, this.len - offset));
  }
  u16(o: number): number {
    return this.dv.getUint16(o, true);
  }
  u32(o: number): number {
    return this.dv.getUint32(o, true);
  }
  /** A u64 as a Number: exact below 2^53, and anything larger is far beyond any file. */
  u64(o: number): number {
    return this.dv.getUint32(o + 4, true) * 4294967296 + this.dv.getUint32(o, true);
  }
  inFile(offset: number, size: number): boolean {
    return offset <= this.len && size <= this.len - offset;
  }
}

export const utf8 = new TextDecoder('utf-8');
const NodeBuffer: typeof Buffer | undefined = (globalThis as { Buffer?: typeof Buffer }).Buffer;

/**
 * An array of n elements that are its own from the start (a spread defines them): storing
 * into one then meets no setter the caller may have put on Array.prototype[i], which would
 * run its code or swallow the element, as it would for a hole or a push.
 */
function slots<T>(n: number): T[] {
  return [...new Array<T>(n)];
}

export function fail(code: ErrorCode, message: string): never {
  throw new FunckeyError(code, message);
}

const hex = (n: number) => `0x${n.toString(16)}`;

/**
 * Validates an artifact (FORMAT.md 3.2) and returns what its lookups read: the bytes of
 * `input`, or those of a file read in parts (`image`, whose `bytes` is input): then open reads
 * only what it validates, and JsCore the rest when first used (TABLE_SECTIONS and the others).
 */
export function openTables(input: Uint8Array, image?: FileImage): Tables {
  // Typed-array views need the sections' alignment; sections are 8-aligned in the file,
  // so the file must be too. A caller's unaligned view is copied once.
  const f = new File(input.byteOffset % 8 === 0 ? input : input.slice(), image);
  const shoff = checkElf(f);
  const { sections, byName } = readSections(f, shoff);
  const h = readInfo(f, byName);
  checkSections(f, byName, h);
  const t = copyTables(f, byName, sections, h);
  checkNamespaces(t, h);
  checkOffsetIndex(h);
  checkModules(t, h);
  return t;
}

/** Steps 1 to 4: the ELF identification and the section header table; returns e_shoff. */
function checkElf(f: File): number {
  const bytes = f.bytes;
  f.need(0, ELF_HEADER_SIZE);
  if (f.len < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
    fail('E_FORMAT', 'not a funckey artifact: no ELF magic');
  if (f.len < ELF_HEADER_SIZE) fail('E_TRUNCATED', `file of ${f.len} bytes ends inside the ELF header`);
  const shentsize = f.u16(58);
  const shnum = f.u16(60);
  if (bytes[4] !== 2 || bytes[5] !== 1) fail('E_FORMAT', 'not a little-endian ELF64 file');
  if (shentsize !== SECTION_HEADER_SIZE || shnum < 2)
    fail('E_FORMAT', 'not a funckey artifact: unexpected ELF section table');
  const shoff = f.u64(40);
  if (!f.inFile(shoff, SECTION_HEADER_SIZE * shnum))
    fail('E_TRUNCATED', 'the section header table lies beyond the end of the file');
  f.need(shoff, SECTION_HEADER_SIZE * shnum);
  return shoff;
}

/** Steps 5 and 6: the section name table and every section's name. */
function readSections(f: File, shoff: number): { sections: SectionRef[]; byName: Map<string, SectionRef> } {
  const shnum = f.u16(60);
  const shstrndx = f.u16(62);
  if (shstrndx >= shnum)
    fail('E_CORRUPT', `section name table index ${shstrndx} is not below the section count ${shnum}`);
  const sh = (i: number) => shoff + SECTION_HEADER_SIZE * i;
  const strOff = f.u64(sh(shstrndx) + 24);
  const strSize = f.u64(sh(shstrndx) + 32);
  if (!f.inFile(strOff, strSize)) fail('E_TRUNCATED', 'the section name table lies beyond the end of the file');
  f.need(strOff, strSize);
  // Every element exists from the start (owned), so the stores below meet no setter the
  // caller may have put on Array.prototype[i] (see slots()).
  const sections = slots<SectionRef>(shnum - 1);
  const byName = new Map<string, SectionRef>();
  const limit = strOff + strSize;
  for (let i = 1; i < shnum; i++) {
    const nameOff = f.u32(sh(i));
    if (nameOff >= strSize) fail('E_CORRUPT', `section ${i} has its name outside the section name table`);
    // At most MAX_SECTION_NAME + 1 bytes are looked at: the cost of a name is bounded
    // whatever .shstrtab holds.
    let end = strOff + nameOff;
    const stop = Math.min(limit, end + MAX_SECTION_NAME + 1);
    while (end < stop && f.bytes[end] !== 0) end++;
    if (end === limit) fail('E_CORRUPT', `section ${i} has a name with no terminating NUL`);
    if (end === stop) fail('E_CORRUPT', `section ${i} has a name longer than ${MAX_SECTION_NAME} bytes`);
    const name = utf8.decode(f.bytes.subarray(strOff + nameOff, end));
    const ref = { name, offset: f.u64(sh(i) + 24), size: f.u64(sh(i) + 32) };
    sections[i - 1] = ref;
    if (name.startsWith('.fk.')) {
      if (byName.has(name)) fail('E_CORRUPT', `section ${name} appears twice`);
      byName.set(name, ref);
    }
  }
  return { sections, byName };
}

/** Step 7: the info header. */
function readInfo(f: File, byName: Map<string, SectionRef>): Header {
  const infoSec = byName.get(SECTION.info);
  if (infoSec === undefined) fail('E_FORMAT', 'not a funckey artifact: an ELF file with no .fk.info section');
  if (!f.inFile(infoSec.offset, infoSec.size)) fail('E_TRUNCATED', '.fk.info lies beyond the end of the file');
  if (infoSec.size < INFO_FIXED_SIZE)
    fail('E_CORRUPT', `.fk.info has ${infoSec.size} bytes, fewer than ${INFO_FIXED_SIZE}`);
  const at = infoSec.offset;
  f.need(at, infoSec.size);
  for (let k = 0; k < INFO_MAGIC.length; k++)
    if (f.bytes[at + INFO.magic + k] !== INFO_MAGIC[k])
      fail('E_FORMAT', 'not a funckey artifact: bad magic in .fk.info');
  const I = (field: number) => f.u32(at + field);
  const version = I(INFO.version);
  if (version !== FORMAT_VERSION)
    fail(
      'E_VERSION',
      `artifact format version ${version}; this reader reads version ${FORMAT_VERSION}: rebuild the artifact with this version of funckey`,
    );
  const M = I(INFO.moduleCount);
  if (I(INFO.moduleRecordSize) !== MODULE_RECORD_SIZE || infoSec.size < INFO_FIXED_SIZE + MODULE_RECORD_SIZE * M)
    fail('E_CORRUPT', `.fk.info is too small for ${M} module records`);
  return {
    version,
    at,
    M,
    N: I(INFO.namespaceCount),
    F: I(INFO.funcCount),
    S: I(INFO.sparseCount),
    L: I(INFO.srcLocCount),
    W: I(INFO.nameIndexWords),
    B: I(INFO.nameBytes),
    textSize: I(INFO.textSize),
    Bm: I(INFO.bitmapBlocks),
    shift: I(INFO.offsetShift),
    C: I(INFO.offsetCount),
  };
}

/** Entry sizes of the source-location sections whose size gives their count (FORMAT.md 3.5). */
const LINE_ENTRY: Record<string, number | undefined> = {
  [SECTION.lineBlocks]: 4 * BLOCK_WORDS,
  [SECTION.lineStrings]: 4,
};

/**
 * Step 8: every table section present (the source-location ones may be absent: empty), in
 * the file, aligned, of the declared size.
 */
function checkSections(f: File, byName: Map<string, SectionRef>, h: Header): void {
  const { N, S, F, L, W, B, Bm, C } = h;
  // .fk.info was checked by step 7; .fk.sparse_buckets, whose size gives its count, must be words.
  const expected: Record<string, number | undefined> = {
    [SECTION.info]: undefined,
    [SECTION.namespaces]: 4 * N,
    [SECTION.funcLocStarts]: 4 * (N + 1),
    [SECTION.sparseStarts]: 4 * (N + 1),
    [SECTION.srcLocStarts]: 4 * (N + 1),
    [SECTION.sparseIndices]: 4 * S,
    [SECTION.funcLocs]: 8 * F,
    [SECTION.srcLocs]: 4 * L,
    [SECTION.nameIndex]: 4 * W,
    [SECTION.names]: B,
    [SECTION.bitmapStarts]: 4 * (N + 1),
    [SECTION.sparseBitmaps]: 8 * Bm,
    [SECTION.offsetIndex]: 4 * C,
    [SECTION.bucketStarts]: 4 * (N + 1),
    [SECTION.sparseBuckets]: undefined,
    [SECTION.lineBlocks]: undefined,
    [SECTION.linePieces]: undefined,
    [SECTION.lineFrames]: undefined,
    [SECTION.lineStrings]: undefined,
    [SECTION.lineStringBytes]: undefined,
  };
  for (const name of SECTION_ORDER) {
    const s = byName.get(name);
    if (s === undefined && LINE_SECTIONS.includes(name)) continue;
    if (s === undefined) fail('E_CORRUPT', `section ${name} is missing`);
    if (!f.inFile(s.offset, s.size)) fail('E_TRUNCATED', `section ${name} lies beyond the end of the file`);
    if (s.offset % 8 !== 0) fail('E_CORRUPT', `section ${name} is not aligned to 8 bytes`);
    const want = expected[name];
    if (want !== undefined && s.size !== want)
      fail('E_CORRUPT', `section ${name} has ${s.size} bytes, the header implies ${want}`);
    if (name === SECTION.sparseBuckets && s.size % 4 !== 0)
      fail('E_CORRUPT', `section ${name} has ${s.size} bytes, not a whole number of words`);
    const entry = LINE_ENTRY[name];
    if (entry !== undefined && s.size % entry !== 0)
      fail('E_CORRUPT', `section ${name} has ${s.size} bytes, not a whole number of ${entry}-byte entries`);
  }
}

/** The sections open copies (O(N)): read at open from a file read in parts. */
const COPIED_SECTIONS = [
  SECTION.namespaces,
  SECTION.funcLocStarts,
  SECTION.sparseStarts,
  SECTION.srcLocStarts,
  SECTION.bitmapStarts,
  SECTION.bucketStarts,
];

/** The sections a lookup by key or by offset reads: read by JsCore on the first one. */
export const TABLE_SECTIONS = [
  SECTION.sparseIndices,
  SECTION.funcLocs,
  SECTION.srcLocs,
  SECTION.sparseBitmaps,
  SECTION.offsetIndex,
  SECTION.sparseBuckets,
];

/** The source-location sections (FORMAT.md 3.5; each may be absent): read by JsCore on the first srcLocs. */
export { LINE_SECTIONS };

/** The views of the checked sections, and the copies of what lookups index with (see Tables). */
function copyTables(f: File, byName: Map<string, SectionRef>, sections: SectionRef[], h: Header): Tables {
  const bytes = f.bytes;
  for (const name of COPIED_SECTIONS) f.need(byName.get(name)!.offset, byName.get(name)!.size);
  const view32 = (name: string): Uint32Array => {
    const s = byName.get(name);
    return s === undefined
      ? new Uint32Array(0)
      : new Uint32Array(bytes.buffer, bytes.byteOffset + s.offset, s.size / 4);
  };
  const buckets32 = view32(SECTION.sparseBuckets);
  const bytes8 = (name: string): Uint8Array => {
    const s = byName.get(name);
    return s === undefined ? new Uint8Array(0) : bytes.subarray(s.offset, s.offset + s.size);
  };
  const namesSec = byName.get(SECTION.names)!;
  const names = bytes.subarray(namesSec.offset, namesSec.offset + namesSec.size);
  return {
    bytes,
    info: new Uint32Array(
      bytes.buffer,
      bytes.byteOffset + h.at,
      (INFO_FIXED_SIZE + MODULE_RECORD_SIZE * h.M) / 4,
    ).slice(),
    ns: view32(SECTION.namespaces).slice(),
    funcLocStarts: view32(SECTION.funcLocStarts).slice(),
    sparseStarts: view32(SECTION.sparseStarts).slice(),
    srcLocStarts: view32(SECTION.srcLocStarts).slice(),
    sparse: view32(SECTION.sparseIndices),
    bitmapStarts: view32(SECTION.bitmapStarts).slice(),
    bitmaps: view32(SECTION.sparseBitmaps),
    bucketStarts: view32(SECTION.bucketStarts).slice(),
    buckets32,
    buckets16: new Uint16Array(buckets32.buffer, buckets32.byteOffset, 2 * buckets32.length),
    buckets8: new Uint8Array(buckets32.buffer, buckets32.byteOffset, 4 * buckets32.length),
    kindFirst: new Int32Array(16),
    encodings: slots<NamespaceEncoding>(h.N),
    nsp: slots<Nsp>(h.N),
    offsetIndex: view32(SECTION.offsetIndex),
    offsetShift: h.shift,
    offsetCount: h.C,
    locs: view32(SECTION.funcLocs),
    src: view32(SECTION.srcLocs),
    nameIndex: view32(SECTION.nameIndex),
    names,
    lines: {
      blocks: view32(SECTION.lineBlocks),
      pieces: bytes8(SECTION.linePieces),
      frames: bytes8(SECTION.lineFrames),
      strings: view32(SECTION.lineStrings),
      stringBytes: bytes8(SECTION.lineStringBytes),
    },
    namesBuf: NodeBuffer ? NodeBuffer.from(names.buffer, names.byteOffset, names.byteLength) : undefined,
    nameFile: f.image === undefined ? undefined : new NameFile(f.image, namesSec.offset),
    N: h.N,
    F: h.F,
    B: h.B,
    sections,
    byName,
    image: f.image,
    version: h.version,
    textSize: h.textSize,
    lastNs: 0,
  };
}

/** Step 9: the namespace table; then kindFirst, which FORMAT.md leaves to the reader. */
function checkNamespaces(t: Tables, h: Header): void {
  const { ns, funcLocStarts: fls, sparseStarts: ss, srcLocStarts: sls, bitmapStarts: bms, bucketStarts: bks } = t;
  const N = h.N;
  if (fls[0] !== 0 || ss[0] !== 0 || sls[0] !== 0 || bms[0] !== 0 || bks[0] !== 0)
    fail('E_CORRUPT', 'a namespace start array does not begin with 0');
  if (fls[N] !== h.F || ss[N] !== h.S || sls[N] !== h.L || bms[N] !== h.Bm || bks[N] !== t.buckets32.length)
    fail('E_CORRUPT', 'a namespace start array does not end with its array length');
  for (let i = 0; i < N; i++) checkNamespace(t, i);
  for (let kind = 15, i = N; kind >= 0; kind--) {
    while (i > 0 && ns[i - 1]! >>> 28 >= kind) i--;
    t.kindFirst[kind] = i;
  }
}

/** Step 9 for namespace i: its key rules, its runs and its encoding (FORMAT.md 3, 3.1, 3.3). */
function checkNamespace(t: Tables, i: number): void {
  const { ns, funcLocStarts: fls, sparseStarts: ss, srcLocStarts: sls, bitmapStarts: bms, bucketStarts: bks } = t;
  const n = ns[i]!;
  if (i > 0 && n <= ns[i - 1]!) fail('E_CORRUPT', 'namespaces are not strictly ascending');
  const kind = n >>> 28;
  const low = n & Lit.LOW_MASK;
  if (kind >= KIND_COUNT) fail('E_CORRUPT', `namespace ${hex(n)} has kind ${kind}`);
  const rule = KINDS[kind]!;
  if (rule.low === 'zero' && low !== 0) fail('E_CORRUPT', `namespace ${hex(n)} has low bits its kind does not allow`);
  if (rule.low === 'abi' && low > MAX_ABI) fail('E_CORRUPT', `namespace ${hex(n)} has abi ${low}`);
  if (
    fls[i + 1]! < fls[i]! ||
    ss[i + 1]! < ss[i]! ||
    sls[i + 1]! < sls[i]! ||
    bms[i + 1]! < bms[i]! ||
    bks[i + 1]! < bks[i]!
  )
    fail('E_CORRUPT', 'a namespace start array decreases');
  const run = fls[i + 1]! - fls[i]!;
  if (run < 1) fail('E_CORRUPT', `namespace ${hex(n)} has an empty run`);
  const sortedRun = ss[i + 1]! - ss[i]!;
  const bitmapRun = bms[i + 1]! - bms[i]!;
  const bucketRun = bks[i + 1]! - bks[i]!;
  let encoding: NamespaceEncoding | undefined;
  if (!SPARSE_KIND[kind]) encoding = sortedRun === 0 && bitmapRun === 0 && bucketRun === 0 ? 'dense' : undefined;
  else if (sortedRun === run && bitmapRun === 0 && bucketRun === 0) encoding = 'sorted';
  else if (sortedRun === 0 && bitmapRun > 0 && bucketRun === 0) encoding = 'bitmap';
  else if (sortedRun === 0 && bitmapRun === 0 && bucketRun > 0) encoding = 'buckets';
  else if (sortedRun === 0 && bitmapRun === 0 && bucketRun === 0) encoding = 'direct';
  if (encoding === undefined) fail('E_CORRUPT', `namespace ${hex(n)} has sparse runs of the wrong length`);
  t.encodings[i] = encoding;
  const P = new Nsp(i);
  t.nsp[i] = P;
  P.mode =
    encoding === 'sorted'
      ? Mode.SORTED
      : encoding === 'bitmap'
        ? Mode.BITMAP
        : encoding === 'buckets'
          ? Mode.BUCKETS
          : Mode.INDEXED;
  P.fs = fls[i]!;
  P.run = run;
  if (encoding === 'bitmap') {
    P.a = bms[i]!;
    P.b = bitmapRun;
  } else if (encoding === 'sorted') {
    P.a = ss[i]!;
    P.b = ss[i + 1]!;
  } else if (encoding === 'buckets') {
    readBucketHeader(t, P, n);
  }
  if (sls[i + 1]! - sls[i]! !== (rule.srcLocs ? run : 0))
    fail('E_CORRUPT', `namespace ${hex(n)} has a source-location run of the wrong length`);
}

/** Step 9, buckets: the header of namespace P's run (FORMAT.md 3.3), validated and kept in P. */
function readBucketHeader(t: Tables, P: Nsp, n: number): void {
  const bks = t.bucketStarts;
  const i = P.i;
  const w0 = bks[i]!;
  const bucketRun = bks[i + 1]! - w0;
  // Read only a run that lies within the section (a later start may still decrease).
  const inSection = bucketRun >= BUCKET_HEADER_WORDS && bks[i + 1]! <= t.buckets32.length;
  if (inSection && t.image !== undefined)
    t.image.read(t.buckets32.byteOffset - t.bytes.byteOffset + 4 * w0, 4 * BUCKET_HEADER_WORDS);
  const hdr = (k: number) => (inSection ? t.buckets32[w0 + k]! : 0);
  const k = hdr(0);
  const nb = hdr(1);
  const f = hdr(2);
  const Fw = hdr(3);
  if (
    k < 1 ||
    k > MAX_BUCKET_SHIFT ||
    nb < 1 ||
    nb > 2 ** (32 - k) ||
    f > FILTER_SHIFT_LIMIT ||
    Fw < 1 ||
    bucketRunWords(k, nb, P.run, Fw) !== bucketRun
  )
    fail('E_CORRUPT', `the bucket header of namespace ${hex(n)} is invalid`);
  const supers = Math.floor((nb - 1) / 2 ** (16 - k)) + 1;
  const superAt = w0 + BUCKET_HEADER_WORDS + Fw;
  const relAt = superAt + supers;
  const lowAt = relAt + Math.ceil((nb + 1) / 2);
  P.k = k;
  P.nb = nb;
  P.f = f;
  P.fw = Fw;
  P.filter = w0 + BUCKET_HEADER_WORDS;
  P.sup = superAt;
  P.rel = 2 * relAt;
  P.low = k <= BUCKET_NARROW_SHIFT ? 4 * lowAt : 2 * lowAt;
}

/** Step 10: the offset index. */
function checkOffsetIndex(h: Header): void {
  if (h.shift > MAX_OFFSET_SHIFT || (h.F === 0) !== (h.C === 0))
    fail('E_CORRUPT', `the offset index (shift ${h.shift}, ${h.C} entries) does not fit ${h.F} functions`);
}

/** The index in `.fk.info` (as u32 words) of module m's record (FORMAT.md 2). */
export function moduleWord(m: number): number {
  return (INFO_FIXED_SIZE + MODULE_RECORD_SIZE * m) / 4;
}

/** Step 11: every module record. */
function checkModules(t: Tables, h: Header): void {
  const rec = t.info;
  const { W, B } = h;
  for (let m = 0; m < h.M; m++) {
    const r = moduleWord(m);
    const enc = rec[r + MODREC.nameEncoding / 4]!;
    const start = rec[r + MODREC.nameIndexStart / 4]!;
    const count = rec[r + MODREC.nameCount / 4]!;
    if (enc > NAME_ENCODING_SPARSE) fail('E_CORRUPT', `module ${m} has name encoding ${enc}`);
    if (enc === NAME_ENCODING_NONE && count !== 0)
      fail('E_CORRUPT', `module ${m} has no name index but a name count of ${count}`);
    const words = count * (enc === NAME_ENCODING_DENSE ? 2 : enc === NAME_ENCODING_SPARSE ? 3 : 0);
    if (start > W || words > W - start) fail('E_CORRUPT', `module ${m} has its name index outside .fk.name_index`);
    const nOff = rec[r + MODREC.nameOffset / 4]!;
    const nLen = rec[r + MODREC.nameLength / 4]!;
    if (nOff === Lit.NONE ? nLen !== 0 : nOff > B || nLen > B - nOff)
      fail('E_CORRUPT', `module ${m} has its name outside .fk.names`);
    if (nLen > MAX_NAME_BYTES)
      fail('E_CORRUPT', `module ${m} has a name of ${nLen} bytes, more than any name has (${MAX_NAME_BYTES})`);
  }
}
