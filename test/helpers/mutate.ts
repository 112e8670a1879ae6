/**
 * Mutations of artifact files and a fingerprint of everything a reader answers about one,
 * for the mutation tests: every mutant must open and answer, or throw a FunckeyError, and
 * every backend must do the same thing.
 */
import { FunckeyError, FuncKey, open, type BackendName } from '../../lib/index.js';
import { int, pick, type Rand } from './gen.js';

const SPECIAL = [0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0xfffe, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

export type MutationKind =
  'flip' | 'byte' | 'u32' | 'u64' | 'truncate' | 'extend' | 'zero' | 'swap-headers' | 'swap-ranges' | 'dup-range';
export const MUTATIONS: MutationKind[] = [
  'flip',
  'byte',
  'u32',
  'u64',
  'truncate',
  'extend',
  'zero',
  'swap-headers',
  'swap-ranges',
  'dup-range',
];

/** Where to aim: anywhere, or in the headers, where a change matters most. */
function target(r: Rand, len: number, headerEnd: number): number {
  return r() < 0.6 ? int(r, 0, Math.max(0, Math.min(len, headerEnd) - 1)) : int(r, 0, len - 1);
}

export function mutate(src: Uint8Array, r: Rand, kind: MutationKind = pick(r, MUTATIONS)): Uint8Array {
  const len = src.length;
  const v0 = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const shnum = len >= 64 ? v0.getUint16(60, true) : 0;
  const headerEnd = 64 + 64 * shnum + 256; // ELF header, section table, .shstrtab and the start of .fk.info
  let b = src.slice();
  const v = () => new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (kind) {
    case 'flip': {
      const n = int(r, 1, 4);
      for (let i = 0; i < n; i++) b[target(r, len, headerEnd)]! ^= 1 << int(r, 0, 7);
      break;
    }
    case 'byte':
      b[target(r, len, headerEnd)] = int(r, 0, 255);
      break;
    case 'u32': {
      const at = target(r, len - 4, headerEnd) & ~3;
      v().setUint32(at, pick(r, SPECIAL) >>> 0, true);
      break;
    }
    case 'u64': {
      const at = target(r, len - 8, headerEnd) & ~7;
      v().setBigUint64(
        at,
        pick(r, [0n, 1n, 1n << 32n, 1n << 63n, 0xffffffffffffffffn, BigInt(len), BigInt(len - 1)]),
        true,
      );
      break;
    }
    case 'truncate':
      b = b.slice(0, int(r, 0, len - 1));
      break;
    case 'extend': {
      const extra = new Uint8Array(int(r, 1, 256));
      for (let i = 0; i < extra.length; i++) extra[i] = int(r, 0, 255);
      const out = new Uint8Array(len + extra.length);
      out.set(b);
      out.set(extra, len);
      b = out;
      break;
    }
    case 'zero': {
      const at = int(r, 0, len - 1);
      b.fill(0, at, Math.min(len, at + int(r, 1, 64)));
      break;
    }
    case 'swap-headers': {
      if (shnum < 3) break;
      const i = int(r, 1, shnum - 1);
      const j = int(r, 1, shnum - 1);
      const hi = 64 + 64 * i;
      const hj = 64 + 64 * j;
      if (hj + 64 > len || hi + 64 > len) break;
      const t = b.slice(hi, hi + 64);
      b.copyWithin(hi, hj, hj + 64);
      b.set(t, hj);
      break;
    }
    case 'swap-ranges': {
      const n = int(r, 4, 64);
      if (len < 2 * n) break;
      const i = int(r, 0, len - n) & ~3;
      const j = int(r, 0, len - n) & ~3;
      const t = b.slice(i, i + n);
      b.copyWithin(i, j, j + n);
      b.set(t, j);
      break;
    }
    case 'dup-range': {
      const n = int(r, 4, 128);
      if (len < n) break;
      const i = int(r, 0, len - n);
      const j = int(r, 0, len - n);
      b.copyWithin(j, i, i + n);
      break;
    }
  }
  return b;
}

export interface Queries {
  keys: [number, number][];
  offsets: number[];
  funcIndices: number[];
  modules: number;
}

/**
 * Everything a reader says about `bytes` for the given queries, as one string: the error code
 * of open, or describe() and every answer (or error code) of every lookup, single and batch.
 * Anything thrown that is not a FunckeyError propagates and fails the test.
 */
export function fingerprint(bytes: Uint8Array, backend: BackendName, q: Queries): string {
  let a;
  try {
    a = open(bytes, { backend });
  } catch (e) {
    if (e instanceof FunckeyError) return `open:${e.code}`;
    throw e;
  }
  const out: string[] = [];
  const attempt = (f: () => unknown) => {
    try {
      const x = f();
      out.push(
        JSON.stringify(x, (_k, val) => (val instanceof Uint32Array ? Array.from(val) : val === undefined ? null : val)),
      );
    } catch (e) {
      if (!(e instanceof FunckeyError)) throw e;
      out.push(`err:${e.code}`);
    }
  };
  attempt(() => a.describe());
  const validKeys: FuncKey[] = [];
  for (const [ns, i] of q.keys) {
    try {
      validKeys.push(FuncKey.fromRaw(ns, i));
    } catch {
      /* not a key */
    }
  }
  for (const k of validKeys) {
    attempt(() => a.funcLoc(k));
    attempt(() => a.srcLoc(k));
  }
  attempt(() => a.funcLocs(new Uint32Array(q.keys.map((k) => k[0])), new Uint32Array(q.keys.map((k) => k[1]))));
  for (const off of q.offsets) attempt(() => a.funcByOffset(off)?.toString());
  attempt(() => a.funcsByOffset(new Uint32Array(q.offsets)));
  for (let m = 0; m < q.modules; m++) {
    for (const fi of q.funcIndices) attempt(() => a.funcName(fi, m));
    attempt(() => a.funcNames(new Uint32Array(q.funcIndices), m));
  }
  a.close();
  return out.join('\n');
}

/** The sections of an artifact as its section table says, unchecked: [name, offset, size]. */
export function artifactSections(bytes: Uint8Array): { name: string; header: number; offset: number; size: number }[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(v.getBigUint64(40, true));
  const shnum = v.getUint16(60, true);
  const str = Number(v.getBigUint64(shoff + 64 * v.getUint16(62, true) + 24, true));
  const out = [];
  for (let i = 1; i < shnum; i++) {
    const h = shoff + 64 * i;
    let e = str + v.getUint32(h, true);
    let name = '';
    while (bytes[e] !== 0) name += String.fromCharCode(bytes[e++]!);
    out.push({
      name,
      header: h,
      offset: Number(v.getBigUint64(h + 24, true)),
      size: Number(v.getBigUint64(h + 32, true)),
    });
  }
  return out;
}

export type TableMutationKind =
  'table-word' | 'table-edge' | 'info-field' | 'module-record' | 'section-bounds' | 'name-index';
export const TABLE_MUTATIONS: TableMutationKind[] = [
  'table-word',
  'table-edge',
  'info-field',
  'module-record',
  'section-bounds',
  'name-index',
];

/**
 * Mutations aimed at what open validates and lookups index with, for artifacts too large for
 * random positions to hit them: a word of a table section (anywhere, or at either end of it),
 * a field of the info header or of a module record, a section's offset or size moved by a
 * little, a word of the name index. `src` must be a well-formed artifact.
 */
export function mutateTables(src: Uint8Array, r: Rand, kind: TableMutationKind = pick(r, TABLE_MUTATIONS)): Uint8Array {
  const b = src.slice();
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const secs = artifactSections(src).filter((s) => s.name.startsWith('.fk.'));
  const sec = (name: string) => secs.find((s) => s.name === name)!;
  const value = (old: number) =>
    pick(r, [...SPECIAL, old + 1, old - 1, old * 2, old >>> 1, int(r, 0, 0xffffffff), old ^ (1 << int(r, 0, 31))]) >>>
    0;
  const setWord = (at: number) => {
    if (at >= 0 && at + 4 <= b.length) v.setUint32(at, value(v.getUint32(at, true)), true);
  };
  switch (kind) {
    case 'table-word': {
      const s = pick(
        r,
        secs.filter((x) => x.size >= 4 && x.name !== '.fk.names'),
      );
      if (s) setWord(s.offset + 4 * int(r, 0, s.size / 4 - 1));
      break;
    }
    case 'table-edge': {
      const s = pick(
        r,
        secs.filter((x) => x.size >= 4 && x.name !== '.fk.names'),
      );
      if (s)
        setWord(
          r() < 0.5
            ? s.offset + 4 * int(r, 0, Math.min(3, s.size / 4 - 1))
            : s.offset + s.size - 4 * int(r, 1, Math.min(4, s.size / 4)),
        );
      break;
    }
    case 'info-field':
      setWord(sec('.fk.info').offset + 4 * int(r, 2, 12));
      break;
    case 'module-record': {
      const info = sec('.fk.info');
      const m = v.getUint32(info.offset + 16, true);
      if (m > 0) setWord(info.offset + 64 + 64 * int(r, 0, Math.min(m, 4) - 1) + 4 * int(r, 0, 7));
      break;
    }
    case 'section-bounds': {
      const s = pick(r, secs);
      const field = s.header + (r() < 0.5 ? 24 : 32);
      const old = v.getBigUint64(field, true);
      const delta = BigInt(pick(r, [1, 4, 8, 64, 4096]));
      const nv = pick(r, [
        old + delta,
        old > delta ? old - delta : 0n,
        0n,
        BigInt(src.length),
        0xffffffffffffffffn,
        old << 1n,
      ]);
      v.setBigUint64(field, nv & 0xffffffffffffffffn, true);
      break;
    }
    case 'name-index': {
      const s = sec('.fk.name_index');
      if (s.size >= 4) setWord(s.offset + 4 * int(r, 0, s.size / 4 - 1));
      break;
    }
  }
  return b;
}

/** Unsigned LEB128 of a u32. */
function uleb(n: number): number[] {
  const out: number[] = [];
  let x = n >>> 0;
  do {
    let byte = x & 0x7f;
    x >>>= 7;
    if (x !== 0) byte |= 0x80;
    out.push(byte);
  } while (x !== 0);
  return out;
}

/** Reads an unsigned LEB128 at `pos` (at most 5 bytes, unchecked): [value, length]. */
function readUleb(b: Uint8Array, pos: number): [number, number] {
  let v = 0;
  for (let i = 0; i < 5 && pos + i < b.length; i++) {
    v += (b[pos + i]! & 0x7f) * 2 ** (7 * i);
    if (b[pos + i]! < 0x80) return [v, i + 1];
  }
  return [v, 5];
}

/** Where a core module's LEB128s that frame things are: each section's size and first count, and code body sizes. */
export function wasmLebs(b: Uint8Array, maxBodies = 200): { sectionStarts: number[]; lebs: number[] } {
  const sectionStarts: number[] = [];
  const lebs: number[] = [];
  let pos = 8;
  while (pos < b.length) {
    sectionStarts.push(pos);
    const id = b[pos]!;
    const [size, n] = readUleb(b, pos + 1);
    lebs.push(pos + 1);
    const content = pos + 1 + n;
    if (content < b.length) lebs.push(content);
    if (id === 10) {
      const [count, cn] = readUleb(b, content);
      let p = content + cn;
      for (let i = 0; i < Math.min(count, maxBodies) && p < content + size; i++) {
        lebs.push(p);
        const [bs, bn] = readUleb(b, p);
        p += bn + bs;
      }
    }
    if (id === 0) {
      // A custom section's name length, and for `name`, its first subsection's size.
      const [nl, nn] = readUleb(b, content);
      const sub = content + nn + nl;
      if (sub + 1 < content + size) lebs.push(sub + 1);
    }
    pos = content + size;
  }
  return { sectionStarts, lebs };
}

export type WasmMutationKind =
  | 'truncate'
  | 'truncate-at-section'
  | 'flip'
  | 'flip-header'
  | 'section-id'
  | 'leb-unterminated'
  | 'leb-huge'
  | 'leb-overlong'
  | 'leb-off-by-one'
  | 'leb-padded'
  | 'leb-zero';
export const WASM_MUTATIONS: WasmMutationKind[] = [
  'truncate',
  'truncate-at-section',
  'flip',
  'flip-header',
  'section-id',
  'leb-unterminated',
  'leb-huge',
  'leb-overlong',
  'leb-off-by-one',
  'leb-padded',
  'leb-zero',
];

/**
 * Damage to a core module: truncations (anywhere, or near a section boundary), bit flips
 * (anywhere, or in a section header), a section id changed, and LEB128 damage at the LEBs
 * that frame sections, counts and code bodies: unterminated, 2^32 - 1, more than 32 bits,
 * one more or one less, padded to 5 bytes (still valid), zero.
 */
export function mutateWasm(
  src: Uint8Array,
  layout: ReturnType<typeof wasmLebs>,
  r: Rand,
  kind: WasmMutationKind = pick(r, WASM_MUTATIONS),
): Uint8Array {
  const len = src.length;
  const splice = (at: number, remove: number, insert: number[]) => {
    const out = new Uint8Array(len - remove + insert.length);
    out.set(src.subarray(0, at));
    out.set(insert, at);
    out.set(src.subarray(at + remove), at + insert.length);
    return out;
  };
  const leb = pick(r, layout.lebs);
  const [old, n] = readUleb(src, leb);
  switch (kind) {
    case 'truncate':
      return src.slice(0, int(r, 0, len - 1));
    case 'truncate-at-section': {
      const s = pick(r, layout.sectionStarts);
      return src.slice(0, Math.max(0, Math.min(len - 1, s + int(r, -2, 6))));
    }
    case 'flip': {
      const b = src.slice();
      for (let i = int(r, 1, 4); i > 0; i--) b[int(r, 0, len - 1)]! ^= 1 << int(r, 0, 7);
      return b;
    }
    case 'flip-header': {
      const b = src.slice();
      const at = pick(r, layout.sectionStarts) + int(r, 0, 5);
      if (at < len) b[at]! ^= 1 << int(r, 0, 7);
      return b;
    }
    case 'section-id': {
      const b = src.slice();
      b[pick(r, layout.sectionStarts)] = pick(r, [0, 1, 2, 3, 10, 11, 12, 13, 14, 0x7f, 0x80, 0xff]);
      return b;
    }
    case 'leb-unterminated':
      return splice(leb, n, new Array<number>(int(r, 5, 8)).fill(0x80 | int(r, 0, 0x7f)));
    case 'leb-huge':
      return splice(leb, n, [0xff, 0xff, 0xff, 0xff, 0x0f]);
    case 'leb-overlong':
      return splice(
        leb,
        n,
        pick(r, [
          [0xff, 0xff, 0xff, 0xff, 0x7f],
          [0x80, 0x80, 0x80, 0x80, 0x10],
          [0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        ]),
      );
    case 'leb-off-by-one':
      return splice(leb, n, uleb(r() < 0.5 ? old + 1 : Math.max(0, old - 1)));
    case 'leb-padded': {
      const bytes = uleb(old);
      while (bytes.length < 5) {
        bytes[bytes.length - 1]! |= 0x80;
        bytes.push(0);
      }
      return splice(leb, n, bytes);
    }
    case 'leb-zero':
      return splice(leb, n, [0]);
  }
}
