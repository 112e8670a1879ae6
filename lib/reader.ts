/**
 * The TypeScript reader: the reference implementation of docs/FORMAT.md, over a Uint8Array.
 * Open validates the header, the section table, the namespace table and the module records
 * (FORMAT.md 3.2); every table is then read in place through typed-array views, and every
 * lookup follows FORMAT.md section 5 to the letter so that the native reader, which follows
 * the same text, gives the same answers even on a damaged file.
 */
import type { Core, Description, NamespaceEncoding } from './core.js';
import { FunckeyError, type ErrorCode } from './errors.js';
import {
  BUCKET_SCAN,
  ELF_HEADER_SIZE,
  FORMAT_VERSION,
  INFO,
  INFO_FIXED_SIZE,
  INFO_MAGIC,
  MAX_BUCKET_SHIFT,
  MODREC,
  MODULE_RECORD_SIZE,
  NONE,
  SECTION,
  SECTION_HEADER_SIZE,
  SECTION_ORDER,
  bucketRunWords,
} from './format.js';

/** Kinds stored sparsely, indexed by kind (FORMAT.md 3). */
const SPARSE_KIND = new Uint8Array([0, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);

const utf8 = new TextDecoder('utf-8');

const bitmapDamaged = (namespace: number) => `the sparse bitmap of namespace 0x${namespace.toString(16)} is damaged`;
const bucketsDamaged = (namespace: number) => `the sparse buckets of namespace 0x${namespace.toString(16)} are damaged`;

/**
 * How a namespace is looked up: by index (dense, or sparse stored directly), or by one of the
 * three index encodings. These and the constants below are const enums so that tsc writes
 * their values into the lookups as literals: a module-level const would be read from the
 * module's context, with a check that it is initialised, at every use in a hot path.
 */
const enum Mode {
  INDEXED = 0,
  SORTED = 1,
  BITMAP = 2,
  BUCKETS = 3,
}
/** format.ts's NONE and BUCKET_SCAN (checked below), and the lengths below which a linear scan beats a binary search. */
const enum Lit {
  NONE = 0xffffffff,
  BUCKET_SCAN = 4,
  LINEAR_NS = 8,
  /** The longest range of an offset index bucket scanned rather than searched (posOfOffset). */
  OFFSET_SCAN = 32,
}
if ((Lit.NONE as number) !== NONE || (Lit.BUCKET_SCAN as number) !== BUCKET_SCAN) throw new Error('reader.ts: Lit differs from format.ts');

/**
 * What a lookup needs of one namespace, copied at open from the words it validated. One
 * object per namespace, every field a small integer set in the constructor, so that all of
 * them share one hidden class and a lookup reads each field with one load: through typed
 * arrays, each would be an index computation and a bounds check, and more bytecode (which
 * decides whether V8 inlines a lookup into its caller).
 */
class Nsp {
  /** Mode.* */
  mode = 0;
  /** Its run in .fk.func_locs: [fs, fs + run). */
  fs = 0;
  run = 0;
  /** Bitmap: its blocks in .fk.sparse_bitmaps, [a, a + b). Sorted: its run of .fk.sparse_indices, [a, b). */
  a = 0;
  b = 0;
  /** Buckets (FORMAT.md 3.3): shift k, bucket count nb, filter shift f and filter words fw. */
  k = 0;
  nb = 0;
  f = 0;
  fw = 0;
  /** Where the filter, superblocks (u32 elements), ranks (u16) and low parts (u8 if k <= 8, else u16) start in .fk.sparse_buckets. */
  filter = 0;
  sup = 0;
  rel = 0;
  low = 0;
  constructor(readonly i: number) {}
}

/** Bit count of a u32, in int32 operations only (no Math.imul call: less bytecode to inline). */
function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  x += x >>> 8;
  return (x + (x >>> 16)) & 0x3f;
}
const NodeBuffer: typeof Buffer | undefined = (globalThis as { Buffer?: typeof Buffer }).Buffer;

function fail(code: ErrorCode, message: string): never {
  throw new FunckeyError(code, message);
}

interface SectionRef {
  name: string;
  offset: number;
  size: number;
}

