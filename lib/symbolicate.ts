/**
 * Symbolication of WebAssembly stack traces: finds the wasm frames of V8, SpiderMonkey and
 * JavaScriptCore in a text (an `err.stack`, a crash report, a log) and puts back the function
 * names a stripped module no longer carries, from an artifact built from the unstripped
 * module. Everything that is not a recognised wasm frame, including the rest of a line that
 * holds one, is left byte for byte as it was.
 *
 * Frames recognised (N is a function index counting imports, OFF a byte offset from the
 * start of the module, as the engines print them):
 *
 * | engine | frame | rewritten as |
 * |---|---|---|
 * | V8 | `at URL:wasm-function[N]:0xOFF` | `at NAME (URL:wasm-function[N]:0xOFF)` |
 * | V8 | `at OLD (URL:wasm-function[N]:0xOFF)` | `at NAME (URL:wasm-function[N]:0xOFF)` |
 * | SpiderMonkey | `OLD@URL:wasm-function[N]:0xOFF` (OLD may be empty; URL may be `x.js line 3 > WebAssembly.instantiate`) | `NAME@URL:wasm-function[N]:0xOFF` |
 * | JavaScriptCore | `[OLD@][MOD:]wasm-function[N][:0xOFF]` (a whole line; MOD is `<?>`, a module name or hash) | `NAME@[MOD:]wasm-function[N][:0xOFF]` |
 * | JavaScriptCore, older | `[MOD.]wasm-function[N]@[wasm code]` (MOD is often `<?>`) | `[MOD.]wasm-function[NAME]@[wasm code]` |
 * | JavaScriptCore | `NAME@[wasm code]`, `MOD.wasm-function[NAME]@[wasm code]` | recognised, left as they are: they carry no index |
 *
 * Each rewrite is what that engine prints for the same frame of the module with its name
 * section, keeping the URL, index and offset where the engine's format has them. V8 and
 * SpiderMonkey print `module.function` when the module has a name (and V8 prints the module
 * name alone for a function without one); NAME follows them unless `moduleNames: false`.
 * The older JavaScriptCore form has a single slot for the index or the name, so its rewrite
 * drops the index from the text (the structured form keeps it).
 *
 * Which function a frame is: with a byte offset, `funcByOffset(module byte offset + OFF)`
 * gives the key `DefinedWasmFunction(m, i)`, hence the function index `imported(m) + i`,
 * hence the name; the index the engine printed must agree with it, else the frame is a
 * `mismatch` (the artifact was not built from this module) and stays as it was. Without an
 * offset, the printed index is looked up directly.
 *
 * Which module of the artifact a frame belongs to:
 * - option `urls`: `[matcher, module]` pairs tried in order on the frame's URL (a string is
 *   compared for equality, a RegExp is tested, a function is called). A frame whose URL
 *   matches none is `foreign` and left as it is. For JavaScriptCore frames the URL is the
 *   module prefix (`<?>`, a name, or '') or `[wasm code]` for the older form.
 * - else option `module`: every frame belongs to that module.
 * - else an artifact of one module: module 0.
 * - else (a component, or several modules): engines run core modules, so an offset counts
 *   from the start of the core module that trapped, and every module's offsets start near 0;
 *   a byte range of the outer binary cannot tell them apart. So each module is tried and the
 *   frame belongs to the one module where the offset falls in a defined function whose index
 *   is the printed one. None: `no-function`; several: `ambiguous`. A frame with no offset
 *   cannot be placed this way and is `ambiguous`. Pass `urls` or `module` to decide.
 *
 * Limits: a name longer than 512 characters or a URL longer than 2048 is not recognised (the
 * frame stays as it was), which keeps the cost of any line linear in its length.
 */
import type { Artifact, ModuleInfo } from './artifact.js';
import { FunckeyError } from './errors.js';
import { FuncKey, FuncKind } from './key.js';

export type Engine = 'v8' | 'spidermonkey' | 'jsc';

/** The form a frame was written in (the rows of the table above). */
export type FrameForm = 'v8' | 'v8-named' | 'spidermonkey' | 'jsc' | 'jsc-legacy' | 'jsc-named';

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
  /** The URL (V8, SpiderMonkey), the module prefix or `[wasm code]` (JavaScriptCore). */
  url: string;
  /** The function index the engine printed (counting imports), when it printed one. */
  funcIndex: number | undefined;
  /** The byte offset the engine printed, when it printed one. */
  offset: number | undefined;
  /** The function name the engine printed, when it printed one. */
  printedName: string | undefined;
}

