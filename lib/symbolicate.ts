/**
 * Symbolication of WebAssembly stack traces: finds the wasm frames of V8 (Node, Deno,
 * Chrome), SpiderMonkey, JavaScriptCore (Safari, Bun) and Wasmtime in a text (an
 * `err.stack`, a crash report, a log) and puts back the function names a stripped module no
 * longer carries, from an artifact built from the unstripped module. Everything that is not a
 * recognised wasm frame, including the rest of a line that holds one, is left as it was. The
 * scanner is lib/trace-scan.ts; streams are lib/trace-stream.ts.
 *
 * Frames recognised (N a function index counting imports, OFF a byte offset from the start of
 * the module, as the engines print them) and what the rewrite prints: what that engine prints
 * for the same frame of the module with its name section (MOD. or MOD the module's name, when
 * it has one and `moduleNames` is not false):
 *
 * | engine | frame | rewritten as |
 * |---|---|---|
 * | V8 | `at URL:wasm-function[N]:0xOFF` | `at MOD.NAME (URL:…)`; `at MOD (URL:…)` for a function without a name |
 * | V8 | `at OLD (URL:wasm-function[N]:0xOFF)` | `at MOD.NAME (URL:…)` |
 * | V8 (Deno) | `at <anonymous> (URL:wasm-function[0]:0xOFF)` | `at NAME (URL:…)`: this V8 prints no module name |
 * | SpiderMonkey | `OLD@URL:wasm-function[N]:0xOFF` (URL may be `x.js line 3 > WebAssembly.Module`) | `MOD.NAME@URL:…`; `MOD.@URL:…` without a name |
 * | JavaScriptCore | `OLD@MOD:wasm-function[N]` (OLD is N or `(null)`; MOD `<?>` or a name) | `NAME@MOD:…`; `(null)@MOD:…` without a name |
 * | JavaScriptCore | `[MOD:]wasm-function[N][:0xOFF]` alone on its line | `NAME@[MOD:]wasm-function…` |
 * | JavaScriptCore, older; Bun's call sites | `[MOD.]wasm-function[N]@[wasm code]` | `[MOD.]wasm-function[NAME]@[wasm code]`; `[]` without a name |
 * | JavaScriptCore | `NAME@[wasm code]`, `MOD.wasm-function[NAME]@[wasm code]` | recognised, left as they are: no index |
 * | Wasmtime | `I: 0xOFF - MOD!<wasm function N>` (MOD `<unknown>` or a name) | `I: 0xOFF - MOD!NAME`, NAME demangled (lib/demangle.ts) |
 *
 * A function without a name in a module without names stays as it was. Bun's `at unknown`
 * holds nothing to look up.
 *
 * With an artifact that has line information (and `lineInfo` not false), a resolved frame
 * with an offset also gets its source location and its inlined frames (lib/trace-srcloc.ts
 * writes them; `inlines: false` keeps one line per frame), and `symbolicateFrames` gives its
 * chain (`srcLocs`). Without line information the path and its cost are as before.
 *
 * Which function a frame is: with a byte offset, `funcByOffset(module byte offset + OFF)`
 * gives the key `DefinedWasmFunction(m, i)`, hence the function index `imported(m) + i`,
 * hence the name. The index the engine printed must agree, else the frame is a `mismatch`
 * (the artifact was not built from this module) and stays as it was; except a printed index
 * 0, which Deno prints for every frame: the offset decides and `resolvedIndex` reports the
 * index. An offset that does not fit in 32 bits is a mismatch. Without an offset (JavaScript-
 * Core), the printed index is looked up, after the checks a frame allows: the index is in
 * the module's range (else `no-function`), a module name in the frame is the module's, a
 * name in the frame is the artifact's (else `mismatch`); and one frame that fails them marks
 * every frame of its module prefix (`<?>`, a name) as a mismatch: the artifact is not that
 * module's (in a stream, the frames after it).
 *
 * Which module of the artifact a frame belongs to:
 * - option `urls`: `[matcher, module]` pairs tried in order on the frame's URL (a string is
 *   compared for equality, a RegExp is tested, a function is called; once per distinct URL).
 *   A frame whose URL matches none is `foreign`. For JavaScriptCore and Wasmtime frames the
 *   URL is the module prefix (`<?>`, `<unknown>`, a name, or ''), or `[wasm code]`.
 * - else option `module`: every frame belongs to that module.
 * - else an artifact of one module: module 0.
 * - else (a component, or several modules), at most MAX_PROBE modules: engines run core
 *   modules, so an offset counts from the start of the core module that trapped, and every
 *   module's offsets start near 0. The frame belongs to the one module where the offset falls
 *   in a defined function whose index is the printed one (None: `no-function`; several, or
 *   no offset: `ambiguous`); a later frame of the same URL is tried in that module first.
 *   With more modules, frames are `ambiguous`: pass `urls` or `module`. So the work per
 *   frame is bounded whatever the number of modules.
 *
 * Limits: a name longer than 512 characters or a URL longer than 2048 is not recognised (the
 * frame stays as it was). Time is linear in the text; nothing is allocated per line.
 */