export class JsCore implements Core {
  // The fields that lookups by key read are `declare`d: tsc emits no class field for them,
  // so they come into being at the constructor's assignments. Emitted as class fields (first
  // defined as undefined), they cost a lookup by key about 15% in V8 (js core, present keys:
  // dense 9.6-10.4 to 7.9-8.4 ns, buckets at 1 index in 100 17.3-25.2 to 13.4-18.4 ns); the
  // fields of a lookup by offset (offsetIndex, offsetShift, offsetCount, F) are the other
  // way round: declared so, funcByOffset took 190 instead of 140 ns at 64Ki functions with
  // no offset index. Measured, not explained: keep both as they are unless measured again.
  private readonly bytes: Uint8Array;
  /** `.fk.info` as u32 words (module records are read from it in place). */
  private readonly info: Uint32Array;
  private declare readonly ns: Uint32Array;
  private declare readonly funcLocStarts: Uint32Array;
  private readonly sparseStarts: Uint32Array;
  private readonly srcLocStarts: Uint32Array;
  private readonly sparse: Uint32Array;
  private readonly bitmapStarts: Uint32Array;
  /** (rank, bits) pairs of the sparse namespaces stored as bitmaps. */
  private declare readonly bitmaps: Uint32Array;
  private readonly bucketStarts: Uint32Array;
  /** `.fk.sparse_buckets` as u32, u16 and u8 values. */
  private declare readonly buckets32: Uint32Array;
  private declare readonly buckets16: Uint16Array;
  private declare readonly buckets8: Uint8Array;
  /** Per kind (0 to 15), the position of its first namespace, or of the first of a later kind. */
  private declare readonly kindFirst: Int32Array;
  private readonly encodings: NamespaceEncoding[];
  /** Per namespace, what its lookups read (Nsp). */
  private declare readonly nsp: Nsp[];
  /** Entry b: the last function starting at or before b << offsetShift. */
  private readonly offsetIndex: Uint32Array;
  private readonly offsetShift: number;
  private readonly offsetCount: number;
  /** (start, length) pairs. */
  private declare readonly locs: Uint32Array;
  private readonly src: Uint32Array;
  private readonly nameIndex: Uint32Array;
  private readonly names: Uint8Array;
  private readonly namesBuf: Buffer | undefined;
  private declare readonly N: number;
  private readonly F: number;
  private readonly B: number;
  private readonly sections: SectionRef[];
  private readonly version: number;
  private readonly textSize: number;
  /** Namespace index of the last successful `pos` call. */
  private lastNs = 0;