/**
 * - resolved: the function was found; `name` is its name when the artifact has one.
 * - foreign: `urls` was given and the frame's URL matches none of it.
 * - no-function: the offset is in no defined function of the module, or the index is out of its range.
 * - mismatch: the offset's function has another index than the one printed.
 * - ambiguous: several modules fit (see the module rules above), or none can be chosen.
 * - no-index: the frame names a function but gives neither an index nor an offset.
 */
export type FrameStatus = 'resolved' | 'foreign' | 'no-function' | 'mismatch' | 'ambiguous' | 'no-index';

export interface SymbolicatedFrame extends ParsedFrame {
  status: FrameStatus;
  /** The module of the artifact the frame was attributed to. */
  module: number | undefined;
  /** The key of the function (for a frame with an offset that was resolved). */
  key: FuncKey | undefined;
  /** The function's name in the artifact, if it has one. */
  name: string | undefined;
  /** The frame as the rewritten text has it (equal to `text` when nothing changed). */
  rewritten: string;
}

export type UrlMatcher = string | RegExp | ((url: string) => boolean);

export interface SymbolicateOptions {
  /** `[matcher, module]` pairs (an array or a Map); frames whose URL matches none are left as they are. */
  urls?: Iterable<readonly [UrlMatcher, number]>;
  /** The module every frame belongs to when `urls` is absent. */
  module?: number;
  /** Print `module.function` as V8 and SpiderMonkey do when the module has a name (default true). */
  moduleNames?: boolean;
}

// --- Parsing -------------------------------------------------------------------------------

// Every repetition is bounded, so that a hostile line costs time linear in its length
// (times these bounds), never quadratic: names up to MAX_NAME, URLs up to MAX_URL characters.
const MAX_NAME = 512;
const MAX_URL = 2048;
const HEX = '0x(?<OFF>[0-9a-fA-F]{1,16})';
const IDX = '(?<IDX>\\d{1,10})';
function g(pattern: string, suffix: string): string {
  return pattern.replace(/\?<([A-Z]+)>/g, (_, n: string) => `?<${n}${suffix}>`);
}
// V8: the name is everything between `at ` and the last ` (` before a URL without spaces.
const V8_NAMED = g(`at (?<ASYNC>async )?(?<NAME>.{1,${MAX_NAME}}?) \\((?<URL>[^\\s]{1,${MAX_URL}}?):wasm-function\\[${IDX}\\]:${HEX}\\)`, 'vn');
const V8_ANON = g(`at (?<ASYNC>async )?(?<URL>[^\\s()]{1,${MAX_URL}}?):wasm-function\\[${IDX}\\]:${HEX}`, 'va');
const V8_LINE = new RegExp(`(?<=^|\\s)(?:${V8_NAMED}|${V8_ANON})`, 'g');
// SpiderMonkey (and JavaScriptCore's `name@MOD:wasm-function[N]`): at the start of a line
// the name is everything before the `@`; inside a line it has no spaces and starts after a
// space or a comma. The JavaScriptCore forms start there too (Safari joins frames with commas).
const SM = g(`(?<NAME>(?<=^\\s*)[^@]{0,${MAX_NAME}}?|(?<![^\\s,])[^\\s@,]{0,${MAX_NAME}})@(?<URL>[^@]{0,${MAX_URL}}?):wasm-function\\[${IDX}\\](?::${HEX})?`, 'sm');
// JavaScriptCore, older: `<?>.wasm-function[12]@[wasm code]`, or a name in the brackets.
const JSC_LEGACY = g(`(?<![^\\s@,])(?<PRE>(?:<\\?>|[^\\s@,]{0,${MAX_NAME}}?)\\.)?wasm-function\\[(?<SLOT>[^\\]\\s]{0,${MAX_NAME}})\\]@\\[wasm code\\]`, 'jl');
const JSC_NAMED = g(`(?<![^\\s,])(?<NAME>[^\\s@,]{1,${MAX_NAME}})@\\[wasm code\\]`, 'jn');
// JavaScriptCore, newer, without a name: the whole line is `[MOD:]wasm-function[N][:0xOFF]`.
const JSC_BARE = g(`^(?<LEAD>\\s*)(?:(?<MOD>[^\\s@:]{0,${MAX_NAME}}):)?wasm-function\\[${IDX}\\](?::${HEX})?(?=\\s*$)`, 'jb');
const OTHER_LINE = new RegExp(`(?<=^|\\s)(?:${V8_NAMED}|${V8_ANON})|${JSC_LEGACY}|${JSC_NAMED}|${SM}|${JSC_BARE}`, 'g');
const STARTS_WITH_AT = /^\s*at\s/;