import { Artifact } from './artifact.js';
import { describeValue } from './args.js';
import { demangle } from './demangle.js';
import { FunckeyError } from './errors.js';
import { FuncKind, type FuncKey } from './key.js';
import type { SrcFrame } from './srclocs.js';
import { TextOut, type Edits, type Opening } from './trace-out.js';
import {
  annotation,
  encodeChain,
  annotationStart,
  expandable,
  inlinedLines,
  lineFrame,
  wasmtimeDetails,
  wasmtimeFns,
  type EncodedChain,
} from './trace-srcloc.js';
import { newScanState, scan, type Engine, type FrameForm, type RawFrame, type ScanState } from './trace-scan.js';

export type { Engine, FrameForm } from './trace-scan.js';

export interface ParsedFrame {
  /** 1-based line number of the frame in the text. */
  line: number;
  /** [start, end) of the frame in its line, in UTF-16 code units. */
  start: number;
  end: number;
  engine: Engine;
  form: FrameForm;
  /** The frame's text as it appears in the line. */
  text: string;
  /** The URL (V8, SpiderMonkey), the module prefix (JavaScriptCore, Wasmtime) or `[wasm code]`. */
  url: string;
  /** The function index the engine printed (counting imports), when it printed one. */
  funcIndex: number | undefined;
  /** The byte offset the engine printed, when it printed one (Infinity when too large to hold). */
  offset: number | undefined;
  /** The function name the engine printed, when it printed one. */
  printedName: string | undefined;
}

/**
 * - resolved: the function was found; `name` is its name when the artifact has one.
 * - foreign: `urls` was given and the frame's URL matches none of it.
 * - no-function: the offset is in no defined function of the module, or the index is out of its range.
 * - mismatch: the frame contradicts the artifact (another index or name at the offset, an
 *   offset that does not fit, another module name).
 * - ambiguous: several modules fit (see the module rules above), or none can be chosen.
 * - no-index: the frame names a function but gives neither an index nor an offset.
 */
export type FrameStatus = 'resolved' | 'foreign' | 'no-function' | 'mismatch' | 'ambiguous' | 'no-index';

export interface SymbolicatedFrame extends ParsedFrame {
  status: FrameStatus;
  /** The module of the artifact the frame was attributed to. */
  module: number | undefined;
  /** The key of the function (for a frame with an offset in a defined function). */
  key: FuncKey | undefined;
  /** The function index the artifact gives (differs from funcIndex where Deno printed 0). */
  resolvedIndex: number | undefined;
  /** The function's name in the artifact, if it has one. */
  name: string | undefined;
  /**
   * What the rewritten text has in place of `text` (equal to it when nothing changed): the
   * frame, after the lines of its inlined frames when they were added.
   */
  rewritten: string;
  /**
   * The source-location chain at the frame's offset, innermost first (the inlined frames,
   * then the function the engine ran): `Artifact.srcLocs`. [] without line information, for
   * a frame without an offset or not resolved, or with `lineInfo: false`.
   */
  srcLocs: SrcFrame[];
}

export type UrlMatcher = string | RegExp | ((url: string) => boolean);

export interface SymbolicateOptions {
  /** `[matcher, module]` pairs (an array or a Map); frames whose URL matches none are left as they are. */
  urls?: Iterable<readonly [UrlMatcher, number]>;
  /** The module every frame belongs to when `urls` is absent. */
  module?: number;
  /** Print module names as the engines do when the module has one (default true). */
  moduleNames?: boolean;
  /**
   * Add source locations from the artifact's line information (default true; nothing
   * changes for an artifact without it). See lib/trace-srcloc.ts for the text.
   */
  lineInfo?: boolean;
  /**
   * Write each inlined frame on a line of its own, innermost first (default true); false
   * keeps one line per frame, with the innermost location after the function's name.
   */
  inlines?: boolean;
}

/** The chain of a frame without line information. */
const NO_CHAIN: SrcFrame[] = [];
const NO_LINE = { indent: '', eol: '\n' };
/** Length of the cache of encoded chains (a power of two). */
const CHAIN_CACHE = 4096;

/** Above this many modules, a frame is not placed by trying each one (see above). */
export const MAX_PROBE = 64;
const U32_MAX = 0xffffffff;
/** Bound of the per-call caches: URLs and module prefixes (cleared when full), names per module (direct-mapped). */
const CACHE_MAX = 1 << 16;
/** The length of a cache of names (or of their bytes) at first. */
const CACHE_START = 256;
/** V8 frames looked up in one batch. */
const BATCH = 512;
/** Bound of the bytes of the openings (Symbolicator.opening). */
const POOL_MAX = 1 << 20;
/** In the openings: nothing to print; print through nameOf (not all Latin-1, or too long). */
const NO_NAME = -1;
const NOT_LATIN1 = -2;
const LATIN1 = /^[\x00-\xff]*$/;

// --- The modules of an artifact, read once --------------------------------------------------

interface Modules {
  count: number;
  imported: number[];
  funcs: number[];
  byteOffset: number[];
  name: (string | undefined)[];
  /** The module has a name section: engines print `(null)` / `[]` for its unnamed functions. */
  hasNames: boolean[];
  /** The artifact has line information (Artifact.srcLocs). */
  hasSrcLocs: boolean;
}

const MODULES = new WeakMap<Artifact, Modules>();

function modulesOf(a: Artifact): Modules {
  let t = MODULES.get(a);
  if (t === undefined) {
    const d = a.describe();
    const ms = d.modules;
    t = {
      // Line information: the `.fk.line_*` tables (FORMAT.md), empty without DWARF.
      hasSrcLocs: d.sections.some((x) => x.name.startsWith('.fk.line_') && x.size > 0),
      count: ms.length,
      imported: ms.map((m) => m.importedFuncs),
      funcs: ms.map((m) => m.importedFuncs + m.definedFuncs),
      byteOffset: ms.map((m) => m.byteOffset),
      name: ms.map((m) => m.name),
      hasNames: ms.map((m) => m.name !== undefined || m.nameCount > 0),
    };
    MODULES.set(a, t);
  }
  return t;
}

