import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { argU32, describeValue, isTypedArray, plainView, U32_MAX } from './args.js';
import { FunckeyError } from './errors.js';
import {
  ELF_HEADER_SIZE,
  FORMAT_VERSION,
  INFO,
  INFO_FIXED_SIZE,
  INFO_MAGIC,
  MAX_NAME_BYTES,
  MODREC,
  MODULE_RECORD_SIZE,
  NAME_ENCODING_DENSE,
  NAME_ENCODING_NONE,
  NAME_ENCODING_SPARSE,
  NONE,
  MAX_BUCKET_SHIFT,
  MAX_FILTER_SHIFT,
  OFFSET_BUCKET_TARGET,
  SECTION_ENTSIZE,
  SECTION_HEADER_SIZE,
  SECTION_ORDER,
  LINE_SECTIONS,
  bucketRunWords,
} from './format.js';
import { argKeyParts, FuncKey, FuncKind, kindHasSrcLocs, kindIsSparse, UNCHECKED } from './key.js';
import { U32Vec } from './u32vec.js';
import { BLOCK_WORDS, type SrcLocSections } from './srclocs.js';

export type NameEncodingChoice = 'auto' | 'dense' | 'sparse';
export type SparseEncodingChoice = 'auto' | 'smallest' | 'sorted' | 'bitmap' | 'buckets' | 'direct';
const SPARSE_CHOICES: readonly string[] = ['auto', 'smallest', 'sorted', 'bitmap', 'buckets', 'direct'];

export interface BuilderOptions {
  /** How each module's name index is encoded; 'auto' (default) picks by density. */
  nameEncoding?: NameEncodingChoice;
  /** Size in bytes of the text the locations refer to (recorded in the info header). */
  textSize?: number;
  /**
   * How each sparse namespace's keys are stored (docs/FORMAT.md 3.3). 'auto' (default): the
   * first of direct, rank bitmap and buckets that is no larger than the sorted array (the
   * fastest lookup that does not grow the table), else the sorted array. 'smallest': the
   * smallest of the four. 'sorted', 'bitmap', 'buckets', 'direct': that one, where the
   * writer's limits allow it (MAX_BITMAP_BLOCKS, MAX_DIRECT_HOLES), else sorted.
   */
  sparseEncoding?: SparseEncodingChoice;
  /**
   * Whether to write an offset index that narrows lookups by offset to 8 to 16 functions
   * (docs/FORMAT.md 3.4; true, the default, costs a quarter to half a byte per function).
   * false writes it with a single bucket, so that a lookup by offset is a binary search over
   * every function: the smallest table, and the baseline group 5 of the benchmarks measures
   * the index against.
   */
  offsetIndex?: boolean;
}

export interface ModuleSpec {
  name?: string;
  importedFuncs: number;
  definedFuncs: number;
  /** Where the module starts in the text (0 for a core module). */
  byteOffset?: number;
  /** SHA-256 of the module's source bytes (32 bytes, or 64 hex digits). */
  sha256?: Uint8Array | string;
}

export interface FuncLoc {
  start: number;
  length: number;
}

/** Largest number of holes one pushFunc may add to a dense namespace. */
const MAX_DENSE_GAP = 1 << 24;
/** A forced bitmap larger than this many blocks (of 32 indices) is stored sorted instead. */
const MAX_BITMAP_BLOCKS = 1 << 22;
/** A sparse namespace is stored directly only with at most this many holes. */
const MAX_DIRECT_HOLES = 1 << 24;

/** The encodings of a sparse namespace, in the order 'auto' tries them (fastest first). */
type Encoding = 'direct' | 'bitmap' | 'buckets' | 'sorted';

/**
 * The encoding of one sparse namespace of `keys` indices whose largest is `last`, and the
 * bucket shift when it is buckets. Costs are bytes beyond the locations themselves (FORMAT.md 3.3).
 */
