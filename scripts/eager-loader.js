// The loader that dist/funckey.cjs and dist/funckey.mjs embed (scripts/bundle.mjs): it runs
// the eager bundle dist/funckey-eager.cjs once per realm, as a CommonJS module would run, but
// compiled with V8's code cache when dist/funckey-eager.v8cache fits it (written by
// scripts/code-cache.cjs at build and at install, for the Node that runs them): the header
// holds the size and modification time of the bundle it was made from, and V8 itself refuses
// a cache of another version or other flags. Without a fitting cache the bundle is compiled
// from its source, as require would.
//   dir          the directory of dist/
//   builtin(id)  one of Node's built-in modules
//   req          the require the bundle gets (node-gyp-build, funckey-lazy.cjs)
function loadEager(dir, builtin, req) {
  const have = globalThis[Symbol.for(`funckey ${dir}`)];
  if (have !== undefined) return have;
  const fs = builtin('node:fs');
  const path = builtin('node:path');
  const file = path.join(dir, 'funckey-eager.cjs');
  const source = fs.readFileSync(file, 'utf8');
  let cachedData;
  try {
    const cache = fs.readFileSync(path.join(dir, 'funckey-eager.v8cache'));
    const st = fs.statSync(file);
    if (cache.length > 16 && cache.readDoubleLE(0) === st.size && cache.readDoubleLE(8) === st.mtimeMs)
      cachedData = cache.subarray(16);
  } catch {
    // no cache: compile from the source
  }
  const script = new (builtin('node:vm').Script)(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    { filename: file, cachedData },
  );
  const module = { exports: {} };
  script.runInThisContext()(module.exports, req, module, file, dir);
  return module.exports;
}