// --- Arguments -------------------------------------------------------------------------------

interface Settings {
  matchers: { test: (url: string) => boolean; module: number }[] | undefined;
  fixed: number | undefined;
  moduleNames: boolean;
  lineInfo: boolean;
  inlines: boolean;
}

export function checkArtifact(artifact: unknown): Artifact {
  let closed: boolean | undefined;
  try {
    if (artifact instanceof Artifact) closed = artifact.closed; // throws for an object that only inherits from one
  } catch {
    closed = undefined;
  }
  if (closed === undefined)
    throw new FunckeyError('E_ARG', `artifact must be an Artifact from open(), got ${describeValue(artifact)}`);
  if (closed) throw new FunckeyError('E_CLOSED', 'the artifact is closed');
  return artifact as Artifact;
}

function checkModule(what: string, m: unknown, count: number): number {
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 0)
    throw new FunckeyError('E_ARG', `${what} must be a module index, got ${describeValue(m)}`);
  if (m >= count) throw new FunckeyError('E_RANGE', `${what}: module ${m} does not exist: the artifact has ${count}`);
  return m;
}

function matcherOf(matcher: unknown): (url: string) => boolean {
  if (typeof matcher === 'string') return (u) => u === matcher;
  if (matcher instanceof RegExp)
    return (u) => {
      matcher.lastIndex = 0;
      return matcher.test(u);
    };
  if (typeof matcher === 'function') return (u) => Boolean((matcher as (u: string) => unknown)(u));
  throw new FunckeyError('E_ARG', 'a urls matcher must be a string, a RegExp or a function');
}

function settingsOf(options: unknown, mods: Modules): Settings {
  if (options === undefined)
    return {
      matchers: undefined,
      fixed: mods.count === 1 ? 0 : undefined,
      moduleNames: true,
      lineInfo: true,
      inlines: true,
    };
  if (options === null || typeof options !== 'object')
    throw new FunckeyError('E_ARG', `options must be an object, got ${describeValue(options)}`);
  const o = options as Record<string, unknown>;
  const urls = o.urls;
  const module = o.module;
  const moduleNames = o.moduleNames;
  const lineInfo = o.lineInfo;
  const inlines = o.inlines;
  let matchers: Settings['matchers'];
  if (urls !== undefined) {
    if (urls === null || typeof (urls as Iterable<unknown>)[Symbol.iterator] !== 'function')
      throw new FunckeyError('E_ARG', 'urls must be an array or a Map of [matcher, module] pairs');
    matchers = [];
    for (const pair of urls as Iterable<unknown>) {
      if (!Array.isArray(pair) || pair.length !== 2)
        throw new FunckeyError('E_ARG', 'each entry of urls must be a [matcher, module] pair');
      matchers.push({ test: matcherOf(pair[0]), module: checkModule('urls', pair[1], mods.count) });
    }
  }
  const fixed = module !== undefined ? checkModule('module', module, mods.count) : mods.count === 1 ? 0 : undefined;
  return {
    matchers,
    fixed,
    moduleNames: flag('moduleNames', moduleNames),
    lineInfo: flag('lineInfo', lineInfo),
    inlines: flag('inlines', inlines),
  };
}

/** A boolean option, true when absent. */
function flag(name: string, v: unknown): boolean {
  if (v !== undefined && typeof v !== 'boolean')
    throw new FunckeyError('E_ARG', `${name} must be a boolean, got ${describeValue(v)}`);
  return v !== false;
}

// --- Resolution ------------------------------------------------------------------------------

/** How strings of the scanned text relate to JS strings: as they are, or Latin-1 of UTF-8 bytes. */
export interface Codec {
  /** A JS string as the scanned text holds it. */
  enc(s: string): string;
  /** A piece of the scanned text as a JS string. */
  dec(s: string): string;
}

export const TEXT: Codec = { enc: (s) => s, dec: (s) => s };

interface Resolution {
  status: FrameStatus;
  module: number | undefined;
  key: FuncKey | undefined;
  index: number | undefined;
}

const NO_FUNCTION = -1;
const MISMATCH = -2;
const NONE: Resolution = { status: 'no-index', module: undefined, key: undefined, index: undefined };
const st = (status: FrameStatus, module?: number, key?: FuncKey, index?: number): Resolution => ({
  status,
  module,
  key,
  index,
});

/** A function's name and the encoded strings the rewrites print (undefined: nothing to print). */
interface Names extends Opening {
  /** The function index. */
  fi: number;
  name: string | undefined;
  /** enc(name) */
  bare: string | undefined;
  /** enc(demangle(name)): the name as Wasmtime prints it, set on first use (wtName). */
  wt?: string;
  /** V8: `mod.name`, `mod` without a name, `name` without a module name. */
  v8: string | undefined;
  /** SpiderMonkey: `mod.name`, `mod.` without a name, `name` without a module name. */
  sm: string | undefined;
}

/**
 * The names of function fi from its name and its module's name, both encoded (a well-formed
 * string's encoding is the concatenation of its pieces' encodings).
 */
