/**
 * The TypeScript reader: the reference implementation of docs/FORMAT.md, over a Uint8Array.
 * `JsCore` is the `Core` (lib/core.ts) of the js backend: open (lib/open.ts) validates the
 * header, the section table, the namespace table and the module records (FORMAT.md 3.2);
 * every table is then read in place through typed-array views, and every lookup
 * (lib/table.ts by key, lib/offsets.ts by offset, lib/names.ts by name) follows FORMAT.md
 * section 5 to the letter so that the native reader (native/, the same files), which follows
 * the same text, gives the same answers even on a damaged file.
 */
import type { Core, Description, NamespaceEncoding } from './core.js';
import { INFO, Lit, MODREC, SECTION } from './format.js';
import { decodeName, funcName } from './names.js';
import { funcByOffset, funcsByOffset } from './offsets.js';
import type { FileImage } from './file.js';
import type { NameFile } from './names.js';
import { LINE_SECTIONS, moduleWord, openTables, TABLE_SECTIONS, type SectionRef, type Tables } from './open.js';
import { funcLocs, pos, type Nsp } from './table.js';
import type { SrcLocSections } from './srclocs.js';
import { SrcLocReader, type SrcFrame } from './srclocs.js';

/** The parts of a file read in parts that JsCore reads when first used (JsCore.need). */
const SECTION_NAME_INDEX = SECTION.nameIndex;
const NEED_TABLE = 1,
  NEED_NAME_INDEX = 2,
  NEED_LINES = 4;

export class JsCore implements Core, Tables {
  // The fields are those of Tables, copied from what open returns. The fields that lookups
  // by key read are `declare`d: tsc emits no class field for them, so they come into being at
  // the constructor's assignments. Emitted as class fields (first defined as undefined), they
  // cost a lookup by key about 15% in V8; the fields of a lookup by offset (offsetIndex,
  // offsetShift, offsetCount, F) are the other way round: declared so, funcByOffset took a
  // third longer at 64Ki functions with no offset index. Measured, not explained: keep both
  // as they are unless measured again.
  readonly bytes: Uint8Array;
  readonly info: Uint32Array;
  declare readonly ns: Uint32Array;
  declare readonly funcLocStarts: Uint32Array;
  readonly sparseStarts: Uint32Array;
  readonly srcLocStarts: Uint32Array;
  readonly sparse: Uint32Array;
  readonly bitmapStarts: Uint32Array;
  declare readonly bitmaps: Uint32Array;
  readonly bucketStarts: Uint32Array;
  declare readonly buckets32: Uint32Array;
  declare readonly buckets16: Uint16Array;
  declare readonly buckets8: Uint8Array;
  declare readonly kindFirst: Int32Array;
  readonly encodings: NamespaceEncoding[];
  declare readonly nsp: Nsp[];
  readonly offsetIndex: Uint32Array;
  readonly offsetShift: number;
  readonly offsetCount: number;
  declare readonly locs: Uint32Array;
  readonly src: Uint32Array;
  readonly nameIndex: Uint32Array;
  readonly names: Uint8Array;
  readonly namesBuf: Buffer | undefined;
  declare nameFile: NameFile | undefined;
  readonly lines: SrcLocSections;
  private lineReader: SrcLocReader | undefined;
  declare readonly N: number;
  readonly F: number;
  readonly B: number;
  readonly sections: SectionRef[];
  // The fields of a file read in parts come last (declared, assigned at the constructor's
  // end), so that they do not move the fields above in the object: defined among them as
  // class fields, they made lookups by key a fifth slower.
  declare readonly byName: Map<string, SectionRef>;
  declare readonly image: FileImage | undefined;
  readonly version: number;
  readonly textSize: number;
  lastNs = 0;
  /** For a file read in parts, the parts not read yet (NEED_*); 0 when everything is there. */
  declare need: number;

  /** Opens bytes, or (image) a file read in parts: then its bytes, read by open and by need. */
  constructor(input: Uint8Array, image?: FileImage) {
    const t = openTables(input, image);
    this.bytes = t.bytes;
    this.sections = t.sections;
    this.version = t.version;
    this.textSize = t.textSize;
    this.info = t.info;
    this.ns = t.ns;
    this.funcLocStarts = t.funcLocStarts;
    this.sparseStarts = t.sparseStarts;
    this.srcLocStarts = t.srcLocStarts;
    this.sparse = t.sparse;
    this.bitmapStarts = t.bitmapStarts;
    this.bitmaps = t.bitmaps;
    this.offsetIndex = t.offsetIndex;
    this.bucketStarts = t.bucketStarts;
    this.buckets32 = t.buckets32;
    this.buckets16 = t.buckets16;
    this.buckets8 = t.buckets8;
    this.encodings = t.encodings;
    this.nsp = t.nsp;
    this.kindFirst = t.kindFirst;
    this.offsetShift = t.offsetShift;
    this.offsetCount = t.offsetCount;
    this.locs = t.locs;
    this.src = t.src;
    this.nameIndex = t.nameIndex;
    this.names = t.names;
    this.namesBuf = t.namesBuf;
    this.lines = t.lines;
    this.nameFile = t.nameFile;
    this.byName = t.byName;
    this.image = t.image;
    this.need = t.image === undefined ? 0 : NEED_TABLE | NEED_NAME_INDEX | NEED_LINES;
    this.N = t.N;
    this.F = t.F;
    this.B = t.B;
  }

