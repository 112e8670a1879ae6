/**
 * Source locations in symbolicated frames (lib/symbolicate.ts calls this for a resolved
 * frame with an offset when the artifact has line information): the text each engine's form
 * gets, from the chain `Artifact.srcLocs` gives (innermost first).
 *
 * - Expanded (the default): one line per inlined frame, innermost first, in the engine's own
 *   syntax for a frame with a source position, each with the indentation of the frame's line,
 *   then the frame itself, which keeps its URL and offset and gets ` [FILE:LINE:COLUMN]`, the
 *   outermost frame's location, after its function name:
 *
 *       at NAME (FILE:LINE:COLUMN)                     V8
 *       NAME@FILE:LINE:COLUMN                          SpiderMonkey, JavaScriptCore
 *
 *   A frame that does not start its line (other text before it) is written in the one-line
 *   form instead, so that no line is split; so is a frame whose chain's lines would come to
 *   more than MAX_LINE characters (expandable()).
 * - One line (`inlines: false`): the frame alone, with ` [FILE:LINE:COLUMN]` of the innermost
 *   frame after its function name: the function the engine ran, and the source position of
 *   the instruction itself (the line `llvm-symbolizer --no-inlines` prints).
 * - Wasmtime, expanded: what Wasmtime prints with WASMTIME_BACKTRACE_DETAILS=1 for the module
 *   with its DWARF: the frame's index and offset, the innermost function's name (demangled,
 *   as Wasmtime prints every name: wasmtimeFns) without the module prefix, then `at FILE[:LINE[:COLUMN]]` on a line of its own and each outer frame
 *   as `- NAME` and its `at` line (an unknown line or column, 0, is left out as Wasmtime does).
 *   A Wasmtime frame without the `MOD!` prefix is one Wasmtime already wrote so, and stays.
 *
 * A frame whose name already ends with a location ` [...:LINE:COLUMN]` was written here
 * before and stays as it is, so that symbolicating twice gives the same text. Every string is
 * given encoded as the scanned text holds strings (Codec in lib/symbolicate.ts).
 */
import { demangle } from './demangle.js';
import { MAX_LINE } from './limits.js';
import type { SrcFrame } from './srclocs.js';
import type { FrameForm } from './trace-scan.js';

/** A chain's strings, encoded once: functions and `FILE:LINE:COLUMN` of each frame. */
export interface EncodedChain {
  chain: SrcFrame[];
  fns: string[];
  locs: string[];
  files: string[];
  /** Whether its lines fit in MAX_LINE (expandable()). */
  fits: boolean;
  /** The functions as Wasmtime prints them (demangled), encoded; set on first use (wasmtimeFns). */
  wtFns?: string[];
}

/** The chain's function names as Wasmtime prints them: demangled (lib/demangle.ts), then encoded. */
export function wasmtimeFns(c: EncodedChain, enc: (s: string) => string): string[] {
  return (c.wtFns ??= c.chain.map((f) => (f.function === '' ? '' : enc(demangle(f.function)))));
}

/**
 * The most frames of a chain that a symbolicated frame carries. A deeper chain, which only a
 * damaged or hostile artifact holds, is carried as its innermost and outermost frames (and
 * written in the one-line form), so that what a frame costs the caches and symbolicateFrames'
 * copies does not grow with the depth.
 */
export const MAX_CHAIN_FRAMES = 256;

export function encodeChain(whole: SrcFrame[], enc: (s: string) => string): EncodedChain {
  const deep = whole.length > MAX_CHAIN_FRAMES;
  const chain = deep ? [whole[0]!, whole[whole.length - 1]!] : whole;
  const fns: string[] = [];
  const locs: string[] = [];
  const files: string[] = [];
  let size = 0;
  for (const f of chain) {
    const file = f.file === '' ? '??' : enc(f.file);
    fns.push(enc(f.function));
    files.push(f.file === '' ? '' : file);
    locs.push(`${file}:${f.line}:${f.column}`);
    size += 2 * fns[fns.length - 1]!.length + locs[locs.length - 1]!.length + 32;
  }
  return { chain, fns, locs, files, fits: !deep && size <= MAX_LINE };
}

