/**
 * Seeded random artifacts and a plain in-memory model of what they hold, for model-based and
 * differential tests. The model knows nothing of the file format: it is a list of functions
 * and a map of names, answered by linear scans and Map lookups.
 */
import { ArtifactBuilder, type NameEncodingChoice, type SparseEncodingChoice } from '../../lib/writer.js';
import { FuncKey, FuncKind, kindIsSparse } from '../../lib/key.js';

import { int, pick, rng, type Rand } from '../../bench/lib/rand.js';

export { int, pick, rng, type Rand };

export interface ModelFunc {
  key: FuncKey;
  start: number;
  length: number;
  src: number | undefined;
}

export interface ModelModule {
  name: string | undefined;
  importedFuncs: number;
  definedFuncs: number;
  byteOffset: number;
  names: Map<number, string>;
}

export interface Model {
  modules: ModelModule[];
  /** Every function, in key order (which is also text order). */
  funcs: ModelFunc[];
  byKey: Map<string, ModelFunc>;
  nameEncoding: NameEncodingChoice;
}

const keyId = (k: FuncKey) => `${k.namespace}:${k.index}`;

const NAME_PIECES = [
  'main',
  'f',
  '$',
  'alloc',
  'std::vec::Vec<u8>::push',
  'caf\u00e9',
  '\u65e5\u672c',
  '\u{1F600}',
  'x'.repeat(40),
  '',
  'a b',
  '\u00ff',
];

function randomName(r: Rand): string {
  const n = int(r, 1, 3);
  let s = '';
  for (let i = 0; i < n; i++) s += pick(r, NAME_PIECES);
  return s + (r() < 0.5 ? String(int(r, 0, 9999)) : '');
}

/** A subset of [0, n): dense with holes (`fill` near 1) or sparse (`fill` small). */
function subset(r: Rand, n: number, fill: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (r() < fill) out.push(i);
  return out;
}

export interface GenOptions {
  maxModules?: number;
  maxDefined?: number;
}

/** A random model: all ten kinds, several modules, holes, sparse namespaces, names. */
export function randomModel(seed: number, opts: GenOptions = {}): Model {
  const r = rng(seed);
  const maxModules = opts.maxModules ?? 4;
  const maxDefined = opts.maxDefined ?? 120;
  const modules: ModelModule[] = [];
  const M = int(r, 1, maxModules);
  for (let m = 0; m < M; m++) {
    modules.push({
      name: r() < 0.7 ? randomName(r) : undefined,
      importedFuncs: int(r, 0, 12),
      definedFuncs: int(r, 0, maxDefined),
      byteOffset: m === 0 ? 0 : int(r, 0, 1 << 20),
      names: new Map(),
    });
  }
  const keys: FuncKey[] = [];
  const fill = () => pick(r, [1, 0.97, 0.8, 0.3, 0.03]);
  modules.forEach((mod, m) => {
    for (const i of subset(r, mod.definedFuncs, fill())) keys.push(FuncKey.definedWasmFunction(m, i));
    for (const i of subset(r, mod.definedFuncs, pick(r, [0, 0.05, 0.5, 0.9])))
      keys.push(FuncKey.arrayToWasmTrampoline(m, i));
    if (r() < 0.4) for (const abi of subset(r, 3, 0.6)) keys.push(FuncKey.moduleStartup(abi, m));
  });
  if (r() < 0.8) for (const t of subset(r, int(r, 1, 40), fill())) keys.push(FuncKey.wasmToArrayTrampoline(t));
  if (r() < 0.6) for (const b of subset(r, 300, 0.05)) keys.push(FuncKey.wasmToBuiltinTrampoline(b * 7 + 1));
  if (r() < 0.5) for (const b of subset(r, 100, 0.1)) keys.push(FuncKey.patchableToBuiltinTrampoline(b));
  if (r() < 0.5) for (const h of subset(r, int(r, 1, 30), fill())) keys.push(FuncKey.pulleyHostCall(h));
  for (let abi = 0; abi < 3; abi++)
    if (r() < 0.4) for (const i of subset(r, int(r, 1, 20), fill())) keys.push(FuncKey.componentTrampoline(abi, i));
  if (r() < 0.5) keys.push(FuncKey.resourceDropTrampoline());
  for (let abi = 0; abi < 3; abi++)
    if (r() < 0.3) for (const i of subset(r, int(r, 1, 10), fill())) keys.push(FuncKey.unsafeIntrinsic(abi, i));
  keys.sort(FuncKey.compare);

  const funcs: ModelFunc[] = [];
  const byKey = new Map<string, ModelFunc>();
  let at = int(r, 0, 64);
  for (const key of keys) {
    at += pick(r, [0, 0, 1, int(r, 2, 50)]);
    const length = pick(r, [1, int(r, 1, 8), int(r, 8, 400)]);
    const src = key.kind === FuncKind.DefinedWasmFunction && r() < 0.9 ? int(r, 0, 0xfffffffe) : undefined;
    const f = { key, start: at, length, src };
    funcs.push(f);
    byKey.set(keyId(key), f);
    at += length;
  }
  modules.forEach((mod) => {
    const space = mod.importedFuncs + mod.definedFuncs;
    for (const fi of subset(r, space, pick(r, [0, 0.02, 0.3, 0.7, 1]))) mod.names.set(fi, randomName(r));
  });
  return { modules, funcs, byKey, nameEncoding: pick(r, ['auto', 'auto', 'dense', 'sparse'] as const) };
}