  constructor(input: Uint8Array) {
    // Typed-array views need the sections' alignment; sections are 8-aligned in the file,
    // so the file must be too. A caller's unaligned view is copied once.
    const bytes = input.byteOffset % 8 === 0 ? input : input.slice();
    this.bytes = bytes;
    const len = bytes.length;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const u16 = (o: number) => dv.getUint16(o, true);
    const u32 = (o: number) => dv.getUint32(o, true);
    /** A u64 as a Number: exact below 2^53, and anything larger is far beyond any file. */
    const u64 = (o: number) => dv.getUint32(o + 4, true) * 4294967296 + dv.getUint32(o, true);
    const inFile = (offset: number, size: number) => offset <= len && size <= len - offset;

    // 1-3: ELF identification.
    if (len < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
      fail('E_FORMAT', 'not a funckey artifact: no ELF magic');
    if (len < ELF_HEADER_SIZE) fail('E_TRUNCATED', `file of ${len} bytes ends inside the ELF header`);
    const shentsize = u16(58);
    const shnum = u16(60);
    if (bytes[4] !== 2 || bytes[5] !== 1) fail('E_FORMAT', 'not a little-endian ELF64 file');
    if (shentsize !== SECTION_HEADER_SIZE || shnum < 2) fail('E_FORMAT', 'not a funckey artifact: unexpected ELF section table');
    // 4: the section header table.
    const shoff = u64(40);
    if (!inFile(shoff, SECTION_HEADER_SIZE * shnum)) fail('E_TRUNCATED', 'the section header table lies beyond the end of the file');
    // 5: the section name table.
    const shstrndx = u16(62);
    if (shstrndx >= shnum) fail('E_CORRUPT', `section name table index ${shstrndx} is not below the section count ${shnum}`);
    const sh = (i: number) => shoff + SECTION_HEADER_SIZE * i;
    const strOff = u64(sh(shstrndx) + 24);
    const strSize = u64(sh(shstrndx) + 32);
    if (!inFile(strOff, strSize)) fail('E_TRUNCATED', 'the section name table lies beyond the end of the file');
    // 6: section names.
    const sections: SectionRef[] = [];
    const byName = new Map<string, SectionRef>();
    for (let i = 1; i < shnum; i++) {
      const nameOff = u32(sh(i));
      if (nameOff >= strSize) fail('E_CORRUPT', `section ${i} has its name outside the section name table`);
      let end = strOff + nameOff;
      const limit = strOff + strSize;
      while (end < limit && bytes[end] !== 0) end++;
      if (end === limit) fail('E_CORRUPT', `section ${i} has a name with no terminating NUL`);
      const name = utf8.decode(bytes.subarray(strOff + nameOff, end));
      const ref = { name, offset: u64(sh(i) + 24), size: u64(sh(i) + 32) };
      sections.push(ref);
      if (name.startsWith('.fk.')) {
        if (byName.has(name)) fail('E_CORRUPT', `section ${name} appears twice`);
        byName.set(name, ref);
      }
    }
    this.sections = sections;
    // 7: the info header.
    const infoSec = byName.get(SECTION.info);
    if (infoSec === undefined) fail('E_FORMAT', 'not a funckey artifact: an ELF file with no .fk.info section');
    if (!inFile(infoSec.offset, infoSec.size)) fail('E_TRUNCATED', '.fk.info lies beyond the end of the file');
    if (infoSec.size < INFO_FIXED_SIZE) fail('E_CORRUPT', `.fk.info has ${infoSec.size} bytes, fewer than ${INFO_FIXED_SIZE}`);
    for (let k = 0; k < INFO_MAGIC.length; k++)
      if (bytes[infoSec.offset + INFO.magic + k] !== INFO_MAGIC[k]) fail('E_FORMAT', 'not a funckey artifact: bad magic in .fk.info');
    const I = (field: number) => u32(infoSec.offset + field);
    this.version = I(INFO.version);
    if (this.version !== FORMAT_VERSION)
      fail('E_VERSION', `artifact format version ${this.version}; this reader reads version ${FORMAT_VERSION}: rebuild the artifact with this version of funckey`);
    const M = I(INFO.moduleCount);
    if (I(INFO.moduleRecordSize) !== MODULE_RECORD_SIZE || infoSec.size < INFO_FIXED_SIZE + MODULE_RECORD_SIZE * M)
      fail('E_CORRUPT', `.fk.info is too small for ${M} module records`);
    const N = I(INFO.namespaceCount);
    const F = I(INFO.funcCount);
    const S = I(INFO.sparseCount);
    const L = I(INFO.srcLocCount);
    const W = I(INFO.nameIndexWords);
    const B = I(INFO.nameBytes);
    this.textSize = I(INFO.textSize);
    const Bm = I(INFO.bitmapBlocks);
    const shift = I(INFO.offsetShift);
    const C = I(INFO.offsetCount);
    // 8: every table section: present, in the file, aligned, of the declared size.
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
    };
    const view32 = (name: string): Uint32Array => {
      const s = byName.get(name)!;
      return new Uint32Array(bytes.buffer, bytes.byteOffset + s.offset, s.size / 4);
    };
    for (const name of SECTION_ORDER) {
      const s = byName.get(name);
      if (s === undefined) fail('E_CORRUPT', `section ${name} is missing`);
      if (!inFile(s.offset, s.size)) fail('E_TRUNCATED', `section ${name} lies beyond the end of the file`);
      if (s.offset % 8 !== 0) fail('E_CORRUPT', `section ${name} is not aligned to 8 bytes`);
      const want = expected[name];
      if (want !== undefined && s.size !== want) fail('E_CORRUPT', `section ${name} has ${s.size} bytes, the header implies ${want}`);
      if (name === SECTION.sparseBuckets && s.size % 4 !== 0) fail('E_CORRUPT', `section ${name} has ${s.size} bytes, not a whole number of words`);
    }
    const Bw = byName.get(SECTION.sparseBuckets)!.size / 4;
    // The header, the namespace table and the module records are what lookups index with:
    // they are copied (O(N + M)) and the copies validated, so that bytes changed after open
    // can give wrong answers but never send a lookup outside its arrays.
    this.info = new Uint32Array(bytes.buffer, bytes.byteOffset + infoSec.offset, (INFO_FIXED_SIZE + MODULE_RECORD_SIZE * M) / 4).slice();
    this.ns = view32(SECTION.namespaces).slice();
    this.funcLocStarts = view32(SECTION.funcLocStarts).slice();
    this.sparseStarts = view32(SECTION.sparseStarts).slice();
    this.srcLocStarts = view32(SECTION.srcLocStarts).slice();
    this.sparse = view32(SECTION.sparseIndices);
    this.bitmapStarts = view32(SECTION.bitmapStarts).slice();
    this.bitmaps = view32(SECTION.sparseBitmaps);
    this.offsetIndex = view32(SECTION.offsetIndex);
    this.bucketStarts = view32(SECTION.bucketStarts).slice();
    this.buckets32 = view32(SECTION.sparseBuckets);
    this.buckets16 = new Uint16Array(this.buckets32.buffer, this.buckets32.byteOffset, 2 * Bw);
    this.buckets8 = new Uint8Array(this.buckets32.buffer, this.buckets32.byteOffset, 4 * Bw);
    this.encodings = new Array<NamespaceEncoding>(N);
    this.nsp = [];
    this.kindFirst = new Int32Array(16);
    this.offsetShift = shift;
    this.offsetCount = C;
    this.locs = view32(SECTION.funcLocs);
    this.src = view32(SECTION.srcLocs);
    this.nameIndex = view32(SECTION.nameIndex);
    const namesSec = byName.get(SECTION.names)!;
    this.names = bytes.subarray(namesSec.offset, namesSec.offset + namesSec.size);
    this.namesBuf = NodeBuffer ? NodeBuffer.from(this.names.buffer, this.names.byteOffset, this.names.byteLength) : undefined;
    this.N = N;
    this.F = F;
    this.B = B;

    // 9: the namespace table.
    const ns = this.ns;
    const fls = this.funcLocStarts;
    const ss = this.sparseStarts;
    const sls = this.srcLocStarts;
    const bms = this.bitmapStarts;
    const bks = this.bucketStarts;
    if (fls[0] !== 0 || ss[0] !== 0 || sls[0] !== 0 || bms[0] !== 0 || bks[0] !== 0) fail('E_CORRUPT', 'a namespace start array does not begin with 0');
    if (fls[N] !== F || ss[N] !== S || sls[N] !== L || bms[N] !== Bm || bks[N] !== Bw)
      fail('E_CORRUPT', 'a namespace start array does not end with its array length');
    for (let i = 0; i < N; i++) {
      const n = ns[i]!;
      if (i > 0 && n <= ns[i - 1]!) fail('E_CORRUPT', 'namespaces are not strictly ascending');
      const kind = n >>> 28;
      const low = n & 0x0fffffff;
      if (kind > 9) fail('E_CORRUPT', `namespace 0x${n.toString(16)} has kind ${kind}`);
      if ((kind === 2 || kind === 3 || kind === 4 || kind === 5 || kind === 7) && low !== 0)
        fail('E_CORRUPT', `namespace 0x${n.toString(16)} has low bits its kind does not allow`);
      if ((kind === 6 || kind === 8) && low > 2) fail('E_CORRUPT', `namespace 0x${n.toString(16)} has abi ${low}`);
      if (fls[i + 1]! < fls[i]! || ss[i + 1]! < ss[i]! || sls[i + 1]! < sls[i]! || bms[i + 1]! < bms[i]! || bks[i + 1]! < bks[i]!)
        fail('E_CORRUPT', 'a namespace start array decreases');
      const run = fls[i + 1]! - fls[i]!;
      if (run < 1) fail('E_CORRUPT', `namespace 0x${n.toString(16)} has an empty run`);
      const sortedRun = ss[i + 1]! - ss[i]!;
      const bitmapRun = bms[i + 1]! - bms[i]!;
      const bucketRun = bks[i + 1]! - bks[i]!;
      let encoding: NamespaceEncoding | undefined;
      if (!SPARSE_KIND[kind]) encoding = sortedRun === 0 && bitmapRun === 0 && bucketRun === 0 ? 'dense' : undefined;
      else if (sortedRun === run && bitmapRun === 0 && bucketRun === 0) encoding = 'sorted';
      else if (sortedRun === 0 && bitmapRun > 0 && bucketRun === 0) encoding = 'bitmap';
      else if (sortedRun === 0 && bitmapRun === 0 && bucketRun > 0) encoding = 'buckets';
      else if (sortedRun === 0 && bitmapRun === 0 && bucketRun === 0) encoding = 'direct';
      if (encoding === undefined) fail('E_CORRUPT', `namespace 0x${n.toString(16)} has sparse runs of the wrong length`);
      this.encodings[i] = encoding;
      const P = new Nsp(i);
      this.nsp.push(P);
      P.mode = encoding === 'sorted' ? Mode.SORTED : encoding === 'bitmap' ? Mode.BITMAP : encoding === 'buckets' ? Mode.BUCKETS : Mode.INDEXED;
      P.fs = fls[i]!;
      P.run = run;
      if (encoding === 'bitmap') {
        P.a = bms[i]!;
        P.b = bitmapRun;
      } else if (encoding === 'sorted') {
        P.a = ss[i]!;
        P.b = ss[i + 1]!;
      }
      if (encoding === 'buckets') {
        // The bucket header (FORMAT.md 3.3), copied: lookups index with what is kept here.
        const w0 = bks[i]!;
        // Read only a run that lies within the section (a later start may still decrease).
        const hdr = (k: number) => (bucketRun >= 4 && bks[i + 1]! <= Bw ? this.buckets32[w0 + k]! : 0);
        const k = hdr(0);
        const nb = hdr(1);
        const f = hdr(2);
        const Fw = hdr(3);
        if (k < 1 || k > MAX_BUCKET_SHIFT || nb < 1 || nb > 2 ** (32 - k) || f > 31 || Fw < 1 || bucketRunWords(k, nb, run, Fw) !== bucketRun)
          fail('E_CORRUPT', `the bucket header of namespace 0x${n.toString(16)} is invalid`);
        const supers = Math.floor((nb - 1) / 2 ** (16 - k)) + 1;
        const superAt = w0 + 4 + Fw;
        const relAt = superAt + supers;
        const lowAt = relAt + Math.ceil((nb + 1) / 2);
        P.k = k;
        P.nb = nb;
        P.f = f;
        P.fw = Fw;
        P.filter = w0 + 4;
        P.sup = superAt;
        P.rel = 2 * relAt;
        P.low = k <= 8 ? 4 * lowAt : 2 * lowAt;
      }
      if (sls[i + 1]! - sls[i]! !== (kind === 0 ? run : 0)) fail('E_CORRUPT', `namespace 0x${n.toString(16)} has a source-location run of the wrong length`);
    }
    for (let kind = 15, i = N; kind >= 0; kind--) {
      while (i > 0 && ns[i - 1]! >>> 28 >= kind) i--;
      this.kindFirst[kind] = i;
    }
    // 10: the offset index.
    if (shift > 31 || (F === 0) !== (C === 0)) fail('E_CORRUPT', `the offset index (shift ${shift}, ${C} entries) does not fit ${F} functions`);
    // 11: module records.
    const rec = this.info;
    for (let m = 0; m < M; m++) {
      const r = (INFO_FIXED_SIZE + MODULE_RECORD_SIZE * m) / 4;
      const enc = rec[r + MODREC.nameEncoding / 4]!;
      const start = rec[r + MODREC.nameIndexStart / 4]!;
      const count = rec[r + MODREC.nameCount / 4]!;
      if (enc > 2) fail('E_CORRUPT', `module ${m} has name encoding ${enc}`);
      if (enc === 0 && count !== 0) fail('E_CORRUPT', `module ${m} has no name index but a name count of ${count}`);
      const words = count * (enc === 1 ? 2 : enc === 2 ? 3 : 0);
      if (start > W || words > W - start) fail('E_CORRUPT', `module ${m} has its name index outside .fk.name_index`);
      const nOff = rec[r + MODREC.nameOffset / 4]!;
      const nLen = rec[r + MODREC.nameLength / 4]!;
      if (nOff === Lit.NONE ? nLen !== 0 : nOff > B || nLen > B - nOff) fail('E_CORRUPT', `module ${m} has its name outside .fk.names`);
    }
  }

