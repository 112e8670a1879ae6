/**
 * Demangling of function names as Wasmtime prints them in a backtrace: Rust's legacy scheme
 * (`_ZN…E`), Rust's v0 scheme (`_R…`, RFC 2603) and the Itanium C++ ABI (`_Z…`), tried in
 * that order, as Wasmtime tries the rustc-demangle and then the cpp_demangle crate. The text
 * follows those crates' default formatting (Wasmtime's `{}`): a legacy Rust name keeps its
 * `::h0123456789abcdef` hash, a v0 crate root its `[disambiguator]`, a v0 integer constant
 * its type suffix; C++ is written as GNU's c++filt does (`> >`, `{lambda(int)#1}`).
 *
 * Anything malformed or not covered (see docs/ROBUSTNESS.md) gives the name back unchanged,
 * as Wasmtime writes a name it cannot demangle. Time and memory are bounded: the input is at
 * most MAX_INPUT characters, recursion at most MAX_DEPTH deep, and every text that a
 * backreference or substitution copies counts against MAX_WORK characters.
 */

/** Longest name demangled; a longer one stays as it is. */
export const MAX_INPUT = 16384;
/** Deepest nesting of a name's parts. */
export const MAX_DEPTH = 256;
/** Characters a demangling may copy through backreferences and substitutions, and write. */
export const MAX_WORK = 65536;

/** Thrown, always the same object (no stack to capture), where a name is not demangled. */
class GiveUp {}
const GIVE_UP = new GiveUp();
const giveUp = (): never => {
  throw GIVE_UP;
};

/** The name as Wasmtime prints it: demangled when it is Rust or C++, else unchanged. */
export function demangle(name: string): string {
  if (name === '' || name.length > MAX_INPUT) return name;
  try {
    return rust(name) ?? cpp(name) ?? name;
  } catch (e) {
    if (e instanceof GiveUp || e instanceof RangeError) return name;
    throw e;
  }
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isLower = (c: number) => c >= 97 && c <= 122;
const isUpper = (c: number) => c >= 65 && c <= 90;
const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102);
const isAscii = (s: string) => /^[\x00-\x7f]*$/.test(s);

// --- Rust ------------------------------------------------------------------------------------

/** A Rust name demangled, or undefined when it is not one (rustc-demangle's try_demangle). */
function rust(name: string): string | undefined {
  let s = name;
  const llvm = s.indexOf('.llvm.');
  if (llvm >= 0 && /^[0-9A-F@]*$/.test(s.slice(llvm + 6))) s = s.slice(0, llvm);
  let r = legacy(s);
  if (r === undefined) r = v0(s);
  if (r === undefined) return undefined;
  const [text, suffix] = r;
  // A suffix is kept when it is LLVM's `.`-words of printable ASCII, else the name is not Rust.
  if (suffix !== '' && !(suffix.startsWith('.') && /^[\x21-\x7e]*$/.test(suffix))) return undefined;
  return text + suffix;
}

/** A legacy name's text and the rest after its `E`, or undefined. */
function legacy(s: string): [string, string] | undefined {
  const start = s.startsWith('_ZN') ? 3 : s.startsWith('ZN') ? 2 : s.startsWith('__ZN') ? 4 : -1;
  if (start < 0 || !isAscii(s)) return undefined;
  // Where each part starts and ends, then (a legacy name) the parts' texts.
  const at: number[] = [];
  let i = start;
  while (s.charCodeAt(i) !== 69 /* E */) {
    if (!isDigit(s.charCodeAt(i))) return undefined;
    let len = 0;
    while (isDigit(s.charCodeAt(i))) {
      len = len * 10 + s.charCodeAt(i++) - 48;
      if (len > s.length) return undefined;
    }
    if (i + len > s.length) return undefined;
    at.push(i, i + len);
    i += len;
  }
  const parts: string[] = [];
  for (let k = 0; k < at.length; k += 2) parts.push(legacyPart(s.slice(at[k], at[k + 1])));
  return [parts.join('::'), s.slice(i + 1)];
}

const LEGACY_ESCAPES: Record<string, string> = {
  SP: '@',
  BP: '*',
  RF: '&',
  LT: '<',
  GT: '>',
  LP: '(',
  RP: ')',
  C: ',',
};

/** One part of a legacy path with its `$…$` escapes and `..` written out. */
function legacyPart(part: string): string {
  let rest = part.startsWith('_$') ? part.slice(1) : part;
  let out = '';
  for (;;) {
    if (rest.startsWith('..')) {
      out += '::';
      rest = rest.slice(2);
    } else if (rest.startsWith('.')) {
      out += '.';
      rest = rest.slice(1);
    } else if (rest.startsWith('$')) {
      const end = rest.indexOf('$', 1);
      if (end < 0) break;
      const esc = rest.slice(1, end);
      let x = LEGACY_ESCAPES[esc];
      if (x === undefined && /^u[0-9a-f]+$/.test(esc)) {
        const cp = esc.length <= 9 ? parseInt(esc.slice(1), 16) : -1;
        const ok = cp >= 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) && !isControl(cp);
        if (ok) x = String.fromCodePoint(cp);
      }
      if (x === undefined) break;
      out += x;
      rest = rest.slice(end + 1);
    } else {
      const m = /[$.]/.exec(rest);
      if (m === null) break;
      out += rest.slice(0, m.index);
      rest = rest.slice(m.index);
    }
  }
  return out + rest;
}

