/**
 * Where a symbolicated block goes: the edits of lib/symbolicate.ts applied, in order, to the
 * block's text. `StrOut` joins pieces of a string (any string); `ByteOut` writes bytes into
 * one growing buffer, copying the unchanged text from the block's bytes, with no object per
 * edit: a stream's blocks (Latin-1 in, the same bytes out) and a string that is all ASCII
 * (its UTF-8 bytes are its characters).
 */

/** What a V8 frame `at URL:…` gets before its URL (`NAME (`), as a string and as bytes. */
export interface Opening {
  /** The string, as the block's text holds strings (see Codec in lib/symbolicate.ts). */
  v8open: string | undefined;
  /** Its bytes, in the encoding of the ByteOut that wrote it first (one per Symbolicator). */
  v8openBytes: Uint8Array | undefined;
}

/** The edits of one text, in order of position, none overlapping. */
export interface Edits {
  /** The text [start, end) becomes `text`. */
  replace(start: number, end: number, text: string): void;
  /** `n.v8open` goes in at `at` and `)` at `end` (a V8 frame given its name). */
  wrap(at: number, end: number, n: Opening): void;
}

/**
 * Pieces of the output string, joined a few hundred at a time: the pieces then die young,
 * rather than all surviving, and being copied by the collector, until the end.
 */
export class StrOut implements Edits {
  #pieces: string[] = [];
  #blocks: string[] = [];
  #last = 0;
  #edited = false;

  constructor(readonly s: string) {}

  #add(a: string, b: string): void {
    const p = this.#pieces;
    p.push(a, b);
    if (p.length >= 512) {
      this.#blocks.push(p.join(''));
      this.#pieces = [];
    }
  }

  replace(start: number, end: number, text: string): void {
    this.#add(this.s.slice(this.#last, start), text);
    this.#last = end;
    this.#edited = true;
  }

  wrap(at: number, end: number, n: Opening): void {
    this.#add(this.s.slice(this.#last, at), n.v8open!);
    this.#add(this.s.slice(at, end), ')');
    this.#last = end;
    this.#edited = true;
  }

  /** The text edited (the text itself when there was no edit). */
  result(): string {
    if (!this.#edited) return this.s;
    this.#add(this.s.slice(this.#last), '');
    this.#blocks.push(this.#pieces.join(''));
    return this.#blocks.length === 1 ? this.#blocks[0]! : this.#blocks.join('');
  }
}

/**
 * The output as bytes, in buf[at, at + len) after the input's `size` bytes in buf[0, size):
 * a run of the input is copied within the one buffer (copyWithin), which allocates nothing.
 * `fill` writes the input there, the first time an edit needs it. The strings of `replace`
 * and Opening.v8open are written in `enc` ('latin1' for strings of bytes, 'utf8' for JS
 * strings). `scratch` is used for buf when it is large enough. (Plain fields rather than
 * #private ones: V8 runs this hot path markedly slower with them.)
 */
export class ByteOut implements Edits {
  buf: Buffer = EMPTY;
  /** Where the output starts in buf. */
  readonly at: number;
  len = 0;
  /** No byte written but the input's and ASCII. */
  ascii = true;
  edited = false;
  /** The end of the last edit in the input. */
  private last = 0;

  constructor(
    readonly size: number,
    readonly enc: 'latin1' | 'utf8',
    private readonly fill: (buf: Buffer) => void,
    private readonly scratch?: Buffer,
  ) {
    this.at = size;
  }

  /** The output, a view of buf. */
  get output(): Buffer {
    return this.buf.subarray(this.at, this.at + this.len);
  }

  /** Makes buf hold `need` bytes: the first time, with the input in its head. */
  private grow(need: number): void {
    if (!this.edited) {
      const size = Math.max(need, this.size * 2 + (this.size >>> 2) + 4096);
      this.buf = this.scratch !== undefined && this.scratch.length >= size ? this.scratch : Buffer.allocUnsafe(size);
      this.fill(this.buf);
      this.edited = true;
      return;
    }
    const next = Buffer.allocUnsafe(Math.max(need, 2 * this.buf.length));
    next.set(this.buf.subarray(0, this.at + this.len));
    this.buf = next;
  }

  replace(start: number, end: number, text: string): void {
    const last = this.last;
    const need = this.at + this.len + start - last + text.length * 3;
    if (need > this.buf.length) this.grow(need);
    const buf = this.buf;
    const o = this.at + this.len;
    buf.copyWithin(o, last, start);
    const n = buf.write(text, o + start - last, this.enc);
    if (n !== text.length) this.ascii = false;
    this.len += start - last + n;
    this.last = end;
  }

  wrap(at: number, end: number, n: Opening): void {
    let b = n.v8openBytes;
    if (b === undefined) b = n.v8openBytes = Buffer.from(n.v8open!, this.enc);
    const last = this.last;
    const need = this.at + this.len + end - last + b.length + 1;
    if (need > this.buf.length) this.grow(need);
    if (b.length !== n.v8open!.length) this.ascii = false;
    const buf = this.buf;
    let o = this.at + this.len;
    buf.copyWithin(o, last, at);
    o += at - last;
    buf.set(b, o);
    o += b.length;
    buf.copyWithin(o, at, end);
    o += end - at;
    buf[o++] = 41; // ')'
    this.len = o - this.at;
    this.last = end;
  }

  /** Copies the rest of the input. */
  finish(): void {
    if (!this.edited) return;
    const need = this.at + this.len + this.size - this.last;
    if (need > this.buf.length) this.grow(need);
    this.buf.copyWithin(this.at + this.len, this.last, this.size);
    this.len += this.size - this.last;
    this.last = this.size;
  }
}

const EMPTY = Buffer.alloc(0);
