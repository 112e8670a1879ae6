// The loader that dist/funckey.cjs and dist/funckey.mjs embed (scripts/bundle.mjs): it runs
// the eager bundle dist/funckey-eager.cjs once per realm, as a CommonJS module would run, but
// compiled with V8's code cache when dist/funckey-eager.v8cache fits it (written by
// scripts/code-cache.cjs at build and at install, for the Node that runs them). The cache file
// holds the bytes of the bundle it was made from (after their length), and is used only when
// those equal the bytes of the bundle it loads: V8 checks no more of the source than its
// length, and would run the functions it holds even for a bundle of other bytes. V8 itself
// refuses a cache of another version or other flags. Without a fitting cache the bundle is
// compiled from its source, as require would.
function loadEager(dir, builtin, req) {
  const have = globalThis[Symbol.for(`funckey ${dir}`)];
  if (have !== undefined) return have;
  const fs = builtin('node:fs');
  const path = builtin('node:path');
  const file = path.join(dir, 'funckey-eager.cjs');
  const bytes = fs.readFileSync(file);
  const n = bytes.length;
  let cachedData;
  try {
    const cache = fs.readFileSync(path.join(dir, 'funckey-eager.v8cache'));
    if (cache.length > 8 + n && cache.readDoubleLE(0) === n && cache.subarray(8, 8 + n).equals(bytes))
      cachedData = cache.subarray(8 + n);
  } catch {
    // no cache: compile from the source
  }
  const source = bytes.toString('utf8');
  const script = new (builtin('node:vm').Script)(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    { filename: file, cachedData },
  );
  const module = { exports: {} };
  script.runInThisContext()(module.exports, req, module, file, dir);
  return module.exports;
}
