import { isTypedArray, plainView } from './args.js';
import { FunckeyError } from './errors.js';
import { MAX_NAME_BYTES } from './format.js';

/**
 * A reader of WebAssembly binaries that decodes only what an artifact needs: the section
 * headers, the import section (to count imported functions), the function and code section
 * counts, each code body's byte range (instructions are never decoded) and the `name`
 * custom section (module name and function names). Components (layer 1) are walked to find
 * every nested core module, in binary order, recursively through nested components.
 *
 * Every offset this reader reports is relative to the start of the outer binary. Malformed
 * input gives `FunckeyError('E_WASM', message, { offset })`, where `offset` is the byte where
 * the problem was found. Every loop advances by at least one byte of input and every
 * allocation is bounded by the size of the section that declares it, so damaged input can
 * neither hang the reader nor make it allocate more than a small multiple of its size.
 */

/** One core module: a top-level `.wasm` module or one nested in a component. */
export interface CoreModule {
  /** Where the module's header (`\0asm`) starts in the outer binary. */
  byteOffset: number;
  /** The module's length in bytes. */
  byteLength: number;
  importedFuncs: number;
  definedFuncs: number;
  /**
   * Per defined function: the offset of its body-size LEB128, where the function starts in
   * the file.
   */
  funcStarts: Uint32Array;
  /** Per defined function: the first byte of its body (the byte after the body-size LEB128). */
  bodyStarts: Uint32Array;
  /** Per defined function: one past the last byte of its body. */
  bodyEnds: Uint32Array;
  /** The module name (subsection 0 of the `name` section), if any. */
  name: string | undefined;
  /** Function indices (counting imports) that have a name, strictly ascending. */
  nameIndices: Uint32Array;
  /** `names[k]` is the name of function `nameIndices[k]`. */
  names: string[];
}

export interface ParsedWasm {
  kind: 'module' | 'component';
  /** Core modules in binary order; a plain module has exactly one. */
  modules: CoreModule[];
}

export interface ParseOptions {
  /** Decode the `name` section (default true). With false it is skipped unread. */
  names?: boolean;
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}

function fail(message: string, offset: number): never {
  throw new FunckeyError('E_WASM', `${message} (at byte ${offset}, ${hex(offset)})`, { offset });
}

/** Core section ids in the order the binary format requires (custom sections excepted). */
const SECTION_NAMES = [
  'custom',
  'type',
  'import',
  'function',
  'table',
  'memory',
  'global',
  'export',
  'start',
  'element',
  'code',
  'data',
  'data count',
  'tag',
];
/** Rank of each core section id in the required order: tag goes after memory, data count before code. */
const SECTION_RANK = [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6];

const ID_IMPORT = 2;
const ID_FUNCTION = 3;
const ID_CODE = 10;

/**
 * The most core modules one binary may hold: 2^16. Each costs a module record of 64 bytes in
 * the artifact and a SHA-256 at build whatever its size, so a component of empty modules (10
 * bytes each) would otherwise cost more than 6 bytes of artifact and about a microsecond per
 * byte of input; real components hold tens. One more is E_RANGE, found before it is read.
 */
export const MAX_CORE_MODULES = 1 << 16;

/** Component section ids 0 to 12; 1 is a core module, 4 a nested component. */
const COMPONENT_MAX_ID = 12;
const COMPONENT_CORE_MODULE = 1;
const COMPONENT_COMPONENT = 4;

/** Where the last readU32 / skip helper stopped (avoids allocating a result pair per read). */
let next = 0;

/**
 * Reads an unsigned LEB128 of at most 32 bits starting at `pos`, which must be below `end`
 * for any byte to be read. Sets `next` to the byte after it and returns the value.
 */
