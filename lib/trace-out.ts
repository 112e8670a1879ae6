/**
 * Where a symbolicated block goes: the edits of lib/symbolicate.ts applied, in order, to the
 * block's text. `StrOut` joins pieces of a string (any string); `ByteOut` writes bytes into
 * one growing buffer, copying the unchanged text from the block's bytes, with no object per
 * edit: a stream's blocks (Latin-1 in, the same bytes out) and a string that is all ASCII
 * (its UTF-8 bytes are its characters).
 */

/** What a V8 frame `at URL:…` gets before its URL (`NAME (`). */
export interface Opening {
  /** The string, as the block's text holds strings (see Codec in lib/symbolicate.ts). */
  v8open: string | undefined;
  /** Whether v8open is all Latin-1 (TextOut), once known. */
  latin1: boolean | undefined;
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
  #pieces: string[];
  #blocks: string[] = [];
  #last: number;
  #edited: boolean;

  /** The edits of s; with `prefix`, s[0, last) was already edited into it. */
  constructor(
    readonly s: string,
    last = 0,
    prefix?: string,
  ) {
    this.#last = last;
    this.#pieces = prefix === undefined ? [] : [prefix];
    this.#edited = prefix !== undefined;
  }

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
 * `fill` writes the input there, the first time an edit needs it. Strings are written as
 * Latin-1 (a character a byte: strings of bytes, or JS strings all Latin-1). `scratch` is
 * used for buf when it is large enough. (Plain fields rather than #private ones: V8 runs
 * this hot path markedly slower with them.)
 */
export class ByteOut implements Edits {
  buf: Buffer = EMPTY;
  /** Where the output starts in buf. */
  readonly at: number;
  len = 0;
  edited = false;
  /** The end of the last edit in the input. */
  last = 0;

  constructor(
    readonly size: number,
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
    const need = this.at + this.len + start - last + text.length;
    if (need > this.buf.length) this.grow(need);
    const buf = this.buf;
    const o = this.at + this.len;
    buf.copyWithin(o, last, start);
    this.len += start - last + buf.write(text, o + start - last, 'latin1');
    this.last = end;
  }

  wrap(at: number, end: number, n: Opening): void {
    const b = n.v8open!;
    const last = this.last;
    const need = this.at + this.len + end - last + b.length + 1;
    if (need > this.buf.length) this.grow(need);
    const buf = this.buf;
    let o = this.at + this.len;
    // A short run costs less copied byte by byte than by a call.
    if (at - last < SHORT) for (let i = last; i < at; i++) buf[o++] = buf[i]!;
    else {
      buf.copyWithin(o, last, at);
      o += at - last;
    }
    if (b.length < SHORT) for (let i = 0; i < b.length; i++) buf[o++] = b.charCodeAt(i);
    else o += buf.write(b, o, 'latin1');
    if (end - at < SHORT) for (let i = at; i < end; i++) buf[o++] = buf[i]!;
    else {
      buf.copyWithin(o, at, end);
      o += end - at;
    }
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
const SHORT = 16;

const LATIN1 = /^[\x00-\xff]*$/;

/**
 * The edits of a JS string: as Latin-1 bytes (ByteOut) while the text is ASCII and every
 * string put in is Latin-1, then (from the first string that is not) as pieces (StrOut).
 */
export class TextOut implements Edits {
  bytes: ByteOut | undefined;
  str: StrOut | undefined;

  constructor(readonly s: string) {
    if (Buffer.byteLength(s, 'utf8') === s.length)
      this.bytes = new ByteOut(s.length, (buf) => buf.write(s, 0, 'latin1'));
    else this.str = new StrOut(s);
  }

  /** From bytes to pieces, the output so far their first piece. */
  #toPieces(): StrOut {
    const b = this.bytes!;
    this.bytes = undefined;
    return (this.str = b.edited
      ? new StrOut(this.s, b.last, b.buf.toString('latin1', b.at, b.at + b.len))
      : new StrOut(this.s));
  }

  replace(start: number, end: number, text: string): void {
    if (this.bytes !== undefined && LATIN1.test(text)) return this.bytes.replace(start, end, text);
    (this.str ?? this.#toPieces()).replace(start, end, text);
  }

  wrap(at: number, end: number, n: Opening): void {
    if (this.bytes !== undefined && (n.latin1 ??= LATIN1.test(n.v8open!))) return this.bytes.wrap(at, end, n);
    (this.str ?? this.#toPieces()).wrap(at, end, n);
  }

  result(): string {
    const b = this.bytes;
    if (b === undefined) return this.str!.result();
    if (!b.edited) return this.s;
    b.finish();
    return b.buf.toString('latin1', b.at, b.at + b.len);
  }
}
