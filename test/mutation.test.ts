import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFromWasm } from '../lib/build.js';
import { FunckeyError } from '../lib/errors.js';
import { open } from '../lib/artifact.js';
import { parseWasm } from '../lib/wasm.js';
import { BACKENDS } from './helpers/backends.js';
import {
  buildModel,
  int,
  pick,
  queryKeys,
  queryOffsets,
  randomModel,
  rng,
  type Model,
  type Rand,
} from './helpers/gen.js';
import {
  fingerprint,
  mutate,
  mutateTables,
  mutateWasm,
  MUTATIONS,
  TABLE_MUTATIONS,
  WASM_MUTATIONS,
  wasmLebs,
  type Queries,
} from './helpers/mutate.js';
import { IN_CI } from './helpers/wabt.js';
import { count } from './helpers/heavy.js';

const MUTANTS = count('FUNCKEY_MUTANTS', 600, 4000);

function queriesFor(model: Model, seed: number): Queries {
  const r = rng(seed);
  const keys = queryKeys(model, r, 20);
  const offsets = queryOffsets(model, r, 20);
  const step = (n: number, max: number) => Math.max(1, Math.ceil(n / max));
  const maxFi = Math.max(...model.modules.map((m) => m.importedFuncs + m.definedFuncs)) + 2;
  return {
    keys: keys.filter((_, i) => i % step(keys.length, 60) === 0),
    offsets: offsets.filter((_, i) => i % step(offsets.length, 60) === 0),
    funcIndices: [...Array(Math.min(maxFi, 40)).keys(), maxFi, 0xffffffff],
    modules: model.modules.length + 1,
  };
}

describe('mutated artifacts', () => {
  it(`every one of ${MUTANTS} mutants opens and answers or throws a FunckeyError, the same in every backend (${BACKENDS.join(', ')})`, () => {
    const outcomes = new Map<string, number>();
    let agreed = 0;
    const bases = [3, 17, 29, 41, 57, 101].map((seed) => {
      const model = randomModel(seed, { maxModules: 3, maxDefined: 40 });
      return { bytes: buildModel(model).finish(), queries: queriesFor(model, seed) };
    });
    const r = rng(2026);
    for (let n = 0; n < MUTANTS; n++) {
      const base = bases[n % bases.length]!;
      const kind = MUTATIONS[int(r, 0, MUTATIONS.length - 1)]!;
      const mutant = mutate(base.bytes, r, kind);
      const prints = BACKENDS.map((backend) => fingerprint(mutant, backend, base.queries));
      const head = prints[0]!.startsWith('open:')
        ? prints[0]!.slice(0, 16)
        : prints[0]!.includes('err:')
          ? 'answers+errors'
          : 'answers';
      outcomes.set(`${kind} -> ${head}`, (outcomes.get(`${kind} -> ${head}`) ?? 0) + 1);
      for (let b = 1; b < prints.length; b++) {
        if (prints[b] !== prints[0]) {
          expect.fail(
            `mutant ${n} (${kind}): ${BACKENDS[0]} and ${BACKENDS[b]} disagree:\n${prints[0]!.slice(0, 400)}\n---\n${prints[b]!.slice(0, 400)}`,
          );
        }
      }
      agreed++;
    }
    if (process.env.FUNCKEY_VERBOSE)
      console.log(
        [...outcomes]
          .sort()
          .map(([k, c]) => `${c}\t${k}`)
          .join('\n'),
      );
    expect(agreed).toBe(MUTANTS);
    // The mutations reach past open: some mutants must open and answer, some must be refused.
    const keys = [...outcomes.keys()];
    expect(keys.some((k) => k.includes('answers'))).toBe(true);
    expect(keys.some((k) => k.includes('open:E_CORRUPT'))).toBe(true);
    expect(keys.some((k) => k.includes('open:E_TRUNCATED'))).toBe(true);
  });
});

const ROOT = join(import.meta.dirname, '..');
const SAMPLES = ['demo.wasm', 'many.wasm'].map((f) => join(ROOT, 'samples', f));
/** The large real module for artifact mutants: Biome's, 45 MB, every function named (an artifact of about 8 MB). */
const LARGE_ARTIFACT = join(ROOT, 'node_modules', '@biomejs', 'wasm-nodejs', 'biome_wasm_bg.wasm');
/** The large real module for wasm mutants: swc's, 18 MB, with a name section. */
const LARGE_WASM = join(ROOT, 'node_modules', '@swc', 'wasm', 'wasm_bg.wasm');
const REAL_MUTANTS = count('FUNCKEY_REAL_MUTANTS', 500, 3000);
const LARGE_MUTANTS = count('FUNCKEY_LARGE_MUTANTS', 50, 300);
const WASM_MUTANTS = count('FUNCKEY_WASM_MUTANTS', 600, 3000);
const LARGE_WASM_MUTANTS = count('FUNCKEY_LARGE_WASM_MUTANTS', 30, 120);