/** Unicode's Cc category: what Rust's char::is_control says. */
const isControl = (cp: number) => cp < 0x20 || (cp >= 0x7f && cp < 0xa0);

const U64_END = 2n ** 64n;

/** Rust's v0 basic types by their letter. */
const V0_BASIC: Record<string, string> = {
  a: 'i8',
  b: 'bool',
  c: 'char',
  d: 'f64',
  e: 'str',
  f: 'f32',
  h: 'u8',
  i: 'isize',
  j: 'usize',
  l: 'i32',
  m: 'u32',
  n: 'i128',
  o: 'u128',
  s: 'i16',
  t: 'u16',
  u: '()',
  v: '...',
  x: 'i64',
  y: 'u64',
  z: '!',
  p: '_',
};

const DIS_CACHE = 1024;
const disCache = new Map<string, string>();

/** A v0 name's text and the rest after it, or undefined. */
function v0(s: string): [string, string] | undefined {
  const start = s.startsWith('_R') ? 2 : s.startsWith('__R') ? 3 : s.startsWith('R') ? 1 : -1;
  if (start < 0 || s.length <= start || !isUpper(s.charCodeAt(start)) || !isAscii(s)) return undefined;
  const p = new V0(s.slice(start));
  try {
    const text = p.path(true);
    // The instantiating crate, when there is one, is parsed and not printed.
    if (isUpper(p.s.charCodeAt(p.i))) {
      p.quiet++;
      p.path(false);
    }
    return [text, p.s.slice(p.i)];
  } catch (e) {
    if (e instanceof GiveUp) return undefined;
    throw e;
  }
}

/**
 * A v0 identifier in Punycode (RFC 3492, with `_` for its `-`): ASCII characters, the last
 * `_`, then the insertions. As rustc-demangle: at most 128 characters are decoded; a longer
 * or invalid one is written `punycode{ASCII-INSERTIONS}`.
 */
function punycodeIdent(id: string): string {
  const cut = id.lastIndexOf('_');
  const ascii = cut < 0 ? '' : id.slice(0, cut);
  const digits = cut < 0 ? id : id.slice(cut + 1);
  if (digits === '') giveUp();
  try {
    return punycode(ascii, digits);
  } catch (e) {
    if (!(e instanceof GiveUp)) throw e;
    return `punycode{${ascii === '' ? '' : ascii + '-'}${digits}}`;
  }
}

function punycode(ascii: string, digits: string): string {
  const out = [...ascii];
  let n = 0x80;
  let i = 0;
  let bias = 72;
  let p = 0;
  for (let first = true; p < digits.length; first = false) {
    const old = i;
    let w = 1;
    for (let k = 36; ; k += 36) {
      const c = digits.charCodeAt(p++);
      const d = isLower(c) ? c - 97 : isDigit(c) ? c - 22 : giveUp();
      i += d * w;
      const t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
      if (d < t) break;
      w *= 36 - t;
      if (p >= digits.length || i > 0x10ffff * 129) giveUp();
    }
    const len = out.length + 1;
    let delta = first ? Math.floor((i - old) / 700) : Math.floor((i - old) / 2);
    delta += Math.floor(delta / len);
    let k = 0;
    while (delta > 455) {
      delta = Math.floor(delta / 35);
      k += 36;
    }
    bias = k + Math.floor((36 * delta) / (delta + 38));
    n += Math.floor(i / len);
    i %= len;
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff) || out.length >= 128) giveUp();
    out.splice(i, 0, String.fromCodePoint(n));
    i++;
  }
  return out.join('');
}

/** A parser and printer of Rust's v0 mangling (RFC 2603) over s, the name after `_R`. */
class V0 {
  i = 0;
  depth = 0;
  work = 0;
  /** Bound lifetimes of the binders around the current position. */
  bound = 0;
  /** When above 0, text is parsed and not kept (an impl's path). */
  quiet = 0;
  constructor(readonly s: string) {}

  peek(): number {
    return this.s.charCodeAt(this.i);
  }
  eat(c: string): boolean {
    if (this.s[this.i] !== c) return false;
    this.i++;
    return true;
  }
  next(): string {
    if (this.i >= this.s.length) giveUp();
    return this.s[this.i++]!;
  }
  enter(): void {
    if (++this.depth > MAX_DEPTH) giveUp();
  }
  out(x: string): string {
    this.work += x.length;
    if (this.work > MAX_WORK) giveUp();
    return x;
  }

  /** `_` is 0, digits and letters of base 62 then `_` are one more than their value (a u64). */
  int62Big(): bigint {
    if (this.eat('_')) return 0n;
    let x = 0n;
    for (;;) {
      const c = this.next().charCodeAt(0);
      if (c === 95) break;
      const d = isDigit(c) ? c - 48 : isLower(c) ? c - 87 : isUpper(c) ? c - 29 : giveUp();
      x = x * 62n + BigInt(d);
      // rustc-demangle's values are u64: a bigger one is not a Rust name.
      if (x >= U64_END - 1n) giveUp();
    }
    return x + 1n;
  }
  /** A base-62 number as a position or count, which cannot exceed the name's length. */
  int62(): number {
    if (this.eat('_')) return 0;
    let x = 0;
    for (;;) {
      const c = this.next().charCodeAt(0);
      if (c === 95) break;
      const d = isDigit(c) ? c - 48 : isLower(c) ? c - 87 : isUpper(c) ? c - 29 : giveUp();
      x = x * 62 + d;
      if (x > this.s.length) giveUp();
    }
    return x + 1;
  }
  optInt62(tag: string): number {
    return this.eat(tag) ? this.int62() + 1 : 0;
  }
  /**
   * A disambiguator's value in base 16 or 10, '0' when there is none. Crate hashes repeat
   * within and across names: their texts are cached (DIS_CACHE entries at most).
   */
  disambiguator(radix: 10 | 16): string {
    if (!this.eat('s')) return '0';
    const a = this.i;
    while (this.i < this.s.length && this.s.charCodeAt(this.i) !== 95) this.i++;
    const key = radix + this.s.slice(a, this.i);
    const hit = disCache.get(key);
    if (hit !== undefined) {
      this.i++;
      return hit;
    }
    this.i = a;
    const x = this.int62Big() + 1n;
    if (x >= U64_END) giveUp();
    const v = x.toString(radix);
    if (disCache.size >= DIS_CACHE) disCache.clear();
    disCache.set(key, v);
    return v;
  }

