/**
 * The native backend: the C++ reader of native/ (loaded with node-gyp-build from the package
 * root) behind the `Core` interface. A path is memory-mapped; bytes handed in are copied once
 * into memory the addon owns (so the caller may reuse or detach its buffer). The addon
 * validates exactly as lib/reader.ts does and answers with the same loops (FORMAT.md 3.2, 5).
 *
 * Calls are shaped for speed: an artifact is a small integer handle; a single lookup writes
 * the handle and its arguments into `scratch`, a Uint32Array shared with the addon, calls
 * with no arguments, and reads the answer from `scratch`, so no JS value is converted or
 * made per call; batch lookups fill the caller's arrays in one call.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Core, Description } from './core.js';
import { FunckeyError, isErrorCode } from './errors.js';
import { NONE } from './format.js';
import { cjsRequire } from './require.js';
import { StringCache, type SrcFrame } from './srclocs.js';

export interface NativeStatus {
  available: boolean;
  /** The addon file that loaded, when it did. */
  path?: string;
  /** Why the addon did not load, when it did not. */
  reason?: string;
}

/** The addon's exports (native/binding.cc). `id` names an open artifact. */
interface Addon {
  /** Both open calls return the token and leave the id in scratch[0] (no array to build). */
  openPath(path: string): object;
  openBytes(bytes: Uint8Array): object;
  close(id: number): void;
  /** The single lookups read [id, a, b] from scratch and leave their answer there. */
  funcLoc(): boolean;
  srcLoc(): boolean;
  funcByOffset(): boolean;
  funcName(): string | undefined;
  /** The chain at [id, offset] of scratch into srcScratch, 4 words per frame: the count, or -count when it does not fit. */
  srcLocsScratch(): number;
  funcLocs(id: number, namespaces: Uint32Array, indices: Uint32Array, starts: Uint32Array, lengths: Uint32Array): void;
  funcsByOffset(id: number, offsets: Uint32Array, namespaces: Uint32Array, indices: Uint32Array): void;
  funcNames(id: number, funcIndices: Uint32Array, module: number): (string | undefined)[];
  describe(id: number): Description;
  moduleCount(id: number): number;
  setErrorFactory(f: (code: string, message: string) => Error): void;
  stats(): { live: number; open: number };
  /** The chain at offset as (function string, file string, line, column) per frame: the count, or -needed. */
  srcLocs(id: number, offset: number, out: Uint32Array): number;
  srcLocString(id: number, index: number): string;
  scratch: Uint32Array;
  srcScratch: Uint32Array;
  bindingAbi: number;
}

/** The calling convention lib/native.ts expects of the addon (native/binding.cc kBindingAbi). */
const BINDING_ABI = 6;

const EXPORTS = [
  'openPath',
  'openBytes',
  'close',
  'funcLoc',
  'srcLoc',
  'funcByOffset',
  'funcName',
  'srcLocsScratch',
  'funcLocs',
  'funcsByOffset',
  'funcNames',
  'describe',
  'moduleCount',
  'setErrorFactory',
  'stats',
  'srcLocs',
  'srcLocString',
] as const;

let addon: Addon | undefined;
let status: NativeStatus | undefined;

/** The directory of the CommonJS bundle this file is part of (scripts/bundle.mjs defines it); undefined elsewhere. */
declare const __funckeyCjsDirname: string | undefined;

/**
 * The package root: this file is lib/native.ts (tests), dist/native.js or a bundle in dist/
 * (the package). A bundle knows its directory as CommonJS does: asking import.meta.url there
 * would make a file URL of __filename only to turn it back into a path.
 */
function packageRoot(): string {
  const here = typeof __funckeyCjsDirname === 'string' ? __funckeyCjsDirname : dirname(fileURLToPath(import.meta.url));
  return join(here, '..');
}

/**
 * The addon file to load, looked for as node-gyp-build does but without its directory scan
 * when the file is where this package puts it: the local build (build/Release/funckey.node),
 * else this platform's prebuild as prebuildify names it (prebuilds/<platform>-<arch>/
 * funckey[.glibc].node). Anything else (a FUNCKEY_PREBUILD override, musl, a Debug build)
 * goes through node-gyp-build.
 */
function addonPath(root: string): string {
  const release = join(root, 'build', 'Release', 'funckey.node');
  if (existsSync(release)) return release;
  const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const musl = process.platform === 'linux' && existsSync('/etc/alpine-release');
  for (const file of musl
    ? []
    : process.platform === 'linux'
      ? ['funckey.glibc.node', 'funckey.node']
      : ['funckey.node']) {
    const p = join(dir, file);
    if (existsSync(p) && envVar('FUNCKEY_PREBUILD') === undefined) return p;
  }
  const nodeGypBuild = cjsRequire('node-gyp-build') as { path(dir: string): string };
  return nodeGypBuild.path(root);
}

/**
 * An environment variable, or undefined when it is unset or cannot be read (Deno without
 * --allow-env throws NotCapable: funckey then behaves as if the variable were unset).
 */