export function buildModel(
  model: Model,
  nameEncoding: NameEncodingChoice = model.nameEncoding,
  sparseEncoding: SparseEncodingChoice = 'auto',
  offsetIndex = true,
): ArtifactBuilder {
  const b = new ArtifactBuilder({ nameEncoding, sparseEncoding, offsetIndex });
  for (const m of model.modules)
    b.addModule({
      name: m.name,
      importedFuncs: m.importedFuncs,
      definedFuncs: m.definedFuncs,
      byteOffset: m.byteOffset,
    });
  for (const f of model.funcs) b.pushFunc(f.key, { start: f.start, length: f.length }, f.src);
  model.modules.forEach((m, i) => {
    for (const [fi, name] of m.names) b.setFuncName(i, fi, name);
  });
  return b;
}

/** The model's answers, by linear scans and maps. */
export const modelAnswer = {
  funcLoc(model: Model, ns: number, index: number): { start: number; length: number } | undefined {
    const f = model.byKey.get(`${ns}:${index}`);
    return f && { start: f.start, length: f.length };
  },
  srcLoc(model: Model, ns: number, index: number): number | undefined {
    return model.byKey.get(`${ns}:${index}`)?.src;
  },
  funcByOffset(model: Model, offset: number): FuncKey | undefined {
    for (const f of model.funcs) if (offset >= f.start && offset < f.start + f.length) return f.key;
    return undefined;
  },
  funcName(model: Model, fi: number, module: number): string | undefined {
    return model.modules[module]!.names.get(fi);
  },
};

/** Keys worth asking about: every present key, its neighbours, and keys of absent namespaces. */
export function queryKeys(model: Model, r: Rand, extra = 200): [number, number][] {
  const out: [number, number][] = [];
  for (const f of model.funcs) {
    out.push([f.key.namespace, f.key.index]);
    if (r() < 0.3) out.push([f.key.namespace, f.key.index + 1]);
    if (r() < 0.1 && f.key.index > 0) out.push([f.key.namespace, f.key.index - 1]);
  }
  const kinds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  for (let i = 0; i < extra; i++) {
    const kind = pick(r, kinds);
    const low =
      kindIsSparse(kind) || kind === 0
        ? int(r, 0, model.modules.length + 1)
        : kind === 6 || kind === 8
          ? int(r, 0, 2)
          : 0;
    const ns = ((kind << 28) | low) >>> 0;
    out.push([ns, pick(r, [0, 1, int(r, 0, 300), 0xffffffff, int(r, 0, 0xffffffff)])]);
  }
  return out;
}

/** Offsets worth asking about: every function's edges and middle, gaps, and far values. */
export function queryOffsets(model: Model, r: Rand, extra = 200): number[] {
  const out: number[] = [0, 0xffffffff];
  for (const f of model.funcs) {
    out.push(f.start, f.start + f.length - 1, f.start + f.length, f.start + (f.length >>> 1));
    if (f.start > 0) out.push(f.start - 1);
  }
  const end = model.funcs.length
    ? model.funcs[model.funcs.length - 1]!.start + model.funcs[model.funcs.length - 1]!.length
    : 0;
  for (let i = 0; i < extra; i++) out.push(int(r, 0, end + 100));
  return out;
}
