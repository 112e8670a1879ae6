/**
 * The package as a user gets it: its main entry point (dist/funckey.cjs for require,
 * dist/funckey.mjs for import; npm test builds both), what `npm pack` puts in the tarball,
 * a TypeScript CommonJS project compiled against it, and an environment that cannot be read
 * (Deno without --allow-env). Each check runs in a child node, where the package is loaded
 * by its name from a scratch project whose node_modules/funckey links to this repository.
 * FUNCKEY_HEAVY=1 adds the whole path: `npm pack`, `npm install` of the tarball, and the same
 * checks against the installed copy; FUNCKEY_DENO=/path/to/deno adds a run under Deno.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FuncKey } from '../lib/key.js';
import { ArtifactBuilder } from '../lib/writer.js';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'funckey-packaging-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HEAVY = process.env.FUNCKEY_HEAVY === '1';
const DEMO_WASM = join(root, 'samples', 'demo.wasm');

/** A scratch project at dir/name with funckey in node_modules: a link to `pkg`. */
function project(name: string, pkg = root): string {
  const p = join(dir, name);
  mkdirSync(join(p, 'node_modules'), { recursive: true });
  writeFileSync(join(p, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  symlinkSync(pkg, join(p, 'node_modules', 'funckey'), 'dir');
  return p;
}

/** Runs `code` with node in `cwd` (as CommonJS, or as an ES module); returns the last stdout line as JSON. */
function node(cwd: string, code: string, kind: 'cjs' | 'esm', args: string[] = []): Record<string, unknown> {
  const file = join(cwd, kind === 'cjs' ? 'probe.cjs' : 'probe.mjs');
  writeFileSync(file, code);
  const out = execFileSync(process.execPath, [...args, file], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, FUNCKEY_BACKEND: '' },
    timeout: 60_000,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}

// Reads samples/demo.wasm (3 imports, 8 defined functions; function 3 is unit_average, its
// body holds offset 0x77: wasm-objdump -x -d) through the package, and reports what it saw.
const probeBody = `
const bytes = fk.buildFromWasm(require('node:fs').readFileSync(${JSON.stringify(DEMO_WASM)}));
const a = fk.open(bytes);
let code;
try { fk.parseWasm(new Uint8Array(2)); } catch (e) { code = (e instanceof fk.FunckeyError) + ' ' + e.code; }
const frames = fk.symbolicateFrames('at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77', a);
console.log(JSON.stringify({
  name: a.funcName(3),
  byOffset: String(a.funcByOffset(0x77)),
  lazyError: code,
  keyClass: frames[0].key instanceof fk.FuncKey,
  builderClass: fk.builderFromWasm(require('node:fs').readFileSync(${JSON.stringify(DEMO_WASM)})).builder instanceof fk.ArtifactBuilder,
  status: fk.nativeStatus(),
  backend: a.backend,
}));
`;
const expected = {
  name: 'unit_average',
  byOffset: 'DefinedWasmFunction(0, 0)',
  lazyError: 'true E_WASM',
  keyClass: true,
  builderClass: true,
};

function checkInstalled(p: string): void {
  // CommonJS.
  expect(node(p, `const fk = require('funckey');\n${probeBody}`, 'cjs')).toMatchObject(expected);
  // An ES module, with the same one copy as require sees.
  const esm = node(
    p,
    `import * as fk from 'funckey';\nimport { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n` +
      `const same = require('funckey').FunckeyError === fk.FunckeyError && require('funckey').open === fk.open;\n` +
      probeBody.replace('console.log(JSON.stringify({', 'console.log(JSON.stringify({ same,'),
    'esm',
  );
  expect(esm).toMatchObject({ ...expected, same: true });
}

describe('the main entry point', () => {
  const p = project('entry');

  it('require and import load it, with one copy of every class, lazy parts included', () => {
    checkInstalled(p);
  });

  it('exports what lib/index.ts exports, and nothing else but __modules', () => {
    const r = node(
      p,
      `const cjs = Object.keys(require('funckey')).sort();
       import(${JSON.stringify(join(root, 'dist', 'index.js'))}).then(async (index) => {
         const esm = Object.keys(await import('funckey')).sort();
         console.log(JSON.stringify({ cjs, esm, index: Object.keys(index).sort() }));
       });`,
      'cjs',
    );
    expect(r.index).toContain('symbolicate');
    expect(r.cjs).toEqual([...(r.index as string[]), '__modules'].sort());
    expect(r.esm).toEqual(r.index);
  });

  it('loads what a reader does not use only when it is used', () => {
    const file = join(dir, 'one.fkx');
    const b = new ArtifactBuilder();
    b.addModule({ importedFuncs: 0, definedFuncs: 1 });
    b.pushFunc(FuncKey.definedWasmFunction(0, 0), { start: 0, length: 4 });
    b.setFuncName(0, 0, 'f');
    b.writeFile(file);
    const r = node(
      p,
      `const fk = require('funckey');
       const lazyLoaded = () => Object.keys(require.cache).some((f) => f.endsWith('funckey-lazy.cjs'));
       const crypto = () => process.moduleLoadList.some((m) => /\\bcrypto\\b/.test(m));
       const a = fk.open(${JSON.stringify(file)});
       const before = { name: a.funcName(0), lazy: lazyLoaded(), crypto: crypto() };
       class Mine extends fk.ArtifactBuilder { mine() { return 'mine'; } }
       const m = new Mine();
       const after = { lazy: lazyLoaded(), mine: m instanceof Mine && m instanceof fk.ArtifactBuilder && m.mine() === 'mine', add: typeof m.addModule };
       console.log(JSON.stringify({ before, after }));`,
      'cjs',
    );
    expect(r.before).toEqual({ name: 'f', lazy: false, crypto: false });
    expect(r.after).toEqual({ lazy: true, mine: true, add: 'function' });
  });

  it('runs the eager bundle whatever its code cache holds: one made from other bytes, or none', () => {
    // A copy of the package whose cache header fits the bundle but whose data is not V8's
    // (V8 refuses it), then one with no cache: both compile the bundle from its source.
    const copy = join(dir, 'cache-copy');
    cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true });
    cpSync(join(root, 'package.json'), join(copy, 'package.json'));
    const cache = join(copy, 'dist', 'funckey-eager.v8cache');
    const bundle = readFileSync(join(copy, 'dist', 'funckey-eager.cjs'));
    const junk = Buffer.alloc(8 + bundle.length + 4096, 0x5a);
    junk.writeDoubleLE(bundle.length, 0);
    bundle.copy(junk, 8);
    const p2 = project('cache', copy);
    for (const state of ['junk', 'none']) {
      if (state === 'junk') writeFileSync(cache, junk);
      else rmSync(cache);
      const r = node(
        p2,
        `const fk = require('funckey');
         let code; try { fk.open(new Uint8Array(3), { backend: 'js' }); } catch (e) { code = e instanceof fk.FunckeyError && e.code; }
         import('funckey').then((m) => console.log(JSON.stringify({ code, same: m.open === fk.open })));`,
        'cjs',
      );
      expect(r, state).toEqual({ code: 'E_FORMAT', same: true });
    }
  });

  it('never runs a cache made from other bytes of the same size and time (cp -p, npm pack)', () => {
    // A copy whose bundle has npm pack's modification time, its cache written for it, then the
    // bundle edited in place keeping its size and that time: the code that runs is the
    // bundle's as it is now, not the cache's.
    const copy = join(dir, 'stale-copy');
    for (const d of ['dist', 'scripts', 'samples']) cpSync(join(root, d), join(copy, d), { recursive: true });
    cpSync(join(root, 'package.json'), join(copy, 'package.json'));
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    const file = join(copy, 'dist', 'funckey-eager.cjs');
    const packTime = 499162500; // 1985-10-26T08:15:00Z, every file's time in an npm tarball
    utimesSync(file, packTime, packTime);
    execFileSync(process.execPath, [join(copy, 'scripts', 'code-cache.cjs')]);
    expect(existsSync(join(copy, 'dist', 'funckey-eager.v8cache'))).toBe(true);
    const old = 'not a funckey artifact: no ELF magic';
    const src = readFileSync(file, 'latin1');
    expect(src).toContain(old);
    writeFileSync(file, src.replace(old, old.toUpperCase()), 'latin1');
    utimesSync(file, packTime, packTime);
    expect(statSync(file).size).toBe(Buffer.byteLength(src, 'latin1'));
    const r = node(
      project('stale', copy),
      `const fk = require('funckey');
       let message; try { fk.open(new Uint8Array(3), { backend: 'js' }); } catch (e) { message = e.message; }
       console.log(JSON.stringify({ message }));`,
      'cjs',
    );
    expect(r).toEqual({ message: old.toUpperCase() });
  });

  it('loads by require and import where process.getBuiltinModule is missing (Node before 20.16)', () => {
    const pre = join(p, 'no-get-builtin.cjs');
    writeFileSync(pre, 'delete process.getBuiltinModule;\n');
    const body = `const bytes = fk.buildFromWasm(fs.readFileSync(${JSON.stringify(DEMO_WASM)}));
       const a = fk.open(bytes);
       const s = fk.symbolicate('    at wasm://wasm/x:wasm-function[3]:0x77', a);
       console.log(JSON.stringify({ get: typeof process.getBuiltinModule, name: a.funcName(3), s }));`;
    const want = {
      get: 'undefined',
      name: 'unit_average',
      s: '    at unit_average (wasm://wasm/x:wasm-function[3]:0x77)',
    };
    const cjs = `const fk = require('funckey'); const fs = require('node:fs');\n${body}`;
    const esm = `import * as fk from 'funckey'; import fs from 'node:fs';\n${body}`;
    expect(node(p, cjs, 'cjs', ['--require', pre])).toEqual(want);
    expect(node(p, esm, 'esm', ['--require', pre])).toEqual(want);
  });

  it('with an environment that throws when read (Deno without --allow-env), open falls back as if FUNCKEY_BACKEND were unset', () => {
    const r = node(
      p,
      `const fk = require('funckey');
       const bytes = fk.buildFromWasm(require('node:fs').readFileSync(${JSON.stringify(DEMO_WASM)}));
       const env = Object.getOwnPropertyDescriptor(process, 'env');
       Object.defineProperty(process, 'env', { configurable: true, get() { const e = new Error('Requires env access to "FUNCKEY_BACKEND"'); e.name = 'NotCapable'; throw e; } });
       let res;
       try { const a = fk.open(bytes); res = { backend: a.backend, name: a.funcName(3), native: fk.nativeStatus().available }; }
       catch (e) { res = { threw: e.name + ': ' + e.message }; }
       Object.defineProperty(process, 'env', env); // console.log reads it
       console.log(JSON.stringify(res));`,
      'cjs',
    );
    expect(r.threw).toBeUndefined();
    expect(r.name).toBe('unit_average');
    expect(r.backend).toBe(r.native ? 'native' : 'js');
  });

  it.skipIf(!process.env.FUNCKEY_DENO)(
    'under Deno without --allow-env, open answers (js when --allow-ffi is not given)',
    () => {
      const file = join(p, 'deno-probe.mjs');
      writeFileSync(
        file,
        `import { open, buildFromWasm, nativeStatus } from 'funckey';\nimport { readFileSync } from 'node:fs';\n` +
          `const a = open(buildFromWasm(readFileSync(${JSON.stringify(DEMO_WASM)})));\n` +
          `console.log(JSON.stringify({ backend: a.backend, name: a.funcName(3), status: nativeStatus() }));\n`,
      );
      const out = execFileSync(process.env.FUNCKEY_DENO!, ['run', '--allow-read', file], {
        cwd: p,
        encoding: 'utf8',
        timeout: 60_000,
      });
      const r = JSON.parse(out.trim().split('\n').pop()!);
      expect(r).toMatchObject({ backend: 'js', name: 'unit_average', status: { available: false } });
      expect(r.status.reason).toMatch(/ffi/);
    },
  );
});

