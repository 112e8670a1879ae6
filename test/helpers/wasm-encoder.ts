/**
 * A tiny WebAssembly binary encoder for the tests: it lays out modules and components byte by
 * byte and records where it put every function body, so the tests know the expected offsets
 * without asking the reader under test.
 */

export type Bytes = number[];

export function uleb(n: number): Bytes {
  const out: Bytes = [];
  let v = n;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return out;
}

export function utf8(s: string): Bytes {
  return [...new TextEncoder().encode(s)];
}

/** A `vec(byte)`: a string's UTF-8 (or raw bytes) prefixed by its length. */
export function str(s: string | Bytes): Bytes {
  const b = typeof s === 'string' ? utf8(s) : s;
  return [...uleb(b.length), ...b];
}

export function section(id: number, content: Bytes): Bytes {
  return [id, ...uleb(content.length), ...content];
}

export function customSection(name: string, content: Bytes): Bytes {
  return section(0, [...str(name), ...content]);
}

export const MAGIC = [0x00, 0x61, 0x73, 0x6d];
export const MODULE_VERSION = [0x01, 0x00, 0x00, 0x00];
export const COMPONENT_VERSION = [0x0d, 0x00, 0x01, 0x00];

// Import entries, "env"."<field>".
export const importFunc = (field: string, type = 0): Bytes => [...str('env'), ...str(field), 0x00, ...uleb(type)];
export const importTable = (field: string, refType: Bytes, limits: Bytes): Bytes => [
  ...str('env'),
  ...str(field),
  0x01,
  ...refType,
  ...limits,
];
export const importMemory = (field: string, limits: Bytes): Bytes => [...str('env'), ...str(field), 0x02, ...limits];
export const importGlobal = (field: string, valType: Bytes, mutable: boolean): Bytes => [
  ...str('env'),
  ...str(field),
  0x03,
  ...valType,
  mutable ? 1 : 0,
];
export const importTag = (field: string, type = 0): Bytes => [...str('env'), ...str(field), 0x04, 0x00, ...uleb(type)];

/** A body of exactly `size` bytes (size >= 2): no locals, `size - 2` nops, end. */
export function body(size: number): Bytes {
  return [0x00, ...new Array<number>(size - 2).fill(0x01), 0x0b];
}

export interface NameSpec {
  module?: string | Bytes;
  /** (function index, name) in the order given. */
  funcs?: [number, string | Bytes][];
  /** Raw subsections (id, content) placed after the function names. */
  extra?: [number, Bytes][];
}

export function nameSection(spec: NameSpec): Bytes {
  const subs: Bytes = [];
  if (spec.module !== undefined) subs.push(...section(0, str(spec.module)));
  if (spec.funcs !== undefined) {
    const entries: Bytes = [...uleb(spec.funcs.length)];
    for (const [i, n] of spec.funcs) entries.push(...uleb(i), ...str(n));
    subs.push(...section(1, entries));
  }
  for (const [id, c] of spec.extra ?? []) subs.push(...section(id, c));
  return customSection('name', subs);
}

export interface ModuleSpec {
  imports?: Bytes[];
  /** Raw bodies (without their size), or sizes for body(size). */
  bodies?: (Bytes | number)[];
  names?: NameSpec;
  /** Raw sections placed right after the header, before the type section. */
  leading?: Bytes[];
  /** Raw sections placed after the code section, before the name section. */
  trailing?: Bytes[];
}

/** Where a body landed, relative to the start of the binary the module was encoded into. */
export interface BodyLoc {
  /** Offset of the body-size LEB128. */
  lebAt: number;
  /** First byte of the body. */
  start: number;
  /** One past its last byte. */
  end: number;
}

export interface Encoded {
  bytes: Bytes;
  bodies: BodyLoc[];
  /** Byte offsets of the sections in `bytes`, by position: [id, offset]. */
  sections: [number, number][];
}

/** A core module: header, one type `() -> ()`, imports, functions, code, then names. */
export function encodeModule(spec: ModuleSpec = {}): Encoded {
  const out: Bytes = [...MAGIC, ...MODULE_VERSION];
  const sections: [number, number][] = [];
  const put = (s: Bytes) => {
    sections.push([s[0]!, out.length]);
    out.push(...s);
  };
  for (const s of spec.leading ?? []) put(s);
  put(section(1, [1, 0x60, 0, 0]));
  const imports = spec.imports ?? [];
  if (imports.length > 0) put(section(2, [...uleb(imports.length), ...imports.flat()]));
  const bodies = (spec.bodies ?? []).map((b) => (typeof b === 'number' ? body(b) : b));
  const bodyLocs: BodyLoc[] = [];
  if (bodies.length > 0) {
    put(section(3, [...uleb(bodies.length), ...new Array<number>(bodies.length).fill(0)]));
    const content: Bytes = [...uleb(bodies.length)];
    const rel: BodyLoc[] = [];
    for (const b of bodies) {
      const lebAt = content.length;
      content.push(...uleb(b.length));
      const start = content.length;
      content.push(...b);
      rel.push({ lebAt, start, end: content.length });
    }
    const header = [10, ...uleb(content.length)];
    const base = out.length + header.length;
    put([...header, ...content]);
    for (const r of rel) bodyLocs.push({ lebAt: base + r.lebAt, start: base + r.start, end: base + r.end });
  }
  for (const s of spec.trailing ?? []) put(s);
  if (spec.names !== undefined) put(nameSection(spec.names));
  return { bytes: out, bodies: bodyLocs, sections };
}

/** A part of a component: a raw section, a core module section or a nested component section. */
export type ComponentPart = { raw: Bytes } | { core: Encoded } | { nested: EncodedComponent };

export interface EncodedComponent {
  bytes: Bytes;
  /** Every core module, depth first in binary order, with its offset in `bytes`. */
  modules: { offset: number; module: Encoded }[];
}

export function encodeComponent(parts: ComponentPart[]): EncodedComponent {
  const out: Bytes = [...MAGIC, ...COMPONENT_VERSION];
  const modules: { offset: number; module: Encoded }[] = [];
  for (const p of parts) {
    if ('raw' in p) {
      out.push(...p.raw);
    } else if ('core' in p) {
      const header = [1, ...uleb(p.core.bytes.length)];
      modules.push({ offset: out.length + header.length, module: p.core });
      out.push(...header, ...p.core.bytes);
    } else {
      const header = [4, ...uleb(p.nested.bytes.length)];
      const base = out.length + header.length;
      for (const m of p.nested.modules) modules.push({ offset: base + m.offset, module: m.module });
      out.push(...header, ...p.nested.bytes);
    }
  }
  return { bytes: out, modules };
}

export const u8 = (b: Bytes): Uint8Array => Uint8Array.from(b);

/** Little-endian u16 and u32, as DWARF's fixed-size fields are written. */
export const u16le = (v: number): Bytes => [v & 0xff, v >>> 8];
export const u32le = (v: number): Bytes => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

/**
 * A module of one function (no locals, `nops` nops, end) with the given `.debug_abbrev` and
 * `.debug_info` contents: DWARF address 0 is the function's body-size byte.
 */
export function dwarfModule(nops: number, abbrev: Bytes, info: Bytes): Uint8Array {
  const body = [0, ...new Array<number>(nops).fill(0x01), 0x0b];
  return Uint8Array.from([
    ...MAGIC,
    ...MODULE_VERSION,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(3, [1, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
    ...customSection('.debug_abbrev', abbrev),
    ...customSection('.debug_info', info),
  ]);
}
