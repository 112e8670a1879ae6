import * as crypto from 'node:crypto';
import { isTypedArray, plainView } from './args.js';
import { FunckeyError } from './errors.js';
import { readSrcLocs, type SrcLocTable } from './dwarf/index.js';
import { encodeSrcLocs } from './dwarf/encode.js';
import { readRegularFile } from './file.js';
import { FuncKey } from './key.js';
import { parseWasm, type ParsedWasm } from './wasm.js';
import { ArtifactBuilder, type NameEncodingChoice } from './writer.js';

export interface BuildFromWasmOptions {
  /** How each module's name index is encoded; 'auto' (default) picks by density. */
  nameEncoding?: NameEncodingChoice;
  /** Read the `name` section (default true). With false the artifact has no function names. */
  names?: boolean;
  /**
   * Read each core module's DWARF (default true) into the artifact's source-location tables
   * (FORMAT.md 3.5). Malformed or unsupported DWARF leaves that
   * module without source locations and adds a warning; with 'strict' it is E_DWARF instead.
   * false: DWARF is not read.
   */
  dwarf?: boolean | 'strict';
}

/** The source locations of one core module, read from its DWARF (docs/DWARF.md). */
export interface ModuleSrcLocs {
  /** The module's index in the artifact. */
  module: number;
  /** Where DWARF address 0 (the code section's payload) is in the outer binary. */
  base: number;
  table: SrcLocTable;
}

export interface WasmBuild {
  /** The builder, filled with every module, function and name; call finish() or writeFile(). */
  builder: ArtifactBuilder;
  /** What the reader found: the kind of binary and its core modules. */
  parsed: ParsedWasm;
  /** Per core module with DWARF that could be read, its source locations. */
  srcLocs: ModuleSrcLocs[];
  /** Why a module's DWARF was left out, one line each (empty when nothing was). */
  warnings: string[];
}

/** One-shot crypto.hash where the runtime has it (a third cheaper per small module), else a Hash. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;
function sha256Of(data: Uint8Array): Buffer {
  return oneShot !== undefined ? oneShot('sha256', data, 'buffer') : crypto.createHash('sha256').update(data).digest();
}

/** The options, each read once into a plain object. */
function checkOptions(options: unknown): BuildFromWasmOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw new FunckeyError('E_ARG', 'options must be an object');
  const { nameEncoding, names, dwarf } = options as BuildFromWasmOptions;
  if (names !== undefined && typeof names !== 'boolean')
    throw new FunckeyError('E_ARG', 'options.names must be a boolean');
  if (dwarf !== undefined && typeof dwarf !== 'boolean' && dwarf !== 'strict')
    throw new FunckeyError('E_ARG', "options.dwarf must be a boolean or 'strict'");
  return { nameEncoding, names, dwarf };
}

/**
 * The bytes to read: the memory `bytes` covers now, through a fresh view (a subclass cannot
 * lie about it), copied when another thread may write it (shared memory), so that the
 * offsets parsed and the bytes hashed are the same bytes. No caller code runs from here on.
 */
function wasmInput(bytes: unknown): Uint8Array {
  if (!isTypedArray(bytes, 'Uint8Array')) throw new FunckeyError('E_ARG', 'buildFromWasm: bytes must be a Uint8Array');
  const view = plainView(bytes);
  const shared = typeof SharedArrayBuffer !== 'undefined' && view.buffer instanceof SharedArrayBuffer;
  return shared ? new Uint8Array(view) : view;
}

/**
 * Reads a WebAssembly module or component and fills an ArtifactBuilder with it:
 *
 * - one module record per core module, in binary order (its imported and defined function
 *   counts, where it starts in the binary, the SHA-256 of its bytes, its `name` section
 *   module name);
 * - one DefinedWasmFunction(module, i) per defined function, located at its body (the bytes
 *   after the body-size LEB128, as offsets in the outer binary, so that an engine's
 *   `0x...` stack-trace offset falls inside it), with the source location the offset of
 *   the body-size LEB128;
 * - every function name of the `name` section, keyed by function index counting imports;
 * - with DWARF, each module's source locations (`srcLocs`; docs/DWARF.md), or a warning
 *   saying why a module has none.
 *
 * The text of the artifact is the binary itself: textSize is its length.
 */
export function builderFromWasm(bytes: Uint8Array, options?: BuildFromWasmOptions): WasmBuild {
  const opts = checkOptions(options);
  bytes = wasmInput(bytes);
  const parsed = parseWasm(bytes, { names: opts.names !== false });
  const builder = new ArtifactBuilder({ nameEncoding: opts.nameEncoding, textSize: bytes.length });
  const srcLocs: ModuleSrcLocs[] = [];
  const warnings: string[] = [];
  for (const m of parsed.modules) {
    const sha256 = sha256Of(bytes.subarray(m.byteOffset, m.byteOffset + m.byteLength));
    const index = builder.addModule({
      name: m.name,
      importedFuncs: m.importedFuncs,
      definedFuncs: m.definedFuncs,
      byteOffset: m.byteOffset,
      sha256: new Uint8Array(sha256.buffer, sha256.byteOffset, sha256.length),
    });
    const { funcStarts, bodyStarts, bodyEnds } = m;
    for (let i = 0; i < m.definedFuncs; i++) {
      const start = bodyStarts[i]!;
      builder.pushFunc(FuncKey.definedWasmFunction(index, i), { start, length: bodyEnds[i]! - start }, funcStarts[i]!);
    }
    const { nameIndices, names } = m;
    for (let k = 0; k < nameIndices.length; k++) builder.setFuncName(index, nameIndices[k]!, names[k]!);
    if (opts.dwarf !== false) {
      const read = srcLocsOf(
        bytes.subarray(m.byteOffset, m.byteOffset + m.byteLength),
        index,
        opts.dwarf === 'strict',
        warnings,
      );
      if (read !== undefined) srcLocs.push({ module: index, base: m.byteOffset + read.codeStart, table: read });
    }
  }
  if (srcLocs.length > 0) builder.setSrcLocs(encodeSrcLocs(srcLocs));
  return { builder, parsed, srcLocs, warnings };
}

/** A module's source locations; undefined without DWARF, or with bad DWARF (a warning, or E_DWARF when strict). */
function srcLocsOf(module: Uint8Array, index: number, strict: boolean, warnings: string[]): SrcLocTable | undefined {
  try {
    return readSrcLocs(module);
  } catch (e) {
    if (!(e instanceof FunckeyError) || (e.code !== 'E_DWARF' && e.code !== 'E_WASM')) throw e;
    if (strict) throw new FunckeyError('E_DWARF', `module ${index}: ${e.message}`, { offset: e.offset, cause: e });
    warnings.push(`module ${index}: no source locations: ${e.message}`);
    return undefined;
  }
}

/** Builds the artifact of a WebAssembly module or component (see builderFromWasm). */
export function buildFromWasm(bytes: Uint8Array, options?: BuildFromWasmOptions): Uint8Array {
  return builderFromWasm(bytes, options).builder.finish();
}

/** Reads a `.wasm` file and builds its artifact. A file that cannot be read is E_IO. */
export function buildFromWasmFile(path: string, options?: BuildFromWasmOptions): Uint8Array {
  if (typeof path !== 'string' || path === '')
    throw new FunckeyError('E_ARG', 'buildFromWasmFile: path must be a non-empty string');
  const bytes = readRegularFile(path);
  return buildFromWasm(bytes, options);
}