function readU32(b: Uint8Array, pos: number, end: number, what: string): number {
  let p = pos;
  let result = 0;
  for (let shift = 0; ; shift += 7) {
    if (p >= end) fail(`truncated LEB128 (${what})`, pos);
    const byte = b[p++]!;
    if (shift === 28) {
      if (byte & 0x80) fail(`LEB128 longer than 5 bytes (${what})`, pos);
      if (byte & 0x70) fail(`LEB128 value does not fit in 32 bits (${what})`, pos);
      result = (result | (byte << 28)) >>> 0;
      break;
    }
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
  }
  next = p;
  return result >>> 0;
}

/** Skips a LEB128 of at most `maxBytes` bytes (signed or unsigned); sets `next`. */
function skipLeb(b: Uint8Array, pos: number, end: number, maxBytes: number, what: string): void {
  let p = pos;
  for (let i = 0; ; i++) {
    if (i === maxBytes) fail(`LEB128 longer than ${maxBytes} bytes (${what})`, pos);
    if (p >= end) fail(`truncated LEB128 (${what})`, pos);
    if ((b[p++]! & 0x80) === 0) break;
  }
  next = p;
}

function readByte(b: Uint8Array, pos: number, end: number, what: string): number {
  if (pos >= end) fail(`unexpected end of ${what}`, pos);
  next = pos + 1;
  return b[pos]!;
}

/** Skips a `vec(byte)` (a length-prefixed name or blob); sets `next`. */
function skipBytes(b: Uint8Array, pos: number, end: number, what: string): void {
  const len = readU32(b, pos, end, `${what} length`);
  if (len > end - next) fail(`${what} of ${len} bytes extends past the end of its section`, pos);
  next += len;
}

/** Skips a value type or reference type: one byte, or 0x63/0x64 followed by an s33 heap type. */
function skipValType(b: Uint8Array, pos: number, end: number, what: string): void {
  const t = readByte(b, pos, end, what);
  if (t === 0x63 || t === 0x64) skipLeb(b, next, end, 5, `${what} heap type`);
}

/**
 * Skips a limits descriptor. Flags: bit 0 has a maximum, bit 1 shared, bit 2 64-bit
 * (u64 bounds), bit 3 custom page size (a u32 log2 after the bounds).
 */
