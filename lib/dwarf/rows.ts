/**
 * Source-location rows, each stored once: (function, file, line, column, parent), where
 * function and file are indices into string tables and parent is the row the frame is
 * inlined into (-1: none). A hash table over the five numbers finds an existing row.
 */
export class RowTable {
  fn: number[] = [];
  file: number[] = [];
  line: number[] = [];
  column: number[] = [];
  parent: number[] = [];
  private slots = new Int32Array(1024).fill(-1);

  private static hash(fn: number, file: number, line: number, column: number, parent: number): number {
    let h = Math.imul(fn, 0x9e3779b1) ^ Math.imul(file + 1, 0x85ebca77);
    h = Math.imul(h ^ line, 0xc2b2ae3d) ^ Math.imul(column + 7, 0x27d4eb2f);
    h = Math.imul(h ^ (parent + 1), 0x165667b1);
    return (h ^ (h >>> 15)) >>> 0;
  }

  /** The row with these fields, added if new. */
  get(fn: number, file: number, line: number, column: number, parent: number): number {
    const mask = this.slots.length - 1;
    for (let i = RowTable.hash(fn, file, line, column, parent) & mask; ; i = (i + 1) & mask) {
      const r = this.slots[i]!;
      if (r < 0) {
        const n = this.fn.length;
        this.fn.push(fn);
        this.file.push(file);
        this.line.push(line);
        this.column.push(column);
        this.parent.push(parent);
        this.slots[i] = n;
        if (n * 2 >= this.slots.length) this.grow();
        return n;
      }
      if (this.fn[r] === fn && this.file[r] === file && this.line[r] === line && this.column[r] === column && this.parent[r] === parent) return r;
    }
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let r = 0; r < this.fn.length; r++) {
      let i = RowTable.hash(this.fn[r]!, this.file[r]!, this.line[r]!, this.column[r]!, this.parent[r]!) & mask;
      while (slots[i]! >= 0) i = (i + 1) & mask;
      slots[i] = r;
    }
    this.slots = slots;
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
