/**
 * The package's entry point, bundled into dist/funckey.cjs (`require('funckey')`) and into the
 * ES module dist/funckey.mjs (`import 'funckey'`), which share one copy of it in a process
 * (lib/require.ts). It exports what lib/index.ts exports, but loads at once only what a
 * reader uses: errors, keys, open and the artifact, both backends. The builder, the wasm parser, building from wasm, hashing, stripping and
 * symbolication are bundled apart (dist/funckey-lazy.cjs) and loaded, synchronously, on the
 * first use of one of them (scripts/bundle.mjs builds both).
 */
import * as args from './args.js';
import * as artifact from './artifact.js';
import * as errors from './errors.js';
import * as file from './file.js';
import * as format from './format.js';
import type * as Index from './index.js';
import * as key from './key.js';
import * as native from './native.js';
import * as limits from './limits.js';
import * as names from './names.js';
import * as offsets from './offsets.js';
import * as openTables from './open.js';
import * as reader from './reader.js';
import * as requireModule from './require.js';
import { cjsRequire } from './require.js';
import * as srclocs from './srclocs.js';
import * as table from './table.js';

export { FunckeyError, ERROR_CODES } from './errors.js';
export { FuncKey, FuncKind, Abi, kindIsSparse, kindHasSrcLocs } from './key.js';
export { NONE, FORMAT_VERSION } from './format.js';
export { open, Artifact } from './artifact.js';
export { nativeStatus } from './native.js';

/** Internal: the modules of this bundle, which the lazy bundle imports instead of copies of its own. */
export const __modules = {
  args,
  artifact,
  errors,
  file,
  format,
  key,
  limits,
  names,
  native,
  offsets,
  open: openTables,
  reader,
  require: requireModule,
  srclocs,
  table,
};

let lazy: typeof Index | undefined;
function load(): typeof Index {
  return (lazy ??= cjsRequire('./funckey-lazy.cjs') as typeof Index);
}

/** A function of lib/index.ts that loads the lazy bundle on its first call. */
function lazyFn<K extends keyof typeof Index>(name: K): (typeof Index)[K] {
  return ((...a: unknown[]) => (load()[name] as (...a: unknown[]) => unknown)(...a)) as (typeof Index)[K];
}

export const buildFromWasm = lazyFn('buildFromWasm');
export const buildFromWasmFile = lazyFn('buildFromWasmFile');
export const builderFromWasm = lazyFn('builderFromWasm');
export const parseWasm = lazyFn('parseWasm');
export const stripNameSection = lazyFn('stripNameSection');
export const stripCustomSections = lazyFn('stripCustomSections');
export const symbolicate = lazyFn('symbolicate');
export const symbolicateFrames = lazyFn('symbolicateFrames');
export const parseStack = lazyFn('parseStack');
export const symbolicateStream = lazyFn('symbolicateStream');
export { MAX_LINE } from './limits.js';

/**
 * A class of lib/index.ts that loads the lazy bundle on first use: a Proxy of a function that
 * forwards `new`, `extends`, `instanceof` (through `prototype`) and static members to the
 * real class.
 */
function lazyClass<K extends keyof typeof Index>(name: K): (typeof Index)[K] {
  const real = () => load()[name] as unknown as new (...a: unknown[]) => object;
  const proxy: object = new Proxy(function () {}, {
    construct: (_t, args, newTarget) => Reflect.construct(real(), args, newTarget === proxy ? real() : newTarget),
    get: (_t, k) => Reflect.get(real(), k),
    has: (_t, k) => Reflect.has(real(), k),
  });
  return proxy as (typeof Index)[K];
}

export const ArtifactBuilder = lazyClass('ArtifactBuilder');
export const TraceRewriter = lazyClass('TraceRewriter');