  ident(): string {
    const puny = this.eat('u');
    const c0 = this.peek();
    if (!isDigit(c0)) giveUp();
    let len = 0;
    if (c0 === 48) this.i++;
    else
      while (isDigit(this.peek())) {
        len = len * 10 + this.peek() - 48;
        this.i++;
        if (len > this.s.length) giveUp();
      }
    this.eat('_');
    if (this.i + len > this.s.length) giveUp();
    const id = this.s.slice(this.i, this.i + len);
    this.i += len;
    return puny ? punycodeIdent(id) : id;
  }

  /** Runs f at the backreference's position, then comes back. */
  backref(f: () => string): string {
    const at = this.i - 1;
    const to = this.int62();
    if (to >= at) giveUp();
    if (this.quiet > 0) return '';
    const back = this.i;
    this.i = to;
    this.enter();
    const r = this.out(f());
    this.depth--;
    this.i = back;
    return r;
  }

  path(inValue: boolean): string {
    this.enter();
    let r: string;
    const tag = this.next();
    switch (tag) {
      case 'C': {
        const dis = this.disambiguator(16);
        const name = this.ident();
        r = dis !== '0' ? `${name}[${dis}]` : name;
        break;
      }
      case 'N': {
        const ns = this.next();
        if (!isLower(ns.charCodeAt(0)) && !isUpper(ns.charCodeAt(0))) giveUp();
        r = this.path(inValue);
        const dis = this.disambiguator(10);
        const name = this.ident();
        if (isUpper(ns.charCodeAt(0))) {
          const kind = ns === 'C' ? 'closure' : ns === 'S' ? 'shim' : ns;
          r += `::{${kind}${name !== '' ? ':' + name : ''}#${dis}}`;
        } else if (name !== '') r += '::' + name;
        break;
      }
      case 'M':
      case 'X':
      case 'Y': {
        if (tag !== 'Y') {
          this.disambiguator(10);
          this.quiet++;
          this.path(false);
          this.quiet--;
        }
        r = '<' + this.type();
        if (tag !== 'M') r += ' as ' + this.path(false);
        r += '>';
        break;
      }
      case 'I':
        r = this.path(inValue);
        if (inValue) r += '::';
        r += '<' + this.list(() => this.genericArg()).join(', ') + '>';
        break;
      case 'B':
        r = this.backref(() => this.path(inValue));
        break;
      default:
        return giveUp();
    }
    this.depth--;
    return this.quiet > 0 ? '' : r;
  }

  /** Items up to an `E`. */
  list(f: () => string): string[] {
    const items: string[] = [];
    while (!this.eat('E')) {
      if (this.i >= this.s.length) giveUp();
      items.push(f());
    }
    return items;
  }

  genericArg(): string {
    if (this.eat('L')) return this.lifetime(this.int62());
    if (this.eat('K')) return this.konst(false);
    return this.type();
  }

  lifetime(lt: number): string {
    if (lt === 0) return "'_";
    const depth = this.bound - lt;
    if (depth < 0) giveUp();
    return depth < 26 ? "'" + String.fromCharCode(97 + depth) : `'_${depth}`;
  }

  /** f inside a binder of `G`-counted lifetimes: `for<'a, 'b> ` before its text. */
  binder(f: () => string): string {
    const n = this.optInt62('G');
    if (n > MAX_DEPTH) giveUp();
    let pre = '';
    if (n > 0) {
      const names: string[] = [];
      for (let k = 0; k < n; k++) {
        this.bound++;
        names.push(this.lifetime(1));
      }
      pre = `for<${names.join(', ')}> `;
    }
    const r = f();
    this.bound -= n;
    return pre + r;
  }

  type(): string {
    const tag = this.next();
    const basic = V0_BASIC[tag];
    if (basic !== undefined) return basic;
    this.enter();
    let r: string;
    switch (tag) {
      case 'R':
      case 'Q': {
        r = '&';
        if (this.eat('L')) {
          const lt = this.int62();
          if (lt !== 0) r += this.lifetime(lt) + ' ';
        }
        if (tag === 'Q') r += 'mut ';
        r += this.type();
        break;
      }
      case 'P':
      case 'O':
        r = (tag === 'P' ? '*const ' : '*mut ') + this.type();
        break;
      case 'A':
      case 'S':
        r = '[' + this.type();
        if (tag === 'A') r += '; ' + this.konst(true);
        r += ']';
        break;
      case 'T': {
        const items = this.list(() => this.type());
        r = '(' + items.join(', ') + (items.length === 1 ? ',' : '') + ')';
        break;
      }
      case 'F':
        r = this.binder(() => this.fnType());
        break;
      case 'D': {
        r = 'dyn ' + this.binder(() => this.list(() => this.dynTrait()).join(' + '));
        if (!this.eat('L')) giveUp();
        const lt = this.int62();
        if (lt !== 0) r += ' + ' + this.lifetime(lt);
        break;
      }
      case 'B':
        r = this.backref(() => this.type());
        break;
      default:
        this.i--;
        r = this.path(false);
    }
    this.depth--;
    return r;
  }