function skipLimits(b: Uint8Array, pos: number, end: number, what: string): void {
  const flags = readByte(b, pos, end, `${what} limits`);
  if (flags > 0x0f) fail(`unknown ${what} limits flags ${hex(flags)}`, pos);
  const bound = flags & 0x04 ? 10 : 5;
  skipLeb(b, next, end, bound, `${what} minimum`);
  if (flags & 0x01) skipLeb(b, next, end, bound, `${what} maximum`);
  if (flags & 0x08) readU32(b, next, end, `${what} page size`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Whether the input being parsed lives in a SharedArrayBuffer. */
let sharedInput = false;

/**
 * Decodes `len` bytes at `pos` as UTF-8; invalid UTF-8 is E_WASM at `errAt`. One decoder call
 * per name: it validates and decodes ASCII faster than any JavaScript loop would.
 */
function decodeName(b: Uint8Array, pos: number, len: number, errAt: number, what: string): string {
  if (len > MAX_NAME_BYTES)
    throw new FunckeyError(
      'E_RANGE',
      `${what} is ${len} bytes, longer than ${MAX_NAME_BYTES} (2^28, the limit of a name) (at byte ${errAt}, ${hex(errAt)})`,
      { offset: errAt },
    );
  try {
    // Some runtimes' decoders refuse views of shared memory: those get a copy.
    return utf8.decode(sharedInput ? b.slice(pos, pos + len) : b.subarray(pos, pos + len));
  } catch {
    fail(`${what} is not valid UTF-8`, errAt);
  }
}

function checkPreamble(b: Uint8Array, pos: number, end: number, component: boolean, what: string): void {
  if (end - pos < 8) fail(`${what} shorter than its 8-byte header`, pos);
  if (b[pos] !== 0x00 || b[pos + 1] !== 0x61 || b[pos + 2] !== 0x73 || b[pos + 3] !== 0x6d)
    fail(`${what} does not start with the WebAssembly magic \\0asm`, pos);
  const v0 = b[pos + 4]!;
  const v1 = b[pos + 5]!;
  const l0 = b[pos + 6]!;
  const l1 = b[pos + 7]!;
  if (component) {
    if (v0 !== 0x0d || v1 !== 0x00 || l0 !== 0x01 || l1 !== 0x00)
      fail(`${what}: expected component version 0x0d layer 1, found ${[v0, v1, l0, l1].map(hex).join(' ')}`, pos + 4);
  } else if (v0 !== 0x01 || v1 !== 0x00 || l0 !== 0x00 || l1 !== 0x00) {
    fail(`${what}: expected version 1, found ${[v0, v1, l0, l1].map(hex).join(' ')}`, pos + 4);
  }
}

const EMPTY = new Uint32Array(0);

/** True when the custom section name at `p` (of `len` bytes) is `name`. */
function isNameSection(b: Uint8Array, p: number, len: number): boolean {
  return len === 4 && b[p] === 0x6e && b[p + 1] === 0x61 && b[p + 2] === 0x6d && b[p + 3] === 0x65;
}

/** What the section walk of a core module found; the byte ranges are in the outer binary. */
interface CoreSections {
  importedFuncs: number;
  funcCount: number;
  funcSectionAt: number;
  codeSectionAt: number;
  bodies: Bodies;
  nameAt: number;
  nameEnd: number;
}

/** Per defined function: where its body-size LEB128, its body and its end are. */
interface Bodies {
  funcStarts: Uint32Array;
  bodyStarts: Uint32Array;
  bodyEnds: Uint32Array;
}

const NO_BODIES: Bodies = { funcStarts: EMPTY, bodyStarts: EMPTY, bodyEnds: EMPTY };

/** Parses the core module whose header starts at `start` and whose bytes end at `end`. */
function parseCoreModule(b: Uint8Array, start: number, end: number, wantNames: boolean): CoreModule {
  checkPreamble(b, start, end, false, 'core module');
  const s = walkCoreSections(b, start + 8, end, wantNames);
  if (s.funcCount > 0 && s.codeSectionAt < 0)
    fail(`function section declares ${s.funcCount} functions but there is no code section`, s.funcSectionAt);
  const definedFuncs = s.bodies.bodyStarts.length;
  const names = s.nameAt >= 0 ? readNameSection(b, s.nameAt, s.nameEnd, s.importedFuncs + definedFuncs) : NO_NAMES;
  return {
    byteOffset: start,
    byteLength: end - start,
    importedFuncs: s.importedFuncs,
    definedFuncs,
    ...s.bodies,
    ...names,
  };
}

/**
 * Walks the sections of a core module from `pos` (after its preamble) to `end`: checks their
 * order, counts the imported functions, reads the function count and the code bodies' ranges,
 * and notes where the first `name` section's payload is when `wantNames`.
 */
function walkCoreSections(b: Uint8Array, pos: number, end: number, wantNames: boolean): CoreSections {
  const s: CoreSections = {
    importedFuncs: 0,
    funcCount: -1,
    funcSectionAt: -1,
    codeSectionAt: -1,
    bodies: NO_BODIES,
    nameAt: -1,
    nameEnd: -1,
  };
  let lastRank = 0;
  let lastId = 0;
  while (pos < end) {
    const secStart = pos;
    const id = b[pos]!;
    const size = readU32(b, pos + 1, end, 'section size');
    pos = next;
    if (size > end - pos)
      fail(`section ${id} of ${size} bytes extends past the end of the module (${end - pos} bytes left)`, secStart);
    const contentEnd = pos + size;
    if (id === 0) {
      const nameLen = readU32(b, pos, contentEnd, 'custom section name length');
      const p = next;
      if (nameLen > contentEnd - p) fail(`custom section name of ${nameLen} bytes extends past its section`, pos);
      // The first `name` section counts; later ones are ignored as the format allows only one.
      if (wantNames && s.nameAt < 0 && isNameSection(b, p, nameLen)) {
        s.nameAt = p + 4;
        s.nameEnd = contentEnd;
      }
    } else {
      if (id >= SECTION_RANK.length) fail(`unknown section id ${id}`, secStart);
      const rank = SECTION_RANK[id]!;
      if (rank <= lastRank) {
        if (id === lastId) fail(`duplicate ${SECTION_NAMES[id]} section`, secStart);
        fail(`${SECTION_NAMES[id]} section after the ${SECTION_NAMES[lastId]} section`, secStart);
      }
      lastRank = rank;
      lastId = id;
      if (id === ID_IMPORT) {
        s.importedFuncs = countFunctionImports(b, pos, contentEnd);
      } else if (id === ID_FUNCTION) {
        s.funcSectionAt = secStart;
        s.funcCount = readU32(b, pos, contentEnd, 'function count');
        // Each entry is a type index of at least one byte.
        if (s.funcCount > contentEnd - next)
          fail(`function count ${s.funcCount} exceeds the section's ${contentEnd - next} bytes`, pos);
      } else if (id === ID_CODE) {
        s.codeSectionAt = secStart;
        s.bodies = readCodeSection(b, pos, contentEnd, secStart, s.funcCount);
      }
    }
    pos = contentEnd;
  }
  return s;
}

/**
 * Reads the code section's payload (`pos` to `end`): the byte range of every body, whose
 * count must be the function section's `funcCount` (-1 when there was none).
 */
function readCodeSection(b: Uint8Array, pos: number, end: number, secStart: number, funcCount: number): Bodies {
  const count = readU32(b, pos, end, 'code count');
  let p = next;
  // Each entry is a body-size LEB128 and a body of at least one byte.
  if (count > (end - p) / 2) fail(`code count ${count} exceeds what the section's ${end - p} bytes can hold`, pos);
  if ((funcCount < 0 ? 0 : funcCount) !== count)
    fail(
      funcCount < 0
        ? `code section with ${count} bodies but no function section`
        : `function section declares ${funcCount} functions but the code section has ${count} bodies`,
      secStart,
    );
  const funcStarts = new Uint32Array(count);
  const bodyStarts = new Uint32Array(count);
  const bodyEnds = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    // The body-size LEB128, read inline: this loop runs once per function.
    const lebAt = p;
    let size = 0;
    let shift = 0;
    for (;;) {
      if (p >= end) fail(`truncated LEB128 (size of function body ${i})`, lebAt);
      const byte = b[p++]!;
      if (shift === 28) {
        if (byte & 0x80) fail(`LEB128 longer than 5 bytes (size of function body ${i})`, lebAt);
        if (byte & 0x70) fail(`LEB128 value does not fit in 32 bits (size of function body ${i})`, lebAt);
        size = (size | (byte << 28)) >>> 0;
        break;
      }
      size |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
    }
    size >>>= 0;
    if (size === 0) fail(`function body ${i} is empty`, lebAt);
    if (size > end - p)
      fail(
        `function body ${i} of ${size} bytes extends past the end of the code section (${end - p} bytes left)`,
        lebAt,
      );
    funcStarts[i] = lebAt;
    bodyStarts[i] = p;
    p += size;
    bodyEnds[i] = p;
  }
  if (p !== end) fail(`code section has ${end - p} bytes after its last body`, p);
  return { funcStarts, bodyStarts, bodyEnds };
}

/** The `name` section's module name and function names. */
interface Names {
  name: string | undefined;
  nameIndices: Uint32Array;
  names: string[];
}

const NO_NAMES: Names = { name: undefined, nameIndices: EMPTY, names: [] };

/**
 * Reads the `name` section's payload (`p` to `end`) of a module of `total` functions: its
 * module name (subsection 0) and function names (subsection 1); other subsections are skipped.
 */
function readNameSection(b: Uint8Array, p: number, end: number, total: number): Names {
  let name: string | undefined;
  let funcs: Pick<Names, 'nameIndices' | 'names'> | undefined;
  let seenModuleName = false;
  while (p < end) {
    const subAt = p;
    const subId = b[p]!;
    const subSize = readU32(b, p + 1, end, 'name subsection size');
    p = next;
    if (subSize > end - p)
      fail(`name subsection ${subId} of ${subSize} bytes extends past the name section (${end - p} bytes left)`, subAt);
    const subEnd = p + subSize;
    if (subId === 0) {
      if (seenModuleName) fail('duplicate module name subsection', subAt);
      seenModuleName = true;
      const len = readU32(b, p, subEnd, 'module name length');
      if (len > subEnd - next) fail(`module name of ${len} bytes extends past its subsection`, p);
      name = decodeName(b, next, len, p, 'module name');
      if (next + len !== subEnd) fail('module name subsection has bytes after the name', next + len);
    } else if (subId === 1) {
      if (funcs !== undefined) fail('duplicate function name subsection', subAt);
      funcs = readFunctionNames(b, p, subEnd, total);
    }
    p = subEnd;
  }
  return { name, nameIndices: funcs?.nameIndices ?? EMPTY, names: funcs?.names ?? [] };
}

/** Reads the function name subsection's payload (`p` to `end`) of a module of `total` functions. */
function readFunctionNames(b: Uint8Array, p: number, end: number, total: number): Pick<Names, 'nameIndices' | 'names'> {
  const count = readU32(b, p, end, 'function name count');
  let q = next;
  // Each entry is an index and a name length of at least one byte each.
  if (count > (end - q) / 2) fail(`function name count ${count} exceeds what its ${end - q} bytes can hold`, p);
  const nameIndices = new Uint32Array(count);
  const names = new Array<string>(count);
  let prev = -1;
  for (let k = 0; k < count; k++) {
    const entryAt = q;
    const index = readU32(b, q, end, 'function index in the name section');
    if (index >= total)
      fail(`the name section names function ${index}, but the module has ${total} functions`, entryAt);
    if (index <= prev) fail(`function names out of order: ${index} after ${prev}`, entryAt);
    prev = index;
    const len = readU32(b, next, end, 'function name length');
    q = next;
    if (len > end - q) fail(`name of function ${index} (${len} bytes) extends past its subsection`, entryAt);
    nameIndices[k] = index;
    names[k] = decodeName(b, q, len, entryAt, `name of function ${index}`);
    q += len;
  }
  if (q !== end) fail(`function name subsection has ${end - q} bytes after its last entry`, q);
  return { nameIndices, names };
}

/** Walks the import section's entries and returns how many import a function. */
function countFunctionImports(b: Uint8Array, pos: number, end: number): number {
  const count = readU32(b, pos, end, 'import count');
  let p = next;
  // Each entry has two names (one byte each at least), a kind and a descriptor.
  if (count > (end - p) / 4) fail(`import count ${count} exceeds what the section's ${end - p} bytes can hold`, pos);
  let funcs = 0;
  for (let i = 0; i < count; i++) {
    skipBytes(b, p, end, 'import module name');
    skipBytes(b, next, end, 'import field name');
    const kindAt = next;
    const kind = readByte(b, kindAt, end, 'import');
    switch (kind) {
      case 0x00: // function: type index
        readU32(b, next, end, 'imported function type index');
        funcs++;
        break;
      case 0x01: // table: reference type, limits
        skipValType(b, next, end, 'imported table element type');
        skipLimits(b, next, end, 'imported table');
        break;
      case 0x02: // memory: limits
        skipLimits(b, next, end, 'imported memory');
        break;
      case 0x03: {
        // global: value type, mutability
        skipValType(b, next, end, 'imported global type');
        const mutAt = next;
        const mut = readByte(b, mutAt, end, 'imported global');
        if (mut > 1) fail(`imported global has mutability ${mut} (0 or 1 expected)`, mutAt);
        break;
      }
      case 0x04: {
        // tag: attribute (0: exception), type index
        const attrAt = next;
        const attr = readByte(b, attrAt, end, 'imported tag');
        if (attr !== 0) fail(`imported tag has attribute ${attr} (0 expected)`, attrAt);
        readU32(b, next, end, 'imported tag type index');
        break;
      }
      default:
        fail(`import ${i} has unknown kind ${hex(kind)}`, kindAt);
    }
    p = next;
  }
  if (p !== end) fail(`import section has ${end - p} bytes after its last entry`, p);
  return funcs;
}

/**
 * Walks a component (its header at `start`) and every nested component, collecting the core
 * modules in binary order. Nesting uses an explicit stack, so depth costs no call stack.
 */
function parseComponent(b: Uint8Array, start: number, wantNames: boolean): CoreModule[] {
  const modules: CoreModule[] = [];
  checkPreamble(b, start, b.length, true, 'component');
  let pos = start + 8;
  let end = b.length;
  const ends: number[] = [];
  for (;;) {
    if (pos >= end) {
      const outer = ends.pop();
      if (outer === undefined) break;
      end = outer;
      continue;
    }
    const secStart = pos;
    const id = b[pos]!;
    const size = readU32(b, pos + 1, end, 'component section size');
    pos = next;
    if (size > end - pos)
      fail(
        `component section ${id} of ${size} bytes extends past the end of its component (${end - pos} bytes left)`,
        secStart,
      );
    const contentEnd = pos + size;
    if (id > COMPONENT_MAX_ID) fail(`unknown component section id ${id}`, secStart);
    if (id === COMPONENT_CORE_MODULE) {
      if (modules.length === MAX_CORE_MODULES)
        throw new FunckeyError(
          'E_RANGE',
          `the component holds more than ${MAX_CORE_MODULES} core modules (2^16, the limit of a binary) (at byte ${secStart}, ${hex(secStart)})`,
          { offset: secStart },
        );
      modules.push(parseCoreModule(b, pos, contentEnd, wantNames));
      pos = contentEnd;
    } else if (id === COMPONENT_COMPONENT) {
      checkPreamble(b, pos, contentEnd, true, 'nested component');
      ends.push(end);
      end = contentEnd;
      pos += 8;
    } else {
      pos = contentEnd;
    }
  }
  return modules;
}

/**
 * Reads a WebAssembly binary: a core module (version 1) or a component (version 0x0d,
 * layer 1). Throws E_WASM on malformed input.
 */
export function parseWasm(input: Uint8Array, options: ParseOptions = {}): ParsedWasm {
  if (!isTypedArray(input, 'Uint8Array')) throw new FunckeyError('E_ARG', 'parseWasm: bytes must be a Uint8Array');
  if (options === null || typeof options !== 'object')
    throw new FunckeyError('E_ARG', 'parseWasm: options must be an object');
  const wantNames = options.names !== false;
  // The memory the bytes cover now, through a fresh view: a subclass cannot lie about it.
  const bytes = plainView(input);
  if (bytes.length > 0xffffffff) fail('the binary is larger than 4 GiB', 0);
  sharedInput = typeof SharedArrayBuffer !== 'undefined' && bytes.buffer instanceof SharedArrayBuffer;
  if (bytes.length < 8) fail(`the binary has ${bytes.length} bytes, fewer than its 8-byte header`, 0);
  if (bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    fail('not a WebAssembly binary: no \\0asm magic', 0);
  if (bytes[4] === 0x0d && bytes[5] === 0x00 && bytes[6] === 0x01 && bytes[7] === 0x00)
    return { kind: 'component', modules: parseComponent(bytes, 0, wantNames) };
  return { kind: 'module', modules: [parseCoreModule(bytes, 0, bytes.length, wantNames)] };
}