/** Questions about the artifact of a real module, chosen from what the wasm reader found in it (its answers are not expected values). */
function realQueries(wasm: Uint8Array, r: Rand, max = 60): Queries {
  const m = parseWasm(wasm).modules[0]!;
  const D = m.definedFuncs;
  const sample = (n: number) =>
    Array.from({ length: Math.min(n, max) }, (_, i) => Math.floor((i * n) / Math.min(n, max)));
  const keys: [number, number][] = sample(D).map((i) => [0, i] as [number, number]);
  keys.push([0, D - 1], [0, D], [0, D + 1], [0, 0xffffffff], [0x10000000, 0], [0x20000000, 1], [1, 0], [0x90000000, 0]);
  for (let i = 0; i < 10; i++) keys.push([pick(r, [0, 0x10000000, 0x30000000, 0x60000001]), int(r, 0, D + 5)]);
  const offsets = sample(D).flatMap((i) => [m.bodyStarts[i]!, m.bodyEnds[i]! - 1, m.bodyEnds[i]!, m.funcStarts[i]!]);
  offsets.push(0, wasm.length, 0xffffffff);
  const space = m.importedFuncs + D;
  const funcIndices = [...sample(space), space - 1, space, space + 1, 0xffffffff];
  return { keys, offsets, funcIndices, modules: 2 };
}

/** Fingerprints of one mutant in every backend; fails the test when they differ. Counts per backend. */
function checkAgree(
  mutant: Uint8Array,
  q: Queries,
  what: string,
  counts: Record<string, number>,
  outcomes: Map<string, number>,
): void {
  const prints = BACKENDS.map((backend) => {
    counts[backend] = (counts[backend] ?? 0) + 1;
    return fingerprint(mutant, backend, q);
  });
  const head = prints[0]!.startsWith('open:') ? prints[0]! : prints[0]!.includes('err:') ? 'answers+errors' : 'answers';
  outcomes.set(head, (outcomes.get(head) ?? 0) + 1);
  for (let b = 1; b < prints.length; b++)
    if (prints[b] !== prints[0])
      expect.fail(
        `${what}: ${BACKENDS[0]} and ${BACKENDS[b]} disagree:\n${prints[0]!.slice(0, 400)}\n---\n${prints[b]!.slice(0, 400)}`,
      );
}

describe('mutated artifacts of real modules', () => {
  it(`${REAL_MUTANTS} mutants of the samples' artifacts (headers and tables): the same answers or error in every backend (${BACKENDS.join(', ')})`, () => {
    const r = rng(77);
    const bases = SAMPLES.flatMap((path) => {
      const wasm = readFileSync(path);
      const q = realQueries(wasm, r);
      return (['auto', 'dense', 'sparse'] as const).map((nameEncoding) => ({
        bytes: buildFromWasm(wasm, { nameEncoding }),
        q,
        path,
      }));
    });
    const counts: Record<string, number> = {};
    const outcomes = new Map<string, number>();
    for (let n = 0; n < REAL_MUTANTS; n++) {
      const base = bases[n % bases.length]!;
      const mutant = n % 2 ? mutate(base.bytes, r) : mutateTables(base.bytes, r);
      checkAgree(mutant, base.q, `mutant ${n} of ${base.path}`, counts, outcomes);
    }
    if (process.env.FUNCKEY_VERBOSE)
      console.log('real-module artifact mutants per backend', counts, Object.fromEntries(outcomes));
    for (const backend of BACKENDS) expect(counts[backend]).toBe(REAL_MUTANTS);
    // The mutants reach past open, and open refuses many for several reasons.
    const heads = [...outcomes.keys()];
    expect(heads.some((h) => h.startsWith('answers'))).toBe(true);
    expect(heads.filter((h) => h.startsWith('open:')).length).toBeGreaterThanOrEqual(3);
  });

  (existsSync(LARGE_ARTIFACT) || IN_CI ? it : it.skip)(
    `${LARGE_MUTANTS} mutants of a large real module's artifact (Biome): the same in every backend`,
    () => {
      const wasm = readFileSync(LARGE_ARTIFACT);
      const r = rng(4242);
      const q = realQueries(wasm, r, 40);
      const bytes = buildFromWasm(wasm);
      const counts: Record<string, number> = {};
      const outcomes = new Map<string, number>();
      for (let n = 0; n < LARGE_MUTANTS; n++) {
        const mutant =
          n % 4 === 3
            ? mutate(bytes, r, pick(r, ['flip', 'u32', 'u64', 'byte', 'swap-headers', 'truncate']))
            : mutateTables(bytes, r, TABLE_MUTATIONS[n % TABLE_MUTATIONS.length]);
        checkAgree(mutant, q, `large mutant ${n}`, counts, outcomes);
      }
      if (process.env.FUNCKEY_VERBOSE)
        console.log('large artifact mutants per backend', counts, Object.fromEntries(outcomes));
      for (const backend of BACKENDS) expect(counts[backend]).toBe(LARGE_MUTANTS);
      expect([...outcomes.keys()].some((h) => h.startsWith('answers'))).toBe(true);
    },
    240_000,
  );
});

