import { utf8 } from './cursor.js';

/**
 * Source-location rows: (function, file, line, column, parent), where function and file are
 * indices into string tables and parent is the row the frame is inlined into (-1: none).
 * get() stores each row once (a hash table over the five numbers finds an existing one);
 * append() stores one without looking (the innermost rows of pieces, which are rarely the
 * same twice).
 */
export class RowTable {
  /** Row r's fields at data[5r .. 5r + 5): function, file, line, column, parent. */
  private data = new Int32Array(5 * 256);
  count = 0;
  private slots = new Int32Array(1024).fill(-1);
  /** The rows get() stored, which the hash table holds. */
  private hashed: number[] = [];

  private static hash(fn: number, file: number, line: number, column: number, parent: number): number {
    let h = Math.imul(fn ^ 0x3c6ef372, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 15) ^ file, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ line, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 16) ^ column, 0x27d4eb2f);
    h = Math.imul(h ^ (h >>> 15) ^ parent, 0x165667b1);
    h = Math.imul(h ^ (h >>> 13), 0x85ebca6b);
    return (h ^ (h >>> 16)) >>> 0;
  }

  /** The row with these fields, added if new. Line is kept as its 32 bits (read back unsigned). */
  get(fn: number, file: number, line: number, column: number, parent: number): number {
    const slots = this.slots,
      d = this.data,
      mask = slots.length - 1;
    for (let i = RowTable.hash(fn, file, line | 0, column, parent) & mask; ; i = (i + 1) & mask) {
      const r = slots[i]!;
      if (r < 0) return this.add(i, fn, file, line, column, parent);
      const o = 5 * r;
      if (d[o] === fn && d[o + 1] === file && d[o + 2] === (line | 0) && d[o + 3] === column && d[o + 4] === parent)
        return r;
    }
  }

  private add(slot: number, fn: number, file: number, line: number, column: number, parent: number): number {
    const n = this.append(fn, file, line, column, parent);
    this.slots[slot] = n;
    this.hashed.push(n);
    if (this.hashed.length * 2 >= this.slots.length) this.grow();
    return n;
  }

  /** A new row with these fields (not looked for by get()). */
  append(fn: number, file: number, line: number, column: number, parent: number): number {
    const n = this.count++;
    if (5 * n + 5 > this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    const o = 5 * n,
      d = this.data;
    d[o] = fn;
    d[o + 1] = file;
    d[o + 2] = line | 0;
    d[o + 3] = column;
    d[o + 4] = parent;
    return n;
  }

  /** Whether row r has these fields. */
  is(r: number, fn: number, file: number, line: number, column: number, parent: number): boolean {
    const o = 5 * r,
      d = this.data;
    return d[o] === fn && d[o + 1] === file && d[o + 2] === (line | 0) && d[o + 3] === column && d[o + 4] === parent;
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1,
      d = this.data;
    for (const r of this.hashed) {
      const o = 5 * r;
      let i = RowTable.hash(d[o]!, d[o + 1]!, d[o + 2]!, d[o + 3]!, d[o + 4]!) & mask;
      while (slots[i]! >= 0) i = (i + 1) & mask;
      slots[i] = r;
    }
    this.slots = slots;
  }

  /** Field `k` (0 function, 1 file, 3 column, 4 parent) of every row. */
  field(k: number): Int32Array {
    const out = new Int32Array(this.count),
      d = this.data;
    for (let r = 0; r < this.count; r++) out[r] = d[5 * r + k]!;
    return out;
  }

  /** The line of every row (unsigned). */
  lines(): Uint32Array {
    return new Uint32Array(this.field(2).buffer);
  }
}

/** Strings each stored once, by index. */
export class StringTable {
  list: string[] = [];
  private index = new Map<string, number>();

  id(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}

/**
 * Strings given by their UTF-8 bytes, each stored once, by index, and decoded once. ASCII
 * bytes (most names) are found by their bytes, in a hash table, and decoded together at the
 * end; any other bytes are decoded on sight and found by their text (TextDecoder may make
 * equal texts of unequal bytes: replaced bytes, a dropped BOM). A text of ASCII characters is
 * always found among the ASCII bytes, so each text has one index.
 */
export class ByteStrings {
  /** Per index: where its bytes are (an ASCII string's), else its text. */
  private readonly src: (Uint8Array | undefined)[] = [];
  private readonly start: number[] = [];
  private readonly end: number[] = [];
  private readonly hashes: number[] = [];
  private readonly texts: (string | undefined)[] = [];
  /** Indices of the ASCII strings by hash, open addressing (-1: free). */
  private slots = new Int32Array(1024).fill(-1);
  private asciiCount = 0;
  private readonly byText = new Map<string, number>();

