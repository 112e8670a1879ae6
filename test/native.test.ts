/**
 * Differential tests of the native backend against the js reader (the reference): seeded
 * random artifacts and random queries answered by both, single and batch, must agree
 * exactly; so must describe(), the error codes of damaged files and the decoding of names
 * that are not valid UTF-8. Where a test can say what the answer must be without asking
 * either reader (TextDecoder for names, the format's codes for a wrong version), it does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Core } from '../lib/core.js';
import { FunckeyError } from '../lib/errors.js';
import { ArtifactBuilder, FuncKey, open } from '../lib/index.js';
import { nativeStatus, openNativeCore } from '../lib/native.js';
import { JsCore } from '../lib/reader.js';
import {
  buildModel,
  int,
  pick,
  queryKeys,
  queryOffsets,
  randomModel,
  rng,
  type Model,
  type Rand,
} from './helpers/gen.js';
import { fingerprint, type Queries } from './helpers/mutate.js';
import { codeOf } from './helpers/codes.js';
import { count, HEAVY } from './helpers/heavy.js';

const NATIVE = nativeStatus();
const dir = mkdtempSync(join(tmpdir(), 'funckey-native-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('the addon loads (required in CI)', () => {
  if (process.env.CI) expect(NATIVE).toMatchObject({ available: true });
  if (!NATIVE.available) expect(NATIVE.reason).toMatch(/\S/);
});

const SEEDS = count('FUNCKEY_NATIVE_CASES', 80, 400);

/** Section `name`'s [offset, size] in an artifact, read from its section table (ELF64, FORMAT.md 1). */
function sectionOf(bytes: Uint8Array, name: string): [number, number] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(dv.getBigUint64(40, true));
  const shnum = dv.getUint16(60, true);
  const str = Number(dv.getBigUint64(shoff + 64 * dv.getUint16(62, true) + 24, true));
  for (let i = 1; i < shnum; i++) {
    const h = shoff + 64 * i;
    let e = str + dv.getUint32(h, true);
    let s = '';
    while (bytes[e] !== 0) s += String.fromCharCode(bytes[e++]!);
    if (s === name) return [Number(dv.getBigUint64(h + 24, true)), Number(dv.getBigUint64(h + 32, true))];
  }
  throw new Error(`no section ${name}`);
}

/** Random raw (namespace, index) pairs: present keys, neighbours, other kinds, kinds 10-15, extremes. */
function rawKeys(model: Model, r: Rand): [number, number][] {
  const keys = queryKeys(model, r, 400);
  for (let i = 0; i < 100; i++) keys.push([int(r, 0, 0xffffffff), pick(r, [0, 1, int(r, 0, 1000), 0xffffffff])]);
  for (let i = 0; i < 30; i++) keys.push([((int(r, 10, 15) << 28) | int(r, 0, 3)) >>> 0, int(r, 0, 10)]);
  return keys;
}