function chooseSparseEncoding(
  choice: SparseEncodingChoice,
  keys: number,
  last: number,
): { encoding: Encoding; shift: number; filterShift: number } {
  const sorted = 4 * keys;
  const holes = last + 1 - keys;
  const direct = holes <= MAX_DIRECT_HOLES ? 8 * holes : Infinity;
  const blocks = Math.floor(last / 32) + 1;
  const bitmap = blocks <= MAX_BITMAP_BLOCKS ? 8 * blocks : Infinity;
  // Buckets: the first (filter shift, bucket shift) within the sorted run's size, finest
  // filter first, then smallest buckets, among buckets of at most two keys on average (a
  // present key is then found in a scan of a step or two: at 1 key in 20, 38 ns against 53
  // ns per present key in the js core with buckets of 128 behind a bit per index); else the
  // first pair in that order among all; and the cheapest pair.
  let fit: { encoding: Encoding; shift: number; filterShift: number } | undefined;
  let cheapest = { encoding: 'buckets' as Encoding, shift: 1, filterShift: 0 };
  let best = Infinity;
  for (let f = 0; f <= MAX_FILTER_SHIFT && fit === undefined; f++) {
    const filterWords = Math.floor(last / 2 ** (f + 5)) + 1;
    for (let k = 1; k <= MAX_BUCKET_SHIFT; k++) {
      const nb = Math.floor(last / 2 ** k) + 1;
      if (keys > 2 * nb) break;
      if (4 * bucketRunWords(k, nb, keys, filterWords) <= sorted) {
        fit = { encoding: 'buckets', shift: k, filterShift: f };
        break;
      }
    }
  }
  for (let f = 0; f <= MAX_FILTER_SHIFT; f++) {
    const filterWords = Math.floor(last / 2 ** (f + 5)) + 1;
    for (let k = 1; k <= MAX_BUCKET_SHIFT; k++) {
      const cost = 4 * bucketRunWords(k, Math.floor(last / 2 ** k) + 1, keys, filterWords);
      if (fit === undefined && cost <= sorted) fit = { encoding: 'buckets', shift: k, filterShift: f };
      if (cost < best) {
        best = cost;
        cheapest = { encoding: 'buckets', shift: k, filterShift: f };
      }
    }
  }
  const plain = (encoding: Encoding) => ({ encoding, shift: 0, filterShift: 0 });
  switch (choice) {
    case 'sorted':
      return plain('sorted');
    case 'direct':
      return plain(direct < Infinity ? 'direct' : 'sorted');
    case 'bitmap':
      return plain(bitmap < Infinity ? 'bitmap' : 'sorted');
    case 'buckets':
      return fit ?? cheapest;
    case 'smallest': {
      const min = Math.min(direct, bitmap, best, sorted);
      if (direct === min) return plain('direct');
      if (bitmap === min) return plain('bitmap');
      if (best === min) return cheapest;
      return plain('sorted');
    }
    default:
      if (direct <= sorted) return plain('direct');
      if (bitmap <= sorted) return plain('bitmap');
      return fit ?? plain('sorted');
  }
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

interface ModuleState {
  name: string | undefined;
  importedFuncs: number;
  definedFuncs: number;
  byteOffset: number;
  sha256: Uint8Array | undefined;
  /** Function names by index; created at the first name (most modules of a component have none). */
  names: Map<number, string> | undefined;
}

const u32 = argU32;

/** E_ARG unless `x` is a string; E_RANGE, before any encoding, when its UTF-8 exceeds MAX_NAME_BYTES. */
function checkName(what: string, x: unknown): asserts x is string {
  if (typeof x !== 'string') throw new FunckeyError('E_ARG', `${what} must be a string, got ${describeValue(x)}`);
  // Every UTF-16 unit takes 1 to 3 bytes: count exactly only when the length alone does not decide.
  if (x.length > MAX_NAME_BYTES || (3 * x.length > MAX_NAME_BYTES && Buffer.byteLength(x, 'utf8') > MAX_NAME_BYTES))
    throw new FunckeyError(
      'E_RANGE',
      `${what} is longer than ${MAX_NAME_BYTES} bytes of UTF-8 (2^28, the limit of a name)`,
    );
}

function parseSha256(x: Uint8Array | string | undefined): Uint8Array | undefined {
  if (x === undefined) return undefined;
  if (typeof x === 'string') {
    if (!/^[0-9a-fA-F]{64}$/.test(x)) throw new FunckeyError('E_ARG', 'sha256 must be 64 hex digits');
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = parseInt(x.slice(2 * i, 2 * i + 2), 16);
    return out;
  }
  if (isTypedArray(x, 'Uint8Array')) {
    const v = plainView(x);
    if (v.length === 32) return new Uint8Array(v);
  }
  throw new FunckeyError('E_ARG', 'sha256 must be a Uint8Array of 32 bytes or 64 hex digits');
}

/** One module's name record fields (FORMAT.md 2) as encodeNames chose them. */
interface ModuleNames {
  nameOff: number;
  nameLen: number;
  encoding: number;
  indexStart: number;
  count: number;
}

/** The `.fk.names` bytes, the `.fk.name_index` words and the modules' name records. */
interface EncodedNames {
  bytes: Uint8Array;
  index: U32Vec;
  records: ModuleNames[];
}

/** A growing buffer of UTF-8 names; each string is encoded straight into it. */
class NameBlob {
  private buf = new Uint8Array(1 << 16);
  private size = 0;
  private readonly enc = new TextEncoder();

  /** Appends `s` and returns its offset and length in bytes. */
  add(s: string): [number, number] {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit; a long name is measured exactly.
    const need = s.length <= 1 << 16 ? 3 * s.length : Buffer.byteLength(s, 'utf8');
    if (this.size + need > U32_MAX) throw new FunckeyError('E_RANGE', 'names exceed 4 GiB');
    if (this.size + need > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < this.size + need) cap *= 2;
      const next = new Uint8Array(Math.min(cap, U32_MAX));
      next.set(this.buf.subarray(0, this.size));
      this.buf = next;
    }
    const off = this.size;
    const written = this.enc.encodeInto(s, this.buf.subarray(this.size)).written;
    this.size += written;
    return [off, written];
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.size);
  }
}

