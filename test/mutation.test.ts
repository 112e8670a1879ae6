import { describe, expect, it } from 'vitest';
import { BACKENDS } from './backends.js';
import { buildModel, int, queryKeys, queryOffsets, randomModel, rng, type Model } from './gen.js';
import { fingerprint, mutate, MUTATIONS, type Queries } from './mutate.js';

const MUTANTS = Number(process.env.FUNCKEY_MUTANTS ?? 4000);

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
      const head = prints[0]!.startsWith('open:') ? prints[0]!.slice(0, 16) : prints[0]!.includes('err:') ? 'answers+errors' : 'answers';
      outcomes.set(`${kind} -> ${head}`, (outcomes.get(`${kind} -> ${head}`) ?? 0) + 1);
      for (let b = 1; b < prints.length; b++) {
        if (prints[b] !== prints[0]) {
          expect.fail(`mutant ${n} (${kind}): ${BACKENDS[0]} and ${BACKENDS[b]} disagree:\n${prints[0]!.slice(0, 400)}\n---\n${prints[b]!.slice(0, 400)}`);
        }
      }
      agreed++;
    }
    if (process.env.FUNCKEY_VERBOSE) console.log([...outcomes].sort().map(([k, c]) => `${c}\t${k}`).join("\n"));
    expect(agreed).toBe(MUTANTS);
    // The mutations reach past open: some mutants must open and answer, some must be refused.
    const keys = [...outcomes.keys()];
    expect(keys.some((k) => k.includes('answers'))).toBe(true);
    expect(keys.some((k) => k.includes('open:E_CORRUPT'))).toBe(true);
    expect(keys.some((k) => k.includes('open:E_TRUNCATED'))).toBe(true);
  });
});
