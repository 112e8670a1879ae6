import type { SrcFrame } from './srclocs.js';
import type { Core, Description } from './core.js';
import { argU32, describeValue, isResizable, isTypedArray, plainView } from './args.js';
import { FunckeyError } from './errors.js';
import { FileImage } from './file.js';
import { NONE } from './format.js';
import { FuncKey, rawKeyProblem, UNCHECKED } from './key.js';
import { envVar, nativeStatus, openNativeCore } from './native.js';
import { JsCore } from './reader.js';
import type { FuncLoc } from './writer.js';

export type BackendName = 'js' | 'native';
export type BackendChoice = 'auto' | BackendName;

export interface OpenOptions {
  /** 'auto' (default): the FUNCKEY_BACKEND environment variable, else native when it loads, else js. */
  backend?: BackendChoice;
}

export interface ModuleInfo {
  index: number;
  name: string | undefined;
  importedFuncs: number;
  definedFuncs: number;
  byteOffset: number;
  /** Hex SHA-256 of the module's source, when the artifact records one. */
  sha256: string | undefined;
}

/**
 * A batch call's input: a Uint32Array (or subclass), or an array of u32 numbers copied into a
 * new one; anything else is E_ARG. Reading an array's elements may run the caller's code
 * (getters, proxies), so batch calls do it before they look at any typed array's memory.
 */
function argU32Array(what: string, x: unknown): Uint32Array {
  if (isTypedArray(x, 'Uint32Array')) return x;
  if (Array.isArray(x)) {
    // Checked one element at a time before any allocation: a sparse or proxied array with a
    // huge length fails at its first bad element instead of allocating for its length.
    const values: number[] = [];
    const n = x.length;
    for (let i = 0; i < n; i++) values.push(argU32(`${what}[${i}]`, x[i]));
    return new Uint32Array(values);
  }
  throw new FunckeyError(
    'E_ARG',
    `${what} must be a Uint32Array (or an array of u32 numbers), got ${describeValue(x)}`,
  );
}

/** Whether two arrays share any byte of memory. */
function overlap(a: Uint32Array, b: Uint32Array): boolean {
  return (
    a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength
  );
}

/** out[names[0]] and out[names[1]], each property read once; undefined when out is. */
function readOut(out: unknown, names: [string, string]): [unknown, unknown] | undefined {
  if (out === undefined) return undefined;
  if (typeof out !== 'object' || out === null)
    throw new FunckeyError(
      'E_ARG',
      `out must be an object { ${names.join(', ')} } of Uint32Arrays, got ${describeValue(out)}`,
    );
  const o = out as Record<string, unknown>;
  const first = o[names[0]];
  const second = o[names[1]];
  return [first, second];
}

/**
 * The output arrays of a batch call: two new arrays of length n when `out` is undefined, else
 * fresh views of the caller's two Uint32Arrays (read by readOut), of length n, sharing no
 * memory with each other or with the inputs (the backends read and write in different
 * orders, so shared memory could give different answers). Runs none of the caller's code.
 */
function outArrays(
  out: [unknown, unknown] | undefined,
  names: [string, string],
  n: number,
  inputs: Uint32Array[],
): [Uint32Array, Uint32Array] {
  if (out === undefined) return [new Uint32Array(n), new Uint32Array(n)];
  const arrays = out.map((x, i) => {
    if (!isTypedArray(x, 'Uint32Array'))
      throw new FunckeyError('E_ARG', `out.${names[i]} must be a Uint32Array, got ${describeValue(x)}`);
    const v = plainView(x);
    if (v.length !== n) throw new FunckeyError('E_ARG', `out.${names[i]} has length ${v.length}, the input ${n}`);
    return v;
  }) as [Uint32Array, Uint32Array];
  if (overlap(arrays[0], arrays[1]))
    throw new FunckeyError('E_ARG', `out.${names[0]} and out.${names[1]} share memory`);
  for (let i = 0; i < 2; i++)
    for (const input of inputs)
      if (overlap(arrays[i]!, input))
        throw new FunckeyError('E_ARG', `out.${names[i]} shares memory with an input array`);
  return arrays;
}

function resolveBackend(choice: unknown): BackendName {
  let c = choice;
  if (c === undefined || c === 'auto') {
    const env = envVar('FUNCKEY_BACKEND');
    if (env !== undefined && env !== '' && env !== 'auto') {
      if (env !== 'js' && env !== 'native')
        throw new FunckeyError('E_ARG', `FUNCKEY_BACKEND must be 'auto', 'native' or 'js', got ${JSON.stringify(env)}`);
      c = env;
    } else {
      c = nativeStatus().available ? 'native' : 'js';
    }
  }
  if (c !== 'js' && c !== 'native')
    throw new FunckeyError('E_ARG', `backend must be 'auto', 'native' or 'js', got ${describeValue(c)}`);
  return c;
}

/**
 * Opens an artifact: a path (js reads what it validates and the rest when first used, native
 * maps it) or the artifact's bytes.
 * Open checks the header, the section table, the namespaces and the module records, in time
 * that does not depend on the number of functions; nothing else is decoded.
 */