function namesOf(fi: number, name: string | undefined, encName: string | undefined, encMod: string | undefined): Names {
  const v8 = encName === undefined ? encMod : encMod === undefined ? encName : `${encMod}.${encName}`;
  return {
    fi,
    name,
    bare: encName,
    v8,
    v8open: v8 === undefined ? undefined : v8 + ' (',
    latin1: undefined,
    bytes: undefined,
    sm: encMod !== undefined ? `${encMod}.${encName ?? ''}` : encName,
  };
}

/** The length of a module's name cache: a power of two, at least its function count up to CACHE_MAX. */
function cacheSize(funcs: number): number {
  let n = 1;
  while (n < funcs && n < CACHE_MAX) n *= 2;
  return n;
}

/**
 * A direct-mapped cache for a module of `funcs` functions: 256 entries at first (a text may
 * hold few frames), four times the `length` of the one it replaces once that is half full, up
 * to cacheSize(funcs).
 */
function newCache(funcs: number, length: number): (Names | undefined)[] {
  return new Array<Names | undefined>(Math.min(cacheSize(funcs), length === 0 ? CACHE_START : 4 * length));
}

/**
 * V8 frames `at URL:…` of the one module frames belong to, waiting for a batched lookup of
 * their offsets (Artifact.funcsByOffset): positions of the frame, module byte offset +
 * printed offset, printed index.
 */
class Pending {
  n = 0;
  readonly at = new Int32Array(BATCH);
  readonly end = new Int32Array(BATCH);
  readonly index = new Float64Array(BATCH);
  readonly offsets = new Uint32Array(BATCH);
  readonly out = { namespaces: new Uint32Array(BATCH), indices: new Uint32Array(BATCH) };
}

/**
 * Resolves and rewrites frames for one text or stream: holds the settings, the modules and
 * bounded caches of names (per module, by function index) and of URL -> module.
 */
export class Symbolicator {
  readonly mods: Modules;
  readonly settings: Settings;
  /** Per module, names by function index, direct-mapped (index modulo the table's length). */
  readonly names: (Names | undefined)[][] = [];
  /** Per module, entries put in its names cache since the cache was made. */
  readonly nameFills: number[] = [];
  /** The module every frame belongs to (no `urls`, one module or `module`), else -1. */
  readonly only: number;
  readonly pending = new Pending();
  readonly modNames: (string | undefined)[] = [];
  readonly urlModule = new Map<string, number>();
  /**
   * Frames without an offset (JavaScriptCore) carry little to check, so one frame that
   * contradicts the artifact (an index past the module's functions, another module or
   * function name) marks its module prefix: the frames of that prefix in that module are
   * all mismatches. `poisoned` holds the "module prefix" keys so marked, `named` those that
   * named a frame; `renamedPoisoned` says a prefix was marked after naming some frame (the
   * text functions then start over with the marks known).
   */
  readonly poisoned: Set<string>;
  readonly named = new Set<string>();
  renamedPoisoned = false;
  /** What the last rewrite() found: the frame's resolution, the function's name, the chain. */
  res: Resolution = NONE;
  name: string | undefined;
  chain: SrcFrame[] = NO_CHAIN;
  /** Frames get source locations: the artifact has them and `lineInfo` is not false. */
  readonly lines: boolean;
  /** Encoded chains by module byte offset, direct-mapped. */
  readonly chains: (EncodedChain & { at: number })[] = [];

  constructor(
    readonly artifact: Artifact,
    options: unknown,
    readonly codec: Codec,
    poisoned: Set<string> = new Set(),
  ) {
    this.mods = modulesOf(artifact);
    this.settings = settingsOf(options, this.mods);
    this.poisoned = poisoned;
    this.only = this.settings.matchers === undefined && this.settings.fixed !== undefined ? this.settings.fixed : -1;
    this.lines = this.mods.hasSrcLocs && this.settings.lineInfo;
  }

  /** The encoded chain at printed offset `offset` of module m, looked up once while cached; undefined when empty. */
  chainAt(m: number, offset: number): EncodedChain | undefined {
    const at = this.mods.byteOffset[m]! + offset;
    const slot = at & (CHAIN_CACHE - 1);
    let c = this.chains[slot];
    if (c === undefined || c.at !== at) {
      c = { ...encodeChain(this.artifact.srcLocs(at), this.codec.enc), at };
      this.chains[slot] = c;
    }
    return c.chain.length === 0 ? undefined : c;
  }

  /** Frame f (no offset) in module m: by its index, unless its module prefix is marked. */
  byIndex(s: string, f: RawFrame, m: number): Resolution {
    const key = `${m} ${f.urlStart >= 0 ? s.slice(f.urlStart, f.urlEnd) : ''}`;
    const r = this.inModule(f, m);
    if (r.status === 'no-function') this.poison(key);
    else if (this.poisoned.has(key)) return st('mismatch', m);
    else if (r.status === 'resolved' && this.named.size < CACHE_MAX) this.named.add(key);
    return r;
  }

  poison(key: string): void {
    if (this.poisoned.size >= CACHE_MAX) return;
    this.poisoned.add(key);
    if (this.named.has(key)) this.renamedPoisoned = true;
  }