export function envVar(name: string): string | undefined {
  try {
    const v = process.env[name];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

function load(): NativeStatus {
  if (status !== undefined) return status;
  let path: string | undefined;
  try {
    path = addonPath(packageRoot());
    const m = { exports: {} as Addon };
    process.dlopen(m, path);
    const a = m.exports;
    const missing = EXPORTS.filter((f) => typeof (a as unknown as Record<string, unknown>)?.[f] !== 'function');
    if (
      a?.bindingAbi !== BINDING_ABI ||
      missing.length > 0 ||
      !(a.scratch instanceof Uint32Array) ||
      a.scratch.length < 4 ||
      !(a.srcScratch instanceof Uint32Array) ||
      a.srcScratch.length < 4
    )
      throw new Error(
        `the addon found is of another version (binding ABI ${String(a?.bindingAbi)}, this package needs ${BINDING_ABI})`,
      );
    a.setErrorFactory((code, message) => new FunckeyError(isErrorCode(code) ? code : 'E_CORRUPT', message));
    addon = a;
    status = { available: true, path };
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    status = { available: false, reason: msg.includes(path ?? '\0') || path === undefined ? msg : `${path}: ${msg}` };
  }
  return status;
}

/**
 * Whether the addon loaded: `{ available: true, path }` with the file that loaded, or
 * `{ available: false, reason }` (no build and no prebuild for this platform, a file that
 * does not load, one of another version). Loads the addon on first call.
 */
export function nativeStatus(): NativeStatus {
  const s = load();
  return s.available ? { available: true, path: s.path } : { available: false, reason: s.reason };
}

/** Counters of the addon, for tests: artifacts not yet finalized (`live`) and not yet closed (`open`). */
export function nativeStats(): { live: number; open: number } | undefined {
  load();
  return addon?.stats();
}

/** @internal Exported for tests that watch which core methods a public call uses. */
export class NativeCore implements Core {
  readonly #a: Addon;
  readonly #id: number;
  readonly #s: Uint32Array;
  /** Keeps the addon's handle alive: when this core is collected, the addon unmaps. */
  readonly #token: object;
  /** srcLocsScratch's output (the addon's srcScratch). */
  readonly #srcScratch: Uint32Array;
  /** srcLocs' output, for a chain longer than srcScratch holds. */
  #frames = new Uint32Array(64);
  /** Decoded source-location strings by index. */
  readonly #strings = new StringCache();

  constructor(a: Addon, id: number, token: object) {
    this.#a = a;
    this.#id = id;
    this.#s = a.scratch;
    this.#srcScratch = a.srcScratch;
    this.#token = token;
  }

  funcLoc(namespace: number, index: number, out: Uint32Array): boolean {
    const s = this.#s;
    s[0] = this.#id;
    s[1] = namespace;
    s[2] = index;
    if (!this.#a.funcLoc()) return false;
    out[0] = s[0]!;
    out[1] = s[1]!;
    return true;
  }

  srcLoc(namespace: number, index: number): number {
    const s = this.#s;
    s[0] = this.#id;
    s[1] = namespace;
    s[2] = index;
    return this.#a.srcLoc() ? s[0]! : NONE;
  }

  srcLocs(offset: number): SrcFrame[] {
    const s = this.#s;
    s[0] = this.#id;
    s[1] = offset;
    let n = this.#a.srcLocsScratch();
    let w = this.#srcScratch;
    if (n < 0) {
      // A chain longer than srcScratch holds: through the call that takes its output array.
      if (this.#frames.length < 4 * -n) this.#frames = new Uint32Array(4 * -n);
      n = this.#a.srcLocs(this.#id, offset, (w = this.#frames));
    }
    const out = new Array<SrcFrame>(n);
    for (let i = 0; i < n; i++)
      out[i] = {
        function: this.#string(w[4 * i]!),
        file: this.#string(w[4 * i + 1]!),
        line: w[4 * i + 2]!,
        column: w[4 * i + 3]!,
      };
    return out;
  }

  /** String i of the source-location tables, decoded once (as lib/srclocs.ts caches them). */
  #string(i: number): string {
    let s = this.#strings.get(i);
    if (s === undefined) {
      s = this.#a.srcLocString(this.#id, i);
      this.#strings.set(i, s);
    }
    return s;
  }

  funcByOffset(offset: number, out: Uint32Array): boolean {
    const s = this.#s;
    s[0] = this.#id;
    s[1] = offset;
    if (!this.#a.funcByOffset()) return false;
    out[0] = s[0]!;
    out[1] = s[1]!;
    return true;
  }

  funcName(funcIndex: number, module: number): string | undefined {
    const s = this.#s;
    s[0] = this.#id;
    s[1] = funcIndex;
    s[2] = module;
    return this.#a.funcName();
  }

  funcLocs(namespaces: Uint32Array, indices: Uint32Array, starts: Uint32Array, lengths: Uint32Array): void {
    this.#a.funcLocs(this.#id, namespaces, indices, starts, lengths);
  }

  funcsByOffset(offsets: Uint32Array, namespaces: Uint32Array, indices: Uint32Array): void {
    this.#a.funcsByOffset(this.#id, offsets, namespaces, indices);
  }

  funcNames(funcIndices: Uint32Array, module: number): (string | undefined)[] {
    return this.#a.funcNames(this.#id, funcIndices, module);
  }

  describe(): Description {
    return this.#a.describe(this.#id);
  }

  moduleCount(): number {
    return this.#a.moduleCount(this.#id);
  }

  close(): void {
    this.#a.close(this.#id);
    void this.#token;
  }
}

/** Opens an artifact with the addon: a path is mapped, bytes are copied. */
export function openNativeCore(source: string | Uint8Array): Core {
  const s = load();
  if (addon === undefined)
    throw new FunckeyError('E_BACKEND', `the native backend is not available: ${s.reason ?? 'unknown reason'}`);
  const token = typeof source === 'string' ? addon.openPath(source) : addon.openBytes(source);
  const id = addon.scratch[0]!;
  return new NativeCore(addon, id, token);
}