/**
 * A frame and where its name goes: the rewritten frame is
 * `text[0, cut) + name + insert + text[resume, end) + tail`. (Plain data rather than a
 * closure, and frames built with one literal shape: this runs once per frame.)
 */
interface Slot {
  frame: ParsedFrame;
  cut: number;
  resume: number;
  insert: string;
  tail: string;
}

function num(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}
function hex(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = parseInt(s, 16);
  return Number.isSafeInteger(n) ? n : undefined;
}

function frame(
  line: number,
  start: number,
  text: string,
  engine: Engine,
  form: FrameForm,
  url: string,
  funcIndex: string | undefined,
  offset: string | undefined,
  printedName: string | undefined,
): ParsedFrame {
  return { line, start, end: start + text.length, engine, form, text, url, funcIndex: num(funcIndex), offset: hex(offset), printedName };
}

function slot(f: ParsedFrame, cut: number, resume: number, insert: string, tail: string): Slot {
  return { frame: f, cut, resume, insert, tail };
}

function rewrite(s: Slot, name: string): string {
  const t = s.frame.text;
  return t.slice(0, s.cut) + name + s.insert + t.slice(s.resume) + s.tail;
}

function matchToSlot(m: RegExpExecArray, lineNo: number): Slot | undefined {
  const gr = m.groups!;
  const at = m.index;
  const text = m[0];
  if (gr.IDXvn !== undefined) {
    // `at [async ]OLD (LOC)`: OLD is replaced.
    const cut = 3 + (gr.ASYNCvn?.length ?? 0);
    const f = frame(lineNo, at, text, 'v8', 'v8-named', gr.URLvn!, gr.IDXvn, gr.OFFvn, gr.NAMEvn);
    return slot(f, cut, cut + gr.NAMEvn!.length, '', '');
  }
  if (gr.IDXva !== undefined) {
    // `at [async ]LOC` becomes `at [async ]NAME (LOC)`.
    const cut = 3 + (gr.ASYNCva?.length ?? 0);
    return slot(frame(lineNo, at, text, 'v8', 'v8', gr.URLva!, gr.IDXva, gr.OFFva, undefined), cut, cut, ' (', ')');
  }
  if (gr.SLOTjl !== undefined) {
    // `[MOD.]wasm-function[N]@[wasm code]`: N is replaced.
    const isIndex = /^\d+$/.test(gr.SLOTjl);
    const cut = (gr.PREjl?.length ?? 0) + 'wasm-function['.length;
    const f = frame(lineNo, at, text, 'jsc', 'jsc-legacy', '[wasm code]', isIndex ? gr.SLOTjl : undefined, undefined, isIndex ? undefined : gr.SLOTjl);
    return slot(f, cut, cut + gr.SLOTjl.length, '', '');
  }
  if (gr.NAMEjn !== undefined) {
    return slot(frame(lineNo, at, text, 'jsc', 'jsc-named', '[wasm code]', undefined, undefined, gr.NAMEjn), 0, 0, '', '');
  }
  if (gr.IDXsm !== undefined) {
    // `OLD@URL:...`: OLD (perhaps empty) is replaced. A URL with neither a scheme nor a path
    // is JavaScriptCore's module prefix (`<?>`, a name or a hash).
    const url = gr.URLsm!;
    const jsc = !/[:/]/.test(url);
    const printed = gr.NAMEsm!;
    const f = frame(lineNo, at, text, jsc ? 'jsc' : 'spidermonkey', jsc ? 'jsc' : 'spidermonkey', url, gr.IDXsm, gr.OFFsm, printed === '' ? undefined : printed);
    return slot(f, 0, printed.length, '', '');
  }
  if (gr.IDXjb !== undefined) {
    // `[MOD:]wasm-function[N][:0xOFF]` alone on its line becomes `NAME@[MOD:]wasm-function...`.
    const lead = gr.LEADjb!.length;
    return slot(frame(lineNo, at + lead, text.slice(lead), 'jsc', 'jsc', gr.MODjb ?? '', gr.IDXjb, gr.OFFjb, undefined), 0, 0, '@', '');
  }
  return undefined;
}

