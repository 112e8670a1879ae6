import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArtifactBuilder, FuncKey, FunckeyError, NONE, open, type ErrorCode } from '../lib/index.js';
import { BACKENDS } from './helpers/backends.js';
import { FORMAT_SECTIONS } from './helpers/expected.js';
import { buildModel, randomModel } from './helpers/gen.js';
import { codeOf } from './helpers/codes.js';

const dir = mkdtempSync(join(tmpdir(), 'funckey-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sample(): Uint8Array {
  const b = new ArtifactBuilder();
  b.addModule({ name: 'm', importedFuncs: 1, definedFuncs: 3 });
  b.addModule({ importedFuncs: 0, definedFuncs: 2 });
  b.pushFunc(FuncKey.definedWasmFunction(0, 0), { start: 10, length: 5 }, 8);
  b.pushFunc(FuncKey.definedWasmFunction(0, 2), { start: 20, length: 5 }, 18);
  b.pushFunc(FuncKey.definedWasmFunction(1, 1), { start: 30, length: 5 });
  b.pushFunc(FuncKey.arrayToWasmTrampoline(0, 2), { start: 40, length: 5 });
  b.pushFunc(FuncKey.wasmToBuiltinTrampoline(3), { start: 50, length: 5 });
  b.setFuncName(0, 1, 'one');
  b.setFuncName(0, 3, 'three');
  return b.finish();
}

// Where things are in sample(), read with an independent little ELF parser.
function sections(bytes: Uint8Array): Map<string, { hdr: number; offset: number; size: number }> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(v.getBigUint64(40, true));
  const shnum = v.getUint16(60, true);
  const strOff = Number(v.getBigUint64(shoff + 64 * v.getUint16(62, true) + 24, true));
  const out = new Map();
  for (let i = 1; i < shnum; i++) {
    const h = shoff + 64 * i;
    let n = strOff + v.getUint32(h, true);
    let name = '';
    while (bytes[n] !== 0) name += String.fromCharCode(bytes[n++]!);
    out.set(name, { hdr: h, offset: Number(v.getBigUint64(h + 24, true)), size: Number(v.getBigUint64(h + 32, true)) });
  }
  return out;
}

function patch(f: (bytes: Uint8Array, v: DataView, s: ReturnType<typeof sections>) => void): Uint8Array {
  const bytes = sample().slice();
  f(bytes, new DataView(bytes.buffer), sections(bytes));
  return bytes;
}

const info = (s: ReturnType<typeof sections>) => s.get('.fk.info')!.offset;

