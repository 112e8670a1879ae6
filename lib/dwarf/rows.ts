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