/** Compiles and runs a TypeScript CommonJS program against the package in `p`. */
function typescriptCommonJs(p: string, module: string, resolution: string): Record<string, unknown> {
  writeFileSync(
    join(p, 'app.ts'),
    `import { open, buildFromWasmFile, FuncKey, FunckeyError, nativeStatus, type Artifact } from 'funckey';
const a: Artifact = open(buildFromWasmFile(${JSON.stringify(DEMO_WASM)}));
const key: FuncKey | undefined = a.funcByOffset(0x77);
console.log(JSON.stringify({ name: a.funcName(3), key: String(key), native: nativeStatus().available, error: new FunckeyError('E_ARG', 'x').code }));
`,
  );
  const out = join(p, `out-${module}`);
  // @types/node as a Node project has it: the stream API's types name node:stream and Buffer.
  const typeRoots = [join(root, 'node_modules', '@types')];
  const compilerOptions = {
    module,
    moduleResolution: resolution,
    target: 'es2022',
    strict: true,
    typeRoots,
    types: ['node'],
    outDir: out,
  };
  const config = { compilerOptions, files: ['app.ts'] };
  writeFileSync(join(p, 'tsconfig.json'), JSON.stringify(config));
  const tsc = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(p, 'tsconfig.json')],
    {
      cwd: p,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  expect(tsc.stdout + tsc.stderr, `tsc --module ${module}`).toBe('');
  return JSON.parse(execFileSync(process.execPath, [join(out, 'app.js')], { cwd: p, encoding: 'utf8' }).trim());
}

