/**
 * The life of an open artifact, in every backend: use after close, strings that outlive the
 * artifact, closing twice, handles reused after close, and what happens when the file
 * changes on disk while it is open: replaced by rename (the supported way; the builder's
 * writeFile does it), deleted, rewritten in place, truncated in place. See docs/ROBUSTNESS.md.
 *
 * Expected answers come from the functions the test itself put in the artifact, never from
 * a reader. Checks that may kill a process (a truncated mapping) run in a child process.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_HELD_FILES, READ_WHOLE_BELOW } from '../lib/file.js';
import { ArtifactBuilder, FunckeyError, FuncKey, open, type Artifact } from '../lib/index.js';
import { BACKENDS, NATIVE } from './helpers/backends.js';
import { codeOf } from './helpers/codes.js';
import { rng } from './helpers/gen.js';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist', 'index.js');
const dir = mkdtempSync(join(tmpdir(), 'funckey-lifecycle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** An artifact whose function i (of `n`) lies at base + 16 i, 12 bytes long, named `${tag}_${i}` (odd i: a non-ASCII name). */
function artifact(tag: string, n = 200, base = 1000): Uint8Array {
  const b = new ArtifactBuilder();
  b.addModule({ name: `module-${tag}`, importedFuncs: 2, definedFuncs: n });
  for (let i = 0; i < n; i++)
    b.pushFunc(FuncKey.definedWasmFunction(0, i), { start: base + 16 * i, length: 12 }, 7 * i);
  b.pushFunc(FuncKey.wasmToBuiltinTrampoline(5), { start: base + 16 * n + 64, length: 4 });
  for (let i = 0; i < n + 2; i++) b.setFuncName(0, i, i % 2 ? `${tag}_${i}_\u00e9\u65e5` : `${tag}_${i}`);
  return b.finish();
}
const nameOf = (tag: string, i: number) => (i % 2 ? `${tag}_${i}_\u00e9\u65e5` : `${tag}_${i}`);

/** Every call of the API, each with valid arguments, and some with invalid ones. */
function everyCall(a: Artifact): [string, () => unknown][] {
  const k = FuncKey.definedWasmFunction(0, 3);
  return [
    ['describe', () => a.describe()],
    ['modules', () => a.modules],
    ['funcLoc', () => a.funcLoc(k)],
    ['srcLoc', () => a.srcLoc(k)],
    ['funcByOffset', () => a.funcByOffset(1000)],
    ['funcName', () => a.funcName(3)],
    ['funcName(module 7)', () => a.funcName(3, 7)],
    ['funcLocs', () => a.funcLocs(new Uint32Array([0, 0]), new Uint32Array([1, 2]))],
    ['funcLocs(empty)', () => a.funcLocs(new Uint32Array(0), new Uint32Array(0))],
    ['funcsByOffset', () => a.funcsByOffset(new Uint32Array([1000, 5]))],
    ['funcsByOffset(empty)', () => a.funcsByOffset(new Uint32Array(0))],
    [
      'funcLocs(out)',
      () =>
        a.funcLocs(new Uint32Array([0]), new Uint32Array([1]), {
          starts: new Uint32Array(1),
          lengths: new Uint32Array(1),
        }),
    ],
    [
      'funcsByOffset(out)',
      () => a.funcsByOffset(new Uint32Array([1000]), { namespaces: new Uint32Array(1), indices: new Uint32Array(1) }),
    ],
    [
      'funcsByOffset(bad out)',
      () => a.funcsByOffset(new Uint32Array([1000]), { namespaces: new Uint32Array(2), indices: new Uint32Array(1) }),
    ],
    ['funcNames', () => a.funcNames(new Uint32Array([1, 2, 3]))],
    ['funcNames(module 7)', () => a.funcNames(new Uint32Array([1]), 7)],
    ['funcLoc(bad key)', () => a.funcLoc('x' as unknown as FuncKey)],
    ['funcByOffset(-1)', () => a.funcByOffset(-1)],
    ['funcLocs(bad arrays)', () => a.funcLocs(new Uint32Array(1), new Uint32Array(2))],
  ];
}