export function open(source: string | Uint8Array, options: OpenOptions = {}): Artifact {
  if (options === null || typeof options !== 'object') throw new FunckeyError('E_ARG', 'options must be an object');
  if (typeof source === 'string') {
    if (source === '') throw new FunckeyError('E_ARG', 'path must not be empty');
  } else if (!isTypedArray(source, 'Uint8Array')) {
    throw new FunckeyError('E_ARG', `source must be a path or a Uint8Array, got ${describeValue(source)}`);
  }
  const backend = resolveBackend(options.backend);
  if (typeof source !== 'string') {
    // The memory the bytes cover now, through a fresh view (a subclass cannot lie about it).
    // The js reader reads them in place; a resizable buffer (which can shrink under it) or an
    // unaligned view is copied first. The native backend copies whatever it is given.
    const view = plainView(source);
    const copy = backend === 'native' || isResizable(source) || view.byteOffset % 8 !== 0;
    const bytes = copy && backend === 'js' ? new Uint8Array(view) : view;
    return new Artifact(
      backend === 'native' ? nativeCore(bytes) : new JsCore(bytes),
      backend,
      copy ? undefined : bytes,
    );
  }
  return new Artifact(backend === 'native' ? nativeCore(source) : jsCoreOfFile(source), backend);
}

/** The js core of a file read in parts: open reads what it validates, lookups the rest when first used. */
function jsCoreOfFile(path: string): Core {
  const image = FileImage.open(path);
  try {
    return new JsCore(image.bytes, image);
  } catch (e) {
    image.close();
    throw e;
  }
}

function nativeCore(source: string | Uint8Array): Core {
  const status = nativeStatus();
  if (!status.available)
    throw new FunckeyError('E_BACKEND', `the native backend is not available: ${status.reason ?? 'unknown reason'}`);
  return openNativeCore(source);
}

/**
 * An open artifact. Every method checks its arguments and that the artifact is open, then
 * asks the backend; both backends give the same answers and the same error codes.
 */
export class Artifact {
  /** Which backend answers: 'native' (C++, mapped file) or 'js'. */
  readonly backend: BackendName;
  #core: Core | undefined;
  #desc: Description | undefined;
  #modules: ModuleInfo[] | undefined;
  #moduleCount = -1;
  readonly #pair = new Uint32Array(2);
  /** The caller's bytes, when the js core reads them in place: detaching them empties its views. */
  readonly #inPlace: Uint8Array | undefined;

  /** @internal Use open(). */
  constructor(core: Core, backend: BackendName, inPlace?: Uint8Array) {
    this.#core = core;
    this.backend = backend;
    this.#inPlace = inPlace;
  }

  /**
   * The core, or E_CLOSED. Methods call it first (a closed artifact answers E_CLOSED whatever
   * the arguments) and again after the last read of an argument, since reading one may run
   * the caller's code, which may close the artifact or detach the bytes it reads.
   */
  #live(): Core {
    const c = this.#core;
    if (c === undefined) throw new FunckeyError('E_CLOSED', 'the artifact is closed');
    if (this.#inPlace !== undefined && this.#inPlace[0] === undefined)
      throw new FunckeyError(
        'E_CLOSED',
        'the bytes given to open() were detached (transferred): the artifact can no longer read them',
      );
    return c;
  }

  get closed(): boolean {
    return this.#core === undefined;
  }