  /** The names of function fi of module m, looked up and encoded once (while they stay in the cache). */
  nameOf(m: number, fi: number): Names {
    let cache = this.names[m];
    if (cache === undefined) cache = this.names[m] = newCache(this.mods.funcs[m]!, 0);
    let slot = fi & (cache.length - 1);
    let n = cache[slot];
    if (n === undefined || n.fi !== fi) {
      const fills = (this.nameFills[m] = (this.nameFills[m] ?? 0) + 1);
      if (fills > cache.length >>> 1 && cache.length < cacheSize(this.mods.funcs[m]!)) {
        cache = this.names[m] = newCache(this.mods.funcs[m]!, cache.length);
        this.nameFills[m] = 1;
        slot = fi & (cache.length - 1);
      }
      const name = this.artifact.funcName(fi, m);
      const mod = this.settings.moduleNames ? this.mods.name[m] : undefined;
      n = namesOf(
        fi,
        name,
        name === undefined ? undefined : this.codec.enc(name),
        mod === undefined ? undefined : this.encMod(m, mod),
      );
      cache[slot] = n;
    }
    return n;
  }

  /** Function `n`'s name as Wasmtime prints it (lib/demangle.ts), encoded; demangled once. */
  wtName(n: Names): string | undefined {
    if (n.wt === undefined && n.name !== undefined) n.wt = this.codec.enc(demangle(n.name));
    return n.wt;
  }

  /** The encoded name `mod` of module m, encoded once. */
  encMod(m: number, mod: string): string {
    return (this.modNames[m] ??= this.codec.enc(mod));
  }

  /** Queues a V8 frame `at URL:…` of module `only`, for flush() to edit (when it resolves). */
  defer(f: RawFrame, edits: Edits): void {
    const at = this.mods.byteOffset[this.only]! + f.offset;
    if (!(at <= U32_MAX)) return; // a mismatch: stays as it is
    const p = this.pending;
    const k = p.n++;
    p.at[k] = f.nameStart;
    p.end[k] = f.end;
    p.index[k] = f.index;
    p.offsets[k] = at;
    if (p.n === BATCH) this.flush(edits);
  }

  /** Looks the queued frames up, in one call, and makes the edits of those that resolve. */
  flush(edits: Edits): void {
    const p = this.pending;
    const n = p.n;
    if (n === 0) return;
    p.n = 0;
    const m = this.only;
    const whole = n === BATCH;
    const { namespaces, indices } = this.artifact.funcsByOffset(
      whole ? p.offsets : p.offsets.subarray(0, n),
      whole ? p.out : { namespaces: p.out.namespaces.subarray(0, n), indices: p.out.indices.subarray(0, n) },
    );
    const imported = this.mods.imported[m]!;
    for (let k = 0; k < n; k++) {
      // A DefinedWasmFunction key of module m has namespace m (kind 0 in the top bits).
      if (namespaces[k] !== m) continue;
      const fi = imported + indices[k]!;
      const printed = p.index[k]!;
      if (printed !== fi && printed !== 0) continue; // a mismatch
      const t = this.opening;
      const slot = fi & (t.fi.length - 1);
      if (t.fi.length === 0 || t.fi[slot] !== fi) this.openingOf(m, fi);
      const ts = fi & (t.fi.length - 1);
      const from = t.from[ts]!;
      if (from >= 0) edits.wrapBytes(p.at[k]!, p.end[k]!, t.pool, from, t.to[ts]!);
      else if (from === NOT_LATIN1) edits.wrap(p.at[k]!, p.end[k]!, this.nameOf(m, fi));
    }
  }

  /**
   * The openings (Opening.v8open) of module `only` as Latin-1 bytes, direct-mapped by
   * function index, their bytes side by side in one pool: what flush() copies, without
   * touching an object per frame. Started again when the pool is full.
   */
  readonly opening = {
    fi: new Int32Array(0),
    from: new Int32Array(0),
    to: new Int32Array(0),
    pool: new Uint8Array(0),
    used: 0,
    /** Slots filled since the table was made. */
    filled: 0,
  };

  /** Fills the openings' slot of function fi of module m. */
  openingOf(m: number, fi: number): void {
    const t = this.opening;
    const full = cacheSize(this.mods.funcs[m]!);
    // Small at first (a text may hold few frames), four times larger each time it is half full.
    if (t.fi.length === 0 || (t.filled > t.fi.length >>> 1 && t.fi.length < full)) {
      const n = t.fi.length === 0 ? Math.min(full, CACHE_START) : Math.min(full, 4 * t.fi.length);
      t.fi = new Int32Array(n).fill(-1);
      t.from = new Int32Array(n);
      t.to = new Int32Array(n);
      t.pool = new Uint8Array(Math.max(t.pool.length, Math.min(POOL_MAX, 64 * n)));
      t.used = t.filled = 0;
    }
    t.filled++;
    const slot = fi & (t.fi.length - 1);
    const x = this.nameOf(m, fi).v8open;
    t.fi[slot] = fi;
    if (x === undefined || x.length > t.pool.length || !LATIN1.test(x)) {
      t.from[slot] = x === undefined ? NO_NAME : NOT_LATIN1;
      return;
    }
    if (t.used + x.length > t.pool.length) {
      // Full: started again, twice as large while it may grow.
      if (t.pool.length < POOL_MAX) t.pool = new Uint8Array(Math.min(POOL_MAX, 2 * t.pool.length));
      t.fi.fill(-1);
      t.fi[slot] = fi;
      t.used = 0;
    }
    const pool = t.pool;
    let o = t.used;
    t.from[slot] = o;
    for (let i = 0; i < x.length; i++) pool[o++] = x.charCodeAt(i);
    t.to[slot] = t.used = o;
  }

