/**
 * The js backend's open(path) of a file of READ_WHOLE_BELOW bytes or more reads it in parts,
 * when first used (lib/file.ts FileImage). Every lookup must answer as open(bytes) and the
 * native backend do, also after the oldest of MAX_HELD_FILES images was made to read the
 * rest of its file; after close() every call is E_CLOSED; a file shortened after open is
 * E_IO; and a file rewritten in place with other bytes of its size gives FunckeyErrors or
 * answers of the right types, never another exception.
 */
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_HELD_FILES, READ_WHOLE_BELOW } from '../lib/file.js';
import { ArtifactBuilder, buildFromWasm, FunckeyError, FuncKey, open, type Artifact } from '../lib/index.js';
import { JsCore } from '../lib/reader.js';
import { NATIVE } from './helpers/backends.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const dir = mkdtempSync(join(tmpdir(), 'funckey-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const N = 40_000;
const BASE = 1000;
const nameOf = (i: number) => (i % 3 ? `f_${i}_\u00e9\u65e5` : `f_${i}`);
const TRAP = readFileSync(join(import.meta.dirname, 'fixtures', 'dwarf', 'c-trap.wasm'));

/** N functions with names, source-location runs and the line tables of c-trap.wasm. */
function bigArtifact(): Uint8Array {
  const b = new ArtifactBuilder();
  b.addModule({ name: 'big', importedFuncs: 2, definedFuncs: N });
  for (let i = 0; i < N; i++)
    b.pushFunc(FuncKey.definedWasmFunction(0, i), { start: BASE + 16 * i, length: 12 }, 7 * i);
  b.pushFunc(FuncKey.wasmToBuiltinTrampoline(5), { start: BASE + 16 * N + 64, length: 4 });
  for (let i = 0; i < N + 2; i++) b.setFuncName(0, i, nameOf(i));
  b.setSrcLocs(new JsCore(buildFromWasm(TRAP)).lines);
  return b.finish();
}
const BYTES = bigArtifact();
const TRAP_TEXT = 0x800; // beyond c-trap.wasm's code: every instruction offset of its text

const every = (step: number, n: number) => Array.from({ length: Math.ceil(n / step) }, (_, k) => k * step);
const INDICES = [...every(997, N + 4), N - 1, N, N + 1, N + 2, 0xffffffff];
const OFFSETS = [...every(331, BASE + 16 * N + 200), BASE + 16 * N + 64, 0xffffffff];
const SRC_OFFSETS = every(1, TRAP_TEXT);

/** Every lookup, named; each returns plain data (or throws). */
function calls(a: Artifact): [string, () => unknown][] {
  const u32 = (xs: number[]) => new Uint32Array(xs);
  const keyish = (k: FuncKey | undefined) => (k === undefined ? undefined : [k.namespace, k.index]);
  return [
    ['describe', () => a.describe()],
    ['modules', () => a.modules],
    ['funcName', () => INDICES.map((i) => a.funcName(i))],
    ['funcNames', () => a.funcNames(u32(INDICES))],
    ['funcLoc', () => INDICES.map((i) => a.funcLoc(FuncKey.definedWasmFunction(0, Math.min(i, 0xfffffff))))],
    ['funcLoc(trampoline)', () => a.funcLoc(FuncKey.wasmToBuiltinTrampoline(5))],
    ['srcLoc', () => INDICES.map((i) => a.srcLoc(FuncKey.definedWasmFunction(0, Math.min(i, 0xfffffff))))],
    ['funcLocs', () => a.funcLocs(u32(INDICES.map(() => 0)), u32(INDICES.map((i) => Math.min(i, 0xfffffff))))],
    ['funcByOffset', () => OFFSETS.map((o) => keyish(a.funcByOffset(o)))],
    ['funcsByOffset', () => a.funcsByOffset(u32(OFFSETS))],
    ['srcLocs', () => SRC_OFFSETS.map((o) => a.srcLocs(o))],
    ['srcLocsByOffsets', () => a.srcLocsByOffsets(u32(SRC_OFFSETS))],
  ];
}

/** What every call gives: its value, or the code of its FunckeyError. */
function answers(a: Artifact): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, f] of calls(a)) {
    try {
      out[name] = f();
    } catch (e) {
      if (!(e instanceof FunckeyError)) throw new Error(`${name}: ${String(e)}`, { cause: e });
      out[name] = e.code;
    }
  }
  return out;
}

let serial = 0;
function write(bytes: Uint8Array = BYTES): string {
  const p = join(dir, `a-${serial++}.fkx`);
  writeFileSync(p, bytes);
  return p;
}

/** The order of first uses matters to a file read in parts: names before tables, and after. */
function answersInOrder(a: Artifact, reverse: boolean): Record<string, unknown> {
  if (!reverse) return answers(a);
  const out: Record<string, unknown> = {};
  for (const [name, f] of calls(a).reverse()) out[name] = f();
  return out;
}

const fds = () => readdirSync('/proc/self/fd').length;
const onLinux = existsSync('/proc/self/fd');

