import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import type { Core, Description } from './core.js';
import { argU32, describeValue } from './args.js';
import { FunckeyError } from './errors.js';
import { NONE } from './format.js';
import { FuncKey, UNCHECKED } from './key.js';
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

/** A Uint32Array as it is, or an array of u32 numbers copied into one; anything else is E_ARG. */
function argU32Array(what: string, x: unknown): Uint32Array {
  if (x instanceof Uint32Array) return x;
  if (Array.isArray(x)) {
    const out = new Uint32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = argU32(`${what}[${i}]`, x[i]);
    return out;
  }
  throw new FunckeyError('E_ARG', `${what} must be a Uint32Array (or an array of u32 numbers), got ${describeValue(x)}`);
}

/** Whether two arrays share any byte of memory. */
function overlap(a: Uint32Array, b: Uint32Array): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/**
 * The output arrays of a batch call: two new arrays of length n when `out` is undefined, else
 * out[names[0]] and out[names[1]], Uint32Arrays of length n that share no memory with each
 * other or with the inputs (the backends read and write in different orders, so shared
 * memory could give different answers).
 */
function outArrays(out: unknown, names: [string, string], n: number, inputs: Uint32Array[]): [Uint32Array, Uint32Array] {
  if (out === undefined) return [new Uint32Array(n), new Uint32Array(n)];
  if (typeof out !== 'object' || out === null)
    throw new FunckeyError('E_ARG', `out must be an object { ${names.join(', ')} } of Uint32Arrays, got ${describeValue(out)}`);
  const arrays = names.map((name) => {
    const x = (out as Record<string, unknown>)[name];
    if (!(x instanceof Uint32Array)) throw new FunckeyError('E_ARG', `out.${name} must be a Uint32Array, got ${describeValue(x)}`);
    if (x.length !== n) throw new FunckeyError('E_ARG', `out.${name} has length ${x.length}, the input ${n}`);
    return x;
  }) as [Uint32Array, Uint32Array];
  if (overlap(arrays[0], arrays[1])) throw new FunckeyError('E_ARG', `out.${names[0]} and out.${names[1]} share memory`);
  for (let i = 0; i < 2; i++)
    for (const input of inputs)
      if (overlap(arrays[i]!, input)) throw new FunckeyError('E_ARG', `out.${names[i]} shares memory with an input array`);
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
  if (c !== 'js' && c !== 'native') throw new FunckeyError('E_ARG', `backend must be 'auto', 'native' or 'js', got ${describeValue(c)}`);
  return c;
}

/** The whole file, as the native backend would map it: a regular file, else E_IO. */
function readAll(path: string): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
    return readFileSync(fd);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new FunckeyError('E_IO', `cannot read ${path}: ${err.code ?? err.message}`, { cause: e });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Opens an artifact: a path (js reads the file, native maps it) or the artifact's bytes.
 * Open checks the header, the section table, the namespaces and the module records, in time
 * that does not depend on the number of functions; nothing else is decoded.
 */
export function open(source: string | Uint8Array, options: OpenOptions = {}): Artifact {
  if (options === null || typeof options !== 'object') throw new FunckeyError('E_ARG', 'options must be an object');
  if (typeof source === 'string') {
    if (source === '') throw new FunckeyError('E_ARG', 'path must not be empty');
  } else if (!(source instanceof Uint8Array)) {
    throw new FunckeyError('E_ARG', `source must be a path or a Uint8Array, got ${describeValue(source)}`);
  }
  const backend = resolveBackend(options.backend);
  let core: Core;
  if (backend === 'native') {
    const status = nativeStatus();
    if (!status.available) throw new FunckeyError('E_BACKEND', `the native backend is not available: ${status.reason ?? 'unknown reason'}`);
    core = openNativeCore(source);
  } else {
    core = new JsCore(typeof source === 'string' ? readAll(source) : source);
  }
  return new Artifact(core, backend);
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

  /** @internal Use open(). */
  constructor(core: Core, backend: BackendName) {
    this.#core = core;
    this.backend = backend;
  }

  #live(): Core {
    const c = this.#core;
    if (c === undefined) throw new FunckeyError('E_CLOSED', 'the artifact is closed');
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
    // The count alone is kept: an artifact that only looks up names holds no description.
    if (this.#moduleCount < 0) this.#moduleCount = (this.#desc ?? this.#live().describe()).modules.length;
    if ((module as number) >= this.#moduleCount)
      throw new FunckeyError('E_RANGE', `module ${module as number} does not exist: the artifact has ${this.#moduleCount}`);
    return module as number;
  }

  /** The location of a function in the text, or undefined when the key is absent. */
  funcLoc(key: FuncKey): FuncLoc | undefined {
    const c = this.#live();
    if (!(key instanceof FuncKey)) throw new FunckeyError('E_ARG', `key must be a FuncKey, got ${describeValue(key)}`);
    const out = this.#pair;
    return c.funcLoc(key.namespace, key.index, out) ? { start: out[0]!, length: out[1]! } : undefined;
  }

  /** The FilePos (offset of the function in the original file), or undefined. */
  srcLoc(key: FuncKey): number | undefined {
    const c = this.#live();
    if (!(key instanceof FuncKey)) throw new FunckeyError('E_ARG', `key must be a FuncKey, got ${describeValue(key)}`);
    const s = c.srcLoc(key.namespace, key.index);
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
    const c = this.#live();
    const ns = argU32Array('namespaces', namespaces);
    const idx = argU32Array('indices', indices);
    if (ns.length !== idx.length) throw new FunckeyError('E_ARG', `namespaces and indices differ in length (${ns.length}, ${idx.length})`);
    const [starts, lengths] = outArrays(out, ['starts', 'lengths'], ns.length, [ns, idx]);
    c.funcLocs(ns, idx, starts, lengths);
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
    const c = this.#live();
    const offs = argU32Array('offsets', offsets);
    const [namespaces, indices] = outArrays(out, ['namespaces', 'indices'], offs.length, [offs]);
    c.funcsByOffset(offs, namespaces, indices);
    return out ?? { namespaces, indices };
  }

  /** Batch funcName. */
  funcNames(funcIndices: Uint32Array, module = 0): (string | undefined)[] {
    const c = this.#live();
    const fis = argU32Array('funcIndices', funcIndices);
    return c.funcNames(fis, this.#checkModule(module));
  }

  /** Releases the artifact (native: unmaps the file now). Closing twice is harmless. */
  close(): void {
    const c = this.#core;
    if (c === undefined) return;
    this.#core = undefined;
    c.close();
  }
}
