/*
 * Real engines' stack traces. samples/engines/gen.mjs makes a module of 12,000 functions
 * (names with spaces, parentheses and non-ASCII characters, functions without names) in
 * three builds: named.wasm (module name "ownmod"), anon.wasm (no module name), stripped.wasm
 * (no name section). scripts/capture-traces.mjs ran each engine on the three and wrote what
 * it printed to test/fixtures/traces/ (versions in versions.json).
 *
 * The reference is the engine itself: for each engine, the trace of stripped.wasm
 * symbolicated with the artifact of named.wasm (of anon.wasm) must equal, line by line, the
 * trace the same engine printed for named.wasm (anon.wasm), URLs aside (V8 puts the module
 * name in its wasm:// URL). Replayed from the fixtures always; run live for every engine
 * that is installed (node, gjs and jsc always in CI; deno, bun and wasmtime when present).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildFromWasmFile, open, symbolicate, symbolicateFrames, type Artifact } from '../lib/index.js';
import { BACKENDS } from './helpers/backends.js';
// @ts-expect-error: a plain .mjs module shared with scripts/capture-traces.mjs
import { ENGINES, DIR } from '../samples/engines/engines.mjs';
// @ts-expect-error: as above
import { FUNCS, CHAIN, IMPORTS, nameOf } from '../samples/engines/gen.mjs';

interface EngineDef {
  id: string;
  debian?: boolean;
  find: (dir?: string) => string | undefined;
  run: (exe: string, module: string) => string;
}
type Module = 'named' | 'anon' | 'stripped';

const FIXTURES = new URL('./fixtures/traces/', import.meta.url);
const fixture = (id: string, m: Module) => readFileSync(new URL(`${id}.${m}.txt`, FIXTURES), 'utf8');
const IN_CI = !!process.env.CI;

/** The text with V8's wasm:// URLs (which hold the module name and a hash) made equal. */
const urlsAside = (t: string) => t.replace(/wasm:\/\/wasm\/[0-9A-Za-z_.-]+/g, 'wasm://wasm/URL');

const artifacts = new Map<string, Artifact>();
function artifactOf(m: 'named' | 'anon', backend: string): Artifact {
  const k = `${m}/${backend}`;
  if (!artifacts.has(k))
    artifacts.set(k, open(buildFromWasmFile(`${DIR}/${m}.wasm`), { backend: backend as 'js' | 'native' }));
  return artifacts.get(k)!;
}

/** Symbolicates the stripped trace with each artifact and compares with what the engine printed. */
function checkEngine(id: string, trace: (m: Module) => string, backend: string): void {
  const stripped = trace('stripped');
  for (const m of ['named', 'anon'] as const) {
    const expected = trace(m);
    const a = artifactOf(m, backend);
    const got = symbolicate(stripped, a);
    expect(urlsAside(got).split('\n')).toEqual(urlsAside(expected).split('\n'));
    if (id.startsWith('bun') && !id.includes('callsites')) {
      // Bun prints `at unknown` for every wasm frame: nothing to look up, nothing changed.
      expect(stripped).toContain('at unknown');
      expect(symbolicateFrames(stripped, a)).toEqual([]);
      continue;
    }
    // The engine printed something different for the stripped module, and funckey named it.
    expect(urlsAside(stripped)).not.toBe(urlsAside(expected));
    const frames = symbolicateFrames(stripped, a);
    expect(frames.length).toBeGreaterThanOrEqual(20);
    expect(frames.every((f) => f.status === 'resolved')).toBe(true);
  }
}

const ids = (ENGINES as EngineDef[]).map((e) => e.id);