  fnType(): string {
    const unsafe = this.eat('U');
    let abi: string | undefined;
    if (this.eat('K')) {
      if (this.eat('C')) abi = 'C';
      else {
        abi = this.ident();
        if (abi === '') giveUp();
      }
    }
    let r = unsafe ? 'unsafe ' : '';
    if (abi !== undefined) r += `extern "${abi.split('_').join('-')}" `;
    r += 'fn(' + this.list(() => this.type()).join(', ') + ')';
    if (!this.eat('u')) r += ' -> ' + this.type();
    return r;
  }

  /**
   * A trait's path, its generic arguments left open (`Iterator<u8` without `>`) so that
   * associated-type bindings can follow: the text and whether it is open.
   */
  openPath(): [string, boolean] {
    if (this.eat('B')) {
      let open = false;
      const r = this.backref(() => {
        const [t, o] = this.openPath();
        open = o;
        return t;
      });
      return [r, open];
    }
    if (this.eat('I')) return [this.path(false) + '<' + this.list(() => this.genericArg()).join(', '), true];
    return [this.path(false), false];
  }

  dynTrait(): string {
    let [r, open] = this.openPath();
    while (this.eat('p')) {
      r += open ? ', ' : '<';
      open = true;
      const name = this.ident();
      r += name + ' = ' + this.type();
    }
    return open ? r + '>' : r;
  }

  /** A constant: integers, bool, char and `_`; others are not covered. */
  konst(inValue: boolean): string {
    const tag = this.next();
    this.enter();
    let r: string;
    if (tag === 'p') r = '_';
    else if ('htmyoj'.includes(tag)) r = this.uint(tag);
    else if ('aslxni'.includes(tag)) r = (this.eat('n') ? '-' : '') + this.uint(tag);
    else if (tag === 'b') {
      const v = this.hex().replace(/^0+/, '');
      r = v === '' ? 'false' : v === '1' ? 'true' : giveUp();
    } else if (tag === 'c') {
      // A char: printable ASCII only (other chars are not covered).
      const v = parseInt(this.hex() || 'x', 16);
      if (!(v >= 0x20 && v < 0x7f)) giveUp();
      const c = String.fromCharCode(v);
      r = `'${c === "'" || c === '\\' ? '\\' + c : c}'`;
    } else if (tag === 'B') r = this.backref(() => this.konst(inValue));
    else return giveUp();
    this.depth--;
    return r;
  }

  /** Hex nibbles up to `_`. */
  hex(): string {
    const a = this.i;
    while (isHex(this.peek())) this.i++;
    const h = this.s.slice(a, this.i);
    if (!this.eat('_')) giveUp();
    return h;
  }

  /** An unsigned value: decimal when it fits in a u64, else its hex nibbles; then its type. */
  uint(tag: string): string {
    const h = this.hex();
    const digits = h.replace(/^0+/, '');
    const v = digits.length <= 16 ? BigInt('0x' + (digits || '0')).toString() : '0x' + h;
    return v + V0_BASIC[tag];
  }
}

// --- C++ -------------------------------------------------------------------------------------

/** A C++ name demangled (cpp_demangle's Symbol), or undefined when it is not one. */
function cpp(name: string): string | undefined {
  if (!isAscii(name)) return undefined;
  const p = new Itanium(name);
  try {
    return p.mangledName();
  } catch (e) {
    if (e instanceof GiveUp) return undefined;
    throw e;
  }
}

/**
 * A type's text in two parts: what goes before and after a declarator (`void (*` and
 * `)(int)` of a pointer to a function). `kind`: 'fn' a function type, 'array' an array
 * type, 'decl' a pointer or reference to one of them, else ''.
 */
interface Ty {
  pre: string;
  post: string;
  kind: '' | 'fn' | 'array' | 'decl';
  /** A nested name (`N…E`): as a return type, cpp_demangle writes no space before `(`. */
  nested?: boolean;
  /** What goes between pre and post when nothing is declared: a function type's space. */
  sep?: string;
  /** A pack of template arguments (`J…E`): its items. */
  pack?: Ty[];
}

const plain = (s: string): Ty => ({ pre: s, post: '', kind: '' });
const text = (t: Ty): string => (t.pack !== undefined ? t.pack.map(text).join(', ') : t.pre + (t.sep ?? '') + t.post);

const BUILTIN: Record<string, string> = {
  v: 'void',
  w: 'wchar_t',
  b: 'bool',
  c: 'char',
  a: 'signed char',
  h: 'unsigned char',
  s: 'short',
  t: 'unsigned short',
  i: 'int',
  j: 'unsigned int',
  l: 'long',
  m: 'unsigned long',
  x: 'long long',
  y: 'unsigned long long',
  n: '__int128',
  o: 'unsigned __int128',
  f: 'float',
  d: 'double',
  e: 'long double',
  g: '__float128',
  z: '...',
};

const BUILTIN_D: Record<string, string> = {
  n: 'std::nullptr_t',
  i: 'char32_t',
  s: 'char16_t',
  u: 'char8_t',
  a: 'auto',
  c: 'decltype(auto)',
};