/**
 * Mutated real modules through the wasm reader: each gives an artifact (which then opens in
 * every backend) or E_WASM, never another error. Each parse is timed; the slowest is
 * reported, not asserted.
 */
describe('mutated real wasm modules', () => {
  function run(path: string, mutants: number, seed: number): { max: number; outcomes: Record<string, number> } {
    const src = new Uint8Array(readFileSync(path)); // a copy: Buffer's slice() would share memory
    const layout = wasmLebs(src);
    const r = rng(seed);
    const outcomes: Record<string, number> = {};
    let max = 0;
    for (let n = 0; n < mutants; n++) {
      const kind = WASM_MUTATIONS[n % WASM_MUTATIONS.length]!;
      const mutant = mutateWasm(src, layout, r, kind);
      let artifact: Uint8Array | undefined;
      let code = 'artifact';
      const t0 = performance.now();
      try {
        artifact = buildFromWasm(mutant);
      } catch (e) {
        if (!(e instanceof FunckeyError) || e.code !== 'E_WASM')
          expect.fail(`mutant ${n} (${kind}) of ${path} threw ${String(e)}`);
        expect(e.offset).toBeGreaterThanOrEqual(0);
        expect(e.offset).toBeLessThanOrEqual(mutant.length);
        code = 'E_WASM';
      }
      max = Math.max(max, performance.now() - t0);
      outcomes[`${kind} -> ${code}`] = (outcomes[`${kind} -> ${code}`] ?? 0) + 1;
      if (artifact) {
        const descs = BACKENDS.map((backend) => {
          const a = open(artifact, { backend });
          const d = JSON.stringify(a.describe());
          a.close();
          return d;
        });
        for (const d of descs) expect(d).toBe(descs[0]);
      }
    }
    return { max, outcomes };
  }

  it(`${WASM_MUTANTS} mutants of the samples give an artifact or E_WASM`, () => {
    const report: Record<string, unknown> = {};
    let maxMs = 0;
    const all: Record<string, number> = {};
    SAMPLES.forEach((path, i) => {
      const { max, outcomes } = run(path, WASM_MUTANTS / SAMPLES.length, 900 + i);
      maxMs = Math.max(maxMs, max);
      for (const [k, c] of Object.entries(outcomes)) all[k] = (all[k] ?? 0) + c;
    });
    report.maxMsPerInput = Number(maxMs.toFixed(2));
    console.log(`wasm mutants of the samples: ${WASM_MUTANTS}, slowest parse ${report.maxMsPerInput} ms`);
    if (process.env.FUNCKEY_VERBOSE) console.log(all);
    // Both outcomes occur, and padded LEBs (valid) do give artifacts.
    expect(Object.keys(all).some((k) => k.endsWith('E_WASM'))).toBe(true);
    expect(all['leb-padded -> artifact'] ?? 0).toBeGreaterThan(0);
  });

  (existsSync(LARGE_WASM) || IN_CI ? it : it.skip)(
    `${LARGE_WASM_MUTANTS} mutants of a large real module (swc) give an artifact or E_WASM`,
    () => {
      const { max, outcomes } = run(LARGE_WASM, LARGE_WASM_MUTANTS, 31);
      console.log(`wasm mutants of swc: ${LARGE_WASM_MUTANTS}, slowest parse ${max.toFixed(1)} ms`);
      if (process.env.FUNCKEY_VERBOSE) console.log(outcomes);
      expect(Object.keys(outcomes).some((k) => k.endsWith('E_WASM'))).toBe(true);
      expect(Object.keys(outcomes).some((k) => k.endsWith('artifact'))).toBe(true);
    },
    240_000,
  );
});
