/**
 * Where a symbolicated block goes: the edits of lib/symbolicate.ts applied, in order, to the
 * block's text, into one growing buffer that first holds the input, copying the unchanged
 * text from it, with no object per edit. `ByteOut` writes bytes: a stream's blocks (Latin-1
 * in, the same bytes out) and the blocks of a string that are all ASCII (its UTF-8 bytes are
 * its characters). `WideOut` writes UTF-16 code units: the other blocks of a string.
 * `TextOut` cuts a string into blocks and picks one for each.
 */

/** What a V8 frame `at URL:…` gets before its URL (`NAME (`). */
export interface Opening {
  /** The string, as the block's text holds strings (see Codec in lib/symbolicate.ts). */
  v8open: string | undefined;
  /** Whether v8open is all Latin-1 (TextOut), once known. */
  latin1: boolean | undefined;
  /** v8open as Latin-1 bytes (ByteOut), once needed. */
  bytes: Uint8Array | undefined;
}

/** The edits of one text, in order of position, none overlapping. */
export interface Edits {
  /** The text [start, end) becomes `text`. */
  replace(start: number, end: number, text: string): void;
  /** `n.v8open` goes in at `at` and `)` at `end` (a V8 frame given its name). */
  wrap(at: number, end: number, n: Opening): void;
  /** The same, `n.v8open` being all Latin-1 and given as its bytes: pool[from, to). */
  wrapBytes(at: number, end: number, pool: Uint8Array, from: number, to: number): void;
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
    let o = this.at + this.len;
    buf.copyWithin(o, last, start);
    o += start - last;
    if (text.length < SHORT) for (let i = 0; i < text.length; i++) buf[o++] = text.charCodeAt(i);
    else o += buf.latin1Write(text, o);
    this.len = o - this.at;
    this.last = end;
  }

  wrap(at: number, end: number, n: Opening): void {
    const b = (n.bytes ??= Buffer.from(n.v8open!, 'latin1'));
    this.wrapBytes(at, end, b, 0, b.length);
  }

  wrapBytes(at: number, end: number, pool: Uint8Array, from: number, to: number): void {
    const last = this.last;
    const need = this.at + this.len + end - last + to - from + 1;
    if (need > this.buf.length) this.grow(need);
    const buf = this.buf;
    let o = this.at + this.len;
    // A short run costs less copied byte by byte than by a call.
    if (at - last < SHORT) for (let i = last; i < at; i++) buf[o++] = buf[i]!;
    else {
      buf.copyWithin(o, last, at);
      o += at - last;
    }
    for (let i = from; i < to; i++) buf[o++] = pool[i]!;
    if (end - at < SHORT) for (let i = at; i < end; i++) buf[o++] = buf[i]!;
    else {
      buf.copyWithin(o, at, end);
      o += end - at;
    }
    buf[o++] = 41; // ')'
    this.len = o - this.at;
    this.last = end;
  }

  /** The output so far as a string (Latin-1), which then starts again empty. */
  take(): string {
    const x = this.buf.latin1Slice(this.at, this.at + this.len);
    this.len = 0;
    return x;
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

declare global {
  interface Buffer {
    latin1Slice(start: number, end: number): string;
    latin1Write(s: string, offset: number): number;
  }
}
const SHORT = 16;

const LATIN1 = /^[\x00-\xff]*$/;

/**
 * The output as UTF-16 code units, in u[at, at + len) after the input's `size` units in
 * u[0, size): ByteOut's scheme for a block of a JS string that is not all ASCII. Any string goes in and comes out unit for unit,
 * lone surrogates included. `scratch` is used for u when it is large enough.
 */
export class WideOut implements Edits {
  u: Uint16Array;
  /** A byte view of u (Buffer.write and toString in UTF-16LE). */
  b: Buffer;
  readonly at: number;
  len = 0;
  /** The end of the last edit in the input. */
  last = 0;

  /** The edits of block s. */
  constructor(
    readonly s: string,
    scratch?: Uint16Array,
  ) {
    const size = s.length;
    this.at = size;
    const want = size * 2 + (size >>> 2) + 4096;
    this.u = scratch !== undefined && scratch.length >= want ? scratch : units(want);
    this.b = Buffer.from(this.u.buffer, this.u.byteOffset, this.u.byteLength);
    this.b.write(s, 0, 'utf16le');
  }

  private grow(need: number): void {
    const next = units(Math.max(need, 2 * this.u.length));
    next.set(this.u.subarray(0, this.at + this.len));
    this.u = next;
    this.b = Buffer.from(next.buffer, next.byteOffset, next.byteLength);
  }

  /** Writes x at unit o, returns the unit after it. */
  private put(x: string, o: number): number {
    const u = this.u;
    if (x.length < SHORT) {
      for (let i = 0; i < x.length; i++) u[o++] = x.charCodeAt(i);
      return o;
    }
    return o + (this.b.write(x, 2 * o, 'utf16le') >>> 1);
  }

  /** Copies input units [from, to) to o, returns the unit after them. */
  private copy(from: number, to: number, o: number): number {
    const u = this.u;
    if (to - from < SHORT) {
      for (let i = from; i < to; i++) u[o++] = u[i]!;
      return o;
    }
    u.copyWithin(o, from, to);
    return o + to - from;
  }

  replace(start: number, end: number, text: string): void {
    const need = this.at + this.len + start - this.last + text.length;
    if (need > this.u.length) this.grow(need);
    const o = this.copy(this.last, start, this.at + this.len);
    this.len = this.put(text, o) - this.at;
    this.last = end;
  }

  wrap(at: number, end: number, n: Opening): void {
    const x = n.v8open!;
    const need = this.at + this.len + end - this.last + x.length + 1;
    if (need > this.u.length) this.grow(need);
    let o = this.copy(this.last, at, this.at + this.len);
    o = this.copy(at, end, this.put(x, o));
    this.u[o++] = 41; // ')'
    this.len = o - this.at;
    this.last = end;
  }

  wrapBytes(at: number, end: number, pool: Uint8Array, from: number, to: number): void {
    const need = this.at + this.len + end - this.last + to - from + 1;
    if (need > this.u.length) this.grow(need);
    let o = this.copy(this.last, at, this.at + this.len);
    const u = this.u;
    for (let i = from; i < to; i++) u[o++] = pool[i]!;
    o = this.copy(at, end, o);
    u[o++] = 41; // ')'
    this.len = o - this.at;
    this.last = end;
  }

  /** The block edited. */
  result(): string {
    const rest = this.at + this.len + this.s.length - this.last;
    if (rest > this.u.length) this.grow(rest);
    this.len = this.copy(this.last, this.s.length, this.at + this.len) - this.at;
    this.last = this.s.length;
    return this.b.toString('utf16le', 2 * this.at, 2 * (this.at + this.len));
  }
}

/** n UTF-16 units, uninitialised. */
function units(n: number): Uint16Array {
  const b = Buffer.allocUnsafeSlow(2 * n);
  return new Uint16Array(b.buffer, b.byteOffset, n);
}

/** The blocks of a string that TextOut edits in one buffer: about this many characters, ending at a '\n'. */
const WINDOW = 256 * 1024;

/**
 * The edits of a JS string, a block at a time: the text from one edited block to the next
 * stays as it is (a slice), and each block that has an edit is edited in a buffer that
 * blocks reuse (so it stays in the cache): as Latin-1 bytes (ByteOut) when the block is
 * ASCII, a string put in that is not all Latin-1 then being a piece of its own (the block's
 * pieces joined when it ends); else as UTF-16 units (WideOut). A block ends after a '\n' (or
 * at the end of the text), and no frame holds one, so every edit falls in one block. Blocks
 * are large enough that their strings are allocated outside the young generation (more than
 * 128 KiB), which the collector then never copies.
 */
export class TextOut implements Edits {
  readonly #pieces: string[] = [];
  /** The pieces of the current block (when a string put in is not Latin-1). */
  readonly #own: string[] = [];
  /** The current block, [start, end) of s: its text, and where its edits go. */
  #start = 0;
  #end = 0;
  #block = '';
  #bytes: ByteOut | undefined;
  #wide: WideOut | undefined;
  #byteScratch: Buffer | undefined;
  #wideScratch: Uint16Array | undefined;

  constructor(readonly s: string) {}

  /** Makes the block hold [start, end) (ending the block before it when it does not). */
  #enter(start: number): void {
    if (start < this.#end) return;
    this.#close();
    const s = this.s;
    let from = this.#end;
    if (start - from > WINDOW >>> 1) {
      this.#pieces.push(s.slice(from, start));
      from = start;
    }
    const nl = s.indexOf('\n', Math.max(from + WINDOW, start));
    this.#start = from;
    this.#end = nl < 0 ? s.length : nl + 1;
    const block = (this.#block = s.slice(from, this.#end));
    if (Buffer.byteLength(block, 'utf8') === block.length)
      this.#bytes = new ByteOut(block.length, (buf) => buf.write(block, 0, 'latin1'), this.#byteScratch);
    else this.#wide = new WideOut(block, this.#wideScratch);
  }

  /** The current block's output to the pieces. */
  #close(): void {
    const b = this.#bytes;
    const w = this.#wide;
    this.#bytes = this.#wide = undefined;
    if (b !== undefined) {
      b.finish();
      const own = this.#own;
      if (own.length === 0) this.#pieces.push(b.take());
      else {
        own.push(b.take());
        this.#pieces.push(own.join(''));
        own.length = 0;
      }
      this.#byteScratch = b.buf;
    } else if (w !== undefined) {
      this.#pieces.push(w.result());
      this.#wideScratch = w.u;
    }
  }

  replace(start: number, end: number, text: string): void {
    this.#enter(start);
    const o = this.#start;
    const b = this.#bytes;
    if (b === undefined) return this.#wide!.replace(start - o, end - o, text);
    if (LATIN1.test(text)) return b.replace(start - o, end - o, text);
    b.replace(start - o, end - o, '');
    this.#own.push(b.take(), text);
  }

  wrap(at: number, end: number, n: Opening): void {
    this.#enter(at);
    const o = this.#start;
    const b = this.#bytes;
    if (b === undefined) return this.#wide!.wrap(at - o, end - o, n);
    if ((n.latin1 ??= LATIN1.test(n.v8open!))) return b.wrap(at - o, end - o, n);
    b.replace(at - o, at - o, '');
    this.#own.push(b.take(), n.v8open!);
    b.replace(end - o, end - o, ')');
  }

  wrapBytes(at: number, end: number, pool: Uint8Array, from: number, to: number): void {
    this.#enter(at);
    const o = this.#start;
    (this.#bytes ?? this.#wide!).wrapBytes(at - o, end - o, pool, from, to);
  }

  /** The text edited (the text itself when there was no edit). */
  result(): string {
    if (this.#end === 0) return this.s;
    this.#close();
    const p = this.#pieces;
    if (this.#end < this.s.length) p.push(this.s.slice(this.#end));
    return p.length === 1 ? p[0]! : p.join('');
  }
}
