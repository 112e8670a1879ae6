/**
 * Inputs found by fuzzing the C++ reader (fuzz/reader_fuzz.cc), replayed through the public
 * API in every backend: each must open in both or be refused with the same code, and then
 * give the same answers (or the same error codes) to the same questions. The fuzzer checks
 * the C++ reader alone; this checks that what it explored also agrees with the js reader.
 *
 * test/fixtures/fuzz/ holds a distilled set of the fuzzer's corpus (one input per kind of
 * outcome and table shape it reached) and every input that ever crashed a reader, once
 * fixed. FUNCKEY_FUZZ_CORPUS=<dir> replays a whole local corpus as well (e.g. .fuzz/work
 * after `npm run fuzz`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FunckeyError } from '../lib/errors.js';
import { open } from '../lib/artifact.js';
import { BACKENDS } from './helpers/backends.js';
import { fingerprint, type Queries } from './helpers/mutate.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'fuzz');

/** Questions drawn from the input itself, as the js reader decodes its header (no expected values). */
function queriesOf(bytes: Uint8Array): Queries {
  const q: Queries = {
    keys: [
      [0, 0],
      [0, 1],
      [0x10000000, 0],
      [0x30000000, 1],
      [0xffffffff, 0xffffffff],
    ],
    offsets: [0, 1, 0xffffffff],
    funcIndices: [0, 1, 2, 3, 0xffffffff],
    modules: 1,
  };
  let a;
  try {
    a = open(bytes, { backend: 'js' });
  } catch (e) {
    if (e instanceof FunckeyError) return q;
    throw e;
  }
  const d = a.describe();
  for (const n of d.namespaces.slice(0, 16)) {
    for (const i of [0, 1, n.funcCount - 1, n.funcCount, n.funcCount + 1, 0xffffffff])
      q.keys.push([n.namespace, i >>> 0]);
    q.keys.push([(n.namespace + 1) >>> 0, 0]);
  }
  const locs = d.sections.find((s) => s.name === '.fk.func_locs');
  if (locs) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let p = 0; p < Math.min(d.funcCount, 40); p++) {
      const start = v.getUint32(locs.offset + 8 * p, true);
      const length = v.getUint32(locs.offset + 8 * p + 4, true);
      q.offsets.push(start, (start + length - 1) >>> 0, (start + length) >>> 0, (start - 1) >>> 0);
    }
  }
  for (const m of d.modules.slice(0, 4))
    for (const fi of [m.nameCount - 1, m.nameCount, m.importedFuncs + m.definedFuncs]) q.funcIndices.push(fi >>> 0);
  q.modules = Math.min(d.modules.length, 4) + 1;
  a.close();
  return q;
}

function replay(dir: string): { files: number; opened: number; codes: Set<string> } {
  const files = readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort();
  let opened = 0;
  const codes = new Set<string>();
  for (const f of files) {
    const bytes = new Uint8Array(readFileSync(join(dir, f)));
    const q = queriesOf(bytes);
    const prints = BACKENDS.map((backend) => fingerprint(bytes, backend, q));
    for (let b = 1; b < prints.length; b++)
      if (prints[b] !== prints[0])
        expect.fail(
          `${f}: ${BACKENDS[0]} and ${BACKENDS[b]} disagree:\n${prints[0]!.slice(0, 600)}\n---\n${prints[b]!.slice(0, 600)}`,
        );
    if (prints[0]!.startsWith('open:')) codes.add(prints[0]!);
    else opened++;
    for (const m of prints[0]!.matchAll(/err:(E_[A-Z]+)/g)) codes.add(`lookup:${m[1]}`);
  }
  return { files: files.length, opened, codes };
}

describe('fuzzer inputs replayed in every backend', () => {
  it(`the committed fuzz fixtures: same outcome in ${BACKENDS.join(' and ')}`, () => {
    const r = replay(FIXTURES);
    expect(r.files).toBeGreaterThanOrEqual(20);
    // The fixtures reach lookups, and are refused at open for several reasons.
    expect(r.opened).toBeGreaterThan(0);
    expect([...r.codes].filter((c) => c.startsWith('open:')).length).toBeGreaterThanOrEqual(3);
    if (process.env.FUNCKEY_VERBOSE) console.log(r);
  });

  const local = process.env.FUNCKEY_FUZZ_CORPUS;
  it.skipIf(!local || !existsSync(local))(
    `a local corpus (FUNCKEY_FUZZ_CORPUS=${local ?? ''})`,
    () => {
      const r = replay(local!);
      console.log(
        `replayed ${r.files} inputs of ${local}: ${r.opened} opened; outcomes ${[...r.codes].sort().join(', ')}`,
      );
    },
    600_000,
  );
});
