// A tiny WebAssembly encoder for synthetic modules, and the straightforward hand-written
// decoder a tool would write to read function names (the baseline of the name benchmarks).
import { int, rng } from './rand.js';

const enc = new TextEncoder();

// ---- encoding ----

class Bytes {
  constructor(cap = 1 << 16) {
    this.buf = new Uint8Array(cap);
    this.len = 0;
  }
  reserve(n) {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  byte(b) {
    this.reserve(1);
    this.buf[this.len++] = b;
  }
  u32(x) {
    this.reserve(5);
    do {
      let b = x & 0x7f;
      x >>>= 7;
      if (x !== 0) b |= 0x80;
      this.buf[this.len++] = b;
    } while (x !== 0);
  }
  /** Signed LEB128 of a 32-bit integer. */
  s32(x) {
    this.reserve(5);
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      if ((x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0)) {
        this.buf[this.len++] = b;
        return;
      }
      this.buf[this.len++] = b | 0x80;
    }
  }
  bytes(u8) {
    this.reserve(u8.length);
    this.buf.set(u8, this.len);
    this.len += u8.length;
  }
  str(s) {
    const u = enc.encode(s);
    this.u32(u.length);
    this.bytes(u);
  }
  result() {
    return this.buf.slice(0, this.len);
  }
}

function section(out, id, body) {
  out.byte(id);
  out.u32(body.length);
  out.bytes(body);
}

/** The name the synthetic modules give function `i` (about 40 bytes, like mangled paths). */
export function syntheticName(i) {
  return `synth::module_${i % 211}::function_${i}::h${((i * 2654435761) >>> 0).toString(16)}`;
}

/**
 * A valid module with `imports` imported and `defined` defined functions of type () -> (),
 * bodies of seeded sizes (i32.const/drop pairs), and a `name` section naming every function.
 */
export function encodeSyntheticModule({ imports = 16, defined = 100_000, seed = 1 } = {}) {
  const r = rng(seed);
  const out = new Bytes(1 << 20);
  out.bytes(Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00));

  const types = new Bytes(16);
  types.u32(1);
  types.bytes(Uint8Array.of(0x60, 0x00, 0x00));
  section(out, 1, types.result());

  if (imports > 0) {
    const imp = new Bytes(imports * 16);
    imp.u32(imports);
    for (let i = 0; i < imports; i++) {
      imp.str('env');
      imp.str(`host_${i}`);
      imp.byte(0x00);
      imp.u32(0);
    }
    section(out, 2, imp.result());
  }

  const funcs = new Bytes(defined + 8);
  funcs.u32(defined);
  for (let i = 0; i < defined; i++) funcs.u32(0);
  section(out, 3, funcs.result());

  const code = new Bytes(defined * 40);
  code.u32(defined);
  const body = new Bytes(1024);
  for (let i = 0; i < defined; i++) {
    body.len = 0;
    body.byte(0x00); // no locals
    const pairs = int(r, 1, 16);
    for (let k = 0; k < pairs; k++) {
      body.byte(0x41); // i32.const
      body.s32(int(r, -50000, 49999));
      body.byte(0x1a); // drop
    }
    body.byte(0x0b); // end
    code.u32(body.len);
    code.bytes(body.buf.subarray(0, body.len));
  }
  section(out, 10, code.result());

  const names = new Bytes(defined * 48);
  names.str('name');
  const sub0 = new Bytes(32);
  sub0.str('synthetic');
  names.byte(0);
  names.u32(sub0.len);
  names.bytes(sub0.result());
  const sub1 = new Bytes(defined * 48);
  const total = imports + defined;
  sub1.u32(total);
  for (let i = 0; i < total; i++) {
    sub1.u32(i);
    sub1.str(i < imports ? `env::host_${i}` : syntheticName(i));
  }
  names.byte(1);
  names.u32(sub1.len);
  names.bytes(sub1.result());
  section(out, 0, names.result());
  return out.result();
}

// ---- decoding ----

/** Reads an unsigned LEB128 at `pos`; returns [value, next position]. */
function leb(b, pos) {
  let result = 0;
  let mul = 1;
  for (;;) {
    if (pos >= b.length) throw new Error('truncated LEB128');
    const x = b[pos++];
    result += (x & 0x7f) * mul;
    if ((x & 0x80) === 0) return [result, pos];
    mul *= 128;
  }
}

const utf8 = new TextDecoder();