/**
 * Builds an artifact from a compiler's entries: modules, then functions in ascending key
 * order (which must also be ascending text order), then names. `finish()` serialises the
 * table as docs/FORMAT.md describes.
 */
export class ArtifactBuilder {
  private readonly nameEncoding: NameEncodingChoice;
  private readonly sparseEncoding: SparseEncodingChoice;
  private readonly textSize: number;
  private readonly withOffsetIndex: boolean;
  private readonly modules: ModuleState[] = [];

  // The table, as the arrays of FORMAT.md 1.3 (start arrays without their final entry).
  private readonly namespaces = new U32Vec();
  private readonly funcLocStarts = new U32Vec();
  private readonly sparseStarts = new U32Vec();
  private readonly srcLocStarts = new U32Vec();
  private readonly sparseIndices = new U32Vec();
  private readonly funcLocs = new U32Vec(1024);
  private readonly srcLocs = new U32Vec(512);
  /** The source-location tables (FORMAT.md 3.5), empty without DWARF. */
  private lines: SrcLocSections = emptyLines();

  private lastKey: FuncKey | undefined;
  private readonly keyParts = [0, 0];
  /** End of the last entry of func_locs (where a hole would start). */
  private lastEnd = 0;
  /** Entries in the current namespace's run. */
  private runLength = 0;

  constructor(options: BuilderOptions = {}) {
    if (options === null || typeof options !== 'object') throw new FunckeyError('E_ARG', 'options must be an object');
    // Each option read once: a getter cannot answer the check and the use differently.
    const { nameEncoding, sparseEncoding, textSize, offsetIndex } = options;
    const enc = nameEncoding ?? 'auto';
    if (enc !== 'auto' && enc !== 'dense' && enc !== 'sparse')
      throw new FunckeyError('E_ARG', `nameEncoding must be 'auto', 'dense' or 'sparse', got ${describeValue(enc)}`);
    this.nameEncoding = enc;
    const senc = sparseEncoding ?? 'auto';
    if (!SPARSE_CHOICES.includes(senc as string))
      throw new FunckeyError(
        'E_ARG',
        `sparseEncoding must be one of ${SPARSE_CHOICES.map((c) => `'${c}'`).join(', ')}, got ${describeValue(senc)}`,
      );
    this.sparseEncoding = senc;
    this.textSize = textSize === undefined ? 0 : u32('textSize', textSize);
    if (offsetIndex !== undefined && typeof offsetIndex !== 'boolean')
      throw new FunckeyError('E_ARG', `offsetIndex must be a boolean, got ${describeValue(offsetIndex)}`);
    this.withOffsetIndex = offsetIndex ?? true;
  }

  /** Adds a module and returns its index. */
  addModule(spec: ModuleSpec): number {
    if (spec === null || typeof spec !== 'object') throw new FunckeyError('E_ARG', 'addModule takes an object');
    // Each field read once, all checked before the module is added.
    const { name, importedFuncs: imported, definedFuncs: defined, byteOffset, sha256 } = spec;
    if (name !== undefined) checkName('module name', name);
    const importedFuncs = u32('importedFuncs', imported);
    const definedFuncs = u32('definedFuncs', defined);
    if (importedFuncs + definedFuncs > U32_MAX)
      throw new FunckeyError('E_RANGE', 'importedFuncs + definedFuncs must be below 2^32');
    if (this.modules.length > 0x0fffffff) throw new FunckeyError('E_RANGE', 'too many modules (at most 2^28)');
    const module: ModuleState = {
      name,
      importedFuncs,
      definedFuncs,
      byteOffset: byteOffset === undefined ? 0 : u32('byteOffset', byteOffset),
      sha256: parseSha256(sha256),
      names: undefined,
    };
    this.modules.push(module);
    return this.modules.length - 1;
  }