describe.each(BACKENDS)('error codes, backend %s', (backend) => {
  const openCode = (bytes: Uint8Array | string) => codeOf(() => open(bytes, { backend }));

  it('opens the untouched sample', () => {
    expect(openCode(sample())).toBe('ok');
  });

  it('E_FORMAT: not an ELF file, a 32-bit or big-endian ELF, an ELF with no .fk.info, a bad info magic', () => {
    expect(openCode(new Uint8Array(0))).toBe('E_FORMAT');
    expect(openCode(new TextEncoder().encode('\0asm\x01\0\0\0 this is wasm'))).toBe('E_FORMAT');
    expect(openCode(patch((b) => (b[4] = 1)))).toBe('E_FORMAT');
    expect(openCode(patch((b) => (b[5] = 2)))).toBe('E_FORMAT');
    expect(
      openCode(
        patch((b, v, s) => (b[s.get('.shstrtab')!.offset + v.getUint32(s.get('.fk.info')!.hdr, true) + 4] = 0x78)),
      ),
    ).toBe('E_FORMAT');
    expect(openCode(patch((b, v, s) => (b[info(s)] = 0x78)))).toBe('E_FORMAT');
    // A real ELF executable of this machine is not an artifact.
    if (existsSync('/bin/true')) expect(openCode('/bin/true')).toBe('E_FORMAT');
  });

  it('E_VERSION: a format version this reader does not know', () => {
    // Versions 1 to 4 (before rank bitmaps, the offset index, buckets, source locations, their
    // compact encoding) and one from the future.
    expect(openCode(patch((b, v, s) => v.setUint32(info(s) + 8, 6, true)))).toBe('E_VERSION');
    expect(openCode(patch((b, v, s) => v.setUint32(info(s) + 8, 4, true)))).toBe('E_VERSION');
    expect(openCode(patch((b, v, s) => v.setUint32(info(s) + 8, 3, true)))).toBe('E_VERSION');
    expect(openCode(patch((b, v, s) => v.setUint32(info(s) + 8, 1, true)))).toBe('E_VERSION');
    const bytes = patch((b, v, s) => v.setUint32(info(s) + 8, 2, true));
    expect(openCode(bytes)).toBe('E_VERSION');
    try {
      open(bytes, { backend });
    } catch (e) {
      expect((e as Error).message).toMatch(/rebuild/);
    }
  });

  it('E_TRUNCATED: cut anywhere inside the header, the section table or a section', () => {
    const full = sample();
    const s = sections(full);
    expect(openCode(full.slice(0, 40))).toBe('E_TRUNCATED');
    expect(openCode(full.slice(0, 64 + 64 * 3))).toBe('E_TRUNCATED');
    const names = s.get('.fk.names')!;
    expect(openCode(full.slice(0, names.offset + names.size - 1))).toBe('E_TRUNCATED');
    for (let cut = 4; cut < full.length; cut += 7)
      expect(['E_TRUNCATED', 'E_FORMAT', 'E_CORRUPT']).toContain(openCode(full.slice(0, cut)));
  });

  it('E_CORRUPT: broken invariants', () => {
    // Namespaces out of order.
    expect(
      openCode(patch((b, v, s) => v.setUint32(s.get('.fk.namespaces')!.offset, 0x7fffffff & 0x0fffffff, true))),
    ).toBe('E_CORRUPT');
    // A count that does not match its section's size.
    expect(openCode(patch((b, v, s) => v.setUint32(info(s) + 24, 99, true)))).toBe('E_CORRUPT');
    // A section moved off its 8-byte alignment.
    expect(
      openCode(
        patch((b, v, s) =>
          v.setBigUint64(s.get('.fk.func_locs')!.hdr + 24, BigInt(s.get('.fk.func_locs')!.offset + 4), true),
        ),
      ),
    ).toBe('E_CORRUPT');
    // A section missing (renamed).
    expect(
      openCode(
        patch((b, v, s) => (b[s.get('.shstrtab')!.offset + v.getUint32(s.get('.fk.src_locs')!.hdr, true) + 4] = 0x5a)),
      ),
    ).toBe('E_CORRUPT');
    // A start array that decreases / does not end with its count.
    expect(openCode(patch((b, v, s) => v.setUint32(s.get('.fk.func_loc_starts')!.offset + 4, 0, true)))).toBe(
      'E_CORRUPT',
    );
    // A name index outside .fk.name_index.
    expect(openCode(patch((b, v, s) => v.setUint32(info(s) + 64 + 24, 1000, true)))).toBe('E_CORRUPT');
    // A name encoding that does not exist.
    expect(openCode(patch((b, v, s) => v.setUint32(info(s) + 64 + 20, 7, true)))).toBe('E_CORRUPT');
    // A section name index beyond the section count.
    expect(openCode(patch((b, v) => v.setUint16(62, 200, true)))).toBe('E_CORRUPT');
    // A name offset outside .fk.names: open succeeds (not checked at open), the lookup refuses.
    const bad = patch((b, v, s) => v.setUint32(s.get('.fk.name_index')!.offset + 8, 0xfffffff0, true));
    const a = open(bad, { backend });
    expect(codeOf(() => a.funcName(1))).toBe('E_CORRUPT');
    expect(a.funcName(3)).toBe('three');
    a.close();
  });

  it('E_CORRUPT: a damaged sparse bitmap, met by a lookup', () => {
    const make = () => {
      const b = new ArtifactBuilder({ sparseEncoding: 'bitmap' });
      b.addModule({ importedFuncs: 0, definedFuncs: 64 });
      for (let i = 0; i < 64; i += 2) b.pushFunc(FuncKey.arrayToWasmTrampoline(0, i), { start: 10 * i, length: 5 });
      return b.finish();
    };
    const damage = (f: (v: DataView, at: number) => void) => {
      const bytes = make().slice();
      const s = sections(bytes);
      f(new DataView(bytes.buffer), s.get('.fk.sparse_bitmaps')!.offset);
      return open(bytes, { backend });
    };
    const key = FuncKey.arrayToWasmTrampoline(0, 40);
    // The rank of block 1 counts past the run: funcLoc of a present index in it is refused.
    let a = damage((v, at) => v.setUint32(at + 8, 1000, true));
    expect(codeOf(() => a.funcLoc(key))).toBe('E_CORRUPT');
    expect(codeOf(() => a.funcLocs(new Uint32Array([key.namespace]), new Uint32Array([40])))).toBe('E_CORRUPT');
    expect(a.funcLoc(FuncKey.arrayToWasmTrampoline(0, 2))).toEqual({ start: 20, length: 5 });
    a.close();
    // Block 0 lost its bits: the reverse lookup of its entries cannot find them.
    a = damage((v, at) => v.setUint32(at + 4, 0, true));
    expect(codeOf(() => a.funcByOffset(22))).toBe('E_CORRUPT');
    expect(codeOf(() => a.funcsByOffset(new Uint32Array([22])))).toBe('E_CORRUPT');
    expect(a.funcByOffset(402)?.toString()).toBe('ArrayToWasmTrampoline(0, 40)');
    a.close();
  });

  it('E_CORRUPT: damaged sparse buckets, met by a lookup; an invalid bucket header, at open', () => {
    // 40 trampolines among 2,000 indices, stored as buckets (FORMAT.md 3.3).
    const make = () => {
      const b = new ArtifactBuilder({ sparseEncoding: 'buckets' });
      b.addModule({ importedFuncs: 0, definedFuncs: 2000 });
      for (let i = 0; i < 40; i++)
        b.pushFunc(FuncKey.arrayToWasmTrampoline(0, 50 * i + 7), { start: 10 * i, length: 5 });
      return b.finish();
    };
    const layout = open(make(), { backend }).describe().namespaces[0]!;
    expect(layout.encoding).toBe('buckets');
    const k = layout.bucketShift;
    const nb = Math.floor((50 * 39 + 7) / 2 ** k) + 1;
    const filterWords = Math.floor((50 * 39 + 7) / 2 ** layout.bucketFilterShift / 32) + 1;
    const superByte = 4 * (4 + filterWords); // super[0], from the run's start
    const relByte = superByte + 4 * (Math.floor((nb - 1) / 2 ** (16 - k)) + 1); // rel[0]
    const damage = (f: (v: DataView, at: number) => void) => {
      const bytes = make().slice();
      f(new DataView(bytes.buffer), sections(bytes).get('.fk.sparse_buckets')!.offset);
      return bytes;
    };
    const key = FuncKey.arrayToWasmTrampoline(0, 50 * 20 + 7);
    const bucket = (50 * 20 + 7) >> k;
    // The rank of a bucket points past the run: the lookup that meets it is refused, others answer.
    let a = open(
      damage((v, at) => v.setUint16(at + relByte + 2 * bucket, 999, true)),
      { backend },
    );
    expect(codeOf(() => a.funcLoc(key))).toBe('E_CORRUPT');
    expect(codeOf(() => a.funcLocs(new Uint32Array([key.namespace]), new Uint32Array([key.index])))).toBe('E_CORRUPT');
    expect(a.funcLoc(FuncKey.arrayToWasmTrampoline(0, 7))).toEqual({ start: 0, length: 5 });
    a.close();
    // The superblock rank says the first bucket starts past its entries: reverse lookups fail.
    a = open(
      damage((v, at) => v.setUint32(at + superByte, 5, true)),
      { backend },
    );
    expect(codeOf(() => a.funcByOffset(2))).toBe('E_CORRUPT');
    expect(codeOf(() => a.funcsByOffset(new Uint32Array([2])))).toBe('E_CORRUPT');
    a.close();
    // A header whose shift or bucket count does not match the run's length: refused at open.
    expect(openCode(damage((v, at) => v.setUint32(at, 0, true)))).toBe('E_CORRUPT');
    expect(openCode(damage((v, at) => v.setUint32(at, 16, true)))).toBe('E_CORRUPT');
    expect(openCode(damage((v, at) => v.setUint32(at + 4, nb + 64, true)))).toBe('E_CORRUPT');
    expect(openCode(damage((v, at) => v.setUint32(at + 4, 0, true)))).toBe('E_CORRUPT');
    expect(openCode(damage((v, at) => v.setUint32(at + 8, 32, true)))).toBe('E_CORRUPT');
    expect(openCode(damage((v, at) => v.setUint32(at + 12, 0, true)))).toBe('E_CORRUPT');
    // A filter bit cleared: that index is absent to lookups (the filter is trusted, not checked).
    const first = FuncKey.arrayToWasmTrampoline(0, 7);
    a = open(
      damage((v, at) =>
        v.setUint32(at + 16, v.getUint32(at + 16, true) & ~(1 << (7 >> layout.bucketFilterShift)), true),
      ),
      { backend },
    );
    expect(a.funcLoc(first)).toBe(undefined);
    expect(a.funcByOffset(2)?.toString()).toBe(first.toString());
    a.close();
  });

  it('E_ARG: output arrays of batch calls that are missing, of the wrong type or length, or share memory', () => {
    const a = open(sample(), { backend });
    const two = new Uint32Array([0, 0]);
    const offs = new Uint32Array([0, 1]);
    type LocsOut = { starts: Uint32Array; lengths: Uint32Array };
    type OffsOut = { namespaces: Uint32Array; indices: Uint32Array };
    const locs = (out: unknown) => codeOf(() => a.funcLocs(two, offs, out as LocsOut));
    const byOff = (out: unknown) => codeOf(() => a.funcsByOffset(offs, out as OffsOut));
    for (const bad of [null, 7, 'out', {}]) {
      expect(locs(bad)).toBe('E_ARG');
      expect(byOff(bad)).toBe('E_ARG');
    }
    expect(locs({ starts: new Uint32Array(2) })).toBe('E_ARG');
    expect(locs({ starts: new Int32Array(2), lengths: new Uint32Array(2) })).toBe('E_ARG');
    expect(locs({ starts: [0, 0], lengths: new Uint32Array(2) })).toBe('E_ARG');
    expect(locs({ starts: new Uint32Array(3), lengths: new Uint32Array(3) })).toBe('E_ARG');
    expect(byOff({ namespaces: new Uint32Array(2), indices: new Uint32Array(1) })).toBe('E_ARG');
    // Memory shared between the outputs, or with an input: rejected before any lookup.
    const buf = new Uint32Array(8);
    expect(locs({ starts: buf.subarray(0, 2), lengths: buf.subarray(1, 3) })).toBe('E_ARG');
    expect(byOff({ namespaces: buf.subarray(4, 6), indices: buf.subarray(4, 6) })).toBe('E_ARG');
    expect(byOff({ namespaces: new Uint32Array(2), indices: offs })).toBe('E_ARG');
    expect(locs({ starts: new Uint32Array(2), lengths: two })).toBe('E_ARG');
    // Offset 22 lies in DefinedWasmFunction(0, 2) (start 20, length 5), offset 0 in no function.
    const shared = new Uint32Array([22, 0, 7, 7, 7, 7]);
    const input = shared.subarray(0, 2);
    expect(
      codeOf(() => a.funcsByOffset(input, { namespaces: shared.subarray(1, 3), indices: shared.subarray(4, 6) })),
    ).toBe('E_ARG');
    // Adjacent views of one buffer share no memory: accepted, and answered in place.
    expect(
      codeOf(() => a.funcsByOffset(input, { namespaces: shared.subarray(2, 4), indices: shared.subarray(4, 6) })),
    ).toBe('ok');
    const k = FuncKey.definedWasmFunction(0, 2);
    expect(shared).toEqual(new Uint32Array([22, 0, k.namespace, NONE, 2, NONE]));
    a.close();
  });

  it('E_ARG: arguments of the wrong type or out of domain', () => {
    const a = open(sample(), { backend });
    expect(codeOf(() => a.funcLoc({ namespace: 0, index: 0 } as unknown as FuncKey))).toBe('E_ARG');
    expect(codeOf(() => a.funcByOffset(-1))).toBe('E_ARG');
    expect(codeOf(() => a.funcByOffset(2 ** 32))).toBe('E_ARG');
    expect(codeOf(() => a.funcByOffset(1.5))).toBe('E_ARG');
    expect(codeOf(() => a.funcByOffset('12' as unknown as number))).toBe('E_ARG');
    expect(codeOf(() => a.funcName(NaN))).toBe('E_ARG');
    expect(codeOf(() => a.funcLocs(new Uint32Array(2), new Uint32Array(3)))).toBe('E_ARG');
    expect(codeOf(() => a.funcLocs(new Int32Array(2) as unknown as Uint32Array, new Uint32Array(2)))).toBe('E_ARG');
    expect(codeOf(() => a.funcsByOffset([1, -2] as unknown as Uint32Array))).toBe('E_ARG');
    expect(codeOf(() => a.funcNames(null as unknown as Uint32Array))).toBe('E_ARG');
    a.close();
    expect(codeOf(() => open(42 as unknown as string, { backend }))).toBe('E_ARG');
    expect(codeOf(() => open(sample(), { backend: 'fast' as 'js' }))).toBe('E_ARG');
    expect(codeOf(() => FuncKey.fromRaw(0xa0000000, 0))).toBe('E_ARG');
    expect(codeOf(() => FuncKey.fromRaw(0x20000001, 0))).toBe('E_ARG');
    expect(codeOf(() => FuncKey.componentTrampoline(3, 0))).toBe('E_ARG');
    expect(codeOf(() => FuncKey.parse('Nope(1)'))).toBe('E_ARG');
    expect(codeOf(() => new ArtifactBuilder({ nameEncoding: 'huge' as 'dense' }))).toBe('E_ARG');
    expect(codeOf(() => new ArtifactBuilder({ offsetIndex: 'no' as unknown as boolean }))).toBe('E_ARG');
    expect(codeOf(() => new ArtifactBuilder({ offsetIndex: 0 as unknown as boolean }))).toBe('E_ARG');
  });

  it('E_RANGE: a module the artifact does not have', () => {
    const a = open(sample(), { backend });
    expect(codeOf(() => a.funcName(0, 2))).toBe('E_RANGE');
    expect(codeOf(() => a.funcNames(new Uint32Array([0]), 5))).toBe('E_RANGE');
    expect(a.funcName(0, 1)).toBe(undefined);
    a.close();
    const b = new ArtifactBuilder();
    b.addModule({ importedFuncs: 1, definedFuncs: 1 });
    expect(codeOf(() => b.setFuncName(0, 2, 'x'))).toBe('E_RANGE');
    expect(codeOf(() => b.setFuncName(1, 0, 'x'))).toBe('E_RANGE');
    expect(codeOf(() => b.pushFunc(FuncKey.definedWasmFunction(0, 1), { start: 0, length: 1 }))).toBe('E_RANGE');
  });

  it('E_CLOSED: every call after close, and close twice is harmless', () => {
    const a = open(sample(), { backend });
    const name = a.funcName(1);
    a.close();
    a.close();
    expect(a.closed).toBe(true);
    expect(name).toBe('one');
    for (const f of [
      () => a.funcLoc(FuncKey.definedWasmFunction(0, 0)),
      () => a.srcLoc(FuncKey.definedWasmFunction(0, 0)),
      () => a.funcByOffset(12),
      () => a.funcName(1),
      () => a.funcLocs(new Uint32Array(1), new Uint32Array(1)),
      () => a.funcsByOffset(new Uint32Array(1)),
      () => a.funcNames(new Uint32Array(1)),
      () => a.modules,
      () => a.describe(),
    ])
      expect(codeOf(f)).toBe('E_CLOSED');
  });

  it('E_IO: a missing file, a directory', () => {
    expect(openCode(join(dir, 'missing.fkx'))).toBe('E_IO');
    expect(openCode(dir)).toBe('E_IO');
    // Not a regular file: refused before reading, in every backend alike.
    if (existsSync('/dev/null')) expect(openCode('/dev/null')).toBe('E_IO');
  });
});