/** Asks both cores everything; returns how many answers were compared. */
function compareCores(model: Model, js: Core, nat: Core, r: Rand): { compared: number; hits: number } {
  let compared = 0;
  let hits = 0;
  const outJ = new Uint32Array(2);
  const outN = new Uint32Array(2);
  const eq = (a: unknown, b: unknown, what: string) => {
    compared++;
    if (a !== b) expect(b, what).toBe(a);
  };
  const keys = rawKeys(model, r);
  for (const [ns, idx] of keys) {
    outJ.fill(7);
    outN.fill(7);
    const fj = js.funcLoc(ns, idx, outJ);
    const fn = nat.funcLoc(ns, idx, outN);
    eq(fj, fn, `funcLoc(${ns}, ${idx})`);
    if (fj) hits++;
    eq(outJ[0], outN[0], `funcLoc(${ns}, ${idx}).start`);
    eq(outJ[1], outN[1], `funcLoc(${ns}, ${idx}).length`);
    eq(js.srcLoc(ns, idx), nat.srcLoc(ns, idx), `srcLoc(${ns}, ${idx})`);
  }
  const nsArr = Uint32Array.from(keys, (k) => k[0]);
  const idxArr = Uint32Array.from(keys, (k) => k[1]);
  const bj = [new Uint32Array(keys.length), new Uint32Array(keys.length)] as const;
  const bn = [new Uint32Array(keys.length).fill(3), new Uint32Array(keys.length).fill(3)] as const;
  js.funcLocs(nsArr, idxArr, bj[0], bj[1]);
  nat.funcLocs(nsArr, idxArr, bn[0], bn[1]);
  for (let k = 0; k < keys.length; k++) {
    eq(bj[0][k], bn[0][k], `funcLocs[${k}].start`);
    eq(bj[1][k], bn[1][k], `funcLocs[${k}].length`);
  }

  const offsets = queryOffsets(model, r, 300);
  for (let i = 0; i < 50; i++) offsets.push(int(r, 0, 0xffffffff));
  for (const off of offsets) {
    outJ.fill(7);
    outN.fill(7);
    const fj = js.funcByOffset(off, outJ);
    eq(fj, nat.funcByOffset(off, outN), `funcByOffset(${off})`);
    if (fj) hits++;
    eq(outJ[0], outN[0], `funcByOffset(${off}).namespace`);
    eq(outJ[1], outN[1], `funcByOffset(${off}).index`);
  }
  const offArr = Uint32Array.from(offsets);
  const oj = [new Uint32Array(offsets.length), new Uint32Array(offsets.length)] as const;
  const on = [new Uint32Array(offsets.length).fill(3), new Uint32Array(offsets.length).fill(3)] as const;
  js.funcsByOffset(offArr, oj[0], oj[1]);
  nat.funcsByOffset(offArr, on[0], on[1]);
  for (let k = 0; k < offsets.length; k++) {
    eq(oj[0][k], on[0][k], `funcsByOffset[${k}].namespace`);
    eq(oj[1][k], on[1][k], `funcsByOffset[${k}].index`);
  }

  model.modules.forEach((m, mi) => {
    const space = m.importedFuncs + m.definedFuncs;
    const fis = [...Array(space + 3).keys(), 0xffffffff, 0x80000000, int(r, 0, 0xffffffff)];
    for (const fi of fis) {
      const name = js.funcName(fi, mi);
      eq(name, nat.funcName(fi, mi), `funcName(${fi}, ${mi})`);
      if (name !== undefined) hits++;
    }
    const fiArr = Uint32Array.from(fis);
    const nj = js.funcNames(fiArr, mi);
    const nn = nat.funcNames(fiArr, mi);
    eq(nj.length, nn.length, 'funcNames length');
    nj.forEach((s, k) => eq(s, nn[k], `funcNames[${k}] of module ${mi}`));
  });
  return { compared, hits };
}

