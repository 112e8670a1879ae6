/**
 * The package works without its addon. A copy of the compiled package (package.json and
 * dist/, node_modules linked) in a directory with no build/ and no prebuilds/ must report the
 * addon unavailable, answer with js, and refuse `backend: 'native'` with E_BACKEND. A broken
 * addon file is reported the same way. The install script never fails, even when the
 * compiler does.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'funckey-fallback-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the compiled package at `name`, without any addon. */
function packageCopy(name: string): string {
  const pkg = join(dir, name);
  mkdirSync(pkg);
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  return pkg;
}

/** Runs an ES module in a child node with `pkg` importable as `PKG`; returns its last stdout line as JSON. */
function runIn(pkg: string, body: string, env: Record<string, string> = {}): Record<string, unknown> {
  const script = `const PKG = await import(${JSON.stringify(join(pkg, 'dist', 'index.js'))});\n${body}`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, FUNCKEY_BACKEND: '', ...env },
    timeout: 60_000,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}

const probe = `
const { open, nativeStatus, ArtifactBuilder, FuncKey, FunckeyError } = PKG;
const b = new ArtifactBuilder();
b.addModule({ name: 'fallback', importedFuncs: 2, definedFuncs: 3 });
b.pushFunc(FuncKey.definedWasmFunction(0, 0), { start: 100, length: 10 }, 40);
b.pushFunc(FuncKey.definedWasmFunction(0, 2), { start: 120, length: 5 });
b.pushFunc(FuncKey.arrayToWasmTrampoline(0, 2), { start: 200, length: 7 });
b.setFuncName(0, 1, 'imported');
b.setFuncName(0, 4, 'caf\\u00e9');
const bytes = b.finish();
const a = open(bytes);
const res = {
  status: nativeStatus(),
  backend: a.backend,
  loc: a.funcLoc(FuncKey.definedWasmFunction(0, 2)),
  hole: a.funcLoc(FuncKey.definedWasmFunction(0, 1)) ?? null,
  src: a.srcLoc(FuncKey.definedWasmFunction(0, 0)),
  byOffset: String(a.funcByOffset(203)),
  gap: a.funcByOffset(150) ?? null,
  names: [a.funcName(1), a.funcName(4), a.funcName(3) ?? null],
};
for (const opts of [{ backend: 'native' }, {}]) {
  try {
    open(bytes, opts);
    res['native' + JSON.stringify(opts)] = 'opened';
  } catch (e) {
    res['native' + JSON.stringify(opts)] = e instanceof FunckeyError ? e.code + ': ' + e.message : 'other: ' + e;
  }
}
console.log(JSON.stringify(res));
`;