describe('builder errors', () => {
  it('E_ORDER: keys not ascending, overlapping or backwards locations', () => {
    const b = new ArtifactBuilder();
    b.addModule({ importedFuncs: 0, definedFuncs: 10 });
    b.pushFunc(FuncKey.definedWasmFunction(0, 3), { start: 100, length: 10 });
    expect(codeOf(() => b.pushFunc(FuncKey.definedWasmFunction(0, 3), { start: 200, length: 1 }))).toBe('E_ORDER');
    expect(codeOf(() => b.pushFunc(FuncKey.definedWasmFunction(0, 2), { start: 200, length: 1 }))).toBe('E_ORDER');
    expect(codeOf(() => b.pushFunc(FuncKey.definedWasmFunction(0, 4), { start: 109, length: 1 }))).toBe('E_ORDER');
    expect(codeOf(() => b.pushFunc(FuncKey.definedWasmFunction(0, 4), { start: 110, length: 1 }))).toBe('ok');
    expect(codeOf(() => b.pushFunc(FuncKey.wasmToArrayTrampoline(0), { start: 50, length: 1 }))).toBe('E_ORDER');
  });

  it('E_ARG: zero-length functions and source locations on kinds without them', () => {
    const b = new ArtifactBuilder();
    b.addModule({ importedFuncs: 0, definedFuncs: 10 });
    expect(codeOf(() => b.pushFunc(FuncKey.definedWasmFunction(0, 0), { start: 1, length: 0 }))).toBe('E_ARG');
    expect(codeOf(() => b.pushFunc(FuncKey.wasmToArrayTrampoline(0), { start: 1, length: 2 }, 5))).toBe('E_ARG');
    expect(codeOf(() => b.pushFunc(FuncKey.definedWasmFunction(0, 0), { start: 0xffffffff, length: 2 }))).toBe('E_ARG');
  });

  it('writeFile is atomic: no temporary file is left, a failed write leaves the old file', () => {
    const path = join(dir, 'atomic.fkx');
    const b = buildModel(randomModel(3));
    b.writeFile(path);
    const before = readFileSync(path);
    expect(Buffer.from(b.finish()).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('atomic'))).toEqual(['atomic.fkx']);
    // Renaming over a non-empty directory fails: E_IO, and nothing is left behind.
    const blocked = join(dir, 'blocked.fkx');
    mkdirSync(blocked);
    writeFileSync(join(blocked, 'x'), 'x');
    expect(codeOf(() => b.writeFile(blocked))).toBe('E_IO');
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(codeOf(() => b.writeFile(join(dir, 'no', 'such', 'dir.fkx')))).toBe('E_IO');
  });

  it('writeFile never exposes a partial file: a writer killed mid-write leaves the old contents', async () => {
    const path = join(dir, 'killed.fkx');
    buildModel(randomModel(11)).writeFile(path);
    const old = readFileSync(path);
    // A child builds a large artifact and is killed just after it starts writing it.
    const lib = new URL('../dist/index.js', import.meta.url).pathname;
    const script = `
      const { ArtifactBuilder, FuncKey } = await import(${JSON.stringify(lib)});
      const b = new ArtifactBuilder(); b.addModule({ importedFuncs: 0, definedFuncs: 1_000_000 });
      for (let i = 0; i < 1_000_000; i++) b.pushFunc(FuncKey.definedWasmFunction(0, i), { start: 4 * i, length: 3 });
      for (let i = 0; i < 1_000_000; i++) b.setFuncName(0, i, 'function_name_' + i);
      process.send('go'); b.writeFile(${JSON.stringify(path)}); process.send('done');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const outcome = await new Promise<string>((resolve) => {
      let last = 'ok';
      child.on('message', (m) => {
        last = String(m);
        if (m === 'go') setTimeout(() => child.kill('SIGKILL'), 2);
      });
      child.on('exit', () => resolve(last));
    });
    expect(['go', 'done']).toContain(outcome);
    const now = readFileSync(path);
    if (outcome === 'go' && !now.equals(old)) {
      // Killed after the rename: the new file must then be complete.
      const a = open(now, { backend: 'js' });
      expect(a.modules[0]!.definedFuncs).toBe(1_000_000);
      expect(a.funcName(999_999)).toBe('function_name_999999');
      a.close();
    } else if (outcome === 'go') {
      expect(now.equals(old)).toBe(true);
    }
  });
});

describe('readelf', () => {
  const readelf = spawnSync('readelf', ['--version']).status === 0;
  it.skipIf(!readelf && !process.env.CI)('readelf -S accepts an artifact and lists its sections', () => {
    const path = join(dir, 'elf.fkx');
    buildModel(randomModel(8)).writeFile(path);
    const out = execFileSync('readelf', ['-W', '-S', path], { encoding: 'utf8' });
    for (const name of FORMAT_SECTIONS) expect(out).toContain(name);
    expect(out).toMatch(/There are 17 section headers/); // with no source locations (FORMAT.md 3.5)
    const hdr = execFileSync('readelf', ['-h', path], { encoding: 'utf8' });
    expect(hdr).toMatch(/ELF64/);
    expect(hdr).toMatch(/little endian/);
  });
});
