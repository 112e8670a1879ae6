/**
 * Opening without closing, in child processes over dist/: a loop that opens one artifact
 * more times than the kernel has map entries (65,530 by default) must keep working, and
 * opening more distinct files than the native backend maps at once must give E_IO, never
 * abort the process.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArtifactBuilder, FuncKey } from '../lib/index.js';
import { BACKENDS } from './helpers/backends.js';

const HEAVY = process.env.FUNCKEY_HEAVY === '1';
const dist = join(__dirname, '..', 'dist', 'index.js');
const dir = mkdtempSync(join(tmpdir(), 'funckey-hostile-res-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = join(dir, 'a.fkx');
{
  const b = new ArtifactBuilder();
  b.addModule({ name: 'm', importedFuncs: 0, definedFuncs: 1 });
  b.pushFunc(FuncKey.definedWasmFunction(0, 0), { start: 10, length: 5 });
  b.setFuncName(0, 0, 'f');
  writeFileSync(file, b.finish());
}

function child(
  script: string,
  env: Record<string, string> = {},
): { ok: number; codes: Record<string, number>; name: string } {
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import * as fk from ${JSON.stringify(dist)};\n${script}`],
    {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ...env },
    },
  );
  expect(r.error, 'the child finished in time').toBe(undefined);
  expect({ status: r.status, signal: r.signal, stderr: r.stderr.slice(0, 500) }).toEqual({
    status: 0,
    signal: null,
    stderr: '',
  });
  return JSON.parse(r.stdout) as { ok: number; codes: Record<string, number>; name: string };
}

const loop = (backend: string, paths: string) => `
  const paths = ${paths};
  let ok = 0, last; const codes = {};
  for (const p of paths) {
    try { last = fk.open(p, { backend: ${JSON.stringify(backend)} }); ok++; }
    catch (e) { if (!(e instanceof fk.FunckeyError)) throw e; codes[e.code] = (codes[e.code] ?? 0) + 1; }
  }
  console.log(JSON.stringify({ ok, codes, name: last.funcName(0) }));`;

describe.each(BACKENDS)('opens without close, backend %s', (backend) => {
  it(`${HEAVY ? 200_000 : 2_000} opens of one file, none closed: every one answers (they share one mapping)`, () => {
    // By default under a limit of 200 mappings, which 2,000 opens pass only by sharing one;
    // heavy: 200,000 opens under the default limit, past the kernel's 65,530 map entries.
    const n = HEAVY ? 200_000 : 2_000;
    const r = child(
      loop(backend, `Array.from({ length: ${n} }, () => ${JSON.stringify(file)})`),
      HEAVY ? {} : { FUNCKEY_MAX_MAPPINGS: '200' },
    );
    expect(r).toEqual({ ok: n, codes: {}, name: 'f' });
  });

  it('more distinct files than the native backend maps at once: E_IO past the limit, and the process lives on', () => {
    const many = join(dir, 'many');
    mkdirSync(many, { recursive: true });
    const n = 300;
    for (let i = 0; i < n; i++) copyFileSync(file, join(many, `${i}.fkx`));
    // The limit lowered to 200 for the test (by default it is half of vm.max_map_count).
    const r = child(
      loop(backend, `Array.from({ length: ${n} }, (_, i) => ${JSON.stringify(many)} + '/' + i + '.fkx')`),
      {
        FUNCKEY_MAX_MAPPINGS: '200',
      },
    );
    expect(r).toEqual(
      backend === 'native' ? { ok: 200, codes: { E_IO: 100 }, name: 'f' } : { ok: n, codes: {}, name: 'f' },
    );
  });
});
