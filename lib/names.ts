/**
 * Names (FORMAT.md 4, and funcName in 5): a module's name index, dense or sparse, gives the
 * bytes of a name in `.fk.names`, decoded as UTF-8 (invalid sequences become U+FFFD).
 * Mirrored by native/names.cc.
 */
import { Lit, MAX_NAME_BYTES, MODREC, NAME_ENCODING_DENSE, NAME_ENCODING_SPARSE } from './format.js';
import type { FileImage } from './file.js';
import { fail, moduleWord, utf8, type Tables } from './open.js';

/** The name of function funcIndex of module (below the module count), or undefined. */
export function funcName(t: Tables, funcIndex: number, module: number): string | undefined {
  const r = moduleWord(module);
  const info = t.info;
  const enc = info[r + MODREC.nameEncoding / 4]!;
  const start = info[r + MODREC.nameIndexStart / 4]!;
  const count = info[r + MODREC.nameCount / 4]!;
  const w = t.nameIndex;
  let slot: number;
  if (enc === NAME_ENCODING_DENSE) {
    if (funcIndex >= count) return undefined;
    slot = start + 2 * funcIndex;
  } else if (enc === NAME_ENCODING_SPARSE) {
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = lo + ((hi - lo) >>> 1);
      if (w[start + 3 * mid]! < funcIndex) lo = mid + 1;
      else hi = mid;
    }
    if (lo === count || w[start + 3 * lo] !== funcIndex) return undefined;
    slot = start + 3 * lo + 1;
  } else {
    return undefined;
  }
  const off = w[slot]!;
  if (off === Lit.NONE) return undefined;
  const len = w[slot + 1]!;
  if (off > t.B || len > t.B - off) fail('E_CORRUPT', `the name of function ${funcIndex} lies outside .fk.names`);
  if (len > MAX_NAME_BYTES)
    fail('E_CORRUPT', `the name of function ${funcIndex} has ${len} bytes, more than any name has (${MAX_NAME_BYTES})`);
  return decodeName(t, off, len);
}

/** The len bytes at off in `.fk.names` (checked to lie within it), decoded. */
export function decodeName(t: Tables, off: number, len: number): string {
  if (t.nameFile !== undefined) {
    const s = t.nameFile.decode(t, off, len);
    if (s !== undefined) return s;
  }
  if (t.namesBuf !== undefined) return t.namesBuf.utf8Slice(off, off + len);
  return utf8.decode(t.names.subarray(off, off + len));
}

const NodeBuffer: typeof Buffer | undefined = (globalThis as { Buffer?: typeof Buffer }).Buffer;

/**
 * The names of a file read in parts (FileImage): each name is read alone into a scratch
 * buffer, so that a few lookups cost no more memory than their names, until the bytes so read
 * (plus 64 per read, for the system call) reach an eighth of `.fk.names`: then the section is
 * read whole into the image and names are decoded in place, as from bytes.
 */
export class NameFile {
  #scratch = new Uint8Array(256);
  #cost = 0;
  constructor(
    readonly image: FileImage,
    /** File offset of `.fk.names`. */
    readonly at: number,
  ) {}

  /** The name at off, len; undefined once the section is read whole (t.nameFile is then cleared). */
  decode(t: Tables, off: number, len: number): string | undefined {
    this.#cost += len + 64;
    if (this.#cost > t.B / 8 || this.image.complete) {
      this.image.read(this.at, t.B);
      t.nameFile = undefined;
      return undefined;
    }
    if (this.#scratch.length < len) this.#scratch = new Uint8Array(Math.max(len, 2 * this.#scratch.length));
    const b = this.#scratch;
    this.image.read(this.at + off, len, b);
    return NodeBuffer
      ? NodeBuffer.from(b.buffer, b.byteOffset, len).utf8Slice(0, len)
      : utf8.decode(b.subarray(0, len));
  }
}

declare global {
  interface Buffer {
    utf8Slice(start: number, end: number): string;
  }
}
