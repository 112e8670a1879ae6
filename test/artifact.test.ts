import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { open, FuncKey, NONE, ArtifactBuilder } from '../lib/index.js';
import { BACKENDS } from './helpers/backends.js';
import { buildModel, modelAnswer, queryKeys, queryOffsets, randomModel, rng, type Model } from './helpers/gen.js';
import { artifactSections } from './helpers/mutate.js';
import { count, HEAVY } from './helpers/heavy.js';

const dir = mkdtempSync(join(tmpdir(), 'funckey-artifact-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CASES = count('FUNCKEY_MODEL_CASES', 150, 1500);
/** Random tables built in each of the six sparse encoding choices. */
const ENCODING_CASES = count('FUNCKEY_ENCODING_CASES', 40, 200);
/** Random tables built with each name encoding. */
const NAME_CASES = count('FUNCKEY_NAME_CASES', 40, 100);
/** Random tables built with and without the offset index. */
const OFFSET_CASES = count('FUNCKEY_OFFSET_CASES', 40, 100);
/** Random queries of the 64Ki-function table. */
const LARGE_QUERIES = count('FUNCKEY_LARGE_QUERIES', 5000, 20000);

const SENTINEL = 0x5a5a5a5a;
/**
 * Output arrays for a batch call: two adjacent views of length n into one buffer, between a
 * sentinel word before and after, filled with junk that a correct call overwrites.
 */
function outViews(n: number): { all: Uint32Array; first: Uint32Array; second: Uint32Array } {
  const all = new Uint32Array(2 * n + 2).fill(0xdeadbeef);
  all[0] = SENTINEL;
  all[2 * n + 1] = SENTINEL;
  return { all, first: all.subarray(1, n + 1), second: all.subarray(n + 1, 2 * n + 1) };
}
function expectSentinels(v: { all: Uint32Array }): void {
  expect([v.all[0], v.all[v.all.length - 1]]).toEqual([SENTINEL, SENTINEL]);
}

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
  // The same into caller's arrays: two views of one buffer, filled with junk, between sentinels.
  const intoL = outViews(keys.length);
  const into = { starts: intoL.first, lengths: intoL.second };
  expect(a.funcLocs(nsArr, idxArr, into)).toBe(into);
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
    same(into.starts[k], want ? want.start : NONE, `funcLocs(out)[${k}].start`);
    same(into.lengths[k], want ? want.length : 0, `funcLocs(out)[${k}].length`);
  });
  expectSentinels(intoL);
  // Offsets, single and batch.
  const offsets = queryOffsets(model, r);
  const byOff = a.funcsByOffset(new Uint32Array(offsets));
  const intoO = outViews(offsets.length);
  const byOffInto = { namespaces: intoO.first, indices: intoO.second };
  expect(a.funcsByOffset(new Uint32Array(offsets), byOffInto)).toBe(byOffInto);
  offsets.forEach((off, k) => {
    const want = modelAnswer.funcByOffset(model, off);
    same(a.funcByOffset(off)?.toString(), want?.toString(), `funcByOffset(${off})`);
    same(byOff.namespaces[k], want ? want.namespace : NONE, `funcsByOffset[${k}].namespace`);
    same(byOff.indices[k], want ? want.index : NONE, `funcsByOffset[${k}].index`);
    same(byOffInto.namespaces[k], want ? want.namespace : NONE, `funcsByOffset(out)[${k}].namespace`);
    same(byOffInto.indices[k], want ? want.index : NONE, `funcsByOffset(out)[${k}].index`);
  });
  expectSentinels(intoO);
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
    for (let seed = 5001; seed < 5001 + NAME_CASES; seed++) {
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

  it('gives the same answers with sparse namespaces in each of the four encodings', () => {
    const seen: Record<string, number> = {};
    for (let seed = 7001; seed < 7001 + ENCODING_CASES; seed++) {
      const model = randomModel(seed);
      for (const enc of ['sorted', 'bitmap', 'buckets', 'direct', 'smallest', 'auto'] as const) {
        const a = open(buildModel(model, 'auto', enc).finish(), { backend });
        for (const n of a.describe().namespaces) {
          const sparse = [1, 3, 4, 9].includes(n.namespace >>> 28);
          if (!sparse) expect(n.encoding).toBe('dense');
          else if (enc !== 'auto' && enc !== 'smallest') expect(n.encoding).toBe(enc);
          expect(n.bitmapBlocks > 0).toBe(n.encoding === 'bitmap');
          expect(n.bucketWords > 0).toBe(n.encoding === 'buckets');
          seen[`${enc}:${n.encoding}`] = (seen[`${enc}:${n.encoding}`] ?? 0) + 1;
        }
        try {
          checkAgainstModel(model, a, seed);
        } catch (e) {
          throw new Error(`seed ${seed}, ${enc}: ${(e as Error).message}`, { cause: e });
        }
        a.close();
      }
    }
    // 'auto' and 'smallest' used every sparse encoding somewhere in these tables.
    for (const choice of ['auto', 'smallest'])
      for (const enc of ['sorted', 'bitmap', 'buckets', 'direct'])
        expect(seen[`${choice}:${enc}`] ?? 0, `${choice} chose ${enc}`).toBeGreaterThan(5);
  });

  it('picks, by default, the first of direct, bitmap and buckets no larger than the sorted run', () => {
    // Costs from FORMAT.md 3.3, for K keys whose largest is m: sorted 4K bytes; direct 8(m + 1 - K);
    // bitmap 8(floor(m / 32) + 1); buckets 4 * words(k).
    const bucketBytes = (f: number, k: number, m: number, K: number) => {
      const nb = Math.floor(m / 2 ** k) + 1;
      const filterWords = Math.floor(m / 2 ** f / 32) + 1;
      const w = k <= 8 ? 1 : 2;
      return (
        4 *
        (4 +
          filterWords +
          (Math.floor((nb - 1) / 2 ** (16 - k)) + 1) +
          Math.ceil((nb + 1) / 2) +
          Math.ceil(((K + 1) * w) / 4))
      );
    };
    const tableBytes = (x: ReturnType<typeof open>) =>
      x
        .describe()
        .sections.filter(
          (s) =>
            s.name.startsWith('.fk.') &&
            !['.fk.info', '.fk.names', '.fk.name_index', '.fk.offset_index'].includes(s.name),
        )
        .reduce((t, s) => t + s.size, 0);
    const r = rng(4242);
    const seen = new Set<string>();
    // 300,000 indices (the slowest to build and check) only in heavy runs: the smaller
    // spaces already lead to every encoding.
    for (const space of HEAVY ? [100, 3000, 70000, 300000] : [100, 3000, 70000])
      for (const fill of [1, 0.9, 0.7, 0.6, 0.3, 0.1, 0.07, 0.05, 0.02, 0.01, 0.003, 0.0005, 0.00002]) {
        const idx: number[] = [];
        for (let i = 0; i < space; i++) if (r() < fill) idx.push(i);
        if (idx.length === 0) continue;
        const K = idx.length;
        const m = idx[K - 1]!;
        let want = 'sorted';
        let shift = 0;
        let filter = 0;
        if (8 * (m + 1 - K) <= 4 * K) want = 'direct';
        else if (8 * (Math.floor(m / 32) + 1) <= 4 * K) want = 'bitmap';
        else {
          // Buckets holding at most 2 present indices on average (K <= 2 nb), finest filter
          // first; when none fits, any buckets, finest filter first.
          const pick = (average: boolean) => {
            for (let f = 0; f <= 15; f++)
              for (let k = 1; k <= 15; k++) {
                if (average && K > 2 * (Math.floor(m / 2 ** k) + 1)) continue;
                if (bucketBytes(f, k, m, K) <= 4 * K) return [k, f];
              }
            return undefined;
          };
          const kf = pick(true) ?? pick(false);
          if (kf) [want, shift, filter] = ['buckets', kf[0], kf[1]];
        }
        seen.add(want);
        const build = (sparseEncoding: 'auto' | 'sorted') => {
          const b = new ArtifactBuilder({ sparseEncoding });
          b.addModule({ importedFuncs: 0, definedFuncs: space });
          idx.forEach((i, j) => b.pushFunc(FuncKey.arrayToWasmTrampoline(0, i), { start: 10 * j, length: 5 }));
          return open(b.finish(), { backend });
        };
        const a = build('auto');
        const n = a.describe().namespaces[0]!;
        expect(`${space} ${fill}: ${n.encoding} ${n.bucketShift} ${n.bucketFilterShift}`).toBe(
          `${space} ${fill}: ${want} ${shift} ${filter}`,
        );
        // The table is no larger than with the sorted run.
        const as = build('sorted');
        expect(tableBytes(a)).toBeLessThanOrEqual(tableBytes(as));
        as.close();
        // Every index (of the first 20,000), present or not, and entries by offset.
        const present = new Set(idx);
        for (let i = 0; i < Math.min(space, 20000); i++) {
          const got = a.funcLoc(FuncKey.arrayToWasmTrampoline(0, i));
          if (present.has(i) !== (got !== undefined)) expect(`${i}: ${got?.start}`).toBe(`${i}: ${present.has(i)}`);
        }
        idx.forEach((i, j) => {
          if (j % 7 === 0) expect(a.funcLoc(FuncKey.arrayToWasmTrampoline(0, i))?.start).toBe(10 * j);
          if (j % 5 === 0) expect(a.funcByOffset(10 * j + 4)?.index).toBe(i);
        });
        a.close();
      }
    expect([...seen].sort()).toEqual(['bitmap', 'buckets', 'direct', 'sorted']);
  });

  it('reads buckets past 65,536 indices present, with 16-bit low parts and crowded buckets', () => {
    // 200,000 trampolines: ranks past 2^16 (the u16 ranks wrap) and both low widths; a run of
    // 300 consecutive indices crowds buckets far beyond the four that are scanned.
    for (const [space, fill] of [
      [6_000_000, 0.033],
      [60_000_000, 0.002],
    ] as const) {
      const r = rng(space);
      const idx: number[] = [];
      // Each index present with probability `fill`: geometric gaps between present ones.
      for (
        let i = Math.floor(Math.log(1 - r()) / Math.log(1 - fill));
        i < space;
        i += 1 + Math.floor(Math.log(1 - r()) / Math.log(1 - fill))
      )
        if (i < 1_000_000 || i >= 1_000_300) idx.push(i);
      for (let i = 1_000_000; i < 1_000_300; i++) idx.push(i);
      idx.sort((x, y) => x - y);
      const b = new ArtifactBuilder({ sparseEncoding: 'buckets' });
      b.addModule({ importedFuncs: 0, definedFuncs: space });
      idx.forEach((i, j) => b.pushFunc(FuncKey.arrayToWasmTrampoline(0, i), { start: 4 * j, length: 3 }));
      const a = open(b.finish(), { backend });
      const n = a.describe().namespaces[0]!;
      expect(n.encoding).toBe('buckets');
      expect(idx.length).toBeGreaterThan(100_000);
      expect(n.bucketShift > 8).toBe(space === 60_000_000);
      for (let j = 0; j < idx.length; j += 97) {
        const i = idx[j]!;
        expect(a.funcLoc(FuncKey.arrayToWasmTrampoline(0, i))?.start).toBe(4 * j);
        expect(a.funcByOffset(4 * j + 1)?.index).toBe(i);
      }
      for (let q = 0; q < 400; q++) {
        const i = 1_000_000 - 50 + q;
        const at = idx.indexOf(i);
        expect(a.funcLoc(FuncKey.arrayToWasmTrampoline(0, i))?.start).toBe(at < 0 ? undefined : 4 * at);
        if (at >= 0) expect(a.funcByOffset(4 * at + 2)?.index).toBe(i);
      }
      const present = new Set(idx);
      for (let q = 0; q < 20000; q++) {
        const i = Math.floor(r() * space);
        expect(a.funcLoc(FuncKey.arrayToWasmTrampoline(0, i)) !== undefined).toBe(present.has(i));
      }
      a.close();
    }
  });

  it('picks dense names at half the index space or more, sparse below', () => {
    const make = (named: number) => {
      const b = new ArtifactBuilder();
      b.addModule({ importedFuncs: 4, definedFuncs: 6 });
      for (let i = 0; i < named; i++) b.setFuncName(0, ((i * 2) % 10) + (i >= 5 ? 1 : 0), `n${i}`);
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

  it('finds functions by offset alike with and without the offset index (offsetIndex: false, one bucket)', () => {
    for (let seed = 9001; seed < 9001 + OFFSET_CASES; seed++) {
      const model = randomModel(seed);
      const a = open(buildModel(model, 'auto', 'auto', false).finish(), { backend });
      const d = a.describe();
      const index = d.sections.find((s) => s.name === '.fk.offset_index')!;
      // FORMAT.md 3.4 with shift 31: C = (last start >> 31) + 2 entries, the first one 0.
      if (model.funcs.length === 0) expect(index.size).toBe(0);
      else {
        const lastStart = Math.max(...model.funcs.map((f) => f.start));
        expect(index.size).toBe(4 * (Math.floor(lastStart / 2 ** 31) + 2));
        expect(d.offsetShift).toBe(31);
      }
      try {
        checkAgainstModel(model, a, seed);
      } catch (e) {
        throw new Error(`seed ${seed}: ${(e as Error).message}`, { cause: e });
      }
      a.close();
    }
  });

  it('reads a larger table (64Ki defined functions, sparse trampolines) exactly', () => {
    const n = 65536;
    const b = new ArtifactBuilder();
    b.addModule({ importedFuncs: 3, definedFuncs: n });
    for (let i = 0; i < n; i++)
      b.pushFunc(FuncKey.definedWasmFunction(0, i), { start: 16 * i, length: 10 + (i % 6) }, 16 * i);
    for (let i = 0; i < n; i += 3)
      b.pushFunc(FuncKey.arrayToWasmTrampoline(0, i), { start: 16 * n + 8 * i, length: 8 });
    for (let i = 0; i < n + 3; i += 2) b.setFuncName(0, i, `func_${i}`);
    const a = open(b.finish(), { backend });
    const r = rng(99);
    for (let q = 0; q < LARGE_QUERIES; q++) {
      const i = Math.floor(r() * n);
      expect(a.funcLoc(FuncKey.definedWasmFunction(0, i))).toEqual({ start: 16 * i, length: 10 + (i % 6) });
      expect(a.funcLoc(FuncKey.arrayToWasmTrampoline(0, i))).toEqual(
        i % 3 === 0 ? { start: 16 * n + 8 * i, length: 8 } : undefined,
      );
      const off = 16 * i + Math.floor(r() * 16);
      expect(a.funcByOffset(off)?.toString()).toBe(
        off - 16 * i < 10 + (i % 6) ? `DefinedWasmFunction(0, ${i})` : undefined,
      );
      const fi = Math.floor(r() * (n + 3));
      expect(a.funcName(fi)).toBe(fi % 2 === 0 ? `func_${fi}` : undefined);
    }
    a.close();
  });

  it('finds by offset on damaged, unsorted starts as FORMAT.md section 5 says: a scan of at most 32 entries, else the binary search', () => {
    // FORMAT.md section 5, funcByOffset, written again here from its text: the range [lo, hi)
    // from the offset index, then the first start past offset in it when it holds at most 32
    // entries, else the upper_bound loop.
    const reference = (locs: number[][], E: Uint32Array, shift: number, offset: number, scan: boolean) => {
      const F = locs.length;
      const C = E.length;
      const b = Math.floor(offset / 2 ** shift);
      let lo = b + 1 < C ? E[b]! : E[C - 1]!;
      let hi = b + 1 < C ? E[b + 1]! + 1 : F;
      hi = Math.min(hi, F);
      lo = Math.min(lo, hi);
      let j: number;
      if (scan && hi - lo <= 32) {
        j = lo;
        while (j < hi && locs[j]![0]! <= offset) j++;
      } else {
        while (lo < hi) {
          const mid = lo + Math.floor((hi - lo) / 2);
          if (locs[mid]![0]! <= offset) lo = mid + 1;
          else hi = mid;
        }
        j = lo;
      }
      const p = j - 1;
      if (p < 0 || locs[p]![0]! > offset || offset - locs[p]![0]! >= locs[p]![1]!) return undefined;
      return `DefinedWasmFunction(0, ${p})`;
    };
    // 24 functions (ranges of at most 32: scanned, with or without the index) and 48 without
    // the index (one range of 48: searched); entry 5's start moved past its successors'.
    for (const [n, offsetIndex] of [
      [24, true],
      [24, false],
      [48, false],
    ] as const) {
      const b = new ArtifactBuilder({ offsetIndex });
      b.addModule({ importedFuncs: 0, definedFuncs: n });
      for (let i = 0; i < n; i++) b.pushFunc(FuncKey.definedWasmFunction(0, i), { start: 10 * i, length: 8 });
      const bytes = b.finish();
      const sections = artifactSections(bytes);
      const at = (name: string) => sections.find((s) => s.name === name)!;
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const moved = 10 * 20 + 1;
      dv.setUint32(at('.fk.func_locs').offset + 8 * 5, moved, true);
      const locs = Array.from({ length: n }, (_, i) => [i === 5 ? moved : 10 * i, 8]);
      const idx = at('.fk.offset_index');
      const E = new Uint32Array(bytes.slice(idx.offset, idx.offset + idx.size).buffer);
      const a = open(bytes, { backend });
      const shift = a.describe().offsetShift;
      let differ = 0;
      for (let offset = 0; offset < 10 * n + 10; offset++) {
        const want = reference(locs, E, shift, offset, true);
        if (want !== reference(locs, E, shift, offset, false)) differ++;
        expect(a.funcByOffset(offset)?.toString(), `${n} functions, offsetIndex ${offsetIndex}, offset ${offset}`).toBe(
          want,
        );
      }
      // The damage is where the two rules part, for a range that is scanned.
      if (n === 24) expect(differ).toBeGreaterThan(0);
      a.close();
    }
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