/**
 * Whether a frame gets its chain one line per frame: the frame starts its line, and the
 * chain's lines fit in MAX_LINE characters (about: the names and locations with the syntax
 * around them). A deeper or longer chain, which only a damaged or hostile artifact holds
 * (the frames of a chain may share one long string), gets the one-line form, so that the
 * text a frame gets is bounded by the frame's two strings, not by their product with the
 * chain's depth.
 */
export function expandable(s: string, start: number, c: EncodedChain): boolean {
  return c.fits && startsLine(s, start);
}

/** The location that goes after a frame's function name: ` [FILE:LINE:COLUMN]`. */
export function annotation(c: EncodedChain, inlines: boolean): string {
  return ` [${c.locs[inlines ? c.locs.length - 1 : 0]}]`;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Where a location ` [...:LINE:COLUMN]` (annotation()) that ends the name slot s[a, b)
 * starts, or -1 when it has none.
 */
export function annotationStart(s: string, a: number, b: number): number {
  if (b - a < 8 || s.charCodeAt(b - 1) !== 93) return -1;
  let i = b - 2;
  for (let k = 0; k < 2; k++) {
    const end = i;
    while (i > a && isDigit(s.charCodeAt(i))) i--;
    if (i === end || s.charCodeAt(i) !== 58) return -1;
    i--;
  }
  for (; i > a; i--) if (s.charCodeAt(i) === 91 && s.charCodeAt(i - 1) === 32) return i - 1;
  return -1;
}

/** Whether the frame at `start` begins its line: only spaces and tabs before it. */
export function startsLine(s: string, start: number): boolean {
  let i = start;
  while (i > 0) {
    const c = s.charCodeAt(i - 1);
    if (c === 10 || c === 13) return true;
    if (c !== 32 && c !== 9) return false;
    i--;
  }
  return true;
}

/** The text from the start of the line holding `start` to `start`, and the line's terminator. */
export function lineFrame(s: string, start: number, end: number): { indent: string; eol: string } {
  let i = start;
  while (i > 0 && s.charCodeAt(i - 1) !== 10 && s.charCodeAt(i - 1) !== 13) i--;
  let j = end;
  while (j < s.length && s.charCodeAt(j) !== 10 && s.charCodeAt(j) !== 13) j++;
  const eol = s.charCodeAt(j) === 13 ? (s.charCodeAt(j + 1) === 10 ? '\r\n' : '\r') : '\n';
  return { indent: s.slice(i, start), eol };
}

/**
 * The lines of the inlined frames of a chain (all but its outermost), innermost first, each
 * followed by `eol` and `indent`: what goes before the frame's own text. '' for a form that
 * has none (no offset, or Wasmtime's, written by wasmtimeDetails).
 */
export function inlinedLines(form: FrameForm, c: EncodedChain, indent: string, eol: string): string {
  let out = '';
  for (let k = 0; k < c.chain.length - 1; k++) {
    const fn = c.fns[k]!;
    const loc = c.locs[k]!;
    if (form === 'v8' || form === 'v8-named') out += fn === '' ? `at ${loc}` : `at ${fn} (${loc})`;
    else if (form === 'spidermonkey' || form === 'jsc') out += `${fn}@${loc}`;
    else return '';
    out += eol + indent;
  }
  return out;
}

/** Wasmtime's indentation of the `- NAME` and `at FILE` lines of a frame with symbols. */
const WT_INLINED = ' '.repeat(16) + '- ';
const WT_AT = ' '.repeat(20) + 'at ';

/**
 * A Wasmtime frame with its symbols, as Wasmtime writes it: `prefix` (`N:   0xOFF - `), then
 * per frame of the chain its name (`fns`, wasmtimeFns; the innermost's, when the DWARF has
 * none, `raw`: the name-section name or `<wasm function N>`; an outer one's
 * `<inlined function>`) and its `at FILE:LINE:COLUMN` line.
 */
export function wasmtimeDetails(prefix: string, c: EncodedChain, raw: string, eol: string, fns: string[]): string {
  let out = prefix;
  for (let k = 0; k < c.chain.length; k++) {
    const f = c.chain[k]!;
    if (k > 0) out += eol + WT_INLINED;
    out += fns[k] !== '' ? fns[k] : k === 0 ? raw : '<inlined function>';
    if (c.files[k] === '') continue;
    out += eol + WT_AT + c.files[k];
    if (f.line !== 0) {
      out += `:${f.line}`;
      if (f.column !== 0) out += `:${f.column}`;
    }
  }
  return out;
}
