// Synthetic tables shaped like a compiled module: n defined functions, ArrayToWasm
// trampolines for the escaping ones (a seeded fraction: a sparse namespace) and one
// WasmToArray trampoline per signature (dense). The same entries are also laid out as the
// per-kind dense arrays that a FuncKey table replaces.
import { rng } from './common.js';

export const NONE = 0xffffffff;

/** Name of defined function i in the synthetic tables (about 40 bytes). */
export function shapeName(i) {
  return `shape::module_${i % 211}::function_${i}::h${((i * 2654435761) >>> 0).toString(16)}`;
}

/**
 * The entries of a table. Returns the per-kind dense arrays (interleaved start, length;
 * NONE, 0 when absent) and the list of escaping functions.
 */
export function makeShape({ n, escapeFrac = 0.3, types = 200, seed = 42 }) {
  const r = rng(seed);
  const def = new Uint32Array(2 * n);
  const a2w = new Uint32Array(2 * n);
  const w2a = new Uint32Array(2 * types);
  const escaping = [];
  let pos = 64;
  for (let i = 0; i < n; i++) {
    const len = 16 + Math.floor(r() * 400);
    def[2 * i] = pos;
    def[2 * i + 1] = len;
    pos += len + Math.floor(r() * 8);
    if (r() < escapeFrac) escaping.push(i);
  }
  for (let i = 0; i < n; i++) {
    a2w[2 * i] = NONE;
    a2w[2 * i + 1] = 0;
  }
  for (const i of escaping) {
    const len = 32 + Math.floor(r() * 32);
    a2w[2 * i] = pos;
    a2w[2 * i + 1] = len;
    pos += len;
  }
  for (let t = 0; t < types; t++) {
    const len = 48 + Math.floor(r() * 64);
    w2a[2 * t] = pos;
    w2a[2 * t + 1] = len;
    pos += len;
  }
  return { n, types, escapeFrac, def, a2w, w2a, escaping: Uint32Array.from(escaping), textEnd: pos };
}

/**
 * The FuncKey artifact of a shape (one module, n defined functions, no imports), with a
 * name for every function when `names` is 'dense' or 'sparse' (the index encoding).
 */
export function buildShapeArtifact(fk, shape, { names = 'none' } = {}) {
  const { ArtifactBuilder, FuncKey } = fk;
  const b = new ArtifactBuilder({ nameEncoding: names === 'none' ? 'auto' : names, textSize: shape.textEnd });
  b.addModule({ name: 'shape', importedFuncs: 0, definedFuncs: shape.n });
  const { def, a2w, w2a } = shape;
  for (let i = 0; i < shape.n; i++)
    b.pushFunc(FuncKey.definedWasmFunction(0, i), { start: def[2 * i], length: def[2 * i + 1] }, def[2 * i] - 3);
  for (const i of shape.escaping)
    b.pushFunc(FuncKey.arrayToWasmTrampoline(0, i), { start: a2w[2 * i], length: a2w[2 * i + 1] });
  for (let t = 0; t < shape.types; t++)
    b.pushFunc(FuncKey.wasmToArrayTrampoline(t), { start: w2a[2 * t], length: w2a[2 * t + 1] });
  if (names !== 'none') for (let i = 0; i < shape.n; i++) b.setFuncName(0, i, shapeName(i));
  return b.finish();
}

/** Bytes of the dense-arrays layout of a shape: (start, length) per index per kind, FilePos per defined function. */
export function denseLayoutBytes(shape) {
  return (
    8 * shape.n /* defined */ +
    4 * shape.n /* FilePos */ +
    8 * shape.n /* ArrayToWasm, NONE for missing */ +
    8 * shape.types
  );
}

/**
 * A module of n defined functions (function i at 16 * i, 12 bytes) with ArrayToWasm
 * trampolines (8 bytes apart after the functions, 6 bytes) for a seeded fraction `density`
 * of them: the shapes of groups 1b and 5a. `options` go to the ArtifactBuilder (e.g.
 * `{ sparseEncoding: 'sorted' }`). Returns the artifact's bytes, the trampolines' count and
 * defined indices (ascending) and the end of the text.
 */
export function densityShapeArtifact(fk, n, density, seed, options = undefined) {
  const r = rng(seed);
  const b = options === undefined ? new fk.ArtifactBuilder() : new fk.ArtifactBuilder(options);
  b.addModule({ importedFuncs: 0, definedFuncs: n });
  for (let i = 0; i < n; i++) b.pushFunc(fk.FuncKey.definedWasmFunction(0, i), { start: 16 * i, length: 12 }, 16 * i);
  const escaping = [];
  for (let i = 0; i < n; i++) {
    if (r() >= density) continue;
    b.pushFunc(fk.FuncKey.arrayToWasmTrampoline(0, i), { start: 16 * n + 8 * escaping.length, length: 6 });
    escaping.push(i);
  }
  const trampolines = escaping.length;
  const textEnd = 16 * n + 8 * trampolines;
  return { bytes: b.finish(), trampolines, escaping: Uint32Array.from(escaping), textEnd };
}

/** The seed of the group 1b / 5a shape of a density (the same shapes in both groups and across builds). */
export const densitySeed = (density) => 0xd5 + Math.round(density * 1000);

/**
 * How namespace `ns` is stored, from a description: its `encoding` when the format gives it
 * (format 3: 'dense', 'sorted', 'bitmap', 'buckets' or 'direct'), else derived (format 2: a
 * sparse namespace with rank-bitmap blocks is 'bitmap', otherwise 'sorted'; format 1 has
 * sorted runs only). `sparse` says whether the namespace is of a sparse kind.
 */
export function namespaceEncoding(desc, ns, sparse) {
  const e = desc.namespaces?.find((x) => x.namespace === ns);
  if (e === undefined) return 'absent';
  if (typeof e.encoding === 'string') return e.encoding;
  if (!sparse) return 'dense';
  return e.bitmapBlocks > 0 ? 'bitmap' : 'sorted';
}