// A compile takes seconds: the heavy suite (CI) runs it.
describe.runIf(HEAVY)('a TypeScript CommonJS project', () => {
  const want = { name: 'unit_average', key: 'DefinedWasmFunction(0, 0)', error: 'E_ARG' };
  // node16: CommonJS types may not import an ES module's, the strictest of the three.
  const modes: [string, string][] = [
    ['node16', 'node16'],
    ['commonjs', 'node10'],
    ['nodenext', 'nodenext'],
  ];
  it.each(modes)('compiles and runs (--module %s)', (module, resolution) => {
    expect(typescriptCommonJs(project(`ts-${module}`), module, resolution)).toMatchObject(want);
  });
});

describe('the tarball', () => {
  it('carries the built package, the sources to build the addon and the prebuilds, and no tests, benchmarks or fixtures', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/funckey.cjs',
      'dist/funckey-eager.cjs',
      'dist/funckey-eager.v8cache',
      'dist/funckey-lazy.cjs',
      'dist/funckey.mjs',
      'dist/funckey.d.cts',
      'dist/index.d.ts',
      'dist/cli.js',
      'binding.gyp',
      'native/reader.cc',
      'scripts/install.cjs',
      'scripts/code-cache.cjs',
      'samples/demo.wasm',
      'docs/FORMAT.md',
    ])
      expect(files).toContain(f);
    const prebuilds = join(root, 'prebuilds');
    if (existsSync(prebuilds))
      for (const d of readdirSync(prebuilds))
        for (const f of readdirSync(join(prebuilds, d))) expect(files).toContain(`prebuilds/${d}/${f}`);
    expect(
      files.filter((f) => /^(test|bench|fuzz|build|\.ci|node_modules)\//.test(f) || f === 'samples/many.wasm'),
    ).toEqual([]);
  });

  it.skipIf(!HEAVY)(
    'npm pack (which makes the prebuild), npm install of the tarball, then require, import and TypeScript',
    () => {
      // Packed from a copy: prepack's prebuildify replaces build/ and prebuilds/, which the
      // test files running beside this one load the addon from. (npm pack's stdout holds the
      // compiler's output too: the tarball is found in dir.)
      const copy = join(dir, 'repo');
      const skip = new Set(['node_modules', '.git', 'build', 'prebuilds', 'dist', '.fuzz'].map((d) => join(root, d)));
      cpSync(root, copy, { recursive: true, filter: (src) => !skip.has(src) });
      symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
      execFileSync('npm', ['pack', '--pack-destination', dir], { cwd: copy, encoding: 'utf8', timeout: 600_000 });
      const tgz = join(
        dir,
        readdirSync(dir).find((f) => f.endsWith('.tgz'))!,
      );
      const app = join(dir, 'installed');
      mkdirSync(app);
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'installed', version: '1.0.0', private: true }));
      execFileSync('npm', ['install', '--no-audit', '--no-fund', tgz], {
        cwd: app,
        encoding: 'utf8',
        timeout: 600_000,
      });
      const installed = join(app, 'node_modules', 'funckey');
      expect(existsSync(join(installed, 'build'))).toBe(false);
      checkInstalled(app);
      const r = node(app, `console.log(JSON.stringify(require('funckey').nativeStatus()));`, 'cjs');
      if (process.platform === 'linux' && process.arch === 'x64')
        expect(r).toEqual({ available: true, path: join(installed, 'prebuilds', 'linux-x64', 'funckey.glibc.node') });
      expect(typescriptCommonJs(app, 'node16', 'node16')).toMatchObject({ name: 'unit_average' });
      // Installed without its scripts: the code cache packed with the bundle fits it (V8
      // takes it: the packing Node is this one), and the CLI runs.
      const bare = join(dir, 'installed-no-scripts');
      mkdirSync(bare);
      writeFileSync(join(bare, 'package.json'), JSON.stringify({ name: 'bare', version: '1.0.0', private: true }));
      execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', tgz], {
        cwd: bare,
        encoding: 'utf8',
        timeout: 600_000,
      });
      checkInstalled(bare);
      const cache = node(
        bare,
        `const fs = require('node:fs'), path = require('node:path'), vm = require('node:vm');
         const d = path.join(path.dirname(require.resolve('funckey')));
         const b = fs.readFileSync(path.join(d, 'funckey-eager.cjs')), c = fs.readFileSync(path.join(d, 'funckey-eager.v8cache'));
         const fits = c.readDoubleLE(0) === b.length && c.subarray(8, 8 + b.length).equals(b);
         const src = '(function (exports, require, module, __filename, __dirname) {' + b.toString('utf8') + '\\n})';
         const s = new vm.Script(src, { filename: path.join(d, 'funckey-eager.cjs'), cachedData: c.subarray(8 + b.length) });
         console.log(JSON.stringify({ fits, rejected: s.cachedDataRejected }));`,
        'cjs',
      );
      expect(cache).toEqual({ fits: true, rejected: false });
      const demo = spawnSync('npx', ['--no-install', 'funckey', 'demo'], {
        cwd: bare,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(demo.status, demo.stderr).toBe(0);
      expect(demo.stdout).toMatch(/(\d+) of \1 wasm frames named/);
    },
    900_000,
  );
});
