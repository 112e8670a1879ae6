import { FunckeyError } from '../errors.js';

/**
 * A bounds-checked little-endian reader over one .debug_* section. Every read checks that
 * its bytes lie before `end`; a read past it throws E_DWARF naming the section and the
 * offset, so damaged DWARF can only stop the reader, never make it read elsewhere. Offsets
 * are section-relative. Values wider than 32 bits are returned as numbers; one above 2^53
 * (never a valid offset or address in a wasm module) is an error.
 */
export class Cursor {
  readonly section: string;
  readonly bytes: Uint8Array;
  pos: number;
  end: number;

  constructor(section: string, bytes: Uint8Array, pos = 0, end = bytes.length) {
    this.section = section;
    this.bytes = bytes;
    this.pos = pos;
    this.end = Math.min(end, bytes.length);
  }

  fail(message: string, at = this.pos): never {
    throw dwarfError(this.section, at, message);
  }

  need(n: number): void {
    if (!(n >= 0 && n <= this.end - this.pos)) this.fail(`${n} bytes past the end (${this.end})`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const b = this.bytes,
      p = this.pos;
    this.pos = p + 2;
    return b[p]! | (b[p + 1]! << 8);
  }

  u32(): number {
    this.need(4);
    const b = this.bytes,
      p = this.pos;
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
  }

  /** 8 bytes; above 2^53 the value is rounded (only constants get that large). */
  u64(): number {
    const lo = this.u32();
    return this.u32() * 0x100000000 + lo;
  }

  /** An unsigned value of `size` bytes (1, 2, 4 or 8). */
  uN(size: number): number {
    switch (size) {
      case 1:
        return this.u8();
      case 2:
        return this.u16();
      case 4:
        return this.u32();
      case 8:
        return this.u64();
      default:
        return this.fail(`unsupported value size ${size}`);
    }
  }

  /** ULEB128; above 2^53 the value is rounded (only constants get that large). */
  uleb(): number {
    const b = this.bytes,
      end = this.end;
    let p = this.pos;
    if (p < end && b[p]! < 0x80) {
      this.pos = p + 1;
      return b[p]!;
    }
    let result = 0,
      mul = 1;
    for (;;) {
      if (p >= end) this.fail('LEB128 past the end', this.pos);
      const byte = b[p++]!;
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) break;
      if (mul < 2 ** 70) mul *= 128; // stays finite on overlong encodings
    }
    this.pos = p;
    return result;
  }

  /** SLEB128; beyond ±2^53 the value is rounded. */
  sleb(): number {
    const b = this.bytes,
      end = this.end;
    let p = this.pos,
      result = 0,
      mul = 1,
      byte = 0;
    do {
      if (p >= end) this.fail('LEB128 past the end', this.pos);
      byte = b[p++]!;
      result += (byte & 0x7f) * mul;
      if (mul < 2 ** 70) mul *= 128;
    } while (byte & 0x80);
    this.pos = p;
    return byte & 0x40 ? result - mul : result;
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** Skips a NUL-terminated string, returning where it starts. */
  skipCStr(): number {
    const start = this.pos;
    const i = this.bytes.indexOf(0, start);
    if (i < 0 || i >= this.end) this.fail('string without its terminating NUL', start);
    this.pos = i + 1;
    return start;
  }
}

/** E_DWARF at `offset` of `section`, as every read of the DWARF reader reports it. */
export function dwarfError(section: string, offset: number, message: string): FunckeyError {
  return new FunckeyError('E_DWARF', `${section} at byte ${offset} (0x${offset.toString(16)}): ${message}`, { offset });
}

const decoder = new TextDecoder('utf-8');

/** The end (its NUL's offset) of the NUL-terminated string at `offset` of `bytes`. */
export function cstrEnd(section: string, bytes: Uint8Array, offset: number): number {
  if (!(offset >= 0 && offset < bytes.length)) throw dwarfError(section, offset, 'string offset out of the section');
  const i = bytes.indexOf(0, offset);
  if (i < 0) throw dwarfError(section, offset, 'string without its terminating NUL');
  return i;
}

/** UTF-8 bytes as text (invalid bytes replaced, a leading BOM dropped, as TextDecoder does). */
export function utf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** The NUL-terminated string at `offset` of `bytes` (UTF-8, invalid bytes replaced). */
export function cstrAt(section: string, bytes: Uint8Array, offset: number): string {
  return utf8(bytes.subarray(offset, cstrEnd(section, bytes, offset)));
}
