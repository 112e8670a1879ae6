#!/usr/bin/env node
// Writes dist/funckey-eager.v8cache, the V8 code cache with which dist/funckey.cjs and
// dist/funckey.mjs compile the eager bundle (scripts/eager-loader.js): the bundle is run as
// the loader runs it, through the lookups a reader makes (both backends, a path and bytes),
// so that the functions they compile are in the cache too. The file holds the length (a
// double) and the bytes of the bundle it was made from, then V8's data: the loader uses the
// data only while the bundle's bytes are those. Run by scripts/bundle.mjs after each
// build and by scripts/install.cjs at install (for the Node that installs, whose cache V8
// accepts); it never fails, and says nothing (but with FUNCKEY_BUILD_VERBOSE=1): without a
// cache funckey compiles the bundle from its source.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire } = require('node:module');

const dist = path.join(__dirname, '..', 'dist');
const file = path.join(dist, 'funckey-eager.cjs');
const out = path.join(dist, 'funckey-eager.v8cache');

/** The lookups of a reader, on samples/demo.wasm's artifact. */
function warmUp(fk) {
  const bytes = fk.buildFromWasm(fs.readFileSync(path.join(__dirname, '..', 'samples', 'demo.wasm')));
  const tmp = path.join(os.tmpdir(), `funckey-code-cache-${process.pid}.fkx`);
  fs.writeFileSync(tmp, bytes);
  try {
    for (const backend of ['js', 'native'])
      for (const source of [tmp, bytes]) {
        if (backend === 'native' && !fk.nativeStatus().available) continue;
        const a = fk.open(source, { backend });
        a.funcName(3);
        a.funcNames(new Uint32Array([1, 2, 3]));
        a.funcLoc(fk.FuncKey.definedWasmFunction(0, 0));
        a.funcByOffset(0x77);
        a.srcLocs(0x77);
        a.describe();
        a.close();
      }
    fk.open(tmp).funcName(3);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

const tmp = `${out}.${process.pid}.tmp`;
try {
  const bytes = fs.readFileSync(file);
  const source = bytes.toString('utf8');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dist);
  warmUp(module.exports);
  const data = script.createCachedData();
  const header = Buffer.alloc(8);
  header.writeDoubleLE(bytes.length, 0);
  fs.writeFileSync(tmp, Buffer.concat([header, bytes, data]));
  fs.renameSync(tmp, out);
} catch (e) {
  fs.rmSync(tmp, { force: true });
  fs.rmSync(out, { force: true });
  if (process.env.FUNCKEY_BUILD_VERBOSE === '1')
    console.log(
      `funckey: no code cache for the entry point (${e && e.message ? e.message : e}); it compiles from source`,
    );
}
