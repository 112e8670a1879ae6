/**
 * The scanner of stack-trace text: finds the WebAssembly frames of V8, SpiderMonkey,
 * JavaScriptCore and Wasmtime in a string and reports where each one's parts are, without
 * looking anything up (lib/symbolicate.ts does that). Hand-written rather than regular
 * expressions, so that its cost is linear in the text whatever the text is:
 *
 * - It jumps from marker to marker (`wasm-function[`, `@[wasm code]`, `wasm backtrace:`,
 *   `<wasm function `) with `indexOf`, each marker's cursor only ever moving forward; text
 *   between markers is not looked at, line by line or otherwise, and nothing is allocated
 *   for it.
 * - A line that holds a marker is read once. Around a marker it reads back at most MAX_URL
 *   and MAX_NAME characters, never before the end of the previous frame of the line, and
 *   remembers how far it read back, so that reading back costs linear time over the line.
 * - Numbers are read digit by digit; one that does not fit is Infinity (a mismatch for the
 *   resolver, never a name).
 *
 * A line ends at `\n`, `\r\n` or `\r`.
 */

export type Engine = 'v8' | 'spidermonkey' | 'jsc' | 'wasmtime';

/** The form a frame was written in (see lib/symbolicate.ts for each one's text). */
export type FrameForm = 'v8' | 'v8-named' | 'spidermonkey' | 'jsc' | 'jsc-legacy' | 'jsc-named' | 'wasmtime';

/** Names up to MAX_NAME and URLs up to MAX_URL characters are recognised. */
export const MAX_NAME = 512;
export const MAX_URL = 2048;

/**
 * A frame as found: positions in the scanned string. A slot [start, end) with start < 0 is
 * absent. `name` is the printed function name's slot (for the `v8` form, the empty slot
 * after `at ` where the name goes); `mod` the module prefix that a rewrite may replace
 * (JavaScriptCore's `<?>`, Wasmtime's `<unknown>`).
 */
export interface RawFrame {
  start: number;
  end: number;
  engine: Engine;
  form: FrameForm;
  urlStart: number;
  urlEnd: number;
  nameStart: number;
  nameEnd: number;
  modStart: number;
  modEnd: number;
  /** The printed function index (Infinity when it does not fit), or -1. */
  index: number;
  /** The printed byte offset (Infinity when it does not fit), or -1. */
  offset: number;
  /** The index was printed as the name (JavaScriptCore's `3@<?>:…`, Wasmtime's `<wasm function 3>`). */
  nameIsIndex: boolean;
}

const WF = 'wasm-function[';
const WC = '@[wasm code]';
const BT = 'wasm backtrace:';
const WT = '<wasm function ';
const BIG = 2 ** 53;

