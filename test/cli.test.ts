/*
 * The `funckey` command. Most cases call main() of lib/cli.ts in this process, with stdout and
 * stderr captured: the same function dist/cli.js runs. The cases that depend on the process
 * itself run `node dist/cli.js` as a child (npm test compiles it first): exit statuses, the
 * environment, standard input, symbolicate (which streams to file descriptor 1) and the entry
 * reached through a link, as npm's bin link reaches it.
 * Expected values about samples/demo.wasm come from `wasm-objdump -x -d` (wabt 1.0.32) and
 * demo.wat, not from funckey: 3 imports, 8 defined functions, 11 names; defined function 2
 * is function 5, `price_order`, body 0x82..0x9e (28 bytes) after its size byte at 0x81.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../lib/cli.js';
import { BACKENDS, NATIVE } from './helpers/backends.js';
import { DEMO_CHAIN, FORMAT_SECTIONS } from './helpers/expected.js';
import { HEAVY } from './helpers/heavy.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const DEMO_WASM = fileURLToPath(new URL('../samples/demo.wasm', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'funckey-cli-'));
const ARTIFACT = join(dir, 'demo.fkx');

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run compile (npm test does it first)`);
  const r = run(['build', DEMO_WASM, '-o', ARTIFACT]);
  expect(r.status, r.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The command line run by main() in this process. */
function run(args: string[]): Result {
  let stdout = '';
  let stderr = '';
  const status = main(
    args,
    (s) => void (stdout += s),
    (s) => void (stderr += s),
  );
  return { status, stdout, stderr };
}