  /** The header, sections, namespaces and module records. */
  describe(): Description {
    const c = this.#live();
    this.#desc ??= c.describe();
    return structuredClone(this.#desc);
  }

  get modules(): ModuleInfo[] {
    const c = this.#live();
    if (this.#modules === undefined) {
      this.#desc ??= c.describe();
      this.#modules = this.#desc.modules.map((m, index) => ({
        index,
        name: m.name,
        importedFuncs: m.importedFuncs,
        definedFuncs: m.definedFuncs,
        byteOffset: m.byteOffset,
        sha256: m.sha256,
      }));
    }
    return this.#modules.map((m) => ({ ...m }));
  }

  #checkModule(module: unknown): number {
    argU32('module', module);
    // The count alone, from the info header: a lookup costs no more than its answer, so the
    // first name lookup does not describe every module.
    if (this.#moduleCount < 0) this.#moduleCount = this.#live().moduleCount();
    if ((module as number) >= this.#moduleCount)
      throw new FunckeyError(
        'E_RANGE',
        `module ${module as number} does not exist: the artifact has ${this.#moduleCount}`,
      );
    return module as number;
  }

  /**
   * The core, with `key`'s namespace and index in #pair: read once each (a getter may run
   * the caller's code, so the artifact is checked again after), u32s, or E_ARG.
   */
  #keyed(key: unknown): Core {
    const c = this.#live();
    if (!(key instanceof FuncKey)) throw new FunckeyError('E_ARG', `key must be a FuncKey, got ${describeValue(key)}`);
    const ns = key.namespace;
    const index = key.index;
    if (
      ns >>> 0 !== ns ||
      index >>> 0 !== index ||
      this.#core !== c ||
      (this.#inPlace !== undefined && this.#inPlace[0] === undefined)
    ) {
      const problem = rawKeyProblem(ns, index);
      if (problem !== undefined) throw new FunckeyError('E_ARG', `key is not a valid FuncKey: ${problem}`);
      this.#live();
    }
    this.#pair[0] = ns;
    this.#pair[1] = index;
    return c;
  }

  /** The location of a function in the text, or undefined when the key is absent. */
  funcLoc(key: FuncKey): FuncLoc | undefined {
    const c = this.#keyed(key);
    const out = this.#pair;
    return c.funcLoc(out[0]!, out[1]!, out) ? { start: out[0]!, length: out[1]! } : undefined;
  }

  /** The FilePos (offset of the function in the original file), or undefined. */
  srcLoc(key: FuncKey): number | undefined {
    const c = this.#keyed(key);
    const s = c.srcLoc(this.#pair[0]!, this.#pair[1]!);
    return s === NONE ? undefined : s;
  }

  /** The key of the function whose location contains `offset`, or undefined. */
  funcByOffset(offset: number): FuncKey | undefined {
    const c = this.#live();
    argU32('offset', offset);
    const out = this.#pair;
    return c.funcByOffset(offset, out) ? new FuncKey(out[0]!, out[1]!, UNCHECKED) : undefined;
  }

  /** The name of function `funcIndex` (counting imports) of `module`, or undefined. */
  funcName(funcIndex: number, module = 0): string | undefined {
    const c = this.#live();
    argU32('funcIndex', funcIndex);
    return c.funcName(funcIndex, this.#checkModule(module));
  }

  /**
   * Batch funcLoc: absent keys give start NONE (0xFFFFFFFF) and length 0. The answers go to
   * `out` when given (two Uint32Arrays of the keys' length, sharing no memory with the inputs
   * or each other, returned as they are), to new arrays otherwise. Reusing `out` saves
   * allocating, and first touching, two fresh arrays per call. After an error its contents
   * are unspecified.
   */
  funcLocs(
    namespaces: Uint32Array,
    indices: Uint32Array,
    out?: { starts: Uint32Array; lengths: Uint32Array },
  ): { starts: Uint32Array; lengths: Uint32Array } {
    this.#live();
    // The caller's code (getters, proxies) runs here, all of it before any length is taken.
    const outs = readOut(out, ['starts', 'lengths']);
    const nsArg = argU32Array('namespaces', namespaces);
    const idxArg = argU32Array('indices', indices);
    const ns = plainView(nsArg);
    const idx = plainView(idxArg);
    if (ns.length !== idx.length)
      throw new FunckeyError('E_ARG', `namespaces and indices differ in length (${ns.length}, ${idx.length})`);
    const [starts, lengths] = outArrays(outs, ['starts', 'lengths'], ns.length, [ns, idx]);
    this.#live().funcLocs(ns, idx, starts, lengths);
    return out ?? { starts, lengths };
  }

  /**
   * Batch funcByOffset: offsets in no function give namespace and index NONE. The answers go
   * to `out` when given, as for funcLocs.
   */
  funcsByOffset(
    offsets: Uint32Array,
    out?: { namespaces: Uint32Array; indices: Uint32Array },
  ): { namespaces: Uint32Array; indices: Uint32Array } {
    this.#live();
    const outs = readOut(out, ['namespaces', 'indices']);
    const offs = plainView(argU32Array('offsets', offsets));
    const [namespaces, indices] = outArrays(outs, ['namespaces', 'indices'], offs.length, [offs]);
    this.#live().funcsByOffset(offs, namespaces, indices);
    return out ?? { namespaces, indices };
  }

  /**
   * The source-location chain at a byte offset of the text (the outer binary offset an
   * engine prints), innermost first: the inlined frames, then the function they are inlined
   * into. [] where the artifact has no line information for the offset (FORMAT.md 3.5).
   */
  srcLocs(offset: number): SrcFrame[] {
    const c = this.#live();
    argU32('offset', offset);
    return c.srcLocs(offset);
  }

  /** Batch srcLocs: element k is the chain at offsets[k]. */
  srcLocsByOffsets(offsets: Uint32Array): SrcFrame[][] {
    this.#live();
    const offs = plainView(argU32Array('offsets', offsets)).slice();
    const c = this.#live();
    const out = new Array<SrcFrame[]>(offs.length);
    for (let k = 0; k < offs.length; k++) out[k] = c.srcLocs(offs[k]!);
    return out;
  }

  /** Batch funcName. */
  funcNames(funcIndices: Uint32Array, module = 0): (string | undefined)[] {
    this.#live();
    const fis = plainView(argU32Array('funcIndices', funcIndices));
    const m = this.#checkModule(module);
    return this.#live().funcNames(fis, m);
  }

  /** Releases the artifact (native: unmaps the file now). Closing twice is harmless. */
  close(): void {
    const c = this.#core;
    if (c === undefined) return;
    this.#core = undefined;
    c.close();
  }
}