describe.each(BACKENDS)('lifecycle (%s)', (backend) => {
  const path = join(dir, `life-${backend}.fkx`);
  writeFileSync(path, artifact('a'));

  it('after close every call throws E_CLOSED, batch forms and bad arguments included', () => {
    for (const source of [path, artifact('a')]) {
      const a = open(source, { backend });
      expect(a.backend).toBe(backend);
      expect(a.closed).toBe(false);
      expect(codeOf(() => a.funcName(3))).toBe('ok');
      a.close();
      expect(a.closed).toBe(true);
      for (const [what, call] of everyCall(a)) expect(codeOf(call), what).toBe('E_CLOSED');
    }
  });

  it('closing twice, or after collection of other artifacts, is harmless', () => {
    const a = open(path, { backend });
    a.close();
    a.close();
    expect(a.closed).toBe(true);
    for (let i = 0; i < 50; i++) open(path, { backend }); // unreferenced: collected below
    gc();
    a.close();
    expect(codeOf(() => a.funcName(1))).toBe('E_CLOSED');
  });

  it('a closed artifact stays closed when its handle is reused by a new one, and does not close it', () => {
    // Native handles are slots in a table; a new artifact may take the slot of a closed one.
    const olds: Artifact[] = [];
    for (let i = 0; i < 20; i++) {
      const a = open(path, { backend });
      a.close();
      olds.push(a);
    }
    const fresh: Artifact[] = [];
    for (let i = 0; i < 20; i++) fresh.push(open(artifact(`f${i}`, 10), { backend }));
    for (const a of olds) {
      expect(codeOf(() => a.funcName(1))).toBe('E_CLOSED');
      a.close(); // must not close the artifact that took its slot
    }
    fresh.forEach((a, i) => {
      expect(a.funcName(4)).toBe(nameOf(`f${i}`, 4));
      expect(a.funcLoc(FuncKey.definedWasmFunction(0, 9))).toEqual({ start: 1000 + 16 * 9, length: 12 });
    });
    for (const a of fresh) a.close();
  });

  it('strings handed out stay valid after close, after the source changes and after garbage collection', () => {
    const bytes = artifact('s');
    for (const source of [path, bytes]) {
      const tag = source === path ? 'a' : 's';
      const a = open(source, { backend });
      const single = [0, 1, 2, 3, 101].map((i) => a.funcName(i));
      const batch = a.funcNames(new Uint32Array([5, 6, 7, 8]));
      const desc = a.describe();
      const mods = a.modules;
      const key = a.funcByOffset(1000 + 16 * 42 + 3)!;
      a.close();
      if (source !== path) bytes.fill(0xee); // the caller reuses its buffer after close
      for (let i = 0; i < 3; i++) {
        // Churn: allocate and collect, and map and unmap other artifacts.
        const junk = Array.from({ length: 2000 }, (_, j) => 'x'.repeat(j % 50) + j);
        for (let j = 0; j < 30; j++) open(artifact(`g${j}`, 5), { backend }).close();
        void junk;
        gc();
      }
      expect(single).toEqual([0, 1, 2, 3, 101].map((i) => nameOf(tag, i)));
      expect(batch).toEqual([5, 6, 7, 8].map((i) => nameOf(tag, i)));
      expect(desc.modules[0]!.name).toBe(`module-${tag}`);
      expect(desc.sections.map((s) => s.name)).toContain('.fk.func_locs');
      expect(mods[0]!.name).toBe(`module-${tag}`);
      expect(key.toString()).toBe('DefinedWasmFunction(0, 42)');
      expect(single.join('|').length).toBeGreaterThan(20);
    }
  });

  // 300 functions: a file js reads whole at open; 40,000: one it reads in parts, when used.
  it.each([300, 40_000])(
    'a file replaced by rename while open: the open artifact keeps answering from the old contents (%i functions)',
    (n) => {
      const p = join(dir, `renamed-${backend}-${n}.fkx`);
      writeFileSync(p, artifact('old', n, 1000));
      const a = open(p, { backend });
      // The builder's writeFile writes a temporary file and renames it over the path.
      const nb = new ArtifactBuilder();
      nb.addModule({ name: 'module-new', importedFuncs: 0, definedFuncs: 3 });
      nb.pushFunc(FuncKey.definedWasmFunction(0, 0), { start: 5, length: 1 });
      nb.setFuncName(0, 0, 'new_0');
      nb.writeFile(p);
      const b = open(p, { backend });
      expect(b.funcName(0)).toBe('new_0');
      expect(b.modules[0]!.name).toBe('module-new');
      for (let i = 0; i < n; i += Math.ceil(n / 40)) {
        expect(a.funcName(i)).toBe(nameOf('old', i));
        expect(a.funcLoc(FuncKey.definedWasmFunction(0, i))).toEqual({ start: 1000 + 16 * i, length: 12 });
        expect(a.srcLoc(FuncKey.definedWasmFunction(0, i))).toBe(7 * i);
      }
      expect(a.modules[0]!.name).toBe('module-old');
      expect(a.funcsByOffset(new Uint32Array([1000 + 16 * (n - 1), 5])).indices).toEqual(
        new Uint32Array([n - 1, 0xffffffff]),
      );
      a.close();
      b.close();
    },
  );

  it.each([50, 40_000])('a file deleted while open: the open artifact keeps answering (%i functions)', (n) => {
    const p = join(dir, `deleted-${backend}-${n}.fkx`);
    writeFileSync(p, artifact('d', n));
    const a = open(p, { backend });
    unlinkSync(p);
    expect(a.funcName(n - 1)).toBe(nameOf('d', n - 1));
    expect(a.funcByOffset(1000 + 16 * 10)?.index).toBe(10);
    expect(codeOf(() => open(p, { backend }))).toBe('E_IO');
    a.close();
  });
});

