#!/usr/bin/env node
// Distils fuzzer corpora into test/fixtures/fuzz/: one input per kind of outcome, as the js
// reader sees it (the open error with its message, numbers folded; or, for inputs that open,
// the table's shape (the main encoding of its sparse namespaces) and the lookup errors its
// namespaces and offsets meet), the smallest of each kind. The fixtures are replayed in both
// backends by test/fuzz-regressions.test.ts.
//
// Usage: node fuzz/distill.mjs [--keep N] <corpus dir>... (needs dist/)
// Replaces the fixtures' distilled inputs; files named crash-* (inputs that once crashed a
// reader) are kept whatever happens.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { open, FuncKey, FunckeyError } = await import(join(root, 'dist', 'index.js'));
const out = join(root, 'test', 'fixtures', 'fuzz');

const args = process.argv.slice(2);
let keep = 6;
const dirs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--keep') keep = Number(args[++i]);
  else dirs.push(args[i]);
}
if (dirs.length === 0) {
  console.error('usage: node fuzz/distill.mjs [--keep N] <corpus dir>...');
  process.exit(2);
}

const slug = (s) =>
  s
    .toLowerCase()
    .replace(/0x[0-9a-f]+|\d+/g, 'n')
    .replace(/[^a-z]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 64);

/** The kind of outcome of one input. */
function kindOf(bytes) {
  let a;
  try {
    a = open(bytes, { backend: 'js' });
  } catch (e) {
    if (e instanceof FunckeyError) return `open-${slug(e.code)}-${slug(e.message)}`;
    throw e;
  }
  const d = a.describe();
  const errors = new Set();
  const attempt = (f) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof FunckeyError)) throw e;
      errors.add(slug(e.code));
    }
  };
  for (const n of d.namespaces) {
    const edges = n.bucketShift > 0 ? [(1 << n.bucketShift) - 1, 1 << n.bucketShift] : [];
    for (const i of [0, 1, 31, 32, n.funcCount - 1, n.funcCount, ...edges]) {
      let key;
      try {
        key = FuncKey.fromRaw(n.namespace, i >>> 0);
      } catch {
        continue;
      }
      attempt(() => a.funcLoc(key));
    }
  }
  for (let o = 0; o < 4096; o += 7) attempt(() => a.funcByOffset(o));
  for (let m = 0; m < d.modules.length; m++) for (let fi = 0; fi < 16; fi++) attempt(() => a.funcName(fi, m));
  a.close();
  // The first of the sparse encodings (FORMAT.md 3.3) present in this order, or 'ns' when all
  // namespaces are dense.
  const shape =
    d.namespaces.length === 0
      ? 'empty'
      : (['buckets', 'bitmap', 'direct', 'sorted'].find((e) => d.namespaces.some((n) => n.encoding === e)) ?? 'ns');
  const names = d.modules.some((m) => m.nameEncoding === 2) ? 'sparse' : 'dense';
  return `opened-${shape}-${names}${errors.size ? '-' + [...errors].sort().join('-') : ''}`;
}

const best = new Map(); // kind -> [{ bytes, hash }]
let seen = 0;
for (const dir of dirs) {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (!statSync(p).isFile()) continue;
    const bytes = new Uint8Array(readFileSync(p));
    seen++;
    const kind = kindOf(bytes);
    const list = best.get(kind) ?? [];
    const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 8);
    if (list.some((x) => x.hash === hash)) continue;
    list.push({ bytes, hash });
    list.sort((x, y) => x.bytes.length - y.bytes.length);
    best.set(kind, list.slice(0, kind.startsWith('open-') ? 1 : keep));
  }
}

mkdirSync(out, { recursive: true });
for (const f of readdirSync(out)) if (!f.startsWith('crash-')) rmSync(join(out, f));
let written = 0;
for (const [kind, list] of [...best].sort()) {
  for (const { bytes, hash } of list) {
    writeFileSync(join(out, `${kind}-${hash}.fkx`), bytes);
    written++;
  }
}
console.log(`distilled ${seen} inputs into ${written} fixtures of ${best.size} kinds in ${out}`);