describe.skipIf(!NATIVE.available)('native backend against the js reader', () => {
  it(`answers exactly as js on ${SEEDS} random artifacts, opened from a path and from bytes`, () => {
    let compared = 0;
    let hits = 0;
    const encodings = new Set<number>();
    for (let seed = 1; seed <= SEEDS; seed++) {
      const model = randomModel(seed * 7919, { maxModules: 5, maxDefined: seed % 10 === 0 ? 2000 : 150 });
      // Seeds take turns: dense name indices, sparse ones, the model's own choice.
      const enc = seed % 3 === 0 ? 'dense' : seed % 3 === 1 ? 'sparse' : model.nameEncoding;
      const bytes = buildModel(model, enc).finish();
      const path = join(dir, `a${seed}.fkx`);
      writeFileSync(path, bytes);
      const js = new JsCore(bytes);
      const desc = js.describe();
      for (const m of desc.modules) encodings.add(m.nameEncoding);
      for (const nat of [openNativeCore(path), openNativeCore(bytes)]) {
        expect(nat.describe()).toStrictEqual(desc);
        const c = compareCores(model, js, nat, rng(seed));
        compared += c.compared;
        hits += c.hits;
        nat.close();
      }
    }
    // Tens of thousands of answers, many of them hits, and every name encoding met.
    expect(compared).toBeGreaterThan(125 * SEEDS);
    expect(hits).toBeGreaterThan(25 * SEEDS);
    expect([...encodings].sort()).toEqual([0, 1, 2]);
  });

  it('answers exactly as js through open() on a 64Ki-function artifact', () => {
    const model = randomModel(424242, { maxModules: 2, maxDefined: 40000 });
    const bytes = buildModel(model).finish();
    const js = open(bytes, { backend: 'js' });
    const nat = open(bytes, { backend: 'native' });
    expect(nat.backend).toBe('native');
    expect(nat.describe()).toStrictEqual(js.describe());
    expect(nat.modules).toStrictEqual(js.modules);
    const r = rng(99);
    for (const [ns, idx] of queryKeys(model, r)) {
      let key: FuncKey;
      try {
        key = FuncKey.fromRaw(ns, idx);
      } catch {
        continue;
      }
      expect(nat.funcLoc(key)).toStrictEqual(js.funcLoc(key));
      expect(nat.srcLoc(key)).toBe(js.srcLoc(key));
    }
    const offs = Uint32Array.from(queryOffsets(model, r));
    expect(nat.funcsByOffset(offs)).toStrictEqual(js.funcsByOffset(offs));
    for (const off of offs.subarray(0, 5000)) expect(String(nat.funcByOffset(off))).toBe(String(js.funcByOffset(off)));
    const fis = Uint32Array.from({ length: 50000 }, (_, i) => i);
    expect(nat.funcNames(fis, 0)).toStrictEqual(js.funcNames(fis, 0));
    js.close();
    nat.close();
  });

  it('decodes names that are not valid UTF-8 as TextDecoder does, in both backends', () => {
    // Invalid sequences of every sort: lone continuation bytes, overlong forms, surrogates,
    // code points above U+10FFFF, truncated sequences, and valid characters around them.
    const crafted = [
      [0x61, 0x80, 0x62],
      [0xc0, 0xaf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf0, 0x9f, 0x98],
      [0xe2, 0x82],
      [0xff, 0xfe, 0x41],
      [0xc3, 0x28],
      [0xf0, 0x9f, 0x98, 0x80, 0xc3],
      [0xef, 0xbb, 0xbf, 0x78],
      [0xc3, 0xa9, 0xed, 0x9f, 0xbf, 0xe1, 0x80],
    ];
    const r = rng(5);
    for (let i = 0; i < 200; i++)
      crafted.push(
        Array.from({ length: int(r, 1, 12) }, () =>
          pick(r, [0x41, 0x80, 0xbf, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xf8, int(r, 0, 255)]),
        ),
      );
    const b = new ArtifactBuilder({ nameEncoding: 'dense' });
    b.addModule({ name: 'm', importedFuncs: crafted.length, definedFuncs: 0 });
    // Placeholders of the right byte lengths, patched below: the builder takes strings.
    const marks = crafted.map((bytes, i) => String.fromCharCode(0x41 + (i % 26)).repeat(bytes.length));
    marks.forEach((m, i) => b.setFuncName(0, i, m));
    const bytes = b.finish();
    const [nOff, nSize] = sectionOf(bytes, '.fk.names');
    const idx = sectionOf(bytes, '.fk.name_index');
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    crafted.forEach((c, i) => {
      const off = dv.getUint32(idx[0] + 8 * i, true);
      const len = dv.getUint32(idx[0] + 8 * i + 4, true);
      expect(len).toBe(c.length);
      expect(off + len).toBeLessThanOrEqual(nSize);
      bytes.set(c, nOff + off);
    });
    // ignoreBOM: a name is decoded whole, a leading EF BB BF included.
    const td = new TextDecoder('utf-8', { ignoreBOM: true });
    const want = crafted.map((c) => td.decode(new Uint8Array(c)));
    const fis = Uint32Array.from(crafted, (_, i) => i);
    for (const backend of ['js', 'native'] as const) {
      const a = open(bytes, { backend });
      crafted.forEach((_, i) => expect(a.funcName(i), `${backend} name ${i}`).toBe(want[i]));
      expect(a.funcNames(fis)).toStrictEqual(want);
      a.close();
    }
  });

  it('a damaged name in the middle of a long batch throws E_CORRUPT in both, and the names before it agree', () => {
    const b = new ArtifactBuilder({ nameEncoding: 'dense' });
    b.addModule({ name: 'm', importedFuncs: 0, definedFuncs: 1000 });
    for (let i = 0; i < 1000; i++) b.setFuncName(0, i, i % 7 ? `f${i}` : `\u00e9t\u00e9${i}`);
    const bytes = b.finish();
    const [idxOff] = sectionOf(bytes, '.fk.name_index');
    new DataView(bytes.buffer).setUint32(idxOff + 8 * 700 + 4, 0xfffffff0, true); // the length of name 700
    const all = Uint32Array.from({ length: 1000 }, (_, i) => i);
    for (const backend of ['js', 'native'] as const) {
      const a = open(bytes, { backend });
      expect(codeOf(() => a.funcNames(all))).toBe('E_CORRUPT');
      expect(codeOf(() => a.funcName(700))).toBe('E_CORRUPT');
      const first = a.funcNames(all.subarray(0, 700));
      expect(first).toHaveLength(700);
      expect(first[699]).toBe('f699');
      expect(first[693]).toBe('\u00e9t\u00e9693');
      expect(a.funcName(701)).toBe('f701');
      a.close();
    }
  });

  it('reads section names as TextDecoder does: invalid UTF-8, a BOM, and names that decode alike', () => {
    const base = buildModel(randomModel(77)).finish();
    const enc = new TextEncoder();
    const cases: { names: number[][]; want?: string }[] = [
      { names: [[0x2e, 0x78, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80]] }, // unknown, invalid: kept, decoded
      { names: [[0xef, 0xbb, 0xbf, ...enc.encode('.fk.extra')]] }, // BOM dropped: an unknown .fk. section
      { names: [[0xef, 0xbb, 0xbf, ...enc.encode('.fk.info')]], want: 'E_CORRUPT' }, // decodes to a duplicate .fk.info
      {
        names: [
          [...enc.encode('.fk.'), 0xff],
          [...enc.encode('.fk.'), 0xfe],
        ],
        want: 'E_CORRUPT',
      }, // both ".fk.\uFFFD"
      {
        names: [
          [...enc.encode('.fk.'), 0xff],
          [...enc.encode('.fk.'), 0xc3],
        ],
        want: 'E_CORRUPT',
      },
      {
        names: [
          [...enc.encode('.fk.'), 0xc3, 0xa9],
          [...enc.encode('.fk.'), 0xc3],
        ],
      },
    ];
    for (const { names, want } of cases) {
      const bytes = addSections(base, names);
      const js = codeOf(() => new JsCore(bytes));
      const nat = codeOf(() => openNativeCore(bytes));
      expect(nat).toBe(js);
      if (want !== undefined) expect(js).toBe(want);
      if (js === 'ok') {
        const d = new JsCore(bytes).describe();
        const td = new TextDecoder();
        expect(d.sections.slice(-names.length).map((s) => s.name)).toEqual(
          names.map((n) => td.decode(new Uint8Array(n))),
        );
        expect(openNativeCore(bytes).describe()).toStrictEqual(d);
      }
    }
  });

  it('gives the same error code or the same answers as js for damaged files', () => {
    const model = randomModel(31337, { maxModules: 3, maxDefined: 40 });
    const bytes = buildModel(model).finish();
    const r = rng(8);
    // A file that opens costs both readers every query below, and most of this test's time is
    // theirs. The queries always hold every function's key and every function's edges and
    // middle (queryKeys, queryOffsets); only the random extras beyond those are counted here:
    // 20 of each (50 under FUNCKEY_HEAVY=1) still ask other kinds, neighbours and far values.
    const queries = HEAVY ? 50 : 20;
    const q: Queries = {
      keys: queryKeys(model, r, queries),
      offsets: queryOffsets(model, r, queries),
      funcIndices: [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 0xffffffff],
      modules: model.modules.length,
    };
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const shoff = Number(dv.getBigUint64(40, true));
    const shnum = dv.getUint16(60, true);
    const [infoOff] = sectionOf(bytes, '.fk.info');
    const [nsOff] = sectionOf(bytes, '.fk.namespaces');
    const [, locStartsSize] = sectionOf(bytes, '.fk.src_loc_starts');
    const [locStartsOff] = sectionOf(bytes, '.fk.src_loc_starts');
    const mutants: [string, Uint8Array][] = [];
    const variant = (what: string, f: (b: Uint8Array, v: DataView) => void) => {
      const b = bytes.slice();
      f(b, new DataView(b.buffer));
      mutants.push([what, b]);
    };
    // Truncations: every length through the headers, then a spread of longer ones.
    for (let n = 0; n < Math.min(bytes.length, infoOff + 200); n++) mutants.push([`truncate ${n}`, bytes.slice(0, n)]);
    for (let i = 0; i < 100; i++) {
      const n = int(r, 0, bytes.length - 1);
      mutants.push([`truncate ${n}`, bytes.slice(0, n)]);
    }
    // Every byte of the ELF header, the section table, the info header and module records,
    // the namespace tables: one random bit flipped, and set to 0xFF.
    const regions: [number, number][] = [
      [0, 64],
      [shoff, shoff + 64 * shnum],
      [infoOff, infoOff + 64 + 64 * model.modules.length],
      [nsOff, locStartsOff + locStartsSize],
    ];
    // (Heavy runs do both to every byte; others one of the two, alternating.)
    for (const [from, to] of regions)
      for (let at = from; at < to; at++) {
        const bit = int(r, 0, 7);
        if (HEAVY || at % 2 === 0) variant(`flip ${at}.${bit}`, (b) => (b[at]! ^= 1 << bit));
        if (HEAVY || at % 2 === 1) variant(`ff ${at}`, (b) => (b[at] = 0xff));
      }
    // Random damage anywhere.
    // (Light runs 60: the headers above are damaged byte by byte; this is the tables' share.)
    for (let i = 0; i < (HEAVY ? 500 : 60); i++) {
      const at = int(r, 0, bytes.length - 4);
      variant(`u32 ${at}`, (_b, v) =>
        v.setUint32(at, pick(r, [0, 1, 8, 0x7fffffff, 0xfffffffe, 0xffffffff, int(r, 0, 0xffffffff)]), true),
      );
    }
    let agreeErr = 0;
    let agreeOk = 0;
    for (const [what, b] of mutants) {
      const fj = fingerprint(b, 'js', q);
      const fn = fingerprint(b, 'native', q);
      if (fj !== fn) expect.fail(`${what}: js and native disagree:\n${fj.slice(0, 300)}\n---\n${fn.slice(0, 300)}`);
      if (fj.startsWith('open:')) agreeErr++;
      else agreeOk++;
    }
    // Both outcomes are exercised many times.
    expect(agreeErr).toBeGreaterThan(500);
    expect(agreeOk).toBeGreaterThan(200);
  });

  it('searches unsorted tables exactly as js does (the same probes in the same order)', () => {
    // Shuffled func_locs, sparse runs and sparse name records: open does not check their
    // order, and every search must still land where the normative loop lands.
    let disagreements = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const model = randomModel(seed * 131, { maxModules: 3, maxDefined: 300 });
      const bytes = buildModel(model, 'sparse').finish();
      const r = rng(seed);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const shuffleWords = (name: string, stride: number) => {
        const [off, size] = sectionOf(bytes, name);
        const n = size / (4 * stride);
        for (let i = n - 1; i > 0; i--) {
          if (r() < 0.5) continue;
          const j = int(r, 0, i);
          for (let w = 0; w < stride; w++) {
            const a = off + 4 * (stride * i + w);
            const b = off + 4 * (stride * j + w);
            const t = dv.getUint32(a, true);
            dv.setUint32(a, dv.getUint32(b, true), true);
            dv.setUint32(b, t, true);
          }
        }
      };
      shuffleWords('.fk.func_locs', 2);
      shuffleWords('.fk.sparse_indices', 1);
      shuffleWords('.fk.name_index', 3);
      const js = new JsCore(bytes);
      const nat = openNativeCore(bytes);
      try {
        compareCores(model, js, nat, rng(seed + 1));
      } catch (e) {
        if (!(e instanceof FunckeyError)) throw e;
        // A shuffled name index may put a name out of bounds: then both must say so.
        disagreements += model.modules.some(
          (_, m) =>
            codeOf(() =>
              js.funcNames(
                Uint32Array.from({ length: 400 }, (_, i) => i),
                m,
              ),
            ) !==
            codeOf(() =>
              nat.funcNames(
                Uint32Array.from({ length: 400 }, (_, i) => i),
                m,
              ),
            ),
        )
          ? 1
          : 0;
      }
      nat.close();
    }
    expect(disagreements).toBe(0);
  });

  it('reports the codes the format prescribes, from a path and from bytes', () => {
    const bytes = buildModel(randomModel(3)).finish();
    const [infoOff] = sectionOf(bytes, '.fk.info');
    const cases: [string, Uint8Array, string][] = [
      ['empty', new Uint8Array(0), 'E_FORMAT'],
      ['3 bytes of magic', bytes.slice(0, 3), 'E_FORMAT'],
      ['ELF header cut', bytes.slice(0, 63), 'E_TRUNCATED'],
      ['section table cut', bytes.slice(0, 64 + 10), 'E_TRUNCATED'],
    ];
    for (const v of [0, 1, 2, 3, 4, 6, 0xffffffff]) {
      const b = bytes.slice();
      new DataView(b.buffer).setUint32(infoOff + 8, v, true);
      cases.push([`version ${v}`, b, 'E_VERSION']);
    }
    const notElf = new TextEncoder().encode(
      '\0asm not an artifact at all, but long enough for a header....................',
    );
    cases.push(['not ELF', notElf, 'E_FORMAT']);
    for (const [what, b, code] of cases) {
      const path = join(dir, `c-${what.replace(/\W/g, '_')}.fkx`);
      writeFileSync(path, b);
      expect(
        codeOf(() => new JsCore(b)),
        `js ${what}`,
      ).toBe(code);
      expect(
        codeOf(() => openNativeCore(b)),
        `native bytes ${what}`,
      ).toBe(code);
      expect(
        codeOf(() => openNativeCore(path)),
        `native path ${what}`,
      ).toBe(code);
      expect(
        codeOf(() => open(path, { backend: 'js' })),
        `js path ${what}`,
      ).toBe(code);
    }
    // Errors are FunckeyErrors with a message, as js reports them.
    try {
      openNativeCore(bytes.slice(0, 63));
      expect.fail('opened a truncated file');
    } catch (e) {
      expect(e).toBeInstanceOf(FunckeyError);
      expect((e as FunckeyError).message).toMatch(/63 bytes/);
    }
  });

  it('maps I/O failures to E_IO', () => {
    const cases = [join(dir, 'does-not-exist.fkx'), dir, join(dir, 'no-such-dir', 'x.fkx'), `${dir}/a\0b`];
    for (const p of cases) {
      expect(
        codeOf(() => openNativeCore(p)),
        p,
      ).toBe('E_IO');
      expect(
        codeOf(() => open(p, { backend: 'native' })),
        p,
      ).toBe('E_IO');
      expect(
        codeOf(() => open(p, { backend: 'js' })),
        p,
      ).toBe('E_IO');
    }
    // A FIFO is refused at once rather than waited on (js would block reading it; not asked).
    if (process.platform !== 'win32') {
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      expect(codeOf(() => openNativeCore(fifo))).toBe('E_IO');
    }
    if (process.getuid?.() !== 0) {
      const p = join(dir, 'unreadable.fkx');
      writeFileSync(p, new Uint8Array(100), { mode: 0o000 });
      expect(codeOf(() => openNativeCore(p))).toBe('E_IO');
    }
  });

  it('throws E_CLOSED after close, through open() and when the core is called directly', () => {
    const bytes = buildModel(randomModel(11)).finish();
    const path = join(dir, 'closed.fkx');
    writeFileSync(path, bytes);
    for (const src of [path, bytes]) {
      const core = openNativeCore(src);
      const out = new Uint32Array(2);
      const one = new Uint32Array(1);
      core.close();
      core.close(); // harmless
      const calls: (() => unknown)[] = [
        () => core.funcLoc(0, 0, out),
        () => core.srcLoc(0, 0),
        () => core.funcByOffset(0, out),
        () => core.funcName(0, 0),
        () => core.funcLocs(one, one, one, one),
        () => core.funcsByOffset(one, one, one),
        () => core.funcNames(one, 0),
        () => core.describe(),
      ];
      for (const c of calls) expect(codeOf(c)).toBe('E_CLOSED');
      const a = open(src, { backend: 'native' });
      a.close();
      expect(a.closed).toBe(true);
      expect(codeOf(() => a.funcName(0))).toBe('E_CLOSED');
      expect(codeOf(() => a.funcLoc(FuncKey.definedWasmFunction(0, 0)))).toBe('E_CLOSED');
    }
  });

  it('keeps its own copy of bytes handed in: later changes to the caller buffer do not matter', () => {
    const model = randomModel(12);
    const bytes = buildModel(model).finish();
    const want = new JsCore(bytes.slice()).describe();
    const mine = bytes.slice();
    const a = open(mine, { backend: 'native' });
    const offs = Uint32Array.from(queryOffsets(model, rng(1)));
    const before = a.funcsByOffset(offs);
    mine.fill(0);
    structuredClone(mine.buffer, { transfer: [mine.buffer] }); // detaches the caller's buffer
    expect(mine.byteLength).toBe(0);
    expect(a.describe()).toStrictEqual(want);
    expect(a.funcsByOffset(offs)).toStrictEqual(before);
    a.close();
    // An unaligned view is read like an aligned one.
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const u = openNativeCore(shifted.subarray(3));
    expect(u.describe()).toStrictEqual(want);
    u.close();
  });

  it('checks the arguments of direct calls instead of trusting them', () => {
    const core = openNativeCore(buildModel(randomModel(13)).finish());
    const one = new Uint32Array(1);
    const two = new Uint32Array(2);
    expect(codeOf(() => core.funcName(0, 99))).toBe('E_RANGE');
    expect(codeOf(() => core.funcNames(one, 99))).toBe('E_RANGE');
    expect(codeOf(() => core.funcLocs(one, two, one, one))).toBe('E_ARG');
    expect(codeOf(() => core.funcsByOffset(one, one, new Int32Array(1) as unknown as Uint32Array))).toBe('E_ARG');
    expect(codeOf(() => core.funcNames([0] as unknown as Uint32Array, 0))).toBe('E_ARG');
    core.close();
  });
});