/** Runs a module script in a child node over the compiled package; returns its status, signal and stdout. */
function child(script: string): {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
} {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, FUNCKEY_BACKEND: '' },
    timeout: 60_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const childPrelude = (path: string) => `
import { closeSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { open, ArtifactBuilder, FuncKey, FunckeyError } from ${JSON.stringify(dist)};
const path = ${JSON.stringify(path)};
const b = new ArtifactBuilder();
b.addModule({ name: 'm', importedFuncs: 0, definedFuncs: 3000 });
for (let i = 0; i < 3000; i++) b.pushFunc(FuncKey.definedWasmFunction(0, i), { start: 16 * i, length: 12 }, i);
for (let i = 0; i < 40; i++) b.pushFunc(FuncKey.wasmToBuiltinTrampoline(3 * i), { start: 60000 + 8 * i, length: 4 });
for (let i = 0; i < 3000; i++) b.setFuncName(0, i, 'f' + i);
b.writeFile(path);
const size = readFileSync(path).length;
`;

describe('a file changed in place while open', () => {
  it('js, a file under 1 MiB: unaffected (it is read whole at open)', () => {
    const p = join(dir, 'inplace-js.fkx');
    writeFileSync(p, artifact('j', 300));
    const a = open(p, { backend: 'js' });
    const size = readFileSync(p).length;
    const fd = openSync(p, 'r+');
    writeSync(fd, new Uint8Array(size).fill(0xff), 0, size, 0);
    closeSync(fd);
    truncateSync(p, 10);
    expect(a.funcName(299)).toBe(nameOf('j', 299));
    expect(a.funcLoc(FuncKey.definedWasmFunction(0, 100))).toEqual({ start: 1000 + 1600, length: 12 });
    a.close();
  });

  it('js: past MAX_HELD_FILES larger files open at once, the oldest read the rest and let their descriptor go', () => {
    const bytes = artifact('h', 40_000);
    const paths = Array.from({ length: MAX_HELD_FILES + 3 }, (_, i) => join(dir, `held-${i}.fkx`));
    for (const p of paths) writeFileSync(p, bytes);
    const arts = paths.map((p) => open(p, { backend: 'js' }));
    for (const p of paths) unlinkSync(p);
    for (const a of arts) expect(a.funcName(39_999)).toBe(nameOf('h', 39_999));
    for (const a of arts) a.close();
  });

  it('js, a larger file: what was read stays, the rest is read when first used, and a file shorter than at open is E_IO', () => {
    const p = join(dir, 'inplace-js-large.fkx');
    const bytes = artifact('k', 40_000);
    expect(bytes.length).toBeGreaterThan(READ_WHOLE_BELOW);
    writeFileSync(p, bytes);
    const a = open(p, { backend: 'js' });
    // Read before the file changes: the table (by funcLoc); not yet the names.
    expect(a.funcLoc(FuncKey.definedWasmFunction(0, 100))).toEqual({ start: 1000 + 1600, length: 12 });
    const fd = openSync(p, 'r+');
    writeSync(fd, new Uint8Array(bytes.length).fill(0xff), 0, bytes.length, 0);
    closeSync(fd);
    truncateSync(p, 10);
    expect(a.funcLoc(FuncKey.definedWasmFunction(0, 100))).toEqual({ start: 1000 + 1600, length: 12 });
    expect(a.funcByOffset(1000 + 16 * 10)?.index).toBe(10);
    expect(codeOf(() => a.funcName(39_999))).toBe('E_IO');
    a.close();
  });

  it.skipIf(!NATIVE.available)(
    'native: bytes rewritten in place give answers or FunckeyErrors, never a read outside the mapping',
    () => {
      // Every table word overwritten, one at a time and all at once, with values that break the
      // invariants open checked (start arrays, module records, name index): the child must
      // live through every lookup. Before the reader kept its own copy of what open validated,
      // a start array rewritten after open sent lookups outside the mapping (SIGSEGV).
      const r = child(`${childPrelude(join(dir, 'inplace-native.fkx'))}
      const a = open(path, { backend: 'native' });
      const secs = a.describe().sections.filter((s) => s.name.startsWith('.fk.'));
      const fd = openSync(path, 'r+');
      const word = (at, v) => { const w = new Uint32Array([v]); writeSync(fd, new Uint8Array(w.buffer), 0, 4, at); };
      const probe = () => {
        const out = [];
        const t = (f) => { try { out.push(JSON.stringify(f()) ?? 'u'); } catch (e) { if (!(e instanceof FunckeyError)) throw e; out.push(e.code); } };
        t(() => a.funcLoc(FuncKey.definedWasmFunction(0, 2999)));
        t(() => a.srcLoc(FuncKey.definedWasmFunction(0, 1500)));
        t(() => a.funcLoc(FuncKey.wasmToBuiltinTrampoline(117)));
        t(() => a.funcByOffset(16 * 2999 + 1)?.toString());
        t(() => a.funcByOffset(60000 + 8 * 39)?.toString());
        t(() => a.funcName(2999));
        t(() => a.funcNames(new Uint32Array([0, 1, 2999, 3000])));
        t(() => a.funcsByOffset(new Uint32Array([0, 16 * 2999, 60000])));
        t(() => a.funcLocs(new Uint32Array([0, 0x30000000]), new Uint32Array([2999, 117])));
        t(() => a.describe().modules[0].name);
        return out.join(' ');
      };
      const before = probe();
      let probes = 0;
      const original = readFileSync(path);
      for (const s of secs) {
        if (s.name === '.fk.names') continue;
        for (let at = s.offset; at < s.offset + Math.min(s.size, 256); at += 4) {
          for (const v of [0xffffffff, 0x7fffffff, 0x10000, 3001]) { word(at, v); probe(); probes++; }
          writeSync(fd, original, at, 4, at);
        }
      }
      for (const s of secs) for (let at = s.offset; at < s.offset + Math.min(s.size, 4096); at += 4) word(at, 0xfffffff0);
      probe(); probes++;
      closeSync(fd);
      console.log(JSON.stringify({ probes, before }));
    `);
      expect(r.signal, r.stderr).toBe(null);
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { probes: number; before: string };
      expect(out.probes).toBeGreaterThan(500);
      expect(out.before).toContain('"f2999"');
      expect(out.before).toContain('{"start":47984,"length":12}');
    },
  );

  it.skipIf(!NATIVE.available)(
    'native: a file truncated in place while mapped kills the process with SIGBUS on the next lookup (documented: replace artifacts by rename)',
    () => {
      // This is the limitation docs/ROBUSTNESS.md documents: a private read-only mapping does not
      // keep pages the file no longer has. The test pins the behaviour so that a change of it
      // (for the better or the worse) is noticed and the document updated.
      const p = join(dir, 'truncated-native.fkx');
      const r = child(`${childPrelude(p)}
      const a = open(path, { backend: 'native' });
      const ok = a.funcName(2999) === 'f2999' && a.funcLoc(FuncKey.definedWasmFunction(0, 2999))?.start === 47984;
      console.log(JSON.stringify({ ok, size }));
      truncateSync(path, 0);
      a.funcByOffset(16 * 2999 + 1);
      a.funcName(2999);
      console.log(JSON.stringify({ survived: true }));
    `);
      const first = JSON.parse(r.stdout.trim().split('\n')[0]!) as { ok: boolean; size: number };
      expect(first.ok).toBe(true);
      expect(first.size).toBeGreaterThan(4096);
      expect(r.stdout).not.toContain('survived');
      expect(r.signal).toBe('SIGBUS');
    },
  );

  it.skipIf(!NATIVE.available)(
    'native: replacing the file by rename while mapped is safe where truncation is not',
    () => {
      const p = join(dir, 'renamed-native.fkx');
      const r = child(`${childPrelude(p)}
      const a = open(path, { backend: 'native' });
      const empty = new ArtifactBuilder();
      empty.writeFile(path); // an artifact with nothing in it, through a temporary file and a rename
      const ok = a.funcName(2999) === 'f2999' && a.funcByOffset(16 * 2999 + 1)?.index === 2999;
      const fresh = open(path, { backend: 'native' });
      console.log(JSON.stringify({ ok, freshModules: fresh.modules.length, freshKey: fresh.funcByOffset(1) ?? null }));
    `);
      expect(r.signal, r.stderr).toBe(null);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        ok: boolean;
        freshModules: number;
        freshKey: unknown;
      };
      expect(out).toEqual({ ok: true, freshModules: 0, freshKey: null });
    },
  );
});