  /**
   * Appends a function. Keys must be strictly ascending and locations ascending and
   * non-overlapping (E_ORDER otherwise); a length is at least 1. `srcLoc` (the function's
   * position in the original file) applies to DefinedWasmFunction keys only.
   */
  pushFunc(keyArg: FuncKey, loc: FuncLoc, srcLoc?: number): void {
    // Every check comes first and room is made in every array before the first write, so a
    // call that throws leaves the builder as it was. Each argument property is read once.
    const parts = this.keyParts;
    argKeyParts('pushFunc: key', keyArg, parts, true);
    const key = new FuncKey(parts[0]!, parts[1]!, UNCHECKED);
    if (loc === null || typeof loc !== 'object')
      throw new FunckeyError('E_ARG', 'pushFunc: loc must be { start, length }');
    const start = u32('loc.start', loc.start);
    const length = u32('loc.length', loc.length);
    if (length === 0) throw new FunckeyError('E_ARG', 'pushFunc: a function length is at least 1');
    if (start + length > 0x100000000) throw new FunckeyError('E_ARG', 'pushFunc: loc ends beyond 2^32');
    const kind = key.kind;
    let src = NONE;
    if (srcLoc !== undefined) {
      if (!kindHasSrcLocs(kind))
        throw new FunckeyError('E_ARG', `pushFunc: ${key.kindName} keys have no source location`);
      src = u32('srcLoc', srcLoc);
    }
    this.checkKeyModule(key);
    const last = this.lastKey;
    if (last !== undefined && FuncKey.compare(key, last) <= 0)
      throw new FunckeyError(
        'E_ORDER',
        `pushFunc: ${key} does not come after ${last}: keys must be strictly ascending`,
      );
    if (start < this.lastEnd)
      throw new FunckeyError(
        'E_ORDER',
        `pushFunc: ${key} starts at ${start}, before the end (${this.lastEnd}) of the previous function`,
      );

    const sparse = kindIsSparse(kind);
    const newNamespace = last === undefined || last.namespace !== key.namespace;
    const runLength = newNamespace ? 0 : this.runLength;
    const gap = !sparse && key.index > runLength ? key.index - runLength : 0;
    if (gap > MAX_DENSE_GAP)
      throw new FunckeyError(
        'E_RANGE',
        `pushFunc: ${key} would leave ${gap} holes in a dense namespace (at most ${MAX_DENSE_GAP})`,
      );
    if ((this.funcLocs.length >>> 1) + gap + 1 > U32_MAX)
      throw new FunckeyError('E_RANGE', `pushFunc: an artifact holds fewer than 2^32 function locations`);
    const withSrc = kindHasSrcLocs(kind);
    this.funcLocs.reserve(2 * (gap + 1));
    if (withSrc) this.srcLocs.reserve(gap + 1);
    if (sparse) this.sparseIndices.reserve(1);
    if (newNamespace)
      for (const v of [this.namespaces, this.funcLocStarts, this.sparseStarts, this.srcLocStarts]) v.reserve(1);

    if (newNamespace) {
      this.namespaces.push(key.namespace);
      this.funcLocStarts.push(this.funcLocs.length >>> 1);
      this.sparseStarts.push(this.sparseIndices.length);
      this.srcLocStarts.push(this.srcLocs.length);
    }
    if (sparse) this.sparseIndices.push(key.index);
    if (gap > 0) {
      this.funcLocs.fill2(this.lastEnd, 0, gap);
      if (withSrc) this.srcLocs.fill(NONE, gap);
    }
    this.funcLocs.push2(start, length);
    if (withSrc) this.srcLocs.push(src);
    this.runLength = runLength + gap + 1;
    this.lastKey = key;
    this.lastEnd = start + length;
  }

  /** E_RANGE unless the module a key names was added (and, for per-function kinds, has the index). */
  private checkKeyModule(key: FuncKey): void {
    const kind = key.kind;
    if (
      kind !== FuncKind.DefinedWasmFunction &&
      kind !== FuncKind.ArrayToWasmTrampoline &&
      kind !== FuncKind.ModuleStartup
    )
      return;
    const m = this.modules[key.module!];
    if (m === undefined)
      throw new FunckeyError(
        'E_RANGE',
        `pushFunc: ${key} names module ${key.module}, but only ${this.modules.length} were added`,
      );
    if (kind !== FuncKind.ModuleStartup && key.index >= m.definedFuncs)
      throw new FunckeyError('E_RANGE', `pushFunc: ${key} is beyond the module's ${m.definedFuncs} defined functions`);
  }

  /** Names function `funcIndex` (counting imports) of `module`. A later call replaces it. */
  setFuncName(module: number, funcIndex: number, name: string): void {
    u32('module', module);
    u32('funcIndex', funcIndex);
    checkName('setFuncName: name', name);
    const m = this.modules[module];
    if (m === undefined)
      throw new FunckeyError('E_RANGE', `setFuncName: no module ${module} (${this.modules.length} added)`);
    if (funcIndex >= m.importedFuncs + m.definedFuncs)
      throw new FunckeyError(
        'E_RANGE',
        `setFuncName: function index ${funcIndex} is outside module ${module}'s ${m.importedFuncs + m.definedFuncs} functions`,
      );
    (m.names ??= new Map()).set(funcIndex, name);
  }