/**
 * The artifact with extra sections named by raw bytes: a new section name table and a new
 * section header table appended at the end (e_shoff and e_shnum updated), the old ones left
 * where they were. The new sections are empty and point at offset 0.
 */
function addSections(src: Uint8Array, names: number[][]): Uint8Array {
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const shoff = Number(dv.getBigUint64(40, true));
  const shnum = dv.getUint16(60, true);
  const strndx = dv.getUint16(62, true);
  const oldStrOff = Number(dv.getBigUint64(shoff + 64 * strndx + 24, true));
  const oldStrSize = Number(dv.getBigUint64(shoff + 64 * strndx + 32, true));
  const strtab = [...src.subarray(oldStrOff, oldStrOff + oldStrSize)];
  const nameOffs = names.map((n) => {
    const at = strtab.length;
    strtab.push(...n, 0);
    return at;
  });
  const pad = (n: number) => (n + 7) & ~7;
  const strAt = pad(src.length);
  const tableAt = pad(strAt + strtab.length);
  const count = shnum + names.length;
  const out = new Uint8Array(tableAt + 64 * count);
  out.set(src);
  out.set(strtab, strAt);
  out.set(src.subarray(shoff, shoff + 64 * shnum), tableAt);
  const ov = new DataView(out.buffer);
  ov.setBigUint64(40, BigInt(tableAt), true);
  ov.setUint16(60, count, true);
  ov.setBigUint64(tableAt + 64 * strndx + 24, BigInt(strAt), true);
  ov.setBigUint64(tableAt + 64 * strndx + 32, BigInt(strtab.length), true);
  names.forEach((_, i) => {
    const h = tableAt + 64 * (shnum + i);
    ov.setUint32(h, nameOffs[i]!, true);
    ov.setUint32(h + 4, 1, true);
  });
  return out;
}
