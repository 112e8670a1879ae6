/**
 * Mutations of artifact files and a fingerprint of everything a reader answers about one,
 * for the mutation tests: every mutant must open and answer, or throw a FunckeyError, and
 * every backend must do the same thing.
 */
import { FunckeyError, FuncKey, open, type BackendName } from '../lib/index.js';
import { int, pick, type Rand } from './gen.js';

const SPECIAL = [0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0xfffe, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

export type MutationKind = 'flip' | 'byte' | 'u32' | 'u64' | 'truncate' | 'extend' | 'zero' | 'swap-headers' | 'swap-ranges' | 'dup-range';
export const MUTATIONS: MutationKind[] = ['flip', 'byte', 'u32', 'u64', 'truncate', 'extend', 'zero', 'swap-headers', 'swap-ranges', 'dup-range'];

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
      v().setBigUint64(at, pick(r, [0n, 1n, 1n << 32n, 1n << 63n, 0xffffffffffffffffn, BigInt(len), BigInt(len - 1)]), true);
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
      out.push(JSON.stringify(x, (_k, val) => (val instanceof Uint32Array ? Array.from(val) : val === undefined ? null : val)));
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