function mightHoldFrame(line: string): boolean {
  return line.includes('wasm-function[') || line.includes('@[wasm code]');
}

/** Splits text into lines, keeping each line's terminator apart. */
function splitLines(text: string): { body: string; eol: string }[] {
  const out: { body: string; eol: string }[] = [];
  const re = /\r\n|\n|\r/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    out.push({ body: text.slice(last, m.index), eol: m[0] });
    last = m.index + m[0].length;
  }
  out.push({ body: text.slice(last), eol: '' });
  return out;
}

function slotsOfLine(line: string, lineNo: number): Slot[] {
  if (!mightHoldFrame(line)) return [];
  const re = STARTS_WITH_AT.test(line) ? V8_LINE : OTHER_LINE;
  re.lastIndex = 0;
  const out: Slot[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    const s = matchToSlot(m, lineNo);
    if (s !== undefined) out.push(s);
  }
  return out;
}

/** Every WebAssembly frame of a text, in order, without looking anything up. */
export function parseStack(text: string): ParsedFrame[] {
  if (typeof text !== 'string') throw new FunckeyError('E_ARG', 'text must be a string');
  const out: ParsedFrame[] = [];
  splitLines(text).forEach(({ body }, i) => {
    for (const s of slotsOfLine(body, i + 1)) out.push(s.frame);
  });
  return out;
}

// --- Resolution ----------------------------------------------------------------------------

const U32_MAX = 0xffffffff;

interface Resolver {
  resolve(frame: ParsedFrame): { status: FrameStatus; module?: number; key?: FuncKey; funcIndex?: number };
  modules: ModuleInfo[];
}

function checkOptions(options: unknown): SymbolicateOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw new FunckeyError('E_ARG', 'options must be an object');
  return options as SymbolicateOptions;
}

function makeResolver(artifact: Artifact, options: SymbolicateOptions): Resolver {
  const modules = artifact.modules;
  const checkModule = (what: string, m: unknown): number => {
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 0) throw new FunckeyError('E_ARG', `${what} must be a module index, got ${String(m)}`);
    if (m >= modules.length) throw new FunckeyError('E_RANGE', `${what}: module ${m} does not exist: the artifact has ${modules.length}`);
    return m;
  };
  let matchers: { test: (url: string) => boolean; module: number }[] | undefined;
  if (options.urls !== undefined) {
    if (options.urls === null || typeof (options.urls as Iterable<unknown>)[Symbol.iterator] !== 'function')
      throw new FunckeyError('E_ARG', 'urls must be an array or a Map of [matcher, module] pairs');
    matchers = [];
    for (const pair of options.urls) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new FunckeyError('E_ARG', 'each entry of urls must be a [matcher, module] pair');
      const [matcher, module] = pair as [unknown, unknown];
      const m = checkModule('urls', module);
      if (typeof matcher === 'string') matchers.push({ test: (u) => u === matcher, module: m });
      else if (matcher instanceof RegExp)
        matchers.push({
          test: (u) => {
            matcher.lastIndex = 0;
            return matcher.test(u);
          },
          module: m,
        });
      else if (typeof matcher === 'function') matchers.push({ test: (u) => Boolean((matcher as (u: string) => unknown)(u)), module: m });
      else throw new FunckeyError('E_ARG', 'a urls matcher must be a string, a RegExp or a function');
    }
  }
  const fixed = options.module !== undefined ? checkModule('module', options.module) : modules.length === 1 ? 0 : undefined;

  /** The key and function index of `offset` in module m, or undefined. */
  const byOffset = (m: number, offset: number): { key: FuncKey; funcIndex: number } | undefined => {
    const mod = modules[m]!;
    const at = mod.byteOffset + offset;
    if (at > U32_MAX) return undefined;
    const key = artifact.funcByOffset(at);
    if (key === undefined || key.kind !== FuncKind.DefinedWasmFunction || key.module !== m) return undefined;
    return { key, funcIndex: mod.importedFuncs + key.index };
  };

  const inModule = (frame: ParsedFrame, m: number) => {
    if (frame.offset !== undefined) {
      const hit = byOffset(m, frame.offset);
      if (hit === undefined) return { status: 'no-function' as const, module: m };
      if (frame.funcIndex !== undefined && frame.funcIndex !== hit.funcIndex)
        return { status: 'mismatch' as const, module: m, key: hit.key, funcIndex: hit.funcIndex };
      return { status: 'resolved' as const, module: m, key: hit.key, funcIndex: hit.funcIndex };
    }
    const fi = frame.funcIndex!;
    const mod = modules[m]!;
    if (fi >= mod.importedFuncs + mod.definedFuncs) return { status: 'no-function' as const, module: m };
    return { status: 'resolved' as const, module: m, funcIndex: fi };
  };

  return {
    modules,
    resolve(frame) {
      if (frame.funcIndex === undefined && frame.offset === undefined) return { status: 'no-index' };
      if (matchers !== undefined) {
        const hit = matchers.find((x) => x.test(frame.url));
        if (hit === undefined) return { status: 'foreign' };
        return inModule(frame, hit.module);
      }
      if (fixed !== undefined) return inModule(frame, fixed);
      if (frame.offset === undefined) return { status: 'ambiguous' };
      let found: ReturnType<typeof inModule> | undefined;
      let count = 0;
      for (let m = 0; m < modules.length; m++) {
        const r = inModule(frame, m);
        if (r.status === 'resolved') {
          count++;
          found = r;
        }
      }
      if (count === 1) return found!;
      return { status: count === 0 ? 'no-function' : 'ambiguous' };
    },
  };
}