  /** The key indexIn() found at the frame's offset, if any. */
  key: FuncKey | undefined;

  /**
   * The function index of frame f in module m, or NO_FUNCTION, or MISMATCH (another index at
   * the offset, or an offset that does not fit); `key` is the key at the offset, if any.
   */
  indexIn(f: RawFrame, m: number): number {
    const { imported, funcs, byteOffset } = this.mods;
    this.key = undefined;
    if (f.offset >= 0) {
      const at = byteOffset[m]! + f.offset;
      if (!(at <= U32_MAX)) return MISMATCH;
      const key = this.artifact.funcByOffset(at);
      if (key === undefined || key.kind !== FuncKind.DefinedWasmFunction || key.module !== m) return NO_FUNCTION;
      this.key = key;
      const fi = imported[m]! + key.index;
      return f.index >= 0 && f.index !== fi && f.index !== 0 ? MISMATCH : fi;
    }
    return f.index >= funcs[m]! ? NO_FUNCTION : f.index;
  }

  /** Frame f in module m. */
  inModule(f: RawFrame, m: number): Resolution {
    const fi = this.indexIn(f, m);
    if (fi === NO_FUNCTION) return st('no-function', m);
    if (fi === MISMATCH)
      return st('mismatch', m, this.key, this.key === undefined ? undefined : this.mods.imported[m]! + this.key.index);
    return st('resolved', m, this.key, fi);
  }

  /** The module and function of frame f of text s. */
  resolve(s: string, f: RawFrame): Resolution {
    if (f.index < 0 && f.offset < 0) return NONE;
    const { matchers, fixed } = this.settings;
    if (matchers === undefined && fixed !== undefined)
      return f.offset >= 0 ? this.inModule(f, fixed) : this.byIndex(s, f, fixed);
    const url = f.urlStart >= 0 ? s.slice(f.urlStart, f.urlEnd) : '';
    if (matchers !== undefined) {
      let m = this.urlModule.get(url);
      if (m === undefined) {
        const u = this.codec.dec(url);
        m = matchers.find((x) => x.test(u))?.module ?? -1;
        if (this.urlModule.size >= CACHE_MAX) this.urlModule.clear();
        this.urlModule.set(url, m);
      }
      return m < 0 ? st('foreign') : f.offset >= 0 ? this.inModule(f, m) : this.byIndex(s, f, m);
    }
    const known = this.urlModule.get(url);
    if (known !== undefined) {
      const r = this.inModule(f, known);
      if (r.status === 'resolved') return r;
    }
    if (f.offset < 0 || this.mods.count > MAX_PROBE) return st('ambiguous');
    let found: Resolution | undefined;
    for (let m = 0; m < this.mods.count; m++) {
      const r = this.inModule(f, m);
      if (r.status !== 'resolved') continue;
      if (found !== undefined) return st('ambiguous');
      found = r;
    }
    if (found === undefined) return st('no-function');
    if (this.urlModule.size >= CACHE_MAX) this.urlModule.clear();
    this.urlModule.set(url, found.module!);
    return found;
  }

  /**
   * Resolves frame f of text s, with the checks a frame allows beyond its index and offset
   * (module prefix, printed name): sets `res` and `name`, returns the rewritten frame, or
   * undefined when it stays as it is.
   */
  rewrite(s: string, f: RawFrame): string | undefined {
    let r = this.resolve(s, f);
    this.res = r;
    this.name = undefined;
    this.chain = NO_CHAIN;
    if (r.status !== 'resolved') return undefined;
    const m = r.module!;
    const names = this.nameOf(m, r.index!);
    this.name = names.name;
    const located = this.lines && f.offset >= 0 && f.offset <= U32_MAX ? this.chainAt(m, f.offset) : undefined;
    if (located !== undefined) this.chain = located.chain;
    // Wasmtime wrote the frame from the module's DWARF (no `MOD!`): it stays.
    if (f.form === 'wasmtime' && f.modStart < 0) return undefined;
    if (f.form === 'jsc' || f.form === 'jsc-legacy' || f.form === 'wasmtime') {
      const printed = f.form === 'wasmtime' ? this.wtName(names) : names.bare;
      if (!this.checked(s, f, printed, this.mods.name[m])) {
        if (f.offset < 0) this.poison(`${m} ${f.urlStart >= 0 ? s.slice(f.urlStart, f.urlEnd) : ''}`);
        this.res = st('mismatch', m, r.key, r.index);
        this.chain = NO_CHAIN;
        return undefined;
      }
    }
    const mod = this.settings.moduleNames ? this.mods.name[m] : undefined;
    if (located === undefined) return this.display(s, f, names, mod, this.mods.hasNames[m]!);
    // Written with its location before: it stays.
    if (f.nameEnd > f.nameStart && annotationStart(s, f.nameStart, f.nameEnd) >= 0) return undefined;
    return this.located(s, f, names, mod, m, located);
  }