  // ---- lookups (FORMAT.md section 5) ----

  /**
   * The position of a namespace in the table, or -1. Namespaces ascend, so those of one kind
   * are consecutive and, when their low bits count 0, 1, 2, ... (module m's functions, with
   * every module having some), the one wanted is at kindFirst[kind] + low: one read for any
   * namespace of a usual table, wherever it lies. Otherwise, a search.
   */
  private findNs(namespace: number): number {
    const g = this.kindFirst[namespace >>> 28]! + (namespace & 0x0fffffff);
    if (g < this.N && this.ns[g] === namespace) return g;
    return this.searchNs(namespace);
  }

  private searchNs(namespace: number): number {
    const a = this.ns;
    const n = this.N;
    if (n <= Lit.LINEAR_NS) {
      for (let i = 0; i < n; i++) if (a[i] === namespace) return i;
      return -1;
    }
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = lo + ((hi - lo) >>> 1);
      if (a[mid]! < namespace) lo = mid + 1;
      else hi = mid;
    }
    return lo < n && a[lo] === namespace ? lo : -1;
  }

  /** Position of the key in func_locs, or -1 (absent or a hole). Sets lastNs. */
  private pos(namespace: number, index: number): number {
    const i = this.findNs(namespace);
    if (i < 0) return -1;
    const P = this.nsp[i]!;
    const m = P.mode;
    // The sparse encodings are kept out of line so that the dense path stays small.
    const d = m === Mode.INDEXED ? (index < P.run ? index : -1) : m === Mode.BUCKETS ? this.bucketPos(P, index) : this.sparsePos(P, index);
    if (d < 0) return -1;
    const p = P.fs + d;
    if (this.locs[2 * p + 1] === 0) return -1;
    this.lastNs = i;
    return p;
  }

  /** The position of index in bitmap or sorted namespace P's run (-1: absent); buckets go to bucketPos. */
  private sparsePos(P: Nsp, index: number): number {
    if (P.mode !== Mode.BITMAP) return this.sortedPos(P, index);
    // Rank bitmap (FORMAT.md 3.3): one pair read, one popcount.
    const blk = index >>> 5;
    if (blk >= P.b) return -1;
    const w = 2 * (P.a + blk);
    const bits = this.bitmaps[w + 1]!;
    const bit = index & 31;
    if (((bits >>> bit) & 1) === 0) return -1;
    const d = this.bitmaps[w]! + popcount32(bits & ~(-1 << bit));
    if (d >= P.run) this.damaged(P);
    return d;
  }

  /** E_CORRUPT for the bitmap or bucket run of namespace P (out of the lookups' code). */
  private damaged(P: Nsp): never {
    const n = this.ns[P.i]!;
    fail('E_CORRUPT', P.mode === Mode.BITMAP ? bitmapDamaged(n) : bucketsDamaged(n));
  }

  /** The position of index in sorted namespace P's run (-1: absent). */
  private sortedPos(P: Nsp, index: number): number {
    const a = this.sparse;
    const s0 = P.a;
    const s1 = P.b;
    let lo = s0;
    let hi = s1;
    while (lo < hi) {
      const mid = lo + ((hi - lo) >>> 1);
      if (a[mid]! < index) lo = mid + 1;
      else hi = mid;
    }
    if (lo === s1 || a[lo] !== index) return -1;
    return lo - s0;
  }

  funcLoc(namespace: number, index: number, out: Uint32Array): boolean {
    const p = this.pos(namespace, index);
    if (p < 0) return false;
    out[0] = this.locs[2 * p]!;
    out[1] = this.locs[2 * p + 1]!;
    return true;
  }

  srcLoc(namespace: number, index: number): number {
    if (namespace >>> 28 !== 0) return Lit.NONE;
    const p = this.pos(namespace, index);
    if (p < 0) return Lit.NONE;
    const i = this.lastNs;
    return this.src[this.srcLocStarts[i]! + (p - this.funcLocStarts[i]!)]!;
  }

  /** Position in func_locs of the function containing offset, or -1. */
  private posOfOffset(offset: number): number {
    const locs = this.locs;
    const F = this.F;
    if (F === 0) return -1;
    // The offset index narrows the search to the functions of one bucket (FORMAT.md 3.4).
    const idx = this.offsetIndex;
    const b = offset >>> this.offsetShift;
    let lo: number;
    let hi: number;
    if (b + 1 < this.offsetCount) {
      lo = idx[b]!;
      hi = idx[b + 1]! + 1;
    } else {
      lo = idx[this.offsetCount - 1]!;
      hi = F;
    }
    if (hi > F) hi = F;
    if (lo > hi) lo = hi;
    // A range of at most OFFSET_SCAN entries (an index bucket holds 8 to 16 on average) is
    // scanned up to its first start past offset (FORMAT.md section 5): one mispredicted branch,
    // where a binary search mispredicts at about every other step (js core per call with the
    // index, 65,536 random offsets: 40 to 33 ns at 64Ki functions, 82-95 to 72-82 ns at 1Mi).
    // A longer range (no index, a crowded bucket) is searched.
    if (hi - lo <= Lit.OFFSET_SCAN) {
      while (lo < hi && locs[2 * lo]! <= offset) lo++;
    } else {
      while (lo < hi) {
        const mid = lo + ((hi - lo) >>> 1);
        if (locs[2 * mid]! <= offset) lo = mid + 1;
        else hi = mid;
      }
    }
    const p = lo - 1;
    if (p < 0) return -1;
    const start = locs[2 * p]!;
    if (start > offset || offset - start >= locs[2 * p + 1]!) return -1;
    return p;
  }

  /** Writes the key at position p to out[k], out[k + 1]. */
  private keyAt(p: number, out: Uint32Array, k: number): void {
    const fls = this.funcLocStarts;
    let lo = 0;
    let hi = this.N;
    while (lo < hi) {
      const mid = lo + ((hi - lo) >>> 1);
      if (fls[mid]! <= p) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    const namespace = this.ns[i]!;
    const d = p - fls[i]!;
    out[k] = namespace;
    const mode = this.nsp[i]!.mode;
    if (mode === Mode.INDEXED) out[k + 1] = d;
    else if (mode === Mode.SORTED) out[k + 1] = this.sparse[this.sparseStarts[i]! + d]!;
    else if (mode === Mode.BITMAP) out[k + 1] = this.bitmapSelect(i, d, namespace);
    else out[k + 1] = this.bucketSelect(i, d, namespace);
  }

  /**
   * Buckets (FORMAT.md 3.3, 5). Most absent indices stop at the filter bit; then two u16
   * ranks and a superblock word give the bucket's start s and count c among the present
   * indices, and a scan of its u8 low parts finds the index. What is rare (u16 low parts, a
   * bucket of more than four, a damaged run) is left to bucketTail, so that this
   * stays small enough for V8 to inline (its bytecode under --max-inlined-bytecode-size).
   */
  private bucketPos(P: Nsp, index: number): number {
    // Each view read once into a local (one map check each), and sums of positions within a
    // section (below 2^31 elements of u16 or wider) truncated to int32: no overflow checks.
    const b32 = this.buckets32;
    const b16 = this.buckets16;
    const t = index >>> P.f;
    const tw = t >>> 5;
    if (tw >= P.fw || ((b32[(P.filter + tw) | 0]! >>> (t & 31)) & 1) === 0) return -1;
    const k = P.k;
    const b = index >>> k;
    if (b >= P.nb) return -1;
    const r = (P.rel + b) | 0;
    const r0 = b16[r]!;
    const c = (b16[(r + 1) | 0]! - r0) & 0xffff;
    if (c === 0) return -1;
    const sup = b32[(P.sup + (index >>> 16)) | 0]!;
    const s = sup + ((r0 - sup) & 0xffff);
    const x = index & ((1 << k) - 1);
    const o = P.low + s;
    if (c > Lit.BUCKET_SCAN || k > 8 || s + c > P.run) return this.bucketTail(P, s, c, o, x);
    // s + c <= K < 2^29 (K entries of 8 bytes lie in a file below 4 GiB): o is exact as an int32.
    // A present index is most often the bucket's first (buckets hold one or two): the scan's
    // answer then, without entering its loop.
    const low = this.buckets8;
    if (low[o] === x) return s;
    let j = 0;
    while (j < c && low[o + j]! < x) j++;
    return j < c && low[o + j] === x ? s + j : -1;
  }

  /** bucketPos for a damaged run, u16 low parts or more than four of them (c >= 1). */
  private bucketTail(P: Nsp, s: number, c: number, o: number, x: number): number {
    if (s > P.run || c > P.run - s) this.damaged(P);
    if (P.k <= 8) {
      const j = lowerBound(this.buckets8, o, 0, c, x);
      return j < c && this.buckets8[o + j] === x ? s + j : -1;
    }
    const u = scan16(this.buckets16, o, c, x);
    return u < 0 ? -1 : s + u;
  }

  /** Start of bucket b of buckets namespace P among its present indices (FORMAT.md 3.3). */
  private bucketStart(P: Nsp, b: number): number {
    const sup = this.buckets32[P.sup + Math.floor(b / 2 ** (16 - P.k))]!;
    return sup + ((this.buckets16[P.rel + b]! - sup) & 0xffff);
  }

  /** The index of entry d of buckets namespace i: the bucket by its start, then the low part. */
  private bucketSelect(i: number, d: number, namespace: number): number {
    const P = this.nsp[i]!;
    let lo = 0;
    let hi = P.nb;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.bucketStart(P, mid) <= d) lo = mid + 1;
      else hi = mid;
    }
    const t = lo - 1;
    const k = P.k;
    const o = P.low;
    const low = k <= 8 ? this.buckets8[o + d]! : this.buckets16[o + d]!;
    if (t < 0 || low >= 2 ** k) fail('E_CORRUPT', bucketsDamaged(namespace));
    return t * 2 ** k + low;
  }

  /** The index of entry d of bitmap namespace i: the block by its rank, then the bit. */
  private bitmapSelect(i: number, d: number, namespace: number): number {
    const bm = this.bitmaps;
    const b0 = this.bitmapStarts[i]!;
    let lo = 0;
    let hi = this.bitmapStarts[i + 1]! - b0;
    while (lo < hi) {
      const mid = lo + ((hi - lo) >>> 1);
      if (bm[2 * (b0 + mid)]! <= d) lo = mid + 1;
      else hi = mid;
    }
    const j = lo - 1;
    if (j < 0) fail('E_CORRUPT', bitmapDamaged(namespace));
    let bits = bm[2 * (b0 + j) + 1]!;
    const r = d - bm[2 * (b0 + j)]!;
    if (r >= popcount32(bits)) fail('E_CORRUPT', bitmapDamaged(namespace));
    for (let k = 0; k < r; k++) bits &= bits - 1;
    const index = j * 32 + (31 - Math.clz32(bits & -bits));
    if (index > 0xffffffff) fail('E_CORRUPT', bitmapDamaged(namespace));
    return index;
  }

  funcByOffset(offset: number, out: Uint32Array): boolean {
    const p = this.posOfOffset(offset);
    if (p < 0) return false;
    this.keyAt(p, out, 0);
    return true;
  }

  funcName(funcIndex: number, module: number): string | undefined {
    const r = (INFO_FIXED_SIZE + MODULE_RECORD_SIZE * module) / 4;
    const info = this.info;
    const enc = info[r + MODREC.nameEncoding / 4]!;
    const start = info[r + MODREC.nameIndexStart / 4]!;
    const count = info[r + MODREC.nameCount / 4]!;
    const w = this.nameIndex;
    let slot: number;
    if (enc === 1) {
      if (funcIndex >= count) return undefined;
      slot = start + 2 * funcIndex;
    } else if (enc === 2) {
      let lo = 0;
      let hi = count;
      while (lo < hi) {
        const mid = lo + ((hi - lo) >>> 1);
        if (w[start + 3 * mid]! < funcIndex) lo = mid + 1;
        else hi = mid;
      }
      if (lo === count || w[start + 3 * lo] !== funcIndex) return undefined;
      slot = start + 3 * lo + 1;
    } else {
      return undefined;
    }
    const off = w[slot]!;
    if (off === Lit.NONE) return undefined;
    const len = w[slot + 1]!;
    if (off > this.B || len > this.B - off) fail('E_CORRUPT', `the name of function ${funcIndex} lies outside .fk.names`);
    return this.decode(off, len);
  }

  private decode(off: number, len: number): string {
    if (this.namesBuf !== undefined) return this.namesBuf.utf8Slice(off, off + len);
    return utf8.decode(this.names.subarray(off, off + len));
  }

  funcLocs(namespaces: Uint32Array, indices: Uint32Array, starts: Uint32Array, lengths: Uint32Array): void {
    const locs = this.locs;
    // The namespace of the keys (its Nsp), looked up again only when the namespace changes;
    // the one before it is kept too, so that keys alternating between two namespaces (a
    // function and its trampoline) look up neither.
    let lastNs = -1;
    let P: Nsp | null = null;
    let lastNs2 = -1;
    let P2: Nsp | null = null;
    for (let k = 0; k < namespaces.length; k++) {
      const namespace = namespaces[k]!;
      const index = indices[k]!;
      if (namespace !== lastNs) {
        const t = lastNs;
        const tP: Nsp | null = P;
        if (namespace === lastNs2) {
          lastNs = lastNs2;
          P = P2;
        } else {
          lastNs = namespace;
          const i = this.findNs(namespace);
          P = i < 0 ? null : this.nsp[i]!;
        }
        lastNs2 = t;
        P2 = tP;
      }
      let p = -1;
      if (P === null) {
        // No such namespace: no answer.
      } else if (P.mode === Mode.INDEXED) {
        if (index < P.run) p = P.fs + index;
      } else if (P.mode === Mode.BITMAP) {
        // As sparsePos, computed whether or not the index is present, so that the batch does
        // not branch on it: a block beyond the run reads block 0 (a bitmap run has one) and
        // is no answer; only a present index whose rank points past the run is E_CORRUPT.
        const blk = index >>> 5;
        const inRun = blk < P.b ? 1 : 0;
        const w = 2 * (P.a + blk * inRun);
        const bits = this.bitmaps[w + 1]!;
        const bit = index & 31;
        const hit = inRun & (bits >>> bit);
        const d = this.bitmaps[w]! + popcount32(bits & ~(-1 << bit));
        if (hit === 1 && d >= P.run) fail('E_CORRUPT', bitmapDamaged(namespace));
        const q = P.fs + d * hit;
        const length = locs[2 * q + 1]!;
        const ok = hit === 1 && length !== 0;
        starts[k] = ok ? locs[2 * q]! : Lit.NONE;
        lengths[k] = ok ? length : 0;
        continue;
      } else {
        const d = P.mode === Mode.BUCKETS ? this.bucketPos(P, index) : this.sparsePos(P, index);
        if (d >= 0) p = P.fs + d;
      }
      const length = p < 0 ? 0 : locs[2 * p + 1]!;
      if (length === 0) {
        // Absent, or a hole of a dense or direct run.
        starts[k] = Lit.NONE;
        lengths[k] = 0;
      } else {
        starts[k] = locs[2 * p]!;
        lengths[k] = length;
      }
    }
  }

  funcsByOffset(offsets: Uint32Array, namespaces: Uint32Array, indices: Uint32Array): void {
    const pair = new Uint32Array(2);
    for (let k = 0; k < offsets.length; k++) {
      const p = this.posOfOffset(offsets[k]!);
      if (p < 0) {
        namespaces[k] = Lit.NONE;
        indices[k] = Lit.NONE;
      } else {
        this.keyAt(p, pair, 0);
        namespaces[k] = pair[0]!;
        indices[k] = pair[1]!;
      }
    }
  }

  funcNames(funcIndices: Uint32Array, module: number): (string | undefined)[] {
    const out = new Array<string | undefined>(funcIndices.length);
    for (let k = 0; k < funcIndices.length; k++) out[k] = this.funcName(funcIndices[k]!, module);
    return out;
  }

  moduleCount(): number {
    return this.info[INFO.moduleCount / 4]!;
  }

  describe(): Description {
    const info = this.info;
    const M = info[INFO.moduleCount / 4]!;
    const modules: Description['modules'] = [];
    for (let m = 0; m < M; m++) {
      const r = (INFO_FIXED_SIZE + MODULE_RECORD_SIZE * m) / 4;
      const nOff = info[r + MODREC.nameOffset / 4]!;
      const nLen = info[r + MODREC.nameLength / 4]!;
      const hashBytes = new Uint8Array(info.buffer, info.byteOffset + 4 * r + MODREC.sha256, 32);
      const hex = Array.from(hashBytes, (b) => b.toString(16).padStart(2, '0')).join('');
      modules.push({
        name: nOff === Lit.NONE ? undefined : this.decode(nOff, nLen),
        importedFuncs: info[r + MODREC.importedFuncs / 4]!,
        definedFuncs: info[r + MODREC.definedFuncs / 4]!,
        byteOffset: info[r + MODREC.byteOffset / 4]!,
        nameEncoding: info[r + MODREC.nameEncoding / 4]! as 0 | 1 | 2,
        nameCount: info[r + MODREC.nameCount / 4]!,
        sha256: /^0+$/.test(hex) ? undefined : hex,
      });
    }
    const namespaces: Description['namespaces'] = [];
    for (let i = 0; i < this.N; i++)
      namespaces.push({
        namespace: this.ns[i]!,
        funcStart: this.funcLocStarts[i]!,
        funcCount: this.funcLocStarts[i + 1]! - this.funcLocStarts[i]!,
        sparseStart: this.sparseStarts[i]!,
        srcStart: this.srcLocStarts[i]!,
        bitmapStart: this.bitmapStarts[i]!,
        bitmapBlocks: this.bitmapStarts[i + 1]! - this.bitmapStarts[i]!,
        bucketStart: this.bucketStarts[i]!,
        bucketWords: this.bucketStarts[i + 1]! - this.bucketStarts[i]!,
        bucketShift: this.nsp[i]!.k,
        bucketFilterShift: this.nsp[i]!.f,
        encoding: this.encodings[i]!,
      });
    return {
      formatVersion: this.version,
      fileSize: this.bytes.length,
      textSize: this.textSize,
      funcCount: this.F,
      sparseCount: this.sparse.length,
      bitmapBlocks: this.bitmaps.length >>> 1,
      bucketWords: this.buckets32.length,
      offsetShift: this.offsetShift,
      offsetCount: this.offsetCount,
      srcLocCount: this.src.length,
      nameIndexWords: this.nameIndex.length,
      nameBytes: this.B,
      sections: this.sections.map((s) => ({ ...s })),
      namespaces,
      modules,
    };
  }

  close(): void {
    // Nothing to release: the bytes belong to the garbage collector.
  }
}

/*
 * The search of FORMAT.md 5 for the low part x among the c >= 1 u16 low parts of a bucket at
 * low[o ..]: its position in the bucket, or -1. Up to 4 parts, the linear scan as written
 * there (the writer sizes buckets to hold about one or two present indices, so it stops after
 * a step or two); larger buckets, the lower_bound loop. bucketPos does the same for u8 low
 * parts itself; the two are kept apart so that each typed-array read stays monomorphic.
 */
function scan16(low: Uint16Array, o: number, c: number, x: number): number {
  let j = 0;
  if (c <= Lit.BUCKET_SCAN) while (j < c && low[o + j]! < x) j++;
  else j = lowerBound16(low, o, 0, c, x);
  return j < c && low[o + j] === x ? j : -1;
}

/** lower_bound over a[o + lo .. o + hi) for x (FORMAT.md 5), as a position in [lo, hi]; lowerBound for u8. */
function lowerBound16(a: Uint16Array, o: number, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = lo + ((hi - lo) >>> 1);
    if (a[o + mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lowerBound(a: Uint8Array, o: number, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = lo + ((hi - lo) >>> 1);
    if (a[o + mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

declare global {
  interface Buffer {
    utf8Slice(start: number, end: number): string;
  }
}
