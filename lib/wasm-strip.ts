import { FunckeyError } from './errors.js';

/**
 * Copies a WebAssembly binary without its custom sections named `name` (or without the
 * custom sections `shouldDrop` picks). Every other section is copied byte for byte, so code
 * offsets inside the kept sections move only by the size of what was dropped before them;
 * the `name` section comes after the code section in binaries made by the usual tools, so
 * function body offsets are usually unchanged.
 *
 * Walks the section headers only: magic and version (8 bytes), then per section an id byte,
 * a u32 LEB128 size and the contents; a custom section (id 0) starts with its name
 * (LEB128 length + UTF-8 bytes). Malformed input: E_WASM with the offset of the problem.
 */
export function stripCustomSections(
  bytes: Uint8Array,
  shouldDrop: (name: string) => boolean = (n) => n === 'name',
): Uint8Array<ArrayBuffer> {
  if (!(bytes instanceof Uint8Array)) throw new FunckeyError('E_ARG', 'bytes must be a Uint8Array');
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    throw new FunckeyError('E_WASM', 'not a WebAssembly binary (bad magic)', { offset: 0 });
  const keep: [number, number][] = [[0, 8]];
  let pos = 8;
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const leb = (at: number): [number, number] => {
    let result = 0;
    let shift = 0;
    let p = at;
    for (;;) {
      if (p >= bytes.length) throw new FunckeyError('E_WASM', 'truncated LEB128', { offset: at });
      const b = bytes[p++]!;
      if (shift === 28 && (b & 0xf0) !== 0) throw new FunckeyError('E_WASM', 'LEB128 u32 out of range', { offset: at });
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) throw new FunckeyError('E_WASM', 'LEB128 u32 too long', { offset: at });
    }
    return [result >>> 0, p];
  };
  while (pos < bytes.length) {
    const start = pos;
    const id = bytes[pos]!;
    const [size, contents] = leb(pos + 1);
    const end = contents + size;
    if (end > bytes.length)
      throw new FunckeyError('E_WASM', `section ${id} runs past the end of the binary`, { offset: start });
    let drop = false;
    if (id === 0) {
      const [nameLen, nameAt] = leb(contents);
      if (nameAt + nameLen > end)
        throw new FunckeyError('E_WASM', 'custom section name runs past its section', { offset: contents });
      drop = shouldDrop(decoder.decode(bytes.subarray(nameAt, nameAt + nameLen)));
    }
    if (!drop) {
      const last = keep[keep.length - 1]!;
      if (last[1] === start) last[1] = end;
      else keep.push([start, end]);
    }
    pos = end;
  }
  let total = 0;
  for (const [s, e] of keep) total += e - s;
  const out = new Uint8Array(total);
  let o = 0;
  for (const [s, e] of keep) {
    out.set(bytes.subarray(s, e), o);
    o += e - s;
  }
  return out;
}

/** A copy of a WebAssembly binary without its `name` custom section(s). */
export function stripNameSection(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return stripCustomSections(bytes, (n) => n === 'name');
}