  /** Frame f of function `names` with the source-location chain c (lib/trace-srcloc.ts). */
  located(
    s: string,
    f: RawFrame,
    names: Names,
    mod: string | undefined,
    m: number,
    c: EncodedChain,
  ): string | undefined {
    const expand = this.settings.inlines && expandable(s, f.start, c);
    const { indent, eol } = expand ? lineFrame(s, f.start, f.end) : NO_LINE;
    const wt = f.form === 'wasmtime';
    if (wt && expand) {
      const raw = this.wtName(names) ?? `<wasm function ${names.fi}>`;
      return wasmtimeDetails(s.slice(f.start, f.modStart), c, raw, eol, wasmtimeFns(c, this.codec.enc));
    }
    // The function's name, else the DWARF's name of the outermost frame, then the location.
    const encMod = mod === undefined ? undefined : this.encMod(m, mod);
    const fns = wt ? wasmtimeFns(c, this.codec.enc) : c.fns;
    const bare = (wt ? this.wtName(names) : names.bare) ?? (fns[fns.length - 1] || undefined);
    if (bare === undefined && encMod === undefined) return this.display(s, f, names, mod, this.mods.hasNames[m]!);
    const at = namesOf(names.fi, names.name, (bare ?? '') + annotation(c, expand), encMod);
    at.wt = at.bare;
    if (bare === undefined) at.v8 = encMod + annotation(c, expand);
    const one = this.display(s, f, at, mod, this.mods.hasNames[m]!);
    return one === undefined || !expand ? one : inlinedLines(f.form, c, indent, eol) + one;
  }

  /**
   * For a frame of the `v8` form (`at URL:…`), when the text alone is wanted: the names of
   * its function when it gets one (v8open goes before its URL, a `)` after it).
   */
  v8Names(s: string, f: RawFrame): Names | undefined {
    const r = this.resolve(s, f);
    if (r.status !== 'resolved') return undefined;
    const n = this.nameOf(r.module!, r.index!);
    return n.v8open === undefined ? undefined : n;
  }

  /** Whether a frame without an offset's check (JavaScriptCore, Wasmtime) agrees with the artifact. */
  checked(s: string, f: RawFrame, encName: string | undefined, modName: string | undefined): boolean {
    if (f.modStart >= 0 && this.settings.matchers === undefined) {
      const pm = s.slice(f.modStart, f.modEnd);
      if (pm !== '' && pm !== '<?>' && pm !== '<unknown>' && (modName === undefined || pm !== this.codec.enc(modName)))
        return false;
    }
    let ne = f.nameEnd;
    if (ne > f.nameStart && s.charCodeAt(ne - 1) === 93) {
      const a = annotationStart(s, f.nameStart, ne);
      if (a >= 0) ne = a;
    }
    const printed = s.slice(f.nameStart, ne);
    if (f.nameIsIndex) return f.form !== 'jsc' || printed === '' || printed === String(f.index);
    return printed === '' || printed === '(null)' || printed === encName;
  }

  /** The frame rewritten with the function's names (undefined: unchanged). */
  display(s: string, f: RawFrame, n: Names, mod: string | undefined, hasNames: boolean): string | undefined {
    switch (f.form) {
      case 'v8':
      case 'v8-named': {
        // A newer V8 (Deno's) prints `<anonymous>`, and function names without the module's.
        const newer =
          f.form === 'v8-named' && f.nameEnd - f.nameStart === 11 && s.startsWith('<anonymous>', f.nameStart);
        const d = newer ? n.bare : n.v8;
        if (d === undefined) return undefined;
        if (f.form === 'v8-named') return replace(s, f.start, f.end, f.nameStart, f.nameEnd, d);
        return s.slice(f.start, f.nameStart) + d + ' (' + s.slice(f.nameStart, f.end) + ')';
      }
      case 'spidermonkey':
        return n.sm === undefined ? undefined : replace(s, f.start, f.end, f.nameStart, f.nameEnd, n.sm);
      case 'jsc':
      case 'jsc-legacy':
      case 'wasmtime': {
        const unnamed = f.form === 'wasmtime' || !hasNames ? undefined : f.form === 'jsc' ? '(null)' : '';
        let nd = (f.form === 'wasmtime' ? this.wtName(n) : n.bare) ?? unnamed;
        const bare =
          f.form === 'jsc' && f.nameStart === f.start && f.nameEnd === f.start && s.charCodeAt(f.start) !== 64;
        if (nd !== undefined && bare) nd += '@';
        const md = f.modStart >= 0 && mod !== undefined ? this.codec.enc(mod) : undefined;
        if (nd === undefined && md === undefined) return undefined;
        return replace2(s, f, nd, md);
      }
      default:
        return undefined;
    }
  }
}

/** s[start, end) with [a, b) replaced by x. */
function replace(s: string, start: number, end: number, a: number, b: number, x: string): string {
  return s.slice(start, a) + x + s.slice(b, end);
}

/** The frame with its name slot replaced by nd and its module slot by md (either may be undefined). */
function replace2(s: string, f: RawFrame, nd: string | undefined, md: string | undefined): string {
  const slots: [number, number, string][] = [];
  if (nd !== undefined) slots.push([f.nameStart, f.nameEnd, nd]);
  if (md !== undefined) slots.push([f.modStart, f.modEnd, md]);
  if (slots.length === 2 && slots[1]![0] < slots[0]![0]) slots.reverse();
  let out = '';
  let at = f.start;
  for (const [a, b, x] of slots) {
    out += s.slice(at, a) + x;
    at = b;
  }
  return out + s.slice(at, f.end);
}

// --- Texts -----------------------------------------------------------------------------------

/**
 * Symbolicates the block s (whole lines, or the end of the input): makes the edits, in
 * order; collects frames when `frames` is given, their line numbers counted from
 * `firstLine`. V8 frames `at URL:…` of the module every frame belongs to, when frames are
 * not wanted, are looked up in batches (Symbolicator.defer).
 */