const STD_SUBST: Record<string, string> = {
  t: 'std',
  a: 'std::allocator',
  b: 'std::basic_string',
  s: 'std::string',
  i: 'std::basic_istream<char, std::char_traits<char> >',
  o: 'std::ostream',
  d: 'std::basic_iostream<char, std::char_traits<char> >',
};

const OPERATORS: Record<string, string> = {
  nw: 'new',
  na: 'new[]',
  dl: 'delete',
  da: 'delete[]',
  ps: '+',
  ng: '-',
  ad: '&',
  de: '*',
  co: '~',
  pl: '+',
  mi: '-',
  ml: '*',
  dv: '/',
  rm: '%',
  an: '&',
  or: '|',
  eo: '^',
  aS: '=',
  pL: '+=',
  mI: '-=',
  mL: '*=',
  dV: '/=',
  rM: '%=',
  aN: '&=',
  oR: '|=',
  eO: '^=',
  ls: '<<',
  rs: '>>',
  lS: '<<=',
  rS: '>>=',
  eq: '==',
  ne: '!=',
  lt: '<',
  gt: '>',
  le: '<=',
  ge: '>=',
  ss: '<=>',
  nt: '!',
  aa: '&&',
  oo: '||',
  pp: '++',
  mm: '--',
  cm: ',',
  pm: '->*',
  pt: '->',
  cl: '()',
  ix: '[]',
  qu: '?',
};

/** t with the cv-qualifiers q (` const`): after a function's parameters, else after the type. */
function qualified(t: Ty, q: string): Ty {
  if (t.pack !== undefined) return { ...t, pack: t.pack.map((x) => qualified(x, q)) };
  return t.kind === 'fn' ? { ...t, post: t.post + q } : { ...t, pre: t.pre + q };
}

/** The last part of a qualified name without its template arguments: what its constructor is called. */
function lastPart(s: string): string {
  let depth = 0;
  let end = s.length;
  for (let k = s.length - 1; k >= 0; k--) {
    const c = s[k];
    if (c === '>') depth++;
    else if (c === '<' && --depth === 0) end = k;
    else if (depth === 0 && c === ':' && s[k - 1] === ':') return s.slice(k + 1, end);
  }
  return s.slice(0, end);
}

/** What a <name> gives: its text and what the encoding around it needs to know. */
interface Name {
  s: string;
  /** Its last part has template arguments (the function's return type is mangled). */
  template: boolean;
  /** Its last part is a constructor, destructor or conversion operator (no return type). */
  noReturn: boolean;
  /** cv- and ref-qualifiers of a member function (` const`, ` &&`). */
  quals: string;
}

/** A parser and printer of the Itanium C++ ABI's mangled names over s. */
class Itanium {
  i = 0;
  depth = 0;
  work = 0;
  subs: Ty[] = [];
  /** The template arguments T_, T0_, … refer to. */
  targs: Ty[] | undefined;
  constructor(readonly s: string) {}

  peek(k = 0): string {
    return this.s[this.i + k] ?? '';
  }
  eat(x: string): boolean {
    if (!this.s.startsWith(x, this.i)) return false;
    this.i += x.length;
    return true;
  }
  next(): string {
    if (this.i >= this.s.length) giveUp();
    return this.s[this.i++]!;
  }
  expect(x: string): void {
    if (!this.eat(x)) giveUp();
  }
  enter(): void {
    if (++this.depth > MAX_DEPTH) giveUp();
  }
  /** Counts a copied text against MAX_WORK. */
  copy<T extends Ty>(t: T): T {
    this.work += text(t).length;
    if (this.work > MAX_WORK) giveUp();
    return t;
  }

  /** `_Z <encoding> [.clone]*`, or a bare type (cpp_demangle takes those too). */
  mangledName(): string {
    let r: string;
    if (this.eat('_Z') || this.eat('__Z')) {
      r = this.encoding();
      while (this.peek() === '.') r += this.cloneSuffix();
    } else r = text(this.type());
    if (this.i !== this.s.length) giveUp();
    this.work += r.length;
    if (this.work > MAX_WORK) giveUp();
    return r;
  }

  /** `.cold`, `.constprop.0`: ` [clone .cold]`. */
  cloneSuffix(): string {
    const m = /^\.[A-Za-z_][A-Za-z_0-9]*(\.[0-9]+)*|^(\.[0-9]+)+/.exec(this.s.slice(this.i));
    if (m === null) return giveUp();
    this.i += m[0].length;
    return ` [clone ${m[0]}]`;
  }

  encoding(): string {
    this.enter();
    if (this.peek() === 'T' || this.peek() === 'G') return this.special();
    const saved = this.targs;
    const name = this.name(false);
    let r = name.s;
    if (this.i < this.s.length && this.peek() !== 'E' && this.peek() !== '.') {
      let ret = '';
      if (name.template && !name.noReturn) {
        const t = this.type();
        if (t.kind !== '' || t.pack !== undefined) giveUp();
        ret = text(t) + ' ';
      }
      r = ret + r + this.params() + name.quals;
    } else if (name.quals !== '') giveUp();
    this.targs = saved;
    this.depth--;
    return r;
  }

  /** A function's parameter types: `(int, char)`, `()` for `v`. */
  /** Whether the parameters end here: the name's end, a local name's `E`, a clone suffix. */
  paramsEnd(): boolean {
    const c = this.s.charCodeAt(this.i);
    return this.i >= this.s.length || c === 69 /* E */ || c === 46; /* . */
  }

