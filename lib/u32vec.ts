/** A growable array of u32 values backed by a Uint32Array (the builder's storage). */
export class U32Vec {
  data: Uint32Array;
  length = 0;

  constructor(capacity = 16) {
    this.data = new Uint32Array(Math.max(4, capacity));
  }

  push(v: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = v;
  }

  push2(a: number, b: number): void {
    if (this.length + 2 > this.data.length) this.grow(this.length + 2);
    this.data[this.length++] = a;
    this.data[this.length++] = b;
  }

  /** Appends `count` copies of the pair (a, b). */
  fill2(a: number, b: number, count: number): void {
    if (this.length + 2 * count > this.data.length) this.grow(this.length + 2 * count);
    for (let i = 0; i < count; i++) {
      this.data[this.length++] = a;
      this.data[this.length++] = b;
    }
  }

  fill(v: number, count: number): void {
    if (this.length + count > this.data.length) this.grow(this.length + count);
    this.data.fill(v, this.length, this.length + count);
    this.length += count;
  }

  /** Makes room for `count` more values, so that the pushes after it cannot fail. */
  reserve(count: number): void {
    if (this.length + count > this.data.length) this.grow(this.length + count);
  }

  view(): Uint32Array {
    return this.data.subarray(0, this.length);
  }

  private grow(min: number): void {
    let cap = this.data.length * 2;
    while (cap < min) cap *= 2;
    const next = new Uint32Array(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}