  /** Reads the sections of `part` of a file read in parts, once. */
  private read(part: number): void {
    const names = part === NEED_TABLE ? TABLE_SECTIONS : part === NEED_LINES ? LINE_SECTIONS : [SECTION_NAME_INDEX];
    for (const name of names) {
      const s = this.byName.get(name);
      if (s !== undefined) this.image!.read(s.offset, s.size); // a line section may be absent
    }
    this.need &= ~part;
  }

  funcLoc(namespace: number, index: number, out: Uint32Array): boolean {
    if ((this.need & NEED_TABLE) !== 0) this.read(NEED_TABLE);
    const p = pos(this, namespace, index);
    if (p < 0) return false;
    out[0] = this.locs[2 * p]!;
    out[1] = this.locs[2 * p + 1]!;
    return true;
  }

  srcLoc(namespace: number, index: number): number {
    if ((this.need & NEED_TABLE) !== 0) this.read(NEED_TABLE);
    if (namespace >>> 28 !== 0) return Lit.NONE;
    const p = pos(this, namespace, index);
    if (p < 0) return Lit.NONE;
    const i = this.lastNs;
    return this.src[this.srcLocStarts[i]! + (p - this.funcLocStarts[i]!)]!;
  }

  funcByOffset(offset: number, out: Uint32Array): boolean {
    if ((this.need & NEED_TABLE) !== 0) this.read(NEED_TABLE);
    return funcByOffset(this, offset, out);
  }

  srcLocs(offset: number): SrcFrame[] {
    if ((this.need & NEED_LINES) !== 0) this.read(NEED_LINES);
    return (this.lineReader ??= new SrcLocReader(this.lines)).lookup(offset);
  }

  funcName(funcIndex: number, module: number): string | undefined {
    if ((this.need & NEED_NAME_INDEX) !== 0) this.read(NEED_NAME_INDEX);
    return funcName(this, funcIndex, module);
  }

  funcLocs(namespaces: Uint32Array, indices: Uint32Array, starts: Uint32Array, lengths: Uint32Array): void {
    if ((this.need & NEED_TABLE) !== 0) this.read(NEED_TABLE);
    funcLocs(this, namespaces, indices, starts, lengths);
  }

  funcsByOffset(offsets: Uint32Array, namespaces: Uint32Array, indices: Uint32Array): void {
    if ((this.need & NEED_TABLE) !== 0) this.read(NEED_TABLE);
    funcsByOffset(this, offsets, namespaces, indices);
  }

  funcNames(funcIndices: Uint32Array, module: number): (string | undefined)[] {
    if ((this.need & NEED_NAME_INDEX) !== 0) this.read(NEED_NAME_INDEX);
    const out = new Array<string | undefined>(funcIndices.length);
    for (let k = 0; k < funcIndices.length; k++) out[k] = funcName(this, funcIndices[k]!, module);
    return out;
  }

  moduleCount(): number {
    return this.info[INFO.moduleCount / 4]!;
  }

  describe(): Description {
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
      namespaces: this.describeNamespaces(),
      modules: this.describeModules(),
    };
  }

  // The arrays of describe() are made by Array.from over a length, which defines their
  // elements (as the native binding does): a setter on Array.prototype[i] never runs.
  private describeNamespaces(): Description['namespaces'] {
    return Array.from({ length: this.N }, (_, i) => ({
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
    }));
  }

  private describeModules(): Description['modules'] {
    const info = this.info;
    return Array.from({ length: info[INFO.moduleCount / 4]! }, (_, m) => {
      const r = moduleWord(m);
      const nOff = info[r + MODREC.nameOffset / 4]!;
      const nLen = info[r + MODREC.nameLength / 4]!;
      const hashBytes = new Uint8Array(info.buffer, info.byteOffset + 4 * r + MODREC.sha256, 32);
      const hex = Array.from(hashBytes, (b) => b.toString(16).padStart(2, '0')).join('');
      return {
        name: nOff === Lit.NONE ? undefined : decodeName(this, nOff, nLen),
        importedFuncs: info[r + MODREC.importedFuncs / 4]!,
        definedFuncs: info[r + MODREC.definedFuncs / 4]!,
        byteOffset: info[r + MODREC.byteOffset / 4]!,
        nameEncoding: info[r + MODREC.nameEncoding / 4]! as 0 | 1 | 2,
        nameCount: info[r + MODREC.nameCount / 4]!,
        sha256: /^0+$/.test(hex) ? undefined : hex,
      };
    });
  }

  close(): void {
    // The bytes belong to the garbage collector; a file read in parts holds a descriptor.
    this.image?.close();
  }
}