  params(): string {
    if (this.peek() === 'v') {
      this.i++;
      if (this.paramsEnd()) return '()';
      this.i--;
    }
    const items: string[] = [];
    while (!this.paramsEnd()) {
      const t = this.type();
      const x = text(t);
      if (t.pack === undefined || x !== '') items.push(x);
    }
    return '(' + items.join(', ') + ')';
  }

  /** The special names Wasmtime's demangler writes as `{vtable(X)}` and the like. */
  special(): string {
    if (this.eat('TV')) return `{vtable(${text(this.type())})}`;
    if (this.eat('TT')) return `{vtt(${text(this.type())})}`;
    if (this.eat('TI')) return 'typeinfo for ' + text(this.type());
    if (this.eat('TS')) return 'typeinfo name for ' + text(this.type());
    if (this.eat('GV')) return 'guard variable for ' + this.name(false).s;
    if (this.eat('GTt')) return 'transaction clone for ' + this.encoding();
    if (this.eat('Th')) {
      const off = this.offset();
      return `{virtual override thunk({offset(${off})}, ${this.encoding()})}`;
    }
    if (this.eat('Tv')) {
      const off = this.offset();
      const voff = this.offset();
      return `{virtual override thunk({virtual offset(${off}, ${voff})}, ${this.encoding()})}`;
    }
    return giveUp();
  }

  /** A thunk's `[n] <number> _`: the offset, negative after `n`. */
  offset(): string {
    const neg = this.eat('n');
    const a = this.i;
    while (isDigit(this.peek().charCodeAt(0))) this.i++;
    if (this.i === a || this.i - a > 20) giveUp();
    const v = this.s.slice(a, this.i);
    this.expect('_');
    return (neg ? '-' : '') + v;
  }

  name(isType: boolean): Name {
    this.enter();
    let r: Name;
    const c = this.peek();
    if (c === 'N') r = this.nested(isType);
    else if (c === 'Z') r = this.local(isType);
    else {
      let s: string;
      let noReturn = false;
      if (c === 'S' && this.peek(1) !== 't') {
        s = text(this.substitution());
        if (this.peek() !== 'I') giveUp();
      } else {
        const std = this.eat('St');
        const u = this.unqualified('');
        s = (std ? 'std::' : '') + u.s;
        noReturn = u.noReturn;
        if (this.peek() === 'I') this.subs.push(plain(s));
      }
      let template = false;
      if (this.peek() === 'I') {
        const args = this.templateArgs();
        s += args.s;
        if (!isType) this.targs = args.list;
        template = true;
      }
      r = { s, template, noReturn, quals: '' };
    }
    this.depth--;
    return r;
  }

  /** `N [cv] [ref] prefix… E`: the parts of a nested name, each a substitution. */
  nested(isType: boolean): Name {
    this.expect('N');
    let quals = '';
    if (this.eat('r')) quals += ' restrict';
    if (this.eat('V')) quals += ' volatile';
    if (this.eat('K')) quals += ' const';
    if (this.eat('R')) quals += ' &';
    else if (this.eat('O')) quals += ' &&';
    let s = '';
    let last = '';
    let template = false;
    let noReturn = false;
    let parts = 0;
    while (!this.eat('E')) {
      if (this.i >= this.s.length) giveUp();
      const c = this.peek();
      template = false;
      if (c === 'I') {
        if (parts === 0) giveUp();
        const args = this.templateArgs();
        s += args.s;
        if (!isType) this.targs = args.list;
        template = true;
      } else if (c === 'S' && parts === 0) {
        if (this.eat('St')) {
          s = 'std';
          last = 'std';
          parts++;
          continue;
        }
        s = text(this.substitution());
        last = lastPart(s);
        parts++;
        continue;
      } else if (c === 'T' && parts === 0) {
        s = text(this.templateParam());
      } else if (c === 'D' && (this.peek(1) === 't' || this.peek(1) === 'T')) {
        return giveUp();
      } else if (c === 'M') {
        // A data-member prefix (`<closure-prefix> M`): belongs to the lambda after it.
        this.i++;
        continue;
      } else {
        const u = this.unqualified(last);
        s = parts === 0 ? u.s : s + '::' + u.s;
        last = u.base;
        noReturn = u.noReturn;
      }
      parts++;
      if (this.peek() !== 'E') this.subs.push(plain(s));
    }
    if (parts === 0) giveUp();
    return { s, template, noReturn, quals };
  }

  /** `Z <encoding> E <entity> [discriminator]`: a name inside a function. */
  local(isType: boolean): Name {
    this.expect('Z');
    const saved = this.targs;
    const fn = this.encoding();
    this.targs = saved;
    this.expect('E');
    let r: Name;
    if (this.eat('s')) r = { s: fn + '::string literal', template: false, noReturn: false, quals: '' };
    else {
      const inner = this.name(isType);
      r = { ...inner, s: fn + '::' + inner.s };
    }
    if (this.eat('__')) {
      while (isDigit(this.peek().charCodeAt(0))) this.i++;
      this.expect('_');
    } else if (this.eat('_')) {
      if (!isDigit(this.peek().charCodeAt(0))) giveUp();
      this.i++;
    }
    return r;
  }