  /**
   * Sets the artifact's source-location tables (lib/dwarf/encode.ts `encodeSrcLocs`, with
   * offsets in the text; FORMAT.md 3.5). A later call replaces them. The tables are copied;
   * their shapes are checked here, their contents by every lookup.
   */
  setSrcLocs(tables: SrcLocSections): void {
    if (tables === null || typeof tables !== 'object') throw new FunckeyError('E_ARG', 'setSrcLocs takes an object');
    const { blocks, pieces, frames, strings, stringBytes } = tables; // each read once
    this.lines = {
      blocks: linesTable('blocks', blocks, BLOCK_WORDS),
      pieces: linesBytes('pieces', pieces),
      frames: linesBytes('frames', frames),
      strings: linesTable('strings', strings, 1),
      stringBytes: linesBytes('stringBytes', stringBytes),
    };
  }

  /** Serialises the artifact. The builder stays usable. */
  finish(): Uint8Array {
    const names = this.encodeNames();
    const table = this.layoutTable();
    const offsetIndex = this.offsetIndex(table.funcLocs);
    const N = this.namespaces.length;
    const L = this.srcLocs.length;
    const withEnd = (v: U32Vec, end: number): Uint32Array => {
      const a = new Uint32Array(N + 1);
      a.set(v.view());
      a[N] = end;
      return a;
    };
    const bytesOf = (a: Uint32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    // Section contents, in SECTION_ORDER.
    const contents: Uint8Array[] = [
      this.infoSection(names, table, offsetIndex),
      bytesOf(this.namespaces.view()),
      bytesOf(table.funcLocStarts),
      bytesOf(table.sortedStarts),
      bytesOf(withEnd(this.srcLocStarts, L)),
      bytesOf(table.sorted.view()),
      bytesOf(table.funcLocs),
      bytesOf(this.srcLocs.view()),
      bytesOf(names.index.view()),
      names.bytes,
      bytesOf(table.bitmapStarts),
      bytesOf(table.bitmaps.view()),
      bytesOf(offsetIndex.entries),
      bytesOf(table.bucketStarts),
      bytesOf(table.buckets.view()),
      bytesOf(this.lines.blocks),
      this.lines.pieces,
      this.lines.frames,
      bytesOf(this.lines.strings),
      this.lines.stringBytes,
    ];
    // Without source locations, their sections are left out (FORMAT.md 3.5).
    const l = this.lines;
    const noLines = [l.blocks, l.pieces, l.frames, l.strings, l.stringBytes].every((a) => a.length === 0);
    return serializeElf(noLines ? contents.slice(0, SECTION_ORDER.length - LINE_SECTIONS.length) : contents);
  }

  /**
   * Module names and function names into one blob of UTF-8, and each module's name index
   * after the other (FORMAT.md 4): dense (an OffsetAndLength per function index) when at
   * least half the index space is named, else sparse (index, offset, length per named one),
   * unless the builder's nameEncoding says which.
   */
  private encodeNames(): EncodedNames {
    const blob = new NameBlob();
    const index = new U32Vec();
    const records: ModuleNames[] = [];
    for (const m of this.modules) {
      const [nameOff, nameLen] = m.name === undefined ? [NONE, 0] : blob.add(m.name);
      const space = m.importedFuncs + m.definedFuncs;
      const fnames = m.names ?? new Map<number, string>();
      const named = fnames.size;
      let encoding = NAME_ENCODING_NONE;
      if (named > 0) {
        if (this.nameEncoding === 'dense') encoding = NAME_ENCODING_DENSE;
        else if (this.nameEncoding === 'sparse') encoding = NAME_ENCODING_SPARSE;
        else encoding = named * 2 >= space ? NAME_ENCODING_DENSE : NAME_ENCODING_SPARSE;
      }
      const indexStart = index.length;
      let count = 0;
      const ascending = [...fnames.keys()].sort((a, b) => a - b);
      if (encoding === NAME_ENCODING_DENSE) {
        count = space;
        index.fill2(NONE, 0, space);
        for (const fi of ascending) {
          const [off, len] = blob.add(fnames.get(fi)!);
          index.data[indexStart + 2 * fi] = off;
          index.data[indexStart + 2 * fi + 1] = len;
        }
      } else if (encoding === NAME_ENCODING_SPARSE) {
        count = named;
        for (const fi of ascending) {
          const [off, len] = blob.add(fnames.get(fi)!);
          index.push(fi);
          index.push2(off, len);
        }
      }
      records.push({ nameOff, nameLen, encoding, indexStart, count });
    }
    return { bytes: blob.bytes(), index, records };
  }

  /** The `.fk.info` section (FORMAT.md 2): the fixed header, then one record per module. */
  private infoSection(
    names: EncodedNames,
    table: ReturnType<ArtifactBuilder['layoutTable']>,
    offsetIndex: { shift: number; entries: Uint32Array },
  ): Uint8Array {
    const M = this.modules.length;
    const info = new Uint8Array(INFO_FIXED_SIZE + MODULE_RECORD_SIZE * M);
    const iv = new DataView(info.buffer);
    info.set(INFO_MAGIC, INFO.magic);
    iv.setUint32(INFO.version, FORMAT_VERSION, true);
    iv.setUint32(INFO.flags, 0, true);
    iv.setUint32(INFO.moduleCount, M, true);
    iv.setUint32(INFO.namespaceCount, this.namespaces.length, true);
    iv.setUint32(INFO.funcCount, table.funcLocs.length >>> 1, true);
    iv.setUint32(INFO.sparseCount, table.sorted.length, true);
    iv.setUint32(INFO.srcLocCount, this.srcLocs.length, true);
    iv.setUint32(INFO.nameIndexWords, names.index.length, true);
    iv.setUint32(INFO.nameBytes, names.bytes.length, true);
    iv.setUint32(INFO.moduleRecordSize, MODULE_RECORD_SIZE, true);
    iv.setUint32(INFO.textSize, this.textSize, true);
    iv.setUint32(INFO.bitmapBlocks, table.bitmaps.length >>> 1, true);
    iv.setUint32(INFO.offsetShift, offsetIndex.shift, true);
    iv.setUint32(INFO.offsetCount, offsetIndex.entries.length, true);
    this.modules.forEach((m, i) => {
      const r = INFO_FIXED_SIZE + MODULE_RECORD_SIZE * i;
      const mi = names.records[i]!;
      iv.setUint32(r + MODREC.nameOffset, mi.nameOff, true);
      iv.setUint32(r + MODREC.nameLength, mi.nameLen, true);
      iv.setUint32(r + MODREC.importedFuncs, m.importedFuncs, true);
      iv.setUint32(r + MODREC.definedFuncs, m.definedFuncs, true);
      iv.setUint32(r + MODREC.byteOffset, m.byteOffset, true);
      iv.setUint32(r + MODREC.nameEncoding, mi.encoding, true);
      iv.setUint32(r + MODREC.nameIndexStart, mi.indexStart, true);
      iv.setUint32(r + MODREC.nameCount, mi.count, true);
      if (m.sha256) info.set(m.sha256, r + MODREC.sha256);
    });
    return info;
  }

  /**
   * The table's arrays with every sparse namespace in its encoding (FORMAT.md 3.3): the
   * sorted runs, the rank bitmaps (blocks of 32 indices, each a pair (rank: entries in
   * earlier blocks, bits)), the bucket runs, and func_locs with the holes of the namespaces
   * stored directly.
   */
  private layoutTable(): {
    funcLocs: Uint32Array;
    funcLocStarts: Uint32Array;
    sorted: U32Vec;
    sortedStarts: Uint32Array;
    bitmaps: U32Vec;
    bitmapStarts: Uint32Array;
    buckets: U32Vec;
    bucketStarts: Uint32Array;
  } {
    const N = this.namespaces.length;
    const sorted = new U32Vec();
    const bitmaps = new U32Vec();
    const buckets = new U32Vec();
    const sortedStarts = new Uint32Array(N + 1);
    const bitmapStarts = new Uint32Array(N + 1);
    const bucketStarts = new Uint32Array(N + 1);
    const all = this.sparseIndices.data;
    const starts = this.sparseStarts.data;
    const encodings: Encoding[] = new Array(N);
    for (let i = 0; i < N; i++) {
      sortedStarts[i] = sorted.length;
      bitmapStarts[i] = bitmaps.length >>> 1;
      bucketStarts[i] = buckets.length;
      if (!kindIsSparse(this.namespaces.data[i]! >>> 28)) continue;
      const s0 = starts[i]!;
      const s1 = i + 1 < N ? starts[i + 1]! : this.sparseIndices.length;
      const keys = all.subarray(s0, s1);
      const { encoding, shift, filterShift } = chooseSparseEncoding(
        this.sparseEncoding,
        keys.length,
        keys[keys.length - 1]!,
      );
      encodings[i] = encoding;
      if (encoding === 'sorted') for (let k = 0; k < keys.length; k++) sorted.push(keys[k]!);
      else if (encoding === 'bitmap') encodeBitmap(keys, bitmaps);
      else if (encoding === 'buckets') encodeBuckets(keys, shift, filterShift, buckets);
    }
    sortedStarts[N] = sorted.length;
    bitmapStarts[N] = bitmaps.length >>> 1;
    bucketStarts[N] = buckets.length;

    // func_locs as pushed, unless a namespace is stored directly: then its run gets a hole
    // (start: the end of the entry before it, length 0) for every absent index.
    const pushed = this.funcLocs.view();
    const funcLocStarts = new Uint32Array(N + 1);
    if (!encodings.includes('direct')) {
      funcLocStarts.set(this.funcLocStarts.view());
      funcLocStarts[N] = pushed.length >>> 1;
      return { funcLocs: pushed, funcLocStarts, sorted, sortedStarts, bitmaps, bitmapStarts, buckets, bucketStarts };
    }
    const locs = new U32Vec(pushed.length + 16);
    let end = 0;
    for (let i = 0; i < N; i++) {
      funcLocStarts[i] = locs.length >>> 1;
      const p0 = this.funcLocStarts.data[i]!;
      const p1 = i + 1 < N ? this.funcLocStarts.data[i + 1]! : pushed.length >>> 1;
      if (encodings[i] !== 'direct') {
        for (let p = p0; p < p1; p++) locs.push2(pushed[2 * p]!, pushed[2 * p + 1]!);
      } else {
        const s0 = starts[i]!;
        let next = 0;
        for (let p = p0; p < p1; p++) {
          const index = all[s0 + (p - p0)]!;
          if (index > next) locs.fill2(end, 0, index - next);
          locs.push2(pushed[2 * p]!, pushed[2 * p + 1]!);
          end = pushed[2 * p]! + pushed[2 * p + 1]!;
          next = index + 1;
        }
      }
      if (locs.length > 0) end = locs.data[locs.length - 2]! + locs.data[locs.length - 1]!;
    }
    funcLocStarts[N] = locs.length >>> 1;
    return { funcLocs: locs.view(), funcLocStarts, sorted, sortedStarts, bitmaps, bitmapStarts, buckets, bucketStarts };
  }

  /**
   * The offset index (FORMAT.md 3.4): the text cut into buckets of 2^shift bytes, about one
   * per OFFSET_BUCKET_TARGET functions; entry b is the last function starting at or before
   * b << shift (0 when none does). Without the index (offsetIndex: false), the shift is 31:
   * every start below 2^31 falls in bucket 0, which holds every function.
   */
  private offsetIndex(locs: Uint32Array): { shift: number; entries: Uint32Array } {
    const F = locs.length >>> 1;
    if (F === 0) return { shift: 0, entries: new Uint32Array(0) };
    const lastStart = locs[2 * (F - 1)]!;
    const target = this.withOffsetIndex ? Math.max(1, Math.ceil(F / OFFSET_BUCKET_TARGET)) : 0;
    let shift = 0;
    while (shift < 31 && Math.floor(lastStart / 2 ** shift) + 1 > target) shift++;
    const count = Math.floor(lastStart / 2 ** shift) + 2;
    const entries = new Uint32Array(count);
    let p = 0;
    for (let b = 0; b < count; b++) {
      const o = b * 2 ** shift;
      while (p + 1 < F && locs[2 * (p + 1)]! <= o) p++;
      entries[b] = p;
    }
    return { shift, entries };
  }

  /**
   * Writes the artifact to `path` atomically: into a temporary file in the same directory,
   * flushed, then renamed over `path`. A crash leaves either the old file or the new one.
   */
  writeFile(path: string): void {
    if (typeof path !== 'string' || path === '')
      throw new FunckeyError('E_ARG', 'writeFile: path must be a non-empty string');
    writeFileAtomic(path, this.finish());
  }
}

/** Appends the rank bitmap of ascending `keys` (FORMAT.md 3.3). */
function encodeBitmap(keys: Uint32Array, out: U32Vec): void {
  const blocks = Math.floor(keys[keys.length - 1]! / 32) + 1;
  const base = out.length;
  out.fill2(0, 0, blocks);
  const w = out.data;
  for (let k = 0; k < keys.length; k++) {
    const idx = keys[k]!;
    w[base + 2 * (idx >>> 5) + 1] = (w[base + 2 * (idx >>> 5) + 1]! | (1 << (idx & 31))) >>> 0;
  }
  let rank = 0;
  for (let b = 0; b < blocks; b++) {
    w[base + 2 * b] = rank;
    rank += popcount32(w[base + 2 * b + 1]!);
  }
}

/**
 * Appends the bucket run of ascending `keys` with buckets of 2^shift indices and a filter
 * bit per 2^filterShift indices (FORMAT.md 3.3): header, filter, superblock ranks, u16
 * bucket ranks, low parts.
 */
function encodeBuckets(keys: Uint32Array, shift: number, filterShift: number, out: U32Vec): void {
  const K = keys.length;
  const size = 2 ** shift;
  const nb = Math.floor(keys[K - 1]! / size) + 1;
  const filterWords = Math.floor(keys[K - 1]! / 2 ** (filterShift + 5)) + 1;
  const supers = Math.floor((nb - 1) / 2 ** (16 - shift)) + 1;
  const words = bucketRunWords(shift, nb, K, filterWords);
  const base = out.length;
  out.fill(0, words);
  const w = out.data;
  w[base] = shift;
  w[base + 1] = nb;
  w[base + 2] = filterShift;
  w[base + 3] = filterWords;
  for (let k = 0; k < K; k++) {
    const t = Math.floor(keys[k]! / 2 ** filterShift);
    w[base + 4 + (t >>> 5)] = (w[base + 4 + (t >>> 5)]! | (1 << (t & 31))) >>> 0;
  }
  const superAt = base + 4 + filterWords;
  let d = 0;
  for (let q = 0; q < supers; q++) {
    while (d < K && keys[d]! < q * 65536) d++;
    w[superAt + q] = d;
  }
  const rel = new Uint16Array(w.buffer, w.byteOffset + 4 * (superAt + supers), nb + 1);
  d = 0;
  for (let b = 0; b <= nb; b++) {
    while (d < K && keys[d]! < b * size) d++;
    rel[b] = d & 0xffff;
  }
  const lowAt = superAt + supers + Math.ceil((nb + 1) / 2);
  const low =
    shift <= 8
      ? new Uint8Array(w.buffer, w.byteOffset + 4 * lowAt, K + 1)
      : new Uint16Array(w.buffer, w.byteOffset + 4 * lowAt, K + 1);
  const mask = size - 1;
  for (let k = 0; k < K; k++) low[k] = keys[k]! & mask;
}

/** Writes bytes to path through a temporary file and a rename. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* not created, or already renamed */
    }
    const err = e as NodeJS.ErrnoException;
    throw new FunckeyError('E_IO', `cannot write ${path}: ${err.code ?? err.message}`, { cause: e });
  }
}