export function symbolicateBlock(
  sym: Symbolicator,
  s: string,
  state: ScanState,
  edits: Edits,
  frames?: SymbolicatedFrame[],
  firstLine = 1,
): void {
  let lineNo = firstLine;
  let counted = 0;
  let lineStart = 0;
  const onLine =
    frames === undefined
      ? undefined
      : (ls: number) => {
          lineNo += countLines(s, counted, ls);
          counted = ls;
          lineStart = ls;
        };
  // With source locations, every frame goes through rewrite() (which adds them).
  const fast = frames === undefined && !sym.lines;
  const batched = fast && sym.only >= 0;
  scan(
    s,
    state,
    (f) => {
      if (f.form === 'v8' && batched) return sym.defer(f, edits);
      sym.flush(edits); // the edits go in order
      if (fast && f.form === 'v8') {
        // Without building the rewritten frame: two insertions.
        const names = sym.v8Names(s, f);
        if (names !== undefined) edits.wrap(f.nameStart, f.end, names);
        return;
      }
      const rewritten = sym.rewrite(s, f);
      if (rewritten !== undefined) edits.replace(f.start, f.end, rewritten);
      if (frames !== undefined) frames.push(frameOf(s, f, lineNo, lineStart, sym, rewritten));
    },
    onLine,
  );
  sym.flush(edits);
}

/** Line terminators (\n, \r\n, \r) in s[from, to). */
export function countLines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || (c === 13 && s.charCodeAt(i + 1) !== 10)) n++;
  }
  return n;
}

function parsedOf(s: string, f: RawFrame, line: number, lineStart: number): ParsedFrame {
  return {
    line,
    start: f.start - lineStart,
    end: f.end - lineStart,
    engine: f.engine,
    form: f.form,
    text: s.slice(f.start, f.end),
    url: f.urlStart >= 0 ? s.slice(f.urlStart, f.urlEnd) : '',
    funcIndex: f.index >= 0 ? f.index : undefined,
    offset: f.offset >= 0 ? f.offset : undefined,
    printedName:
      f.nameStart >= 0 && f.nameEnd > f.nameStart && !f.nameIsIndex
        ? printedNameOf(s, f.nameStart, f.nameEnd)
        : undefined,
  };
}

/** The name slot s[a, b) without a location symbolicate() put after the name. */
function printedNameOf(s: string, a: number, b: number): string {
  const l = s.charCodeAt(b - 1) === 93 ? annotationStart(s, a, b) : -1;
  return s.slice(a, l >= 0 ? l : b);
}

function frameOf(
  s: string,
  f: RawFrame,
  line: number,
  lineStart: number,
  sym: Symbolicator,
  rewritten: string | undefined,
): SymbolicatedFrame {
  const p = parsedOf(s, f, line, lineStart);
  const r = sym.res;
  return {
    ...p,
    status: r.status,
    module: r.module,
    key: r.key,
    resolvedIndex: r.status === 'resolved' ? r.index : undefined,
    name: sym.name,
    rewritten: rewritten ?? p.text,
    srcLocs: sym.chain.length === 0 ? [] : sym.chain.map((x) => ({ ...x })),
  };
}

/** Edits dropped: the frames alone are wanted. */
const NO_EDITS: Edits = { replace() {}, wrap() {}, wrapBytes() {} };

function checkText(text: unknown): string {
  if (typeof text !== 'string') throw new FunckeyError('E_ARG', `text must be a string, got ${describeValue(text)}`);
  return text;
}

/**
 * Rewrites every WebAssembly frame of `text` that the artifact resolves, with the function's
 * name, and leaves everything else as it is. See the top of this file for the forms.
 */
export function symbolicate(text: string, artifact: Artifact, options?: SymbolicateOptions): string {
  const s = checkText(text);
  const a = checkArtifact(artifact);
  let sym = new Symbolicator(a, options, TEXT);
  for (;;) {
    const out = new TextOut(s);
    symbolicateBlock(sym, s, newScanState(), out);
    // A module prefix found wrong after some of its frames were named: again, knowing it.
    if (sym.renamedPoisoned) {
      sym = new Symbolicator(a, options, TEXT, sym.poisoned);
      continue;
    }
    return out.result();
  }
}

/** The structured form: every wasm frame of `text` with what the artifact says about it. */
export function symbolicateFrames(text: string, artifact: Artifact, options?: SymbolicateOptions): SymbolicatedFrame[] {
  const s = checkText(text);
  const a = checkArtifact(artifact);
  let sym = new Symbolicator(a, options, TEXT);
  for (;;) {
    const frames: SymbolicatedFrame[] = [];
    symbolicateBlock(sym, s, newScanState(), NO_EDITS, frames);
    if (!sym.renamedPoisoned) return frames;
    sym = new Symbolicator(a, options, TEXT, sym.poisoned);
  }
}

/** Every WebAssembly frame of a text, in order, without looking anything up. */
export function parseStack(text: string): ParsedFrame[] {
  const s = checkText(text);
  const out: ParsedFrame[] = [];
  let lineNo = 1;
  let counted = 0;
  let lineStart = 0;
  scan(
    s,
    newScanState(),
    (f) => void out.push(parsedOf(s, f, lineNo, lineStart)),
    (ls) => {
      lineNo += countLines(s, counted, ls);
      counted = ls;
      lineStart = ls;
    },
  );
  return out;
}