  /** The index of the string of bytes[start, end). */
  id(bytes: Uint8Array, start: number, end: number): number {
    let h = 0x811c9dc5,
      high = 0;
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      high |= b;
      h = Math.imul(h ^ b, 0x01000193);
    }
    return high < 0x80 ? this.asciiId(h >>> 0, bytes, start, end) : this.textId(utf8(bytes.subarray(start, end)));
  }

  /** The index of a text. */
  private textId(text: string): number {
    if (/^[\0-\x7f]*$/.test(text)) {
      const codes = Uint8Array.from(text, (ch) => ch.charCodeAt(0));
      let h = 0x811c9dc5;
      for (const b of codes) h = Math.imul(h ^ b, 0x01000193);
      return this.asciiId(h >>> 0, codes, 0, codes.length);
    }
    let i = this.byText.get(text);
    if (i === undefined) {
      this.byText.set(text, (i = this.add(undefined, 0, 0, 0, text)));
    }
    return i;
  }

  private asciiId(h: number, bytes: Uint8Array, start: number, end: number): number {
    const slots = this.slots,
      mask = slots.length - 1;
    for (let k = h & mask; ; k = (k + 1) & mask) {
      const i = slots[k]!;
      if (i < 0) {
        slots[k] = this.add(bytes, start, end, h, undefined);
        if (++this.asciiCount * 2 >= slots.length) this.grow();
        return slots[k]!;
      }
      if (this.hashes[i] === h && this.same(i, bytes, start, end)) return i;
    }
  }

  private same(i: number, bytes: Uint8Array, start: number, end: number): boolean {
    const s = this.src[i]!,
      at = this.start[i]!;
    if (this.end[i]! - at !== end - start) return false;
    for (let k = 0; k < end - start; k++) if (s[at + k] !== bytes[start + k]) return false;
    return true;
  }

  private add(bytes: Uint8Array | undefined, start: number, end: number, h: number, text: string | undefined): number {
    this.src.push(bytes);
    this.start.push(start);
    this.end.push(end);
    this.hashes.push(h);
    return this.texts.push(text) - 1;
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let i = 0; i < this.src.length; i++) {
      if (this.src[i] === undefined) continue;
      let k = this.hashes[i]! & mask;
      while (slots[k]! >= 0) k = (k + 1) & mask;
      slots[k] = i;
    }
    this.slots = slots;
  }

  /** The strings by index: the ASCII ones not yet decoded are copied into one buffer, decoded at once and cut. */
  list(): string[] {
    let total = 0;
    for (let i = 0; i < this.texts.length; i++) if (this.texts[i] === undefined) total += this.end[i]! - this.start[i]!;
    const all = new Uint8Array(total);
    let n = 0;
    for (let i = 0; i < this.texts.length; i++) {
      if (this.texts[i] !== undefined) continue;
      const src = this.src[i]!;
      for (let k = this.start[i]!; k < this.end[i]!; k++) all[n++] = src[k]!;
    }
    const text = utf8(all);
    n = 0;
    for (let i = 0; i < this.texts.length; i++) {
      if (this.texts[i] !== undefined) continue;
      const len = this.end[i]! - this.start[i]!;
      this.texts[i] = text.slice(n, n + len);
      n += len;
    }
    return this.texts as string[];
  }
}

/** A map from numbers (integers below 2^53) to indices >= 0: open addressing over typed arrays. */
export class NumberIndex {
  private keys = new Float64Array(1024);
  private values = new Int32Array(1024).fill(-1);
  private size = 0;

  private static slot(key: number, mask: number): number {
    const h = Math.imul((key | 0) ^ ((key / 0x100000000) | 0), 0x9e3779b1);
    return (h ^ (h >>> 15)) & mask;
  }

  /** The index stored for `key`, or -1. */
  get(key: number): number {
    const mask = this.keys.length - 1;
    for (let k = NumberIndex.slot(key, mask); ; k = (k + 1) & mask) {
      const v = this.values[k]!;
      if (v < 0 || this.keys[k] === key) return v;
    }
  }

  /** Stores `value` (>= 0) for `key`, which has none. */
  set(key: number, value: number): void {
    if (2 * (this.size + 1) >= this.keys.length) this.grow();
    this.put(key, value);
    this.size++;
  }

  private put(key: number, value: number): void {
    const mask = this.keys.length - 1;
    let k = NumberIndex.slot(key, mask);
    while (this.values[k]! >= 0) k = (k + 1) & mask;
    this.keys[k] = key;
    this.values[k] = value;
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Float64Array(2 * keys.length);
    this.values = new Int32Array(2 * keys.length).fill(-1);
    for (let k = 0; k < keys.length; k++) if (values[k]! >= 0) this.put(keys[k]!, values[k]!);
  }
}