/** A copy of a u32 table of setSrcLocs, checked to be whole entries of `words` words. */
function linesTable(name: string, a: unknown, words: number): Uint32Array {
  if (!isTypedArray(a, 'Uint32Array')) throw new FunckeyError('E_ARG', `setSrcLocs: ${name} must be a Uint32Array`);
  const v = plainView(a).slice();
  if (v.length % words !== 0)
    throw new FunckeyError('E_ARG', `setSrcLocs: ${name} is not a whole number of ${words}-word entries`);
  return v;
}

function linesBytes(name: string, a: unknown): Uint8Array {
  if (!isTypedArray(a, 'Uint8Array')) throw new FunckeyError('E_ARG', `setSrcLocs: ${name} must be a Uint8Array`);
  return plainView(a).slice();
}

function emptyLines(): SrcLocSections {
  const u32 = new Uint32Array(0),
    u8 = new Uint8Array(0);
  return { blocks: u32, pieces: u8, frames: u8, strings: u32, stringBytes: u8 };
}

const align8 = (n: number) => (n + 7) & ~7;

/** Lays out the ELF file of FORMAT.md section 1 around the section contents. */
function serializeElf(contents: Uint8Array[]): Uint8Array {
  const names = ['', '.shstrtab', ...SECTION_ORDER.slice(0, contents.length)];
  const shnum = names.length;
  // .shstrtab: a NUL, then every name NUL-terminated.
  const enc = new TextEncoder();
  const nameOffsets: number[] = [0];
  const strParts: number[] = [0];
  for (let i = 1; i < names.length; i++) {
    nameOffsets.push(strParts.length);
    for (const b of enc.encode(names[i]!)) strParts.push(b);
    strParts.push(0);
  }
  const shstrtab = Uint8Array.from(strParts);
  const all = [shstrtab, ...contents];

  let offset = ELF_HEADER_SIZE + SECTION_HEADER_SIZE * shnum;
  const offsets: number[] = [];
  for (const c of all) {
    offset = align8(offset);
    offsets.push(offset);
    offset += c.length;
  }
  const total = offset;
  if (total > U32_MAX) throw new FunckeyError('E_RANGE', 'the artifact would exceed 4 GiB');
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);

  // ELF header (FORMAT.md 1.1).
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  v.setUint16(16, 1, true); // e_type ET_REL
  v.setUint16(18, 0, true); // e_machine EM_NONE
  v.setUint32(20, 1, true); // e_version
  v.setBigUint64(40, BigInt(ELF_HEADER_SIZE), true); // e_shoff
  v.setUint16(52, ELF_HEADER_SIZE, true); // e_ehsize
  v.setUint16(58, SECTION_HEADER_SIZE, true); // e_shentsize
  v.setUint16(60, shnum, true); // e_shnum
  v.setUint16(62, 1, true); // e_shstrndx

  // Section headers (FORMAT.md 1.2); section 0 stays zero.
  for (let i = 1; i < shnum; i++) {
    const h = ELF_HEADER_SIZE + SECTION_HEADER_SIZE * i;
    const c = all[i - 1]!;
    const name = names[i]!;
    v.setUint32(h + 0, nameOffsets[i]!, true);
    v.setUint32(h + 4, i === 1 ? 3 : 1, true);
    v.setBigUint64(h + 24, BigInt(offsets[i - 1]!), true);
    v.setBigUint64(h + 32, BigInt(c.length), true);
    v.setBigUint64(h + 48, BigInt(i === 1 ? 1 : 8), true);
    v.setBigUint64(h + 56, BigInt(SECTION_ENTSIZE[name] ?? 0), true);
    out.set(c, offsets[i - 1]!);
  }
  return out;
}