  /**
   * An unqualified name: a source name, operator, constructor or destructor (of `cls`, the
   * part before it), lambda or unnamed type, with its ABI tags. `base`: what a constructor
   * of a class of this name is called.
   */
  unqualified(cls: string): { s: string; base: string; noReturn: boolean } {
    const c = this.peek();
    let s: string;
    let noReturn = false;
    if (this.eat('L')) {
      // An internal-linkage name (`_ZL3barv`).
      s = this.sourceName();
    } else if (isDigit(c.charCodeAt(0))) s = this.sourceName();
    else if (c === 'C' && /[1-5I]/.test(this.peek(1))) {
      this.i++;
      if (this.eat('I')) giveUp();
      this.i++;
      if (cls === '') giveUp();
      s = cls;
      noReturn = true;
    } else if (c === 'D' && /[0-5]/.test(this.peek(1))) {
      this.i += 2;
      if (cls === '') giveUp();
      s = '~' + cls;
      noReturn = true;
    } else if (c === 'U' && this.peek(1) === 'l') {
      this.i += 2;
      const saved = this.targs;
      const ps = this.params();
      this.targs = saved;
      this.expect('E');
      s = `{lambda${ps}#${this.number_()}}`;
    } else if (c === 'U' && this.peek(1) === 't') {
      this.i += 2;
      s = `{unnamed type#${this.number_()}}`;
    } else if (isLower(c.charCodeAt(0))) {
      const op = this.operator();
      s = op.s;
      noReturn = op.conversion;
    } else return giveUp();
    let base = s;
    while (this.eat('B')) {
      const tag = this.sourceName();
      s += `[abi:${tag}]`;
      if (base === tag) base = s;
    }
    return { s, base, noReturn };
  }

  /** `[number] _`: its value plus 2, `_` alone 1 (lambdas, unnamed types). */
  number_(): number {
    let n = 1;
    if (isDigit(this.peek().charCodeAt(0))) {
      n = 0;
      while (isDigit(this.peek().charCodeAt(0))) {
        n = n * 10 + this.next().charCodeAt(0) - 48;
        if (n > this.s.length) giveUp();
      }
      n += 2;
    }
    this.expect('_');
    return n;
  }

  operator(): { s: string; conversion: boolean } {
    const code = this.s.slice(this.i, this.i + 2);
    this.i += 2;
    if (code === 'cv') {
      const t = this.type();
      return { s: 'operator ' + text(t), conversion: true };
    }
    if (code === 'li') return { s: 'operator"" ' + this.sourceName(), conversion: false };
    const op = OPERATORS[code];
    if (op === undefined) return giveUp();
    const sep = /^[a-z]/.test(op) ? ' ' : '';
    // `operator< <int>`: a space before template arguments after `<`.
    const tail = op.endsWith('<') && this.peek() === 'I' ? ' ' : '';
    return { s: 'operator' + sep + op + tail, conversion: false };
  }

  sourceName(): string {
    let len = 0;
    if (!isDigit(this.peek().charCodeAt(0))) giveUp();
    while (isDigit(this.peek().charCodeAt(0))) {
      len = len * 10 + this.next().charCodeAt(0) - 48;
      if (len > this.s.length) giveUp();
    }
    if (len === 0 || this.i + len > this.s.length) giveUp();
    const id = this.s.slice(this.i, this.i + len);
    this.i += len;
    return id.startsWith('_GLOBAL__N') ? '(anonymous namespace)' : id;
  }

  /** `I <arg>+ E`: the text `<a, b>` and the arguments. */
  templateArgs(): { s: string; list: Ty[] } {
    this.expect('I');
    const list: Ty[] = [];
    while (!this.eat('E')) {
      if (this.i >= this.s.length) giveUp();
      list.push(this.templateArg());
    }
    let s = '<' + list.map(text).join(', ');
    if (s.endsWith('>')) s += ' ';
    return { s: s + '>', list };
  }

  templateArg(): Ty {
    this.enter();
    let r: Ty;
    if (this.eat('J')) {
      const items: Ty[] = [];
      while (!this.eat('E')) {
        if (this.i >= this.s.length) giveUp();
        items.push(this.templateArg());
      }
      r = { pre: '', post: '', kind: '', pack: items };
    } else if (this.peek() === 'L') r = plain(this.literal());
    else if (this.peek() === 'X') return giveUp();
    else r = this.type();
    this.depth--;
    return r;
  }

  /** `L <type> <value> E`: integers and bools; others are not covered. */
  literal(): string {
    this.expect('L');
    if (this.peek() === '_' || this.peek() === 'Z') return giveUp();
    if (BUILTIN[this.peek()] === undefined) {
      const ty = text(this.type());
      const neg = this.eat('n');
      const a = this.i;
      while (isDigit(this.peek().charCodeAt(0))) this.i++;
      if (this.i === a) giveUp();
      const v = this.s.slice(a, this.i);
      this.expect('E');
      return `(${ty})${neg ? '-' : ''}${v}`;
    }
    const t = this.next();
    const neg = this.eat('n');
    const a = this.i;
    while (isDigit(this.peek().charCodeAt(0))) this.i++;
    const v = (neg ? '-' : '') + this.s.slice(a, this.i);
    if (this.i === a) giveUp();
    this.expect('E');
    if (t === 'b' && (v === '0' || v === '1')) return v === '1' ? 'true' : 'false';
    if (t === 'i') return v;
    const ty = BUILTIN[t];
    if (ty === undefined || t === 'v' || t === 'z') return giveUp();
    return `(${ty})${v}`;
  }