/** A copy of what the install script needs (package.json, binding.gyp, native/, scripts/), no addon. */
function installCopy(name: string): string {
  const pkg = join(dir, name);
  mkdirSync(pkg);
  for (const f of ['package.json', 'binding.gyp', 'native', 'scripts'])
    cpSync(join(root, f), join(pkg, f), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  return pkg;
}

/** Runs the install script of `pkg` with node-gyp replaced by the script `fake` (as npm passes it). */
function installWithFakeNodeGyp(pkg: string, fake: string, env: Record<string, string> = {}) {
  const gyp = join(pkg, 'fake-node-gyp.cjs');
  writeFileSync(gyp, fake);
  return spawnSync(process.execPath, [join(pkg, 'scripts', 'install.cjs')], {
    cwd: pkg,
    encoding: 'utf8',
    env: { ...process.env, npm_config_node_gyp: gyp, FUNCKEY_BUILD_VERBOSE: '', FUNCKEY_SKIP_NATIVE: '', ...env },
    timeout: 60_000,
  });
}

describe('without the addon', () => {
  it('the compiled package is present (npm test builds it)', () => {
    expect(existsSync(join(root, 'dist', 'index.js'))).toBe(true);
  });

  it('reports native unavailable, answers with js, and refuses backend native with E_BACKEND', () => {
    const pkg = packageCopy('none');
    expect(existsSync(join(pkg, 'build'))).toBe(false);
    expect(existsSync(join(pkg, 'prebuilds'))).toBe(false);
    const r = runIn(pkg, probe);
    const status = r.status as { available: boolean; reason?: string };
    expect(status.available).toBe(false);
    expect(status.reason).toMatch(/\S/);
    expect(r.backend).toBe('js');
    expect(r.loc).toEqual({ start: 120, length: 5 });
    expect(r.hole).toBe(null);
    expect(r.src).toBe(40);
    expect(r.byOffset).toBe('ArrayToWasmTrampoline(0, 2)');
    expect(r.gap).toBe(null);
    expect(r.names).toEqual(['imported', 'caf\u00e9', null]);
    expect(r['native{"backend":"native"}']).toMatch(/^E_BACKEND: .*\S/);
    expect(r['native{}']).toBe('opened');
    // The environment variable asks for native too: the same refusal.
    const e = runIn(
      pkg,
      `try { PKG.open(new Uint8Array(8)); console.log(JSON.stringify({ code: 'opened' })); }
       catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`,
      { FUNCKEY_BACKEND: 'native' },
    );
    expect(e.code).toBe('E_BACKEND');
    expect(e.message).toMatch(/native/);
  });

  it('reports a broken addon file as unavailable, with the loader reason, and still answers', () => {
    const pkg = packageCopy('broken');
    mkdirSync(join(pkg, 'build', 'Release'), { recursive: true });
    writeFileSync(join(pkg, 'build', 'Release', 'funckey.node'), 'this is not a shared object');
    const r = runIn(pkg, probe);
    const status = r.status as { available: boolean; reason?: string };
    expect(status.available).toBe(false);
    expect(status.reason).toMatch(/\S/);
    expect(r.backend).toBe('js');
    expect(r.loc).toEqual({ start: 120, length: 5 });
    expect(r['native{"backend":"native"}']).toMatch(/^E_BACKEND: /);
  });

  it('the install script exits 0 with one line when the compiler fails', () => {
    const pkg = installCopy('install');
    const r = spawnSync(process.execPath, [join(pkg, 'scripts', 'install.cjs')], {
      cwd: pkg,
      encoding: 'utf8',
      env: { ...process.env, CC: '/bin/false', CXX: '/bin/false', FUNCKEY_BUILD_VERBOSE: '' },
      timeout: 120_000,
    });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/funckey will use the js backend/);
    expect(existsSync(join(pkg, 'build', 'Release', 'funckey.node'))).toBe(false);
    // And skipping the build on purpose is one line too.
    const s = spawnSync(process.execPath, [join(pkg, 'scripts', 'install.cjs')], {
      cwd: pkg,
      encoding: 'utf8',
      env: { ...process.env, FUNCKEY_SKIP_NATIVE: '1' },
    });
    expect(s.status).toBe(0);
    expect(s.stdout.trim()).toMatch(/^funckey: .*js backend$/);
  });

  it('the install script stops a node-gyp that never exits, and says so in one line', () => {
    const pkg = installCopy('hang');
    const t0 = Date.now();
    const r = installWithFakeNodeGyp(pkg, 'setInterval(() => {}, 1000); process.on("SIGTERM", () => {});\n', {
      FUNCKEY_BUILD_TIMEOUT: '1',
    });
    expect(r.status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.stdout).toBe(
      'funckey: native addon unavailable (node-gyp did not finish in 1 s (FUNCKEY_BUILD_TIMEOUT) and was stopped); funckey will use the js backend\n',
    );
  });

  it('when headers cannot be fetched, the one line keeps the cause', () => {
    const pkg = installCopy('offline');
    // node-gyp 11.5.0's own output when the headers' server refuses the connection
    // (node-gyp install --dist-url=http://127.0.0.1:9), trimmed to its error lines.
    const output = [
      'gyp info using node-gyp@11.5.0',
      'gyp http GET http://127.0.0.1:9/v20.20.2/node-v20.20.2-headers.tar.gz',
      'gyp http fetch GET http://127.0.0.1:9/v20.20.2/node-v20.20.2-headers.tar.gz attempt 1 failed with ECONNREFUSED',
      'gyp WARN install got an error, rolling back install',
      'gyp ERR! configure error ',
      'gyp ERR! stack FetchError: request to http://127.0.0.1:9/v20.20.2/node-v20.20.2-headers.tar.gz failed, reason: connect ECONNREFUSED 127.0.0.1:9',
      'gyp ERR! stack at ClientRequest.<anonymous> (/work/main/node_modules/minipass-fetch/lib/index.js:130:14)',
      'gyp ERR! not ok ',
    ].join('\n');
    const r = installWithFakeNodeGyp(pkg, `process.stderr.write(${JSON.stringify(output + '\n')}); process.exit(1);\n`);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      'FetchError: request to http://127.0.0.1:9/v20.20.2/node-v20.20.2-headers.tar.gz failed, reason: connect ECONNREFUSED 127.0.0.1:9',
    );
    expect(lines[0]).toMatch(/funckey will use the js backend$/);
  });
});