describe.each(BACKENDS)('engine traces replayed (%s backend)', (backend) => {
  it.each(ids)('%s', (id) => checkEngine(id, (m) => fixture(id, m), backend));

  it('the fixtures are the module of gen.mjs: > 10,000 functions, its chain, its names', () => {
    expect(FUNCS).toBeGreaterThan(10_000);
    const a = artifactOf('named', backend);
    expect(a.modules[0]).toMatchObject({ name: 'ownmod', importedFuncs: IMPORTS, definedFuncs: FUNCS + 1 });
    // V8's trace of named.wasm lists the chain innermost first, with gen.mjs's names.
    const v8 = [...fixture('node', 'named').matchAll(/wasm-function\[(\d+)\]/g)].map((x) => Number(x[1]) - IMPORTS);
    expect(v8).toEqual([...CHAIN].reverse().concat([FUNCS]));
    const names = fixture('node', 'named');
    for (const k of CHAIN) {
      const n = nameOf(k);
      expect(names).toContain(n === undefined ? `at ownmod (wasm://` : `at ownmod.${n} (wasm://`);
    }
  });

  it('Deno prints wasm-function[0] for every frame: the offset decides, the index is reported', () => {
    const frames = symbolicateFrames(fixture('deno', 'stripped'), artifactOf('named', backend));
    const v8 = symbolicateFrames(fixture('node', 'stripped'), artifactOf('named', backend));
    expect(frames.map((f) => f.funcIndex)).toEqual(v8.map(() => 0));
    expect(frames.map((f) => f.resolvedIndex)).toEqual(v8.map((f) => f.funcIndex));
  });

  it('SpiderMonkey by a relative script path is SpiderMonkey, its URL kept whole', () => {
    const frames = symbolicateFrames(fixture('gjs', 'stripped'), artifactOf('named', backend));
    expect(new Set(frames.map((f) => [f.engine, f.url].join(' ')))).toEqual(
      new Set(['spidermonkey run-gjs.js line 4 > WebAssembly.Module']),
    );
  });

  it('JavaScriptCore frames (no offsets) of another module are marked, not named', () => {
    // demo.wasm's artifact: 11 functions and no module name; many.wasm's: module "many".
    const demo = open(buildFromWasmFile(new URL('../samples/demo.wasm', import.meta.url).pathname), {
      backend: backend as 'js' | 'native',
    });
    const many = open(buildFromWasmFile(new URL('../samples/many.wasm', import.meta.url).pathname), {
      backend: backend as 'js' | 'native',
    });
    const stripped = fixture('jsc', 'stripped');
    const named = fixture('jsc', 'named');
    // Indices past the module's functions; and then every frame of that module prefix (<?>),
    // also those before it with an index in range, which would otherwise get demo's names.
    const s = symbolicateFrames(stripped, demo);
    expect(s.map((f) => f.status)).toEqual(s.map((f) => (f.funcIndex! > 10 ? 'no-function' : 'mismatch')));
    expect(s.filter((f) => f.funcIndex! <= 10).map((f) => f.funcIndex)).toEqual([10, 5, 3, 2, 1]);
    expect(symbolicate(stripped, demo)).toBe(stripped);
    expect(symbolicate(stripped, many)).toBe(stripped);
    // The module name in the frame is not the artifact's (or the index is past its functions).
    const m = symbolicateFrames(named, many);
    expect(m.map((f) => f.status)).toEqual(m.map((f) => (f.funcIndex! >= 402 ? 'no-function' : 'mismatch')));
    expect(m.filter((f) => f.status === 'mismatch').length).toBeGreaterThan(3);
    // A name in the frame that is not the artifact's name of that index.
    const anonNamed = fixture('jsc', 'anon');
    expect(
      symbolicateFrames(anonNamed, many)
        .filter((f) => f.funcIndex! < 402 && f.printedName !== '(null)')
        .every((f) => f.status === 'mismatch'),
    ).toBe(true);
    expect(symbolicate(named, many)).toBe(named);
  });
});

// Live: node, gjs and jsc always (each run is well under a second); the engines from npm and
// PyPI (seconds each: Deno, Wasmtime compile 12,000 functions) when installed and either
// FUNCKEY_HEAVY=1 or FUNCKEY_ENGINES_DIR (where `npm install --no-save deno bun` ran) is set.
const HEAVY = process.env.FUNCKEY_HEAVY === '1' || process.env.FUNCKEY_ENGINES_DIR !== undefined;
describe('engine traces live', () => {
  const backend = BACKENDS.at(-1)!;
  for (const e of ENGINES as EngineDef[]) {
    if (e.id !== 'node' && !e.debian && !HEAVY) {
      it.skip(`${e.id}: live run only with FUNCKEY_HEAVY=1 or FUNCKEY_ENGINES_DIR (fixtures still replayed)`, () => {});
      continue;
    }
    const exe = e.find();
    if (exe === undefined) {
      if (IN_CI && e.debian)
        it(`${e.id}: required in CI (.ci/run installs it)`, () => expect.fail(`${e.id} is not installed`));
      else it.skip(`${e.id}: not installed, live run skipped`, () => {});
      if (!IN_CI)
        console.warn(`engines.test: ${e.id} is not installed; its live run is skipped (fixtures still replayed)`);
      continue;
    }
    it(`${e.id} (${backend} backend)`, { timeout: 120_000 }, () => {
      const traces = new Map<Module, string>();
      const trace = (m: Module) => {
        if (!traces.has(m)) traces.set(m, e.run(exe, m));
        return traces.get(m)!;
      };
      checkEngine(e.id, trace, backend);
    });
  }
});

describe('funckey demo under Deno and Bun', () => {
  const cli = new URL('../dist/cli.js', import.meta.url).pathname;
  const runtimes: [string, string[], RegExp][] = [
    [
      'deno',
      ['run', '--allow-read', '--allow-env', '--allow-ffi', cli, 'demo'],
      /as Deno [^ ]+ \(V8 [^)]+\) prints it/,
    ],
    ['bun', [cli, 'demo'], /as Bun [^ ]+ \(JavaScriptCore\) gives it in its call sites/],
  ];
  for (const [id, args, how] of runtimes) {
    const exe = HEAVY ? (ENGINES as EngineDef[]).find((e) => e.id === id)!.find() : undefined;
    it.skipIf(exe === undefined)(
      `${id}: names every frame and says which runtime printed the trace`,
      { timeout: 120_000 },
      () => {
        const r = spawnSync(exe!, args, { encoding: 'utf8', timeout: 60_000 });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(how);
        expect(r.stdout).toContain('7 of 7 wasm frames named.');
        expect(r.stdout.split('The same trace after')[1]).toContain('unit_average');
      },
    );
  }
});
