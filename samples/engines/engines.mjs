// How each engine is found and run on a module of gen.mjs; shared by
// scripts/capture-traces.mjs (which writes test/fixtures/traces/) and test/engines.test.ts
// (which runs the installed engines live). run() returns what the engine printed.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DIR = dirname(fileURLToPath(import.meta.url));
const TIMEOUT = 60_000;

function exec(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: TIMEOUT, maxBuffer: 64 << 20, ...opts });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The path of `name` on PATH, or undefined. */
function which(name) {
  for (const d of (process.env.PATH ?? '').split(':')) if (d !== '' && existsSync(join(d, name))) return join(d, name);
  return undefined;
}

function firstExisting(paths) {
  return paths.find((p) => p !== undefined && p !== '' && existsSync(p));
}

/**
 * The directory of copies of the runners, at a fixed path, so that traces name the same
 * script paths on every machine rather than those of a checkout.
 */
function runners() {
  const dir = join(tmpdir(), 'funckey-engines');
  mkdirSync(dir, { recursive: true });
  for (const f of ['run.mjs', 'run-gjs.js', 'run-jsc.js', 'run-wasmtime.py']) copyFileSync(join(DIR, f), join(dir, f));
  return dir;
}

/** A module of gen.mjs by its name (`named`, `anon`, `stripped`), or a module's path. */
const mod = (m) => (m.endsWith('.wasm') ? m : join(DIR, `${m}.wasm`));

function hasPythonWasmtime() {
  const py = which('python3');
  if (py === undefined) return undefined;
  const r = spawnSync(py, ['-c', 'import wasmtime'], { timeout: TIMEOUT });
  return r.status === 0 ? py : undefined;
}

const npmEngine = (id, envVar, bin, inDir, args) => ({
  id,
  find: (dir = process.env.FUNCKEY_ENGINES_DIR) => firstExisting([process.env[envVar], dir === undefined ? undefined : join(dir, inDir), which(bin)]),
  run: (exe, m) => exec(exe, [...args, 'run.mjs', m === undefined ? '' : mod(m)].filter((x) => x !== ''), { cwd: runners() }),
  version: (exe) => exec(exe, ['--version']).split('\n')[0],
});

/**
 * Every engine: id, find(enginesDir?) -> executable or undefined, run(exe, module), version(exe).
 * enginesDir defaults to $FUNCKEY_ENGINES_DIR (a directory where `npm install --no-save deno
 * bun` was run). `debian` says whether .ci/run installs it (then CI requires it).
 */
export const ENGINES = [
  {
    id: 'node',
    find: () => process.execPath,
    run: (exe, m) => exec(exe, ['run.mjs', mod(m)], { cwd: runners() }),
    version: (exe) => `node ${exec(exe, ['--version']).trim()} (V8 ${exec(exe, ['-p', 'process.versions.v8']).trim()})`,
  },
  {
    ...npmEngine('deno', 'FUNCKEY_DENO', 'deno', 'node_modules/deno/deno', ['run', '--allow-read']),
    version: (exe) => exec(exe, ['--version']).split('\n').slice(0, 2).join(', '),
  },
  {
    ...npmEngine('bun', 'FUNCKEY_BUN', 'bun', 'node_modules/bun/bin/bun.exe', []),
    version: (exe) => `bun ${exec(exe, ['--version']).trim()}`,
  },
  {
    id: 'bun-callsites',
    find: (dir = process.env.FUNCKEY_ENGINES_DIR) =>
      firstExisting([process.env.FUNCKEY_BUN, dir === undefined ? undefined : join(dir, 'node_modules/bun/bin/bun.exe'), which('bun')]),
    run: (exe, m) => exec(exe, ['run.mjs', mod(m), 'callsites'], { cwd: runners() }),
    version: (exe) => `bun ${exec(exe, ['--version']).trim()}`,
  },
  {
    id: 'gjs',
    debian: true,
    find: () => which('gjs'),
    run: (exe, m) => exec(exe, ['run-gjs.js', mod(m)], { cwd: runners() }),
    version: (exe) => exec(exe, ['--version']).trim(),
  },
  {
    id: 'gjs-absolute',
    debian: true,
    find: () => which('gjs'),
    run: (exe, m) => exec(exe, [join(runners(), 'run-gjs.js'), mod(m)]),
    version: (exe) => exec(exe, ['--version']).trim(),
  },
  {
    id: 'jsc',
    debian: true,
    find: () => firstExisting([process.env.FUNCKEY_JSC, which('jsc')]),
    run: (exe, m) => exec(exe, ['run-jsc.js', '--', mod(m)], { cwd: runners() }),
    version: () => {
      const r = spawnSync('dpkg-query', ['-W', '-f', '${Package} ${Version}', 'libjavascriptcoregtk-4.0-bin'], { encoding: 'utf8' });
      return r.status === 0 ? r.stdout.trim() : 'jsc';
    },
  },
  {
    id: 'wasmtime',
    find: hasPythonWasmtime,
    run: (py, m) => exec(py, ['run-wasmtime.py', mod(m)], { cwd: runners(), env: { ...process.env, WASMTIME_BACKTRACE_DETAILS: '0' } }),
    version: (py) => `wasmtime-py ${exec(py, ['-c', 'import wasmtime, importlib.metadata as m; print(m.version("wasmtime"))']).trim()}`,
  },
  {
    id: 'wasmtime-details',
    find: hasPythonWasmtime,
    run: (py, m) => exec(py, ['run-wasmtime.py', mod(m)], { cwd: runners(), env: { ...process.env, WASMTIME_BACKTRACE_DETAILS: '1' } }),
    version: (py) => `wasmtime-py ${exec(py, ['-c', 'import wasmtime, importlib.metadata as m; print(m.version("wasmtime"))']).trim()}`,
  },
];