const isSpace = (c: number) => c === 32 || c === 9 || c === 11 || c === 12 || c === 0xa0 || c === 0xfeff;
const isDigit = (c: number) => c >= 48 && c <= 57;
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** Scanner state carried from one block of lines to the next (a stream's chunks). */
export interface ScanState {
  /** Inside a Wasmtime backtrace: the lines that follow are read as its frames. */
  wasmtime: boolean;
  /** Lines longer than this are not read (streams: so that any chunking gives the same output). */
  maxLine: number;
}

export function newScanState(maxLine = Infinity): ScanState {
  return { wasmtime: false, maxLine };
}

/**
 * Calls `onFrame` for every frame of `s`, in order, and `onLine(start)` with the start of
 * each line that holds one (before its frames; used to count lines). The RawFrame passed is
 * reused: copy what you keep. `s` is taken to end at a line end (or at the end of the input).
 */
export function scan(
  s: string,
  state: ScanState,
  onFrame: (f: RawFrame) => void,
  onLine?: (lineStart: number) => void,
): void {
  new Scanner(s, state, onFrame, onLine).run();
}

class Scanner {
  readonly f: RawFrame = {
    start: 0,
    end: 0,
    engine: 'v8',
    form: 'v8',
    urlStart: -1,
    urlEnd: -1,
    nameStart: -1,
    nameEnd: -1,
    modStart: -1,
    modEnd: -1,
    index: -1,
    offset: -1,
    nameIsIndex: false,
  };
  nWF: number;
  nWC: number;
  nBT: number;
  nWT: number;
  nNL: number;
  nCR: number;
  // Per line: where the last frame ended, and the memo of the read-back for '@'.
  lastEnd = 0;
  atFrom = -1;
  atFound = -1;
  brFrom = -1;
  brFound = -1;

  constructor(
    readonly s: string,
    readonly state: ScanState,
    readonly onFrame: (f: RawFrame) => void,
    readonly onLine: ((lineStart: number) => void) | undefined,
  ) {
    this.nWF = s.indexOf(WF);
    this.nWC = s.indexOf(WC);
    this.nBT = s.indexOf(BT);
    this.nWT = s.indexOf(WT);
    this.nNL = s.indexOf('\n');
    this.nCR = s.indexOf('\r');
  }

  /** The end of the line holding position p (the position of its terminator, or s.length). */
  lineEnd(p: number): number {
    const s = this.s;
    if (this.nNL !== -1 && this.nNL < p) this.nNL = s.indexOf('\n', p);
    if (this.nCR !== -1 && this.nCR < p) this.nCR = s.indexOf('\r', p);
    const a = this.nNL === -1 ? s.length : this.nNL;
    const b = this.nCR === -1 ? s.length : this.nCR;
    return a < b ? a : b;
  }

  /** The start of the line after the one that ends at le. */
  nextLine(le: number): number {
    const s = this.s;
    return s.charCodeAt(le) === 13 && s.charCodeAt(le + 1) === 10 ? le + 2 : le + 1;
  }

  run(): void {
    const s = this.s;
    let pos = 0;
    while (pos < s.length) {
      if (this.state.wasmtime) {
        const le = this.lineEnd(pos);
        if (this.wasmtimeLine(pos, le, true)) {
          pos = this.nextLine(le);
          this.advance(pos);
          continue;
        }
        this.state.wasmtime = false;
      }
      let h = this.nWF;
      if (this.nWC !== -1 && (h === -1 || this.nWC < h)) h = this.nWC;
      if (this.nBT !== -1 && (h === -1 || this.nBT < h)) h = this.nBT;
      if (this.nWT !== -1 && (h === -1 || this.nWT < h)) h = this.nWT;
      if (h === -1) return;
      // pos starts a line: the line of h starts there unless a '\n' lies between them.
      if (this.nNL !== -1 && this.nNL < pos) this.nNL = s.indexOf('\n', pos);
      let ls = this.nNL === -1 || this.nNL >= h ? pos : s.lastIndexOf('\n', h - 1) + 1;
      if (this.nCR !== -1)
        for (let i = h; i > ls; i--)
          if (s.charCodeAt(i - 1) === 13) {
            ls = i;
            break;
          }
      const le = this.lineEnd(h);
      this.line(ls, le);
      pos = this.nextLine(le);
      this.advance(pos);
    }
  }

  /** Moves every marker cursor to its next occurrence at or after pos. */
  advance(pos: number): void {
    const s = this.s;
    if (this.nWF !== -1 && this.nWF < pos) this.nWF = s.indexOf(WF, pos);
    if (this.nWC !== -1 && this.nWC < pos) this.nWC = s.indexOf(WC, pos);
    if (this.nBT !== -1 && this.nBT < pos) this.nBT = s.indexOf(BT, pos);
    if (this.nWT !== -1 && this.nWT < pos) this.nWT = s.indexOf(WT, pos);
  }

  /** Whether onLine was called for the current line. */
  announced = false;
  lineStart = 0;

  emit(): void {
    if (!this.announced) {
      this.announced = true;
      this.onLine?.(this.lineStart);
    }
    this.lastEnd = this.f.end;
    this.onFrame(this.f);
  }

  /** Every frame of the line [ls, le). */
  line(ls: number, le: number): void {
    if (le - ls > this.state.maxLine) return;
    const s = this.s;
    this.lastEnd = this.lineStart = ls;
    this.atFrom = this.brFrom = ls;
    this.atFound = this.brFound = -1;
    this.announced = false;
    while (true) {
      const w = this.nWF !== -1 && this.nWF < le ? this.nWF : -1;
      const c = this.nWC !== -1 && this.nWC < le ? this.nWC : -1;
      if (w === -1 && c === -1) break;
      if (w !== -1 && (c === -1 || w < c)) {
        this.nWF = s.indexOf(WF, w + WF.length); // no occurrence of WF overlaps another
        if (w >= this.lastEnd && this.wasmFunction(ls, le, w)) this.emit();
      } else {
        this.nWC = s.indexOf(WC, c + 1);
        if (c >= this.lastEnd && this.jscNamed(ls, c)) this.emit();
      }
    }
    if (!this.announced && this.nWT !== -1 && this.nWT < le && this.wasmtimeLine(ls, le, false)) this.emit();
    if (this.nBT !== -1 && this.nBT < le) this.state.wasmtime = true;
  }

  reset(engine: Engine, form: FrameForm): RawFrame {
    const f = this.f;
    f.engine = engine;
    f.form = form;
    f.urlStart = f.urlEnd = f.nameStart = f.nameEnd = f.modStart = f.modEnd = -1;
    f.index = f.offset = -1;
    f.nameIsIndex = false;
    return f;
  }

  /** The value (Infinity when it does not fit) and end of the last number read. */
  numValue = 0;
  numEnd = 0;

  /** Digits from p to numValue/numEnd; numEnd === p when there are none. */
  decimal(p: number, le: number): void {
    const s = this.s;
    let v = 0;
    let q = p;
    while (q < le) {
      const c = s.charCodeAt(q);
      if (c < 48 || c > 57) break;
      v = v < BIG ? v * 10 + (c - 48) : Infinity;
      q++;
    }
    this.numValue = v >= BIG ? Infinity : v;
    this.numEnd = q;
  }

  /** `0x` and hex digits from p to numValue/numEnd, or numValue -1 and numEnd p when there are none. */
  hex(p: number, le: number): void {
    const s = this.s;
    this.numValue = -1;
    this.numEnd = p;
    if (s.charCodeAt(p) !== 48 || (s.charCodeAt(p + 1) | 32) !== 120) return;
    let v = 0;
    let q = p + 2;
    let d: number;
    while (q < le && (d = hexValue(s.charCodeAt(q))) >= 0) {
      v = v < BIG ? v * 16 + d : Infinity;
      q++;
    }
    if (q === p + 2) return;
    this.numValue = v >= BIG ? Infinity : v;
    this.numEnd = q;
  }

  /** The optional `:0xOFF` after the `]` at q: numValue the offset (-1: none), numEnd where the frame ends. */
  offsetAfter(q: number, le: number): void {
    if (this.s.charCodeAt(q + 1) === 58) {
      this.hex(q + 2, le);
      if (this.numValue >= 0) return;
    }
    this.numValue = -1;
    this.numEnd = q + 1;
  }

  /** The nearest '@' before p on the line, no further back than MAX_URL or lastEnd; -1 if none. */
  atBefore(p: number): number {
    const s = this.s;
    let q = p - 1;
    const stop = Math.max(this.atFrom, this.lastEnd);
    while (q >= stop && s.charCodeAt(q) !== 64) q--;
    if (q < stop) q = this.atFound >= this.lastEnd ? this.atFound : -1;
    this.atFrom = p;
    this.atFound = q;
    return q >= 0 && p - q - 1 <= MAX_URL ? q : -1;
  }

  /** The start of the run of characters before p that are not spaces and not '(' (a V8 URL). */
  urlStartBefore(p: number): number {
    const s = this.s;
    let q = p - 1;
    const stop = Math.max(this.brFrom, this.lastEnd);
    while (q >= stop) {
      const c = s.charCodeAt(q);
      if ((c <= 40 || c >= 0xa0) && (isSpace(c) || c === 40)) break;
      q--;
    }
    if (q < stop) q = this.brFound >= this.lastEnd ? this.brFound : this.lastEnd - 1;
    this.brFrom = p;
    this.brFound = q;
    return q + 1;
  }

  /** Whether `at ` (or `at async `) ends at p and starts the line or follows a space. */
  atWord(ls: number, p: number): number {
    const s = this.s;
    let a = p - 3;
    if (
      a >= this.lastEnd &&
      s.charCodeAt(a) === 97 &&
      s.charCodeAt(a + 1) === 116 &&
      s.charCodeAt(a + 2) === 32 &&
      (a === ls || isSpace(s.charCodeAt(a - 1)))
    )
      return a;
    a = p - 9;
    if (a >= this.lastEnd && s.startsWith('at async ', a) && (a === ls || isSpace(s.charCodeAt(a - 1)))) return a;
    return -1;
  }

  /** A frame around the `wasm-function[` at w. */
  wasmFunction(ls: number, le: number, w: number): boolean {
    const s = this.s;
    const p = w + WF.length;
    this.decimal(p, le);
    const index = this.numValue;
    const q = this.numEnd;
    const before = w > ls ? s.charCodeAt(w - 1) : -1;
    if (q > p && s.charCodeAt(q) === 93) {
      this.offsetAfter(q, le);
      if (before === 58 && this.colonForm(ls, le, w - 1, index, this.numValue, this.numEnd)) return true;
    }
    if (before === 58) return false;
    return this.legacy(ls, le, w, before) || this.bare(ls, le, w, before, index, q);
  }

  /** `URL:wasm-function[N][:0xOFF]` forms, the ':' at u: V8, then SpiderMonkey and JavaScriptCore. */
  colonForm(ls: number, le: number, u: number, index: number, offset: number, end: number): boolean {
    const s = this.s;
    if (offset >= 0) {
      const us = this.urlStartBefore(u);
      if (us < u && u - us <= MAX_URL) {
        // V8: `at URL:...` and `at NAME (URL:...)`.
        const a = this.atWord(ls, us);
        if (a >= 0) {
          const f = this.reset('v8', 'v8');
          f.start = a;
          f.end = end;
          f.nameStart = f.nameEnd = us;
          return this.located(f, us, u, index, offset);
        }
        if (s.charCodeAt(us - 1) === 40 && s.charCodeAt(us - 2) === 32 && s.charCodeAt(end) === 41) {
          const nameEnd = us - 2;
          const from = Math.max(this.lastEnd, ls, nameEnd - MAX_NAME - 9);
          for (let a2 = from; a2 < nameEnd - 3; a2++) {
            if (s.charCodeAt(a2) !== 97 || !s.startsWith('at ', a2) || (a2 > ls && !isSpace(s.charCodeAt(a2 - 1))))
              continue;
            let ns = a2 + 3;
            if (s.startsWith('async ', ns) && ns + 6 < nameEnd) ns += 6;
            if (nameEnd - ns > MAX_NAME) continue;
            const f = this.reset('v8', 'v8-named');
            f.start = a2;
            f.end = end + 1;
            f.nameStart = ns;
            f.nameEnd = nameEnd;
            return this.located(f, us, u, index, offset);
          }
        }
      }
    }
    // SpiderMonkey `NAME@URL:...` and JavaScriptCore `NAME@MOD:...`.
    const at = this.atBefore(u);
    if (at >= 0) {
      const first = this.firstNonSpace(ls, at);
      let ns: number;
      if (this.lastEnd === ls && at - first <= MAX_NAME) ns = first;
      else {
        ns = at;
        while (ns > this.lastEnd && at - ns < MAX_NAME) {
          const c = s.charCodeAt(ns - 1);
          if (isSpace(c) || c === 44 || c === 64) break;
          ns--;
        }
        // The name starts after a space or a comma, or where the previous frame ended.
        if (ns > this.lastEnd && !isSpace(s.charCodeAt(ns - 1)) && s.charCodeAt(ns - 1) !== 44) return false;
      }
      const sm = offset >= 0 || this.hasUrlChar(at + 1, u);
      const f = this.reset(sm ? 'spidermonkey' : 'jsc', sm ? 'spidermonkey' : 'jsc');
      f.start = ns;
      f.end = end;
      f.nameStart = ns;
      f.nameEnd = at;
      if (!sm) {
        f.modStart = at + 1;
        f.modEnd = u;
        f.nameIsIndex = this.isDecimal(ns, at);
      }
      return this.located(f, at + 1, u, index, offset);
    }
    // JavaScriptCore without a name, alone on its line: `MOD:wasm-function[N][:0xOFF]`.
    const first = this.firstNonSpace(ls, u);
    if (first < this.lastEnd || u - first > MAX_NAME || !this.onlySpaces(end, le)) return false;
    for (let i = first; i < u; i++) {
      const c = s.charCodeAt(i);
      if (isSpace(c) || c === 64 || c === 58) return false;
    }
    const f = this.reset('jsc', 'jsc');
    f.start = first;
    f.end = end;
    f.nameStart = f.nameEnd = first;
    f.modStart = first;
    f.modEnd = u;
    return this.located(f, first, u, index, offset);
  }

  located(f: RawFrame, urlStart: number, urlEnd: number, index: number, offset: number): boolean {
    f.urlStart = urlStart;
    f.urlEnd = urlEnd;
    f.index = index;
    f.offset = offset;
    return true;
  }

  /** `[MOD.]wasm-function[SLOT]@[wasm code]`: JavaScriptCore's older form and Bun's call sites. */
  legacy(ls: number, le: number, w: number, before: number): boolean {
    const s = this.s;
    const p = w + WF.length;
    const c = this.nWC; // the next '@[wasm code]' after w (those before w are behind the cursor)
    if (c === -1 || c >= le || c - 1 < p || c - 1 - p > MAX_NAME || s.charCodeAt(c - 1) !== 93) return false;
    if (this.nWF !== -1 && this.nWF < c) return false; // the slot would swallow the next frame
    let ms = w;
    if (before === 46) {
      ms = w - 1;
      while (ms > this.lastEnd && ms > ls && w - 1 - ms < MAX_NAME) {
        const ch = s.charCodeAt(ms - 1);
        if (isSpace(ch) || ch === 64 || ch === 44) break;
        ms--;
      }
    } else if (before !== -1 && !isSpace(before) && before !== 44) return false;
    const f = this.reset('jsc', 'jsc-legacy');
    f.start = ms;
    f.end = c + WC.length;
    f.nameStart = p;
    f.nameEnd = c - 1;
    if (before === 46) {
      f.modStart = ms;
      f.modEnd = w - 1;
    }
    this.decimal(p, c - 1);
    if (this.numEnd === c - 1 && this.numEnd > p) {
      f.index = this.numValue;
      f.nameIsIndex = true;
    }
    f.urlStart = c + 1;
    f.urlEnd = c + WC.length;
    return true;
  }

  /** `wasm-function[N][:0xOFF]` alone on its line (JavaScriptCore). */
  bare(ls: number, le: number, w: number, before: number, index: number, q: number): boolean {
    const s = this.s;
    if (q === w + WF.length || s.charCodeAt(q) !== 93) return false;
    if (this.firstNonSpace(ls, w) !== w || w < this.lastEnd) return false;
    void before;
    this.offsetAfter(q, le);
    const offset = this.numValue;
    const end = this.numEnd;
    if (!this.onlySpaces(end, le)) return false;
    const f = this.reset('jsc', 'jsc');
    f.start = w;
    f.end = end;
    f.nameStart = f.nameEnd = w;
    return this.located(f, w, w, index, offset);
  }

  /** `NAME@[wasm code]` (JavaScriptCore): a name, no index. */
  jscNamed(ls: number, c: number): boolean {
    const s = this.s;
    let ns = c;
    while (ns > this.lastEnd && ns > ls && c - ns < MAX_NAME) {
      const ch = s.charCodeAt(ns - 1);
      if (isSpace(ch) || ch === 64 || ch === 44) break;
      ns--;
    }
    if (ns === c || s.charCodeAt(c - 1) === 93) return false;
    if (ns > ls && ns > this.lastEnd) {
      const ch = s.charCodeAt(ns - 1);
      if (!isSpace(ch) && ch !== 44) return false;
    }
    const f = this.reset('jsc', 'jsc-named');
    f.start = ns;
    f.end = c + WC.length;
    f.nameStart = ns;
    f.nameEnd = c;
    f.urlStart = c + 1;
    f.urlEnd = c + WC.length;
    return true;
  }

  /**
   * A line of a Wasmtime backtrace: `  N: 0xOFF - MOD!NAME` (NAME may be `<wasm function I>`),
   * or with symbols from DWARF `  N: 0xOFF - NAME`. Inside a backtrace (`inside`), the
   * `at FILE:LINE:COL` and `- NAME` lines of WASMTIME_BACKTRACE_DETAILS also belong to it.
   */
  wasmtimeLine(ls: number, le: number, inside: boolean): boolean {
    const s = this.s;
    const first = this.firstNonSpace(ls, le);
    this.decimal(first, le);
    const de = this.numEnd;
    if (de > first && s.charCodeAt(de) === 58 && isSpace(s.charCodeAt(de + 1))) {
      const h = this.firstNonSpace(de + 1, le);
      this.hex(h, le);
      const offset = this.numValue;
      const he = this.numEnd;
      if (offset >= 0 && s.startsWith(' - ', he) && he + 3 < le) {
        const r = he + 3;
        const f = this.reset('wasmtime', 'wasmtime');
        f.start = first;
        f.end = le;
        f.offset = offset;
        let bang = -1;
        for (let i = r; i < le && i - r <= MAX_NAME; i++)
          if (s.charCodeAt(i) === 33) {
            bang = i;
            break;
          }
        f.nameStart = bang >= 0 ? bang + 1 : r;
        f.nameEnd = le;
        if (bang >= 0) {
          f.modStart = f.urlStart = r;
          f.modEnd = f.urlEnd = bang;
        } else f.urlStart = f.urlEnd = r;
        if (s.startsWith(WT, f.nameStart) && s.charCodeAt(le - 1) === 62) {
          this.decimal(f.nameStart + WT.length, le);
          if (this.numEnd === le - 1 && this.numEnd > f.nameStart + WT.length) {
            f.index = this.numValue;
            f.nameIsIndex = true;
          }
        }
        if (inside) {
          this.onLine?.(ls);
          this.onFrame(f);
        }
        return true;
      }
    }
    if (!inside) return false;
    return s.startsWith('at ', first) || s.startsWith('- ', first);
  }

  firstNonSpace(from: number, to: number): number {
    const s = this.s;
    let i = from;
    while (i < to && isSpace(s.charCodeAt(i))) i++;
    return i;
  }

  onlySpaces(from: number, to: number): boolean {
    return this.firstNonSpace(from, to) === to;
  }

  isDecimal(from: number, to: number): boolean {
    if (to <= from) return false;
    for (let i = from; i < to; i++) if (!isDigit(this.s.charCodeAt(i))) return false;
    return true;
  }

  /** Whether [from, to) holds a space or a '/' (a SpiderMonkey URL, not a JavaScriptCore module prefix). */
  hasUrlChar(from: number, to: number): boolean {
    const s = this.s;
    for (let i = from; i < to; i++) {
      const c = s.charCodeAt(i);
      if (isSpace(c) || c === 47) return true;
    }
    return false;
  }
}
