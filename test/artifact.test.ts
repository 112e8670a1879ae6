import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { open, FuncKey, NONE, ArtifactBuilder } from '../lib/index.js';
import { BACKENDS } from './backends.js';
import { buildModel, modelAnswer, queryKeys, queryOffsets, randomModel, rng, type Model } from './gen.js';

const dir = mkdtempSync(join(tmpdir(), 'funckey-artifact-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CASES = Number(process.env.FUNCKEY_MODEL_CASES ?? 1500);

/** Compares every answer with the model; returns how many comparisons it made. Throws on the first difference. */
function checkAgainstModel(model: Model, a: ReturnType<typeof open>, seed: number): number {
  const r = rng(seed ^ 0x5eed);
  let checks = 0;
  const same = (got: unknown, want: unknown, what: string) => {
    checks++;
    if (got !== want) expect(got, what).toBe(want);
  };
  // Modules.
  expect(a.modules.map((m) => [m.index, m.name, m.importedFuncs, m.definedFuncs, m.byteOffset])).toEqual(
    model.modules.map((m, i) => [i, m.name, m.importedFuncs, m.definedFuncs, m.byteOffset]),
  );
  // Keys, single and batch.
  const keys = queryKeys(model, r);
  const nsArr = new Uint32Array(keys.map((k) => k[0]));
  const idxArr = new Uint32Array(keys.map((k) => k[1]));
  const batch = a.funcLocs(nsArr, idxArr);
  keys.forEach(([ns, index], k) => {
    const want = modelAnswer.funcLoc(model, ns, index);
    let key: FuncKey | undefined;
    try {
      key = FuncKey.fromRaw(ns, index);
    } catch {
      key = undefined; // not a valid key (e.g. ResourceDropTrampoline(1)): only the batch form can ask
    }
    if (key) {
      const got = a.funcLoc(key);
      same(got?.start, want?.start, `funcLoc(${key}).start`);
      same(got?.length, want?.length, `funcLoc(${key}).length`);
      same(a.srcLoc(key), want ? modelAnswer.srcLoc(model, ns, index) : undefined, `srcLoc(${key})`);
    }
    same(batch.starts[k], want ? want.start : NONE, `funcLocs[${k}].start`);
    same(batch.lengths[k], want ? want.length : 0, `funcLocs[${k}].length`);
  });
  // Offsets, single and batch.
  const offsets = queryOffsets(model, r);
  const byOff = a.funcsByOffset(new Uint32Array(offsets));
  offsets.forEach((off, k) => {
    const want = modelAnswer.funcByOffset(model, off);
    same(a.funcByOffset(off)?.toString(), want?.toString(), `funcByOffset(${off})`);
    same(byOff.namespaces[k], want ? want.namespace : NONE, `funcsByOffset[${k}].namespace`);
    same(byOff.indices[k], want ? want.index : NONE, `funcsByOffset[${k}].index`);
  });
  // Names, single and batch, in every module.
  model.modules.forEach((m, mi) => {
    const space = m.importedFuncs + m.definedFuncs;
    const fis = [...Array(space + 3).keys(), 0xffffffff];
    const names = a.funcNames(new Uint32Array(fis), mi);
    fis.forEach((fi, k) => {
      const want = modelAnswer.funcName(model, fi, mi);
      same(a.funcName(fi, mi), want, `funcName(${fi}, ${mi})`);
      same(names[k], want, `funcNames[${k}]`);
    });
  });
  return checks;
}

describe.each(BACKENDS)('model-based, backend %s', (backend) => {
  it(`answers like the model on ${CASES} random tables`, () => {
    let checks = 0;
    for (let seed = 1; seed <= CASES; seed++) {
      const model = randomModel(seed);
      const b = buildModel(model);
      let a;
      if (seed % 10 === 0) {
        const path = join(dir, `m${seed}-${backend}.fkx`);
        b.writeFile(path);
        a = open(path, { backend });
      } else {
        a = open(b.finish(), { backend });
      }
      expect(a.backend).toBe(backend);
      try {
        checks += checkAgainstModel(model, a, seed);
      } catch (e) {
        throw new Error(`seed ${seed}: ${(e as Error).message}`, { cause: e });
      } finally {
        a.close();
      }
    }
    expect(checks).toBeGreaterThan(CASES * 100);
  });

  it('gives the same answers with dense and with sparse name indices', () => {
    for (let seed = 5001; seed < 5101; seed++) {
      const model = randomModel(seed);
      for (const enc of ['dense', 'sparse'] as const) {
        const a = open(buildModel(model, enc).finish(), { backend });
        const d = a.describe();
        model.modules.forEach((m, i) => {
          expect(d.modules[i]!.nameEncoding).toBe(m.names.size === 0 ? 0 : enc === 'dense' ? 1 : 2);
        });
        checkAgainstModel(model, a, seed);
        a.close();
      }
    }
  });

  it('gives the same answers with sparse namespaces stored sorted and as rank bitmaps', () => {
    let bitmapNamespaces = 0;
    for (let seed = 7001; seed < 7201; seed++) {
      const model = randomModel(seed);
      for (const enc of ['sorted', 'bitmap'] as const) {
        const a = open(buildModel(model, 'auto', enc).finish(), { backend });
        for (const n of a.describe().namespaces) {
          const sparse = [1, 3, 4, 9].includes(n.namespace >>> 28);
          expect(n.bitmapBlocks > 0).toBe(sparse && enc === 'bitmap');
          if (n.bitmapBlocks > 0) bitmapNamespaces++;
        }
        checkAgainstModel(model, a, seed);
        a.close();
      }
    }
    expect(bitmapNamespaces).toBeGreaterThan(100);
  });

  it('stores a sparse namespace as a bitmap exactly when that is smaller', () => {
    // 64 indices spread over [0, 2048): sorted 256 bytes, bitmap 64 blocks = 512 bytes.
    // 64 indices in [0, 256): sorted 256 bytes, bitmap 8 blocks = 64 bytes.
    for (const [spread, bitmap] of [[32, false], [4, true]] as const) {
      const b = new ArtifactBuilder();
      b.addModule({ importedFuncs: 0, definedFuncs: 4096 });
      for (let i = 0; i < 64; i++) b.pushFunc(FuncKey.arrayToWasmTrampoline(0, i * spread), { start: 10 * i, length: 5 });
      const a = open(b.finish(), { backend });
      const d = a.describe();
      expect(d.namespaces[0]!.bitmapBlocks).toBe(bitmap ? 8 : 0);
      expect(d.sparseCount).toBe(bitmap ? 0 : 64);
      for (let i = 0; i < 64 * spread; i++)
        expect(a.funcLoc(FuncKey.arrayToWasmTrampoline(0, i))?.start).toBe(i % spread === 0 ? 10 * (i / spread) : undefined);
      for (let i = 0; i < 64; i++) expect(a.funcByOffset(10 * i + 2)?.toString()).toBe(`ArrayToWasmTrampoline(0, ${i * spread})`);
      a.close();
    }
  });

  it('picks dense names at half the index space or more, sparse below', () => {
    const make = (named: number) => {
      const b = new ArtifactBuilder();
      b.addModule({ importedFuncs: 4, definedFuncs: 6 });
      for (let i = 0; i < named; i++) b.setFuncName(0, i * 2 % 10 + (i >= 5 ? 1 : 0), `n${i}`);
      const a = open(b.finish(), { backend });
      const enc = a.describe().modules[0]!.nameEncoding;
      a.close();
      return enc;
    };
    expect(make(0)).toBe(0);
    expect(make(4)).toBe(2);
    expect(make(5)).toBe(1);
    expect(make(10)).toBe(1);
  });

  it('reads a larger table (64Ki defined functions, sparse trampolines) exactly', () => {
    const n = 65536;
    const b = new ArtifactBuilder();
    b.addModule({ importedFuncs: 3, definedFuncs: n });
    for (let i = 0; i < n; i++) b.pushFunc(FuncKey.definedWasmFunction(0, i), { start: 16 * i, length: 10 + (i % 6) }, 16 * i);
    for (let i = 0; i < n; i += 3) b.pushFunc(FuncKey.arrayToWasmTrampoline(0, i), { start: 16 * n + 8 * i, length: 8 });
    for (let i = 0; i < n + 3; i += 2) b.setFuncName(0, i, `func_${i}`);
    const a = open(b.finish(), { backend });
    const r = rng(99);
    for (let q = 0; q < 20000; q++) {
      const i = Math.floor(r() * n);
      expect(a.funcLoc(FuncKey.definedWasmFunction(0, i))).toEqual({ start: 16 * i, length: 10 + (i % 6) });
      expect(a.funcLoc(FuncKey.arrayToWasmTrampoline(0, i))).toEqual(i % 3 === 0 ? { start: 16 * n + 8 * i, length: 8 } : undefined);
      const off = 16 * i + Math.floor(r() * 16);
      expect(a.funcByOffset(off)?.toString()).toBe(off - 16 * i < 10 + (i % 6) ? `DefinedWasmFunction(0, ${i})` : undefined);
      const fi = Math.floor(r() * (n + 3));
      expect(a.funcName(fi)).toBe(fi % 2 === 0 ? `func_${fi}` : undefined);
    }
    a.close();
  });

  it('opens from a path, a Buffer and an unaligned Uint8Array alike', () => {
    const model = randomModel(77);
    const bytes = buildModel(model).finish();
    const path = join(dir, `aligned-${backend}.fkx`);
    buildModel(model).writeFile(path);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    for (const src of [path, readFileSync(path), shifted.subarray(3)]) {
      const a = open(src, { backend });
      checkAgainstModel(model, a, 77);
      a.close();
    }
  });
});

describe('builder output', () => {
  it('is deterministic: the same entries give the same bytes', () => {
    const model = randomModel(4242);
    expect(Buffer.from(buildModel(model).finish()).equals(Buffer.from(buildModel(model).finish()))).toBe(true);
  });

  it('fills dense holes and keeps sparse namespaces sparse', () => {
    const b = new ArtifactBuilder();
    b.addModule({ importedFuncs: 0, definedFuncs: 1000 });
    b.pushFunc(FuncKey.definedWasmFunction(0, 5), { start: 100, length: 4 });
    b.pushFunc(FuncKey.arrayToWasmTrampoline(0, 999), { start: 200, length: 4 });
    const d = open(b.finish(), { backend: 'js' }).describe();
    // 5 holes + 1 function in the dense run; 1 entry in the sparse run.
    expect(d.namespaces.map((n) => n.funcCount)).toEqual([6, 1]);
    expect(d.funcCount).toBe(7);
    expect(d.sparseCount).toBe(1);
    expect(d.srcLocCount).toBe(6);
  });
});
