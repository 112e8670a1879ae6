// Writes the modules the engine traces are captured from (scripts/capture-traces.mjs):
// FUNCS functions (more than 10,000), one import, and an exported `run` that starts a chain
// of calls through CHAIN, whose last function traps (`unreachable`). Names: some functions
// have none, some have spaces, parentheses or non-ASCII characters in their names.
//   named.wasm     module name "ownmod" and function names
//   anon.wasm      function names, no module name
//   stripped.wasm  no name section (the bytes of the other two without it)
// The code sections of the three are identical, so every function body sits at the same
// byte offset in all three. Output is committed; rerun with `node samples/engines/gen.mjs`.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FUNCS = 12000;
export const IMPORTS = 1;
/** The defined functions the call chain goes through, outermost first; the last one traps. */
export const CHAIN = [0, 1, 2, 4, 9, 13, 22, 301, 1234, 2047, 4096, 5000, 6301, 7777, 8191, 9004, 10000, 10001, 11111, 11500, 11998, FUNCS - 1];

/** The name of defined function k, or undefined. */
export function nameOf(k) {
  if (k % 9 === 4) return undefined;
  if (k % 5 === 1) return `fn ${k} with spaces`;
  if (k % 7 === 2) return `fn_${k}_ñé€_🦀`;
  if (k % 11 === 0) return `fn_${k}(i32) const`;
  return `fn_${k}`;
}

const uleb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const utf8 = (s) => [...Buffer.from(s, 'utf8')];
const str = (s) => [...uleb(utf8(s).length), ...utf8(s)];
const vec = (items) => concat([uleb(items.length), ...items]);
const concat = (parts) => {
  const out = [];
  for (const p of parts) for (const b of p) out.push(b);
  return out;
};
const section = (id, bytes) => concat([[id], uleb(bytes.length), bytes]);

function body(k) {
  const pos = CHAIN.indexOf(k);
  const next = pos >= 0 && pos + 1 < CHAIN.length ? CHAIN[pos + 1] : (k + 1) % FUNCS;
  // (if (i32.eqz (local.get 0)) (then unreachable)) (call next (i32.sub (local.get 0) (i32.const 1)))
  const code = [0x00, 0x20, 0x00, 0x45, 0x04, 0x40, 0x00, 0x0b, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, ...uleb(IMPORTS + next), 0x0b];
  return [...uleb(code.length), ...code];
}

function module(names) {
  const parts = [[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]];
  parts.push(section(1, vec([[0x60, 1, 0x7f, 0], [0x60, 0, 0]]))); // types: (i32)->(), ()->()
  parts.push(section(2, vec([[...str('env'), ...str('tick'), 0x00, 1]])));
  parts.push(section(3, vec([...Array.from({ length: FUNCS }, () => [0]), [1]])));
  parts.push(section(7, vec([[...str('run'), 0x00, ...uleb(IMPORTS + FUNCS)]])));
  const run = [0x00, 0x41, ...uleb(CHAIN.length - 1), 0x10, ...uleb(IMPORTS + CHAIN[0]), 0x0b];
  parts.push(section(10, vec([...Array.from({ length: FUNCS }, (_, k) => body(k)), [...uleb(run.length), ...run]])));
  if (names !== undefined) {
    let sub = [];
    if (names.module !== undefined) sub = section(0, str(names.module));
    const fn = [[...uleb(0), ...str('tick')]];
    for (let k = 0; k < FUNCS; k++) if (nameOf(k) !== undefined) fn.push([...uleb(IMPORTS + k), ...str(nameOf(k))]);
    fn.push([...uleb(IMPORTS + FUNCS), ...str('run')]);
    sub = concat([sub, section(1, vec(fn))]);
    parts.push(section(0, concat([str('name'), sub])));
  }
  return Uint8Array.from(concat(parts));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = dirname(fileURLToPath(import.meta.url));
  writeFileSync(join(dir, 'named.wasm'), module({ module: 'ownmod' }));
  writeFileSync(join(dir, 'anon.wasm'), module({}));
  writeFileSync(join(dir, 'stripped.wasm'), module(undefined));
}