/** The command line run as `node dist/cli.js` (or `node <entry>`) in a child process. */
function spawn(args: string[], input?: string, env: Record<string, string> = {}, entry = CLI): Result {
  const r = spawnSync(process.execPath, [entry, ...args], { input, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A failed run: exit 1, nothing on stdout, one line `funckey: CODE: ...` on stderr. */
function expectFailure(r: Result, code: string): void {
  expect(r.status, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(new RegExp(`^funckey: ${code}: [^\\n]+\\n$`));
}

function ok(r: Result): string {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

// Captured from Node v20.20.2: samples/demo.wasm without its name section, trapping.
const V8_TRACE = `RuntimeError: divide by zero
    at wasm://wasm/c3ee2b3e:wasm-function[3]:0x77
    at wasm://wasm/c3ee2b3e:wasm-function[5]:0x9b
    at wasm://wasm/c3ee2b3e:wasm-function[6]:0xa2
    at Object.<anonymous> (/srv/app/index.js:12:5)
`;
const V8_SYMBOLICATED = `RuntimeError: divide by zero
    at unit_average (wasm://wasm/c3ee2b3e:wasm-function[3]:0x77)
    at price_order (wasm://wasm/c3ee2b3e:wasm-function[5]:0x9b)
    at apply_discount (wasm://wasm/c3ee2b3e:wasm-function[6]:0xa2)
    at Object.<anonymous> (/srv/app/index.js:12:5)
`;

const COMMANDS = ['build', 'info', 'lookup', 'addr', 'name', 'symbolicate', 'demo'];

describe('funckey --help and --version', () => {
  it('prints the overview with every command', () => {
    const out = ok(run(['--help']));
    expect(out).toMatch(/^funckey: /);
    for (const c of COMMANDS) expect(out).toContain(`funckey ${c}`);
    expect(ok(run(['-h']))).toBe(out);
  });

  it.each(COMMANDS)('%s --help', (c) => {
    const out = ok(run([c, '--help']));
    expect(out.startsWith(`Usage: funckey ${c}`)).toBe(true);
    expect(out).toContain('--json');
    expect(out).toContain('--backend auto|native|js');
  });

  it('--version is the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(ok(run(['--version']))).toBe(`${pkg.version}\n`);
    // dist/cli.js runs as the program through a link too (npm's bin link), and exits 0.
    const link = join(dir, 'funckey');
    symlinkSync(CLI, link);
    expect(ok(spawn(['--version'], undefined, {}, link))).toBe(`${pkg.version}\n`);
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});

describe('funckey build', () => {
  it('writes <module>.fkx next to the module by default, and nothing else', () => {
    const sub = mkdtempSync(join(dir, 'build-'));
    copyFileSync(DEMO_WASM, join(sub, 'demo.wasm'));
    const out = ok(run(['build', join(sub, 'demo.wasm')]));
    expect(out).toMatch(
      new RegExp(
        `^wrote ${join(sub, 'demo.fkx').replace(/[.]/g, '\\.')}: 1 module, 8 functions, 11 names, \\d+ bytes in \\d+\\.\\d ms\\n$`,
      ),
    );
    expect(readdirSync(sub).sort()).toEqual(['demo.fkx', 'demo.wasm']);
    const size = Number(/(\d+) bytes/.exec(out)![1]);
    expect(readFileSync(join(sub, 'demo.fkx')).length).toBe(size);
    expect([...readFileSync(join(sub, 'demo.fkx')).subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
  });

  it('-o and --json', () => {
    const out = join(dir, 'other.fkx');
    const r = JSON.parse(ok(run(['build', DEMO_WASM, '-o', out, '--json'])));
    expect(r).toMatchObject({ input: DEMO_WASM, output: out, kind: 'module', modules: 1, functions: 8, names: 11 });
    expect(r.bytes).toBe(readFileSync(out).length);
    expect(typeof r.ms).toBe('number');
    expect(readFileSync(out).equals(readFileSync(ARTIFACT))).toBe(true);
  });

  it('fails on a missing file, a file that is not wasm, an unwritable output, extra arguments', () => {
    expectFailure(run(['build', join(dir, 'no-such.wasm')]), 'E_IO');
    const junk = join(dir, 'junk.wasm');
    writeFileSync(junk, 'not a wasm module at all');
    expectFailure(run(['build', junk]), 'E_WASM');
    expectFailure(run(['build', DEMO_WASM, '-o', join(dir, 'no-such-dir', 'x.fkx')]), 'E_IO');
    expectFailure(run(['build']), 'E_ARG');
    expectFailure(run(['build', DEMO_WASM, DEMO_WASM]), 'E_ARG');
  });

  it('names the input once, never the temporary file', () => {
    const junk = join(dir, 'junk2.wasm');
    writeFileSync(junk, 'not a wasm module at all');
    const r = run(['build', junk]);
    expect(r.stderr.split(junk).length - 1).toBe(1);
    const out = join(dir, 'no-such-dir', 'x.fkx');
    const w = run(['build', DEMO_WASM, '-o', out]);
    expect(w.stderr).toBe(`funckey: E_IO: cannot write ${out}: ENOENT\n`);
  });

  it('refuses to overwrite its input: the same file by another path or a link', () => {
    const input = join(dir, 'self.wasm');
    copyFileSync(DEMO_WASM, input);
    const before = readFileSync(input);
    const link = join(dir, 'self-link.wasm');
    symlinkSync(input, link);
    for (const output of [input, join(dir, '.', 'x', '..', 'self.wasm'), link]) {
      const r = run(['build', input, '-o', output]);
      expectFailure(r, 'E_ARG');
      expect(r.stderr).toContain('refusing to overwrite');
    }
    expect(readFileSync(input).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reads a device or a pipe only up to the documented limit (E_IO past it)', () => {
    const r = run(['build', '/dev/zero', '-o', join(dir, 'zero.fkx')]);
    expectFailure(r, 'E_IO');
    expect(r.stderr).toBe(
      'funckey: E_IO: cannot read /dev/zero: not a regular file, and more than 256 MiB (the limit for pipes and devices)\n',
    );
    // A pipe within the limit is read whole: the module from stdin builds the same artifact.
    const p = spawnSync(
      'sh',
      [
        '-c',
        'cat "$1" | "$2" "$3" build /dev/stdin -o "$4"',
        'sh',
        DEMO_WASM,
        process.execPath,
        CLI,
        join(dir, 'stdin.fkx'),
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(p.stderr).toBe('');
    expect(readFileSync(join(dir, 'stdin.fkx')).equals(readFileSync(ARTIFACT))).toBe(true);
  });
});

describe('funckey info', () => {
  const SECTIONS = FORMAT_SECTIONS;

  it('prints version, backend, modules, counts, namespaces and sections', () => {
    const out = ok(run(['info', ARTIFACT]));
    expect(out).toMatch(/^format version {2}5$/m);
    expect(out).toMatch(/^backend {9}(js|native) \(.+\)$/m);
    expect(out).toMatch(/^text size {7}564 bytes$/m);
    expect(out).toMatch(/^modules {9}1$/m);
    expect(out).toContain('  0: name -, 3 imported + 8 defined functions, byte offset 0, names dense (11), sha256 ');
    expect(out).toMatch(/^ {2}0x00000000 {2}DefinedWasmFunction module 0 +8 functions from 0$/m);
    for (const s of SECTIONS)
      expect(out).toMatch(new RegExp(`^  ${s.replace(/\./g, '\\.')} +offset +\\d+ +size +\\d+$`, 'm'));
  });

  it('--json', () => {
    const d = JSON.parse(ok(run(['info', ARTIFACT, '--json'])));
    expect(d).toMatchObject({ formatVersion: 5, textSize: 564, funcCount: 8, srcLocCount: 8, sparseCount: 0 });
    expect(BACKENDS).toContain(d.backend);
    expect(d.modules).toHaveLength(1);
    expect(d.modules[0]).toMatchObject({
      importedFuncs: 3,
      definedFuncs: 8,
      byteOffset: 0,
      nameEncoding: 1,
      nameCount: 11,
    });
    expect(d.modules[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(d.namespaces).toEqual([expect.objectContaining({ namespace: 0, funcCount: 8 })]);
    expect(d.sections.map((s: { name: string }) => s.name)).toEqual(SECTIONS);
    expect(d.fileSize).toBe(readFileSync(ARTIFACT).length);
  });

  it('--backend chooses the reader', () => {
    expect(JSON.parse(ok(run(['info', ARTIFACT, '--json', '--backend', 'js'])))).toMatchObject({
      backend: 'js',
      backendReason: 'chosen by --backend js',
    });
    if (NATIVE.available)
      expect(JSON.parse(ok(run(['info', ARTIFACT, '--json', '--backend', 'native']))).backend).toBe('native');
    expect(JSON.parse(ok(spawn(['info', ARTIFACT, '--json'], undefined, { FUNCKEY_BACKEND: 'js' })))).toMatchObject({
      backend: 'js',
      backendReason: 'chosen by FUNCKEY_BACKEND=js',
    });
    // auto: native names the addon file it loaded; js says why native did not load.
    const auto = JSON.parse(ok(spawn(['info', ARTIFACT, '--json'], undefined, { FUNCKEY_BACKEND: '' })));
    if (NATIVE.available) expect(auto.backendReason).toMatch(/^the addon loaded from \/.+\.node$/);
    else expect(auto.backendReason).toMatch(/^the native addon is not available: \S/);
    expectFailure(run(['info', ARTIFACT, '--backend', 'fast']), 'E_ARG');
  });

  it('fails on a missing file and on a file that is not an artifact', () => {
    const r = run(['info', join(dir, 'missing.fkx')]);
    expectFailure(r, 'E_IO');
    expect(r.stderr).toContain('missing.fkx');
    const w = run(['info', DEMO_WASM]);
    expectFailure(w, 'E_FORMAT');
    expect(w.stderr).toBe(
      `funckey: E_FORMAT: ${DEMO_WASM} is a WebAssembly module, not an artifact: run 'funckey build ${DEMO_WASM}' first\n`,
    );
    const junk = join(dir, 'junk.fkx');
    writeFileSync(junk, 'neither an artifact nor a module');
    const j = run(['info', junk]);
    expectFailure(j, 'E_FORMAT');
    expect(j.stderr.split(junk).length - 1).toBe(1);
    expect(j.stderr).not.toContain('funckey build');
    expectFailure(run(['info']), 'E_ARG');
  });
});

describe.each(BACKENDS)('lookups (%s backend)', (backend) => {
  const b = ['--backend', backend];

  it('lookup: location, FilePos and name of keys', () => {
    const out = ok(
      run([
        'lookup',
        ARTIFACT,
        'DefinedWasmFunction(0, 2)',
        'DefinedWasmFunction(0,0)',
        'DefinedWasmFunction(0, 8)',
        'ArrayToWasmTrampoline(0, 1)',
        ...b,
      ]),
    );
    expect(out).toBe(
      [
        'DefinedWasmFunction(0, 2)  start 0x82 length 28 filepos 0x81  func 5 name price_order',
        'DefinedWasmFunction(0, 0)  start 0x72 length 7 filepos 0x71  func 3 name unit_average',
        'DefinedWasmFunction(0, 8)  not found',
        'ArrayToWasmTrampoline(0, 1)  not found',
        '',
      ].join('\n'),
    );
    const rows = JSON.parse(
      ok(run(['lookup', ARTIFACT, 'DefinedWasmFunction(0, 7)', 'DefinedWasmFunction(1, 0)', '--json', ...b])),
    );
    expect(rows).toEqual([
      {
        key: 'DefinedWasmFunction(0, 7)',
        found: true,
        start: 0xf3,
        length: 6,
        filePos: 0xf2,
        funcIndex: 10,
        name: 'main',
      },
      { key: 'DefinedWasmFunction(1, 0)', found: false },
    ]);
    expectFailure(run(['lookup', ARTIFACT, 'Defined(0, 1)', ...b]), 'E_ARG');
    expectFailure(run(['lookup', ARTIFACT, 'DefinedWasmFunction(0)', ...b]), 'E_ARG');
    expectFailure(run(['lookup', ARTIFACT, ...b]), 'E_ARG');
  });

  it('addr: byte offsets to key, function index and name', () => {
    const out = ok(run(['addr', ARTIFACT, '0x9b', '155', '0x72', '0x79', '0', '4294967295', ...b]));
    expect(out).toBe(
      [
        '0x9b  DefinedWasmFunction(0, 2)  func 5 name price_order',
        '0x9b  DefinedWasmFunction(0, 2)  func 5 name price_order',
        '0x72  DefinedWasmFunction(0, 0)  func 3 name unit_average',
        '0x79  not in a function',
        '0x0  not in a function',
        '0xffffffff  not in a function',
        '',
      ].join('\n'),
    );
    expect(JSON.parse(ok(run(['addr', ARTIFACT, '0xf8', '--json', ...b])))).toEqual([
      { offset: 0xf8, key: 'DefinedWasmFunction(0, 7)', module: 0, funcIndex: 10, name: 'main', frames: [] },
    ]);
    expectFailure(run(['addr', ARTIFACT, 'zz', ...b]), 'E_ARG');
    expectFailure(run(['addr', ARTIFACT, '-5', ...b]), 'E_ARG');
    expectFailure(run(['addr', ARTIFACT, '0x100000000', ...b]), 'E_RANGE');
  });

  it('name: function names by index, --module', () => {
    expect(ok(run(['name', ARTIFACT, '0', '2', '10', ...b]))).toBe('0  host_log\n2  host_report\n10  main\n');
    expect(ok(run(['name', ARTIFACT, '5', '--module', '0', ...b]))).toBe('5  price_order\n');
    expect(JSON.parse(ok(run(['name', ARTIFACT, '4', '--json', ...b])))).toEqual([
      { module: 0, funcIndex: 4, name: 'order_total' },
    ]);
    // 3 imported + 8 defined functions: 11 is past the last one.
    const r = run(['name', ARTIFACT, '10', '11', ...b]);
    expectFailure(r, 'E_RANGE');
    expect(r.stderr).toBe('funckey: E_RANGE: FUNC_INDEX 11 is out of range: module 0 has 11 functions (0 to 10)\n');
    expectFailure(run(['name', ARTIFACT, '1', '--module', '1', ...b]), 'E_RANGE');
    expectFailure(run(['name', ARTIFACT, '1', '--module', 'x', ...b]), 'E_ARG');
  });

  it('symbolicate: from a file, from stdin, --json', () => {
    const trace = join(dir, `trace-${backend}.txt`);
    writeFileSync(trace, V8_TRACE);
    // symbolicate streams to file descriptor 1: a child process, whose output is captured.
    expect(ok(spawn(['symbolicate', ARTIFACT, trace, ...b]))).toBe(V8_SYMBOLICATED);
    // Reading standard input is the command's, the same whichever backend answers: checked
    // with one backend, and with each under FUNCKEY_HEAVY=1.
    if (HEAVY || backend === BACKENDS[0]) {
      expect(ok(spawn(['symbolicate', ARTIFACT, '-', ...b], V8_TRACE))).toBe(V8_SYMBOLICATED);
      expect(ok(spawn(['symbolicate', ARTIFACT, ...b], V8_TRACE))).toBe(V8_SYMBOLICATED);
      expect(ok(spawn(['symbolicate', ARTIFACT, ...b], 'no frames here\n'))).toBe('no frames here\n');
    }
    const frames = JSON.parse(ok(spawn(['symbolicate', ARTIFACT, trace, '--json', ...b])));
    expect(
      frames.map((f: Record<string, unknown>) => [f.line, f.engine, f.funcIndex, f.offset, f.key, f.name, f.status]),
    ).toEqual([
      [2, 'v8', 3, 0x77, 'DefinedWasmFunction(0, 0)', 'unit_average', 'resolved'],
      [3, 'v8', 5, 0x9b, 'DefinedWasmFunction(0, 2)', 'price_order', 'resolved'],
      [4, 'v8', 6, 0xa2, 'DefinedWasmFunction(0, 3)', 'apply_discount', 'resolved'],
    ]);
    expectFailure(run(['symbolicate', ARTIFACT, join(dir, 'no-trace.txt'), ...b]), 'E_IO');
    expectFailure(run(['symbolicate', ARTIFACT, trace, trace, ...b]), 'E_ARG');
    expectFailure(spawn(['symbolicate', ARTIFACT, trace, '--module', '3', ...b]), 'E_RANGE');
  });

  it('demo: the stripped sample traps and its trace comes back with names', () => {
    const out = ok(run(['demo', ...b]));
    const [before, after] = out.split('The same trace after');
    expect(before).toContain('RuntimeError: divide by zero');
    expect(before).toMatch(/at wasm:\/\/wasm\/[0-9a-f]+:wasm-function\[3\]:0x77\n/);
    expect(before).not.toContain('unit_average');
    // The chain of demo.wat, innermost first.
    const chain = DEMO_CHAIN;
    const named = [...after!.matchAll(/at (\w+) \(wasm:\/\/wasm\/[0-9a-f]+:wasm-function\[(\d+)\]:0x[0-9a-f]+\)/g)].map(
      (m) => [m[1], Number(m[2])],
    );
    expect(named).toEqual(chain.map((n, i) => [n, [3, 5, 6, 7, 8, 9, 10][i]]));
    expect(out).toContain(`read by the ${backend} backend`);
    expect(out).toContain('7 of 7 wasm frames named.');
    const j = JSON.parse(ok(run(['demo', '--json', ...b])));
    expect(j.backend).toBe(backend);
    expect(j.frames.map((f: { name: string; status: string }) => [f.name, f.status])).toEqual(
      chain.map((n) => [n, 'resolved']),
    );
    expect(j.strippedBytes).toBe(0x121);
    expect(j.moduleBytes).toBe(564);
    expectFailure(run(['demo', 'extra', ...b]), 'E_ARG');
  });
});

describe('usage errors', () => {
  it('exit 1 with one line on stderr', () => {
    // The process's own exit status: a child process.
    expectFailure(spawn([]), 'E_ARG');
    expectFailure(spawn(['frobnicate']), 'E_ARG');
    expectFailure(run(['info', ARTIFACT, '--frob']), 'E_ARG');
    expectFailure(run(['name', ARTIFACT, '1', '--module']), 'E_ARG');
    expectFailure(run(['build', DEMO_WASM, '-o']), 'E_ARG');
  });

  it('with --json, the error is one JSON line on stderr, with the same exit status', () => {
    for (const [args, code] of [
      [['frobnicate', '--json'], 'E_ARG'],
      [['info', join(dir, 'missing.fkx'), '--json'], 'E_IO'],
      [['name', ARTIFACT, '99', '--json'], 'E_RANGE'],
      [['info', ARTIFACT, '--frob', '--json'], 'E_ARG'],
    ] as const) {
      const r = run([...args]);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.endsWith('\n') && r.stderr.split('\n').length).toBe(2);
      const e = JSON.parse(r.stderr);
      expect(Object.keys(e)).toEqual(['error']);
      expect(e.error.code).toBe(code);
      expect(e.error.message).toMatch(/\S/);
    }
  });
});