  /** `T_`, `T0_`, …: a template argument of the current template. */
  templateParam(): Ty {
    this.expect('T');
    let n = 0;
    if (!this.eat('_')) {
      while (isDigit(this.peek().charCodeAt(0))) {
        n = n * 10 + this.next().charCodeAt(0) - 48;
        if (n > this.s.length) giveUp();
      }
      this.expect('_');
      n++;
    }
    const t = this.targs?.[n];
    if (t === undefined) return giveUp();
    return this.copy(t);
  }

  /** `S_`, `S0_`, … and the std abbreviations `St`, `Sa`, …. */
  substitution(): Ty {
    this.expect('S');
    const c = this.peek();
    const std = STD_SUBST[c];
    if (std !== undefined && c !== 't') {
      this.i++;
      return plain(std);
    }
    let n = 0;
    if (!this.eat('_')) {
      while (this.peek() !== '_') {
        const d = this.next().charCodeAt(0);
        n = n * 36 + (isDigit(d) ? d - 48 : isUpper(d) ? d - 55 : giveUp());
        if (n > this.s.length) giveUp();
      }
      this.i++;
      n++;
    }
    const t = this.subs[n];
    if (t === undefined) return giveUp();
    return this.copy(t);
  }

  type(): Ty {
    this.enter();
    const r = this.type1();
    this.depth--;
    return r;
  }

  type1(): Ty {
    const c = this.next();
    const b = BUILTIN[c];
    if (b !== undefined) return plain(b);
    let t: Ty;
    switch (c) {
      case 'u':
        t = plain(this.sourceName());
        break;
      case 'D': {
        const d = this.next();
        const bd = BUILTIN_D[d];
        if (bd !== undefined) return plain(bd);
        if (d === 'p') {
          // A pack expansion: its pattern, expanded when it is a pack of arguments.
          t = this.type();
          this.subs.push(t);
          return t;
        }
        return giveUp();
      }
      case 'P':
        t = this.declarator(this.type(), '*');
        break;
      case 'R':
        t = this.declarator(this.type(), '&');
        break;
      case 'O':
        t = this.declarator(this.type(), '&&');
        break;
      case 'r':
      case 'V':
      case 'K': {
        this.i--;
        let q = '';
        if (this.eat('r')) q += ' restrict';
        if (this.eat('V')) q += ' volatile';
        if (this.eat('K')) q += ' const';
        t = qualified(this.type(), q);
        break;
      }
      case 'F': {
        this.eat('Y');
        const ret = this.type();
        if (ret.kind !== '') giveUp();
        const ps = this.params();
        let post = ps;
        if (this.eat('R')) post += ' &';
        else if (this.eat('O')) post += ' &&';
        this.expect('E');
        t = { pre: text(ret), sep: ret.nested === true ? '' : ' ', post, kind: 'fn' };
        break;
      }
      case 'A': {
        let dim = '';
        while (isDigit(this.peek().charCodeAt(0))) dim += this.next();
        this.expect('_');
        const elem = this.type();
        if (elem.kind !== '') giveUp();
        t = { pre: text(elem), post: ` [${dim}]`, kind: 'array' };
        break;
      }
      case 'M': {
        const cls = text(this.type());
        const m = this.type();
        if (m.kind === 'fn') t = { pre: m.pre + ' (' + cls + '::*', post: ')' + m.post, kind: 'decl' };
        else if (m.kind === '') t = plain(text(m) + ' ' + cls + '::*');
        else return giveUp();
        break;
      }
      case 'T':
        this.i--;
        t = this.templateParam();
        if (this.peek() === 'I') {
          this.subs.push(t);
          t = plain(text(t) + this.templateArgs().s);
        }
        break;
      case 'S':
        // `St` alone is the type `std`, as cpp_demangle reads it.
        if (this.peek() === 't' && this.i + 1 === this.s.length) {
          this.i++;
          return plain('std');
        }
        if (this.peek() === 't') {
          this.i--;
          t = plain(this.name(true).s);
          break;
        }
        this.i--;
        t = this.substitution();
        if (this.peek() === 'I') {
          t = plain(text(t) + this.templateArgs().s);
          break;
        }
        return t;
      case 'N':
        this.i--;
        t = { ...plain(this.name(true).s), nested: true };
        break;
      case 'Z':
        this.i--;
        t = plain(this.name(true).s);
        break;
      default:
        if (!isDigit(c.charCodeAt(0))) return giveUp();
        this.i--;
        t = plain(this.name(true).s);
    }
    this.subs.push(t);
    return t;
  }

  /** A pointer or reference to t. */
  declarator(t: Ty, op: string): Ty {
    if (t.pack !== undefined) return { ...t, pack: t.pack.map((x) => this.declarator(x, op)) };
    // Reference collapsing: `&&` of `&&` is `&&`, any other pair of references `&`.
    const ref =
      op === '*' || t.kind === 'fn' || t.kind === 'array'
        ? ''
        : t.pre.endsWith('&&')
          ? '&&'
          : t.pre.endsWith('&')
            ? '&'
            : '';
    if (ref !== '') return { ...t, pre: t.pre.slice(0, -ref.length) + (ref === '&&' && op === '&&' ? '&&' : '&') };
    if (t.kind === 'fn') return { pre: t.pre + ' (' + op, post: ')' + t.post, kind: 'decl' };
    if (t.kind === 'array') return { pre: t.pre + ' (' + op, post: ')' + t.post, kind: 'decl' };
    if (t.kind === 'decl') return { pre: t.pre + op, post: t.post, kind: 'decl' };
    return plain(t.pre + op);
  }
}
