/**
 * Hostile artifacts and callers against both readers, each in a child process over dist/
 * where a reader used to crash, hang or run out of memory: section headers that all name one
 * long string, a prototype setter that closes the artifact in the middle of a call, the first
 * name lookup of an artifact of 2^20 modules.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArtifactBuilder, FuncKey } from '../lib/index.js';
import { BACKENDS } from './helpers/backends.js';

const dist = join(__dirname, '..', 'dist', 'index.js');
const dir = mkdtempSync(join(tmpdir(), 'funckey-hostile-readers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `script` (with `fk` the package) in a child limited to 20 s and 1 GiB of JS heap; its stdout, parsed. */
function child(script: string): unknown {
  const r = spawnSync(
    process.execPath,
    [
      '--max-old-space-size=1024',
      '--input-type=module',
      '-e',
      `import * as fk from ${JSON.stringify(dist)};\n${script}`,
    ],
    {
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  expect(r.error, 'the child finished in time').toBe(undefined);
  expect({ status: r.status, signal: r.signal, stderr: r.stderr.slice(0, 800) }).toEqual({
    status: 0,
    signal: null,
    stderr: '',
  });
  return JSON.parse(r.stdout);
}

/** The code of open(path) in a child, with the time it took in ms. */
const openCode = (backend: string, path: string) =>
  child(`const t = performance.now(); let code = 'ok';
    try { fk.open(${JSON.stringify(path)}, { backend: ${JSON.stringify(backend)} }); } catch (e) { code = e.code ?? String(e); }
    console.log(JSON.stringify({ code }));`) as { code: string };

/**
 * An ELF64 file of `shnum` section headers whose names all start at `nameOff(i)` in one
 * .shstrtab of `strSize` bytes: 'A's and a final NUL (written by hand, no funckey code).
 */
function manyHeaders(shnum: number, strSize: number, nameOff: (i: number) => number): Uint8Array {
  const shoff = 64;
  const strAt = shoff + 64 * shnum;
  const out = new Uint8Array(strAt + strSize);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, shnum, true);
  v.setUint16(62, 1, true);
  for (let i = 1; i < shnum; i++) {
    const h = shoff + 64 * i;
    v.setUint32(h, nameOff(i), true);
    v.setUint32(h + 4, i === 1 ? 3 : 1, true);
    v.setBigUint64(h + 24, BigInt(strAt), true);
    v.setBigUint64(h + 32, BigInt(i === 1 ? strSize : 0), true);
  }
  out.fill(0x41, strAt, strAt + strSize - 1);
  return out;
}

describe.each(BACKENDS)('section names, backend %s', (backend) => {
  it('65,535 section headers naming one string of 64 KiB: E_CORRUPT at once (a name is at most 255 bytes)', () => {
    const p = join(dir, `one-string-${backend}.fkx`);
    writeFileSync(
      p,
      manyHeaders(65535, 65536, () => 0),
    );
    expect(openCode(backend, p)).toEqual({ code: 'E_CORRUPT' });
  });

  it('65,535 headers, each naming a different tail of that string: the same', () => {
    const p = join(dir, `tails-${backend}.fkx`);
    writeFileSync(
      p,
      manyHeaders(65535, 65536, (i) => i % 65000),
    );
    expect(openCode(backend, p)).toEqual({ code: 'E_CORRUPT' });
  });

  it('65,535 headers naming strings of 255 bytes: read (no .fk.info: E_FORMAT)', () => {
    const p = join(dir, `short-${backend}.fkx`);
    const bytes = manyHeaders(65535, 65536, (i) => 256 * (i % 255));
    const strAt = 64 + 64 * 65535;
    for (let k = 255; k < 65536; k += 256) bytes[strAt + k] = 0; // a NUL after every 255 bytes
    writeFileSync(p, bytes);
    expect(openCode(backend, p)).toEqual({ code: 'E_FORMAT' });
  });
});

describe.each(BACKENDS)('user code run in the middle of a call, backend %s', (backend) => {
  const p = join(dir, 'names.fkx');
  {
    const b = new ArtifactBuilder();
    b.addModule({ name: 'mod', importedFuncs: 0, definedFuncs: 1000 });
    for (let i = 0; i < 1000; i++) {
      b.pushFunc(FuncKey.definedWasmFunction(0, i), { start: 10 * i, length: 5 });
      b.setFuncName(0, i, `function_${i}`);
    }
    writeFileSync(p, b.finish());
  }

  it('a setter on Array.prototype[300] that closes the artifact: funcNames ends, never reads unmapped memory', () => {
    const r = child(`
      const a = fk.open(${JSON.stringify(p)}, { backend: ${JSON.stringify(backend)} });
      let calls = 0;
      Object.defineProperty(Array.prototype, '300', { set(v) { calls++; a.close(); }, configurable: true });
      const idx = new Uint32Array(1000).map((_, i) => i);
      let names, code = 'ok';
      try { names = a.funcNames(idx); } catch (e) { code = e.code ?? String(e); }
      delete Array.prototype['300'];
      console.log(JSON.stringify({ code, calls, closed: a.closed, n: names?.length, first: names?.[0], last: names?.[999], has300: names ? Object.hasOwn(names, 300) : null }));`);
    // The setter took element 300 (the array's own [[Set]] found it on the prototype), and
    // every other name arrived.
    expect(r).toEqual({
      code: 'ok',
      calls: 1,
      closed: true,
      n: 1000,
      first: 'function_0',
      last: 'function_999',
      has300: false,
    });
  });

  it('setters on Object.prototype and Array.prototype[i] that close the artifact and swallow what is set: open() and describe() run none of them', () => {
    const r = child(`
      let calls = 0;
      const reference = fk.open(${JSON.stringify(p)}, { backend: ${JSON.stringify(backend)} }).describe();
      let a;
      const swallow = () => { calls++; a?.close(); };
      for (const k of ['name', 'offset', 'namespace', 'importedFuncs', 'sha256', 'modules', 'sections'])
        Object.defineProperty(Object.prototype, k, { set: swallow, configurable: true });
      for (const k of ['0', '1', '15']) Object.defineProperty(Array.prototype, k, { set: swallow, configurable: true });
      a = fk.open(${JSON.stringify(p)}, { backend: ${JSON.stringify(backend)} });
      const name = a.funcName(7);
      let d, code = 'ok';
      try { d = a.describe(); } catch (e) { code = e.code ?? String(e); }
      for (const k of ['name', 'offset', 'namespace', 'importedFuncs', 'sha256', 'modules', 'sections']) delete Object.prototype[k];
      for (const k of ['0', '1', '15']) delete Array.prototype[k];
      console.log(JSON.stringify({ code, calls, name, same: JSON.stringify(d) === JSON.stringify(reference), modules: d.modules.map((m) => m.name), sections: d.sections.length }));`);
    // 16 sections: .shstrtab and the 15 tables (no source locations, so no .fk.line_*).
    expect(r).toEqual({ code: 'ok', calls: 0, name: 'function_7', same: true, modules: ['mod'], sections: 16 });
  });
});

describe('the first lookup costs no more than its answer, in each backend', () => {
  it('funcName and funcNames on an artifact of 2^16 modules read the module count, not a description of every module', () => {
    // describe() is watched through the core's method, in each backend's core. The artifact
    // (the slow part) is built once, in one child, and read by each backend in turn.
    const r = child(`
      const { JsCore } = await import(${JSON.stringify(join(__dirname, '..', 'dist', 'reader.js'))});
      const { NativeCore } = await import(${JSON.stringify(join(__dirname, '..', 'dist', 'native.js'))});
      let described = 0;
      for (const C of [JsCore, NativeCore]) {
        const plain = C.prototype.describe;
        C.prototype.describe = function () { described++; return plain.call(this); };
      }
      const b = new fk.ArtifactBuilder();
      for (let m = 0; m < 2 ** 16; m++) b.addModule({ importedFuncs: 1, definedFuncs: 0 });
      b.setFuncName(2 ** 16 - 1, 0, 'last');
      const bytes = b.finish();
      const out = {};
      for (const backend of ${JSON.stringify(BACKENDS)}) {
        described = 0;
        const a = fk.open(bytes, { backend });
        const name = a.funcName(0, 2 ** 16 - 1);
        const names = a.funcNames(new Uint32Array([0, 1]), 2 ** 16 - 1);
        let range = 'ok';
        try { a.funcName(0, 2 ** 16); } catch (e) { range = e.code; }
        const before = described;
        a.describe();
        out[backend] = { backend: a.backend, name, names, range, describedBefore: before, describeWatched: described > before };
        a.close();
      }
      console.log(JSON.stringify(out));`);
    expect(r).toEqual(
      Object.fromEntries(
        BACKENDS.map((backend) => [
          backend,
          { backend, name: 'last', names: ['last', null], range: 'E_RANGE', describedBefore: 0, describeWatched: true },
        ]),
      ),
    );
  });
});

describe.each(BACKENDS)('names past the name limit in an artifact, backend %s', (backend) => {
  it.runIf(process.env.FUNCKEY_HEAVY === '1')(
    'a name record of 2^28 + 1 bytes (within .fk.names) is E_CORRUPT, never a failed string',
    () => {
      const r = child(`
      const b = new fk.ArtifactBuilder({ nameEncoding: 'dense' });
      b.addModule({ importedFuncs: 3, definedFuncs: 0 });
      for (let i = 0; i < 3; i++) b.setFuncName(0, i, String.fromCharCode(97 + i).repeat(2 ** 27));
      const bytes = b.finish();
      // The dense slot of function 0 (offset, length) is the first pair of .fk.name_index:
      // found as the pair (0, 2^27) before the pair (2^27, 2^27); its length made 2^28 + 1.
      const v = new DataView(bytes.buffer);
      let at = -1;
      for (let o = 0; o + 16 <= bytes.length && at < 0; o += 4)
        if (v.getUint32(o, true) === 0 && v.getUint32(o + 4, true) === 2 ** 27 && v.getUint32(o + 8, true) === 2 ** 27 && v.getUint32(o + 12, true) === 2 ** 27) at = o;
      v.setUint32(at + 4, 2 ** 28 + 1, true);
      const a = fk.open(bytes, { backend: ${JSON.stringify(backend)} });
      let code = 'ok';
      try { a.funcName(0); } catch (e) { code = e.code ?? String(e); }
      let batch = 'ok';
      try { a.funcNames(new Uint32Array([1, 0])); } catch (e) { batch = e.code ?? String(e); }
      console.log(JSON.stringify({ found: at >= 0, code, batch, second: a.funcName(1).length }));`);
      expect(r).toEqual({ found: true, code: 'E_CORRUPT', batch: 'E_CORRUPT', second: 2 ** 27 });
    },
  );
});