describe('bytes changed after open(bytes)', () => {
  it('js reads them in place: changed bytes give answers or a FunckeyError, never another error', () => {
    const b = new ArtifactBuilder();
    b.addModule({ name: 'm', importedFuncs: 3, definedFuncs: 200 });
    for (let i = 0; i < 200; i++) b.pushFunc(FuncKey.definedWasmFunction(0, i), { start: 10 * i, length: 8 });
    for (let i = 0; i < 200; i += 2)
      b.pushFunc(FuncKey.arrayToWasmTrampoline(0, i), { start: 5000 + 10 * i, length: 8 });
    for (let i = 0; i < 203; i += 3) b.setFuncName(0, i, `n${i}`);
    const base = b.finish();
    const rnd = rng(12345);
    const outcomes = { answered: 0, refused: 0 };
    for (let t = 0; t < 3000; t++) {
      const bytes = base.slice();
      const a = open(bytes, { backend: 'js' });
      for (let k = 0; k < 8; k++) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
      try {
        a.describe();
        for (let i = 0; i < 210; i += 7) {
          a.funcName(i);
          a.funcLoc(FuncKey.arrayToWasmTrampoline(0, i));
          a.srcLoc(FuncKey.definedWasmFunction(0, i));
          a.funcByOffset(i * 37);
        }
        a.funcNames(new Uint32Array([0, 3, 6, 500]));
        a.funcsByOffset(new Uint32Array([0, 5005, 9999]));
        outcomes.answered++;
      } catch (e) {
        if (!(e instanceof FunckeyError)) throw e;
        outcomes.refused++;
      }
      a.close();
    }
    expect(outcomes.answered + outcomes.refused).toBe(3000);
    expect(outcomes.answered).toBeGreaterThan(0);
  });
});
