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
  starts: number[];
  rows: number[];
  rowFunction: number[];
  rowFile: number[];
  rowLine: number[];
  rowColumn: number[];
  rowParent: number[];
  functions: string[];
  files: string[];
}

function intern(map: Map<string, number>, list: string[], s: string): number {
  let i = map.get(s);
  if (i === undefined) {
    i = list.length;
    list.push(s);
    map.set(s, i);
  }
  return i;
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
  const t: SrcLocTable = {
    codeStart: found.codeStart, codeSize: found.codeSize, debugBytes: found.debugBytes,
    starts: [], rows: [], rowFunction: [], rowFile: [], rowLine: [], rowColumn: [], rowParent: [],
    functions: [], files: [],
  };
  const fnIndex = new Map<string, number>(), fileIndex = new Map<string, number>();
  const rowIndex = new Map<string, number>();
  const rowOf = (frames: SrcFrame[]): number => {
    let parent = -1;
    for (let i = frames.length - 1; i >= 0; i--) {
      const f = frames[i]!;
      const fn = intern(fnIndex, t.functions, f.function);
      const file = intern(fileIndex, t.files, f.file);
      const key = `${parent},${fn},${file},${f.line},${f.column}`;
      let r = rowIndex.get(key);
      if (r === undefined) {
        r = t.rowFunction.length;
        t.rowFunction.push(fn);
        t.rowFile.push(file);
        t.rowLine.push(f.line);
        t.rowColumn.push(f.column);
        t.rowParent.push(parent);
        rowIndex.set(key, r);
      }
      parent = r;
    }
    return parent;
  };
  for (const at of sym.breakpoints(found.codeSize)) {
    const row = rowOf(sym.lookup(at));
    if (t.rows.length > 0 && t.rows[t.rows.length - 1] === row) continue;
    t.starts.push(at);
    t.rows.push(row);
  }
  return t;
}

/** The chain of a SrcLocTable for a code-section-relative address, innermost first. */
export function tableLookup(t: SrcLocTable, address: number): SrcFrame[] {
  let lo = 0, hi = t.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t.starts[mid]! <= address) lo = mid + 1;
    else hi = mid;
  }
  const frames: SrcFrame[] = [];
  if (lo === 0 || address >= t.codeSize) return frames;
  for (let r = t.rows[lo - 1]!; r >= 0 && frames.length <= t.rowParent.length; r = t.rowParent[r]!) {
    frames.push({ function: t.functions[t.rowFunction[r]!]!, file: t.files[t.rowFile[r]!]!, line: t.rowLine[r]!, column: t.rowColumn[r]! });
  }
  return frames;
}

/** Whether an error is the kind readSrcLocs reports for bad DWARF (the build goes on without it). */
export function isDwarfError(e: unknown): e is FunckeyError {
  return e instanceof FunckeyError && (e.code === 'E_DWARF' || e.code === 'E_WASM');
}
