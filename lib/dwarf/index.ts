import { FunckeyError } from '../errors.js';
import { findDebugSections } from './sections.js';
import { Symbolizer, type SrcFrame } from './symbolize.js';

export type { SrcFrame } from './symbolize.js';
export { Symbolizer } from './symbolize.js';
export { findDebugSections } from './sections.js';

/**
 * The source locations of one core module's code as a table: the code is cut at `starts`
 * (code-section-relative, ascending); the piece from starts[i] to the next start (or the end
 * of the code) has the chain whose innermost frame is row `rows[i]` (-1: no line info). A
 * row's frame is (function, file, line, column), with `parent` the row of the frame it is
 * inlined into (-1 for the outermost). Functions and files are indices into their tables.
 */
export interface SrcLocTable {
  /** Offset of the code section's payload in the module (DWARF address 0). */
  codeStart: number;
  codeSize: number;
  /** The .debug_* bytes of the module (the size the table stands in for). */
  debugBytes: number;
  starts: Uint32Array;
  rows: Int32Array;
  rowFunction: Int32Array;
  rowFile: Int32Array;
  rowLine: Uint32Array;
  rowColumn: Int32Array;
  rowParent: Int32Array;
  functions: string[];
  files: string[];
}

/**
 * Reads the DWARF of a core module (`module`: its bytes from `\0asm`) into a SrcLocTable;
 * undefined when it has no .debug_info. Malformed or unsupported DWARF throws E_DWARF (with
 * the section and offset); a malformed module around it, E_WASM.
 */
export function readSrcLocs(module: Uint8Array): SrcLocTable | undefined {
  const found = findDebugSections(module);
  if (found === undefined) return undefined;
  const sym = new Symbolizer(found.sections);
  const points = sym.breakpoints(found.codeSize);
  // At most one piece per point.
  const starts = new Uint32Array(points.length),
    rows = new Int32Array(points.length);
  let n = 0;
  for (let i = 0; i < points.length; i++) {
    const at = points[i]!;
    const row = sym.rowAt(at, n > 0 ? rows[n - 1]! : -1);
    if (n > 0 && rows[n - 1] === row) continue;
    starts[n] = at;
    rows[n++] = row;
  }
  const r = sym.rows;
  return {
    codeStart: found.codeStart,
    codeSize: found.codeSize,
    debugBytes: found.debugBytes,
    starts: starts.subarray(0, n),
    rows: rows.subarray(0, n),
    rowFunction: r.field(0),
    rowFile: r.field(1),
    rowLine: r.lines(),
    rowColumn: r.field(3),
    rowParent: r.field(4),
    functions: sym.functions.list(),
    files: sym.files.list,
  };
}

/** The chain of a SrcLocTable for a code-section-relative address, innermost first. */
export function tableLookup(t: SrcLocTable, address: number): SrcFrame[] {
  let lo = 0,
    hi = t.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t.starts[mid]! <= address) lo = mid + 1;
    else hi = mid;
  }
  const frames: SrcFrame[] = [];
  if (lo === 0 || address >= t.codeSize) return frames;
  for (let r = t.rows[lo - 1]!; r >= 0 && frames.length <= t.rowParent.length; r = t.rowParent[r]!) {
    frames.push({
      function: t.functions[t.rowFunction[r]!]!,
      file: t.files[t.rowFile[r]!]!,
      line: t.rowLine[r]!,
      column: t.rowColumn[r]!,
    });
  }
  return frames;
}

/** Whether an error is the kind readSrcLocs reports for bad DWARF (the build goes on without it). */
export function isDwarfError(e: unknown): e is FunckeyError {
  return e instanceof FunckeyError && (e.code === 'E_DWARF' || e.code === 'E_WASM');
}
