/**
 * The contract between the public `Artifact` (lib/artifact.ts) and a backend. `Artifact`
 * validates every argument and checks for close before it calls a core, so a core may assume
 * well-typed, in-domain arguments: u32 numbers, Uint32Arrays of matching lengths, a module
 * index below the module count. A core throws only FunckeyError (E_CORRUPT for a damaged
 * table met during a lookup).
 *
 * Two cores implement it: `JsCore` (lib/reader.ts, with lib/open.ts, table.ts, offsets.ts and
 * names.ts) over a Uint8Array and the native one (lib/native.ts over native/, the same files),
 * which must give identical answers and codes.
 */

/** 'dense' for the dense kinds; one of the other four for the sparse kinds. */
import type { SrcFrame } from './srclocs.js';

export type NamespaceEncoding = 'dense' | 'sorted' | 'bitmap' | 'buckets' | 'direct';

/** The header of an artifact, decoded at open: O(sections + namespaces + modules). */
export interface Description {
  formatVersion: number;
  fileSize: number;
  textSize: number;
  funcCount: number;
  sparseCount: number;
  /** Blocks (of 32 indices) of the sparse namespaces stored as rank bitmaps. */
  bitmapBlocks: number;
  /** u32 words of `.fk.sparse_buckets` (the sparse namespaces stored as buckets). */
  bucketWords: number;
  /** The offset index: bucket size 2^offsetShift bytes, offsetCount entries. */
  offsetShift: number;
  offsetCount: number;
  srcLocCount: number;
  nameIndexWords: number;
  nameBytes: number;
  /** Every section of the file, in section-table order, section 0 excluded. */
  sections: { name: string; offset: number; size: number }[];
  /** One entry per namespace present, ascending. */
  namespaces: {
    namespace: number;
    funcStart: number;
    funcCount: number;
    sparseStart: number;
    srcStart: number;
    /** A sparse namespace stored as a rank bitmap: its first block and its block count (else 0). */
    bitmapStart: number;
    bitmapBlocks: number;
    /** A sparse namespace stored as buckets: its first word, its word count, its bucket and filter shifts (else 0). */
    bucketStart: number;
    bucketWords: number;
    bucketShift: number;
    bucketFilterShift: number;
    /** How the namespace's keys are stored (FORMAT.md 3.1, 3.3). */
    encoding: NamespaceEncoding;
  }[];
  modules: {
    name: string | undefined;
    importedFuncs: number;
    definedFuncs: number;
    byteOffset: number;
    nameEncoding: 0 | 1 | 2;
    nameCount: number;
    /** 64 lowercase hex digits, or undefined when the artifact records no hash (all zero). */
    sha256: string | undefined;
  }[];
}

export interface Core {
  /** Writes (start, length) to out[0], out[1] and returns true, or returns false. */
  funcLoc(namespace: number, index: number, out: Uint32Array): boolean;
  /** The FilePos of the key, or NONE. */
  srcLoc(namespace: number, index: number): number;
  /** The source-location chain at a text offset, innermost first; [] without one (FORMAT.md 3.5). */
  srcLocs(offset: number): SrcFrame[];
  /** Writes (namespace, index) to out[0], out[1] and returns true, or returns false. */
  funcByOffset(offset: number, out: Uint32Array): boolean;
  /** The name, or undefined. `module` is below the module count. */
  funcName(funcIndex: number, module: number): string | undefined;
  /** Absent: (NONE, 0). All arrays have the same length. */
  funcLocs(namespaces: Uint32Array, indices: Uint32Array, starts: Uint32Array, lengths: Uint32Array): void;
  /** Absent: (NONE, NONE). All arrays have the same length. */
  funcsByOffset(offsets: Uint32Array, namespaces: Uint32Array, indices: Uint32Array): void;
  funcNames(funcIndices: Uint32Array, module: number): (string | undefined)[];
  describe(): Description;
  /** M, the number of modules (the info header's count): O(1). */
  moduleCount(): number;
  /** Releases what the core holds (the mapping, for native). Called at most once. */
  close(): void;
}