describe('js open(path) of a large file, read in parts', () => {
  expect(BYTES.length).toBeGreaterThan(READ_WHOLE_BELOW);
  const reference = answers(open(BYTES, { backend: 'js' }));

  it('the reference answers are those the artifact was built with', () => {
    expect(INDICES.slice(0, 3)).toEqual([0, 997, 1994]);
    expect((reference.funcName as unknown[]).slice(0, 3)).toEqual(['f_0', 'f_997_\u00e9\u65e5', 'f_1994_\u00e9\u65e5']);
    expect((reference.funcLoc as unknown[])[1]).toEqual({ start: BASE + 16 * 997, length: 12 });
    expect((reference.srcLocs as unknown[][]).some((c) => c.length > 1)).toBe(true);
  });

  it.each([false, true])('answers as open(bytes) and native do (reversed order of first use: %s)', (reverse) => {
    const p = write();
    const a = open(p, { backend: 'js' });
    expect(answersInOrder(a, reverse)).toEqual(reference);
    a.close();
    if (NATIVE.available) {
      const n = open(p, { backend: 'native' });
      expect(answers(n)).toEqual(reference);
      n.close();
    }
  });

  it('answers the same after more than MAX_HELD_FILES others made it read the rest of its file', () => {
    const first = open(write(), { backend: 'js' });
    first.funcName(1); // one part read while it held its descriptor
    const others = Array.from({ length: MAX_HELD_FILES + 1 }, () => open(write(), { backend: 'js' }));
    expect(answers(first)).toEqual(reference);
    expect(answers(others[0]!)).toEqual(reference);
    for (const a of [first, ...others]) a.close();
  });

  it('after close() every call is E_CLOSED', () => {
    const a = open(write(), { backend: 'js' });
    a.funcName(1);
    a.close();
    for (const [name, f] of calls(a))
      expect(
        (() => {
          try {
            f();
            return 'ok';
          } catch (e) {
            return e instanceof FunckeyError ? e.code : String(e);
          }
        })(),
        name,
      ).toBe('E_CLOSED');
  });

  it('a file shortened after open: every call is E_IO or its right answer', () => {
    for (const len of [0, 10, 4096, BYTES.length >> 1, BYTES.length - 1]) {
      const p = write();
      const a = open(p, { backend: 'js' });
      truncateSync(p, len);
      const got = answers(a);
      for (const [name, v] of Object.entries(got))
        if (v !== 'E_IO') expect(v, `${name} at ${len}`).toEqual(reference[name]);
      a.close();
    }
  });

  it.skipIf(!onLinux)(
    'a file shortened before MAX_HELD_FILES others open: they open, and it says E_IO, holding no descriptor',
    () => {
      const p = write();
      const a = open(p, { backend: 'js' });
      truncateSync(p, 4096);
      const before = fds();
      const others = Array.from({ length: MAX_HELD_FILES }, () => open(write(), { backend: 'js' }));
      expect(others[MAX_HELD_FILES - 1]!.funcName(3)).toBe(nameOf(3));
      expect(fds()).toBe(before + MAX_HELD_FILES - 1);
      const got = answers(a);
      for (const name of ['funcName', 'funcNames', 'funcLoc', 'funcByOffset', 'srcLocs'])
        expect(got[name], name).toBe('E_IO');
      for (const o of others) o.close();
      a.close();
      expect(fds()).toBe(before - 1);
    },
  );

  it('a file rewritten in place with other bytes of its size: FunckeyErrors or answers of the right types', () => {
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
    const sections = open(BYTES, { backend: 'js' }).describe().sections;
    // The whole file random, then each section alone random (the rest as it was).
    const damages: [number, number][] = [
      [0, BYTES.length],
      ...sections.map((s) => [s.offset, s.size] as [number, number]),
    ];
    for (const [at, size] of damages) {
      for (const firstUse of [0, 1, 2]) {
        const p = write();
        const a = open(p, { backend: 'js' });
        if (firstUse === 1) a.funcName(5);
        if (firstUse === 2) a.funcLoc(FuncKey.definedWasmFunction(0, 5));
        const junk = new Uint8Array(size);
        for (let k = 0; k < size; k++) junk[k] = rnd();
        const fd = openSync(p, 'r+');
        writeSync(fd, junk, 0, size, at);
        closeSync(fd);
        const got = answers(a); // throws on any exception but a FunckeyError
        const names = got.funcName;
        if (Array.isArray(names)) for (const n of names) expect(n === undefined || typeof n === 'string').toBe(true);
        const chains = got.srcLocs;
        if (Array.isArray(chains))
          for (const c of chains)
            for (const f of c as Record<string, unknown>[]) {
              expect(typeof f.line).toBe('number');
              expect(f.file === undefined || typeof f.file === 'string').toBe(true);
            }
        a.close();
      }
    }
  });

  it.skipIf(!onLinux)('artifacts dropped without close() give their descriptors back when collected', async () => {
    gc();
    await new Promise((r) => setTimeout(r, 10));
    const before = fds();
    (() => {
      for (let k = 0; k < 8; k++) open(write(), { backend: 'js' }).funcName(3);
    })();
    expect(fds()).toBe(before + 8);
    for (let k = 0; k < 10 && fds() > before; k++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(fds()).toBe(before);
  });
});