function symbolicateLines(text: string, artifact: Artifact, options: unknown, wantFrames: boolean): { text: string; frames: SymbolicatedFrame[] } {
  if (typeof text !== 'string') throw new FunckeyError('E_ARG', 'text must be a string');
  const opts = checkOptions(options);
  const resolver = makeResolver(artifact, opts);
  const moduleNames = opts.moduleNames !== false;
  const frames: SymbolicatedFrame[] | undefined = wantFrames ? [] : undefined;
  const pieces: string[] = [];
  splitLines(text).forEach(({ body, eol }, i) => {
    const slots = slotsOfLine(body, i + 1);
    let last = 0;
    for (const slot of slots) {
      const f = slot.frame;
      const r = resolver.resolve(f);
      let name: string | undefined;
      let display: string | undefined;
      if (r.status === 'resolved') {
        name = artifact.funcName(r.funcIndex!, r.module!);
        const modName = moduleNames ? resolver.modules[r.module!]!.name : undefined;
        if (f.engine === 'jsc') display = name;
        else if (name !== undefined) display = modName !== undefined ? `${modName}.${name}` : name;
        else display = modName;
      }
      const rewritten = display !== undefined && f.form !== 'jsc-named' ? rewrite(slot, display) : f.text;
      pieces.push(body.slice(last, f.start), rewritten);
      last = f.end;
      if (frames !== undefined)
        frames.push({
          line: f.line,
          start: f.start,
          end: f.end,
          engine: f.engine,
          form: f.form,
          text: f.text,
          url: f.url,
          funcIndex: f.funcIndex,
          offset: f.offset,
          printedName: f.printedName,
          status: r.status,
          module: r.module,
          key: r.key,
          name,
          rewritten,
        });
    }
    pieces.push(body.slice(last), eol);
  });
  return { text: pieces.join(''), frames: frames ?? [] };
}

/**
 * Rewrites every WebAssembly frame of `text` that the artifact resolves, with the function's
 * name, and leaves everything else as it is. See the top of this file for the forms.
 */
export function symbolicate(text: string, artifact: Artifact, options?: SymbolicateOptions): string {
  return symbolicateLines(text, artifact, options, false).text;
}

/** The structured form: every wasm frame of `text` with what the artifact says about it. */
export function symbolicateFrames(text: string, artifact: Artifact, options?: SymbolicateOptions): SymbolicatedFrame[] {
  return symbolicateLines(text, artifact, options, true).frames;
}