/** The sections of a module: [{ id, start (payload), end, name (custom sections) }]. */
export function scanSections(b) {
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d)
    throw new Error('not a wasm module');
  const out = [];
  let pos = 8;
  while (pos < b.length) {
    const id = b[pos++];
    let size;
    [size, pos] = leb(b, pos);
    const end = pos + size;
    if (end > b.length) throw new Error('section past the end of the module');
    let name;
    let payload = pos;
    if (id === 0) {
      let n;
      [n, payload] = leb(b, pos);
      name = utf8.decode(b.subarray(payload, payload + n));
      payload += n;
    }
    out.push({ id, start: payload, end, name });
    pos = end;
  }
  return out;
}

/**
 * The function names of a module as a Map from function index to name: find the custom
 * section `name`, decode its subsection 1. What a tool writes when it needs names.
 */
export function decodeNameMap(b) {
  const names = new Map();
  const sec = scanSections(b).find((s) => s.id === 0 && s.name === 'name');
  if (!sec) return names;
  let pos = sec.start;
  while (pos < sec.end) {
    const sub = b[pos++];
    let size;
    [size, pos] = leb(b, pos);
    const end = pos + size;
    if (sub === 1) {
      let count;
      [count, pos] = leb(b, pos);
      for (let i = 0; i < count; i++) {
        let idx, len;
        [idx, pos] = leb(b, pos);
        [len, pos] = leb(b, pos);
        names.set(idx, utf8.decode(b.subarray(pos, pos + len)));
        pos += len;
      }
    }
    pos = end;
  }
  return names;
}

/** Size in bytes of the custom section `name` (its id, size LEB and payload), 0 if none. */
export function nameSectionBytes(b) {
  let pos = 8;
  while (pos < b.length) {
    const at = pos;
    const id = b[pos++];
    let size;
    [size, pos] = leb(b, pos);
    if (id === 0) {
      const [n, p] = leb(b, pos);
      if (n === 4 && b[p] === 0x6e && b[p + 1] === 0x61 && b[p + 2] === 0x6d && b[p + 3] === 0x65)
        return pos + size - at;
    }
    pos += size;
  }
  return 0;
}

function skipLimits(b, pos) {
  const flags = b[pos++];
  let x;
  [x, pos] = leb(b, pos);
  if (flags & 1) [x, pos] = leb(b, pos);
  return pos;
}

function skipRefOrValType(b, pos) {
  const t = b[pos++];
  if (t === 0x63 || t === 0x64) {
    // (ref null? heaptype): a signed LEB heap type
    while (b[pos++] & 0x80);
  }
  return pos;
}

/**
 * What an artifact needs from a module: the imported function count, every defined
 * function's body (start after the body-size LEB, length) and the position of its size
 * LEB, and the names. Used when the package's own wasm reader is not there.
 */
export function scanModule(b) {
  let importedFuncs = 0;
  let bodies = { starts: new Uint32Array(0), lengths: new Uint32Array(0), filePos: new Uint32Array(0) };
  for (const s of scanSections(b)) {
    if (s.id === 2) {
      let pos = s.start;
      let count;
      [count, pos] = leb(b, pos);
      for (let i = 0; i < count; i++) {
        let n;
        [n, pos] = leb(b, pos);
        pos += n;
        [n, pos] = leb(b, pos);
        pos += n;
        const kind = b[pos++];
        if (kind === 0) {
          [n, pos] = leb(b, pos);
          importedFuncs++;
        } else if (kind === 1) {
          pos = skipRefOrValType(b, pos);
          pos = skipLimits(b, pos);
        } else if (kind === 2) {
          pos = skipLimits(b, pos);
        } else if (kind === 3) {
          pos = skipRefOrValType(b, pos);
          pos++;
        } else if (kind === 4) {
          pos++;
          [n, pos] = leb(b, pos);
        } else {
          throw new Error(`unknown import kind ${kind}`);
        }
      }
    } else if (s.id === 10) {
      let pos = s.start;
      let count;
      [count, pos] = leb(b, pos);
      const starts = new Uint32Array(count);
      const lengths = new Uint32Array(count);
      const filePos = new Uint32Array(count);
      for (let i = 0; i < count; i++) {
        filePos[i] = pos;
        let size;
        [size, pos] = leb(b, pos);
        starts[i] = pos;
        lengths[i] = size;
        pos += size;
      }
      bodies = { starts, lengths, filePos };
    }
  }
  return { importedFuncs, definedFuncs: bodies.starts.length, ...bodies, names: decodeNameMap(b) };
}
