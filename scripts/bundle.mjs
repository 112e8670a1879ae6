// Builds the package's entry point from lib/ (after tsc, which writes dist/*.js and the types):
//   dist/funckey.cjs       require('funckey'): lib/entry.ts, what a reader uses
//   dist/funckey.mjs       import 'funckey': the same modules as an ES module, so that importing
//                          funckey never starts the CommonJS loader (lib/require.ts)
//   dist/funckey-lazy.cjs  lib/index.ts without what funckey.cjs holds: the wasm parser,
//                          building, hashing, symbolication; loaded on first use
//   dist/*.d.cts           the types of require('funckey'): those of dist/*.d.ts
// The first of funckey.cjs and funckey.mjs loaded in a process registers its modules and the
// other exports those (lib/require.ts shareOnce); the lazy bundle takes every module the eager
// bundles hold from funckey.cjs (its `__modules`), so a process has one copy of each class
// whichever way it loaded funckey.
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild-wasm';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  absWorkingDir: root,
  metafile: true,
};
const cjsCommon = {
  ...common,
  format: 'cjs',
  // import.meta.url in a CommonJS bundle: the bundle's own URL, computed when first asked for;
  // lib/require.ts's require: the bundle's own.
  define: { 'import.meta.url': '__funckeyMeta.url', __funckeyCjsRequire: 'require' },
  banner: {
    js: "'use strict';\nconst __funckeyMeta = { get url() { return require('node:url').pathToFileURL(__filename).href; } };",
  },
};

const eager = await esbuild.build({
  ...cjsCommon,
  stdin: {
    contents:
      "const mine = require('./lib/entry.ts');\n" +
      "module.exports = require('./lib/require.ts').shareOnce(mine, __dirname);\n",
    resolveDir: root,
    sourcefile: 'funckey.cjs',
    loader: 'js',
  },
  outfile: 'dist/funckey.cjs',
});
const eagerModules = new Set(
  Object.keys(eager.metafile.inputs)
    .filter((f) => f.startsWith('lib/'))
    .map((f) => basename(f, '.ts')),
);
const listed = new Set(Object.keys(createRequire(import.meta.url)(join(dist, 'funckey.cjs')).__modules));
for (const m of eagerModules)
  if (m !== 'entry' && m !== 'core' && !listed.has(m))
    throw new Error(`lib/entry.ts: __modules lacks '${m}', which funckey.cjs holds`);

await esbuild.build({
  ...cjsCommon,
  entryPoints: ['lib/index.ts'],
  outfile: 'dist/funckey-lazy.cjs',
  external: ['node-gyp-build', './funckey.cjs'],
  plugins: [
    {
      name: 'eager-modules-from-funckey.cjs',
      setup(build) {
        // Any relative import (./x.js from lib/, ../x.js from lib/dwarf/) of an eager module.
        build.onResolve({ filter: /^\.\.?\/[\w./-]+\.js$/ }, (a) => {
          const target = join(a.resolveDir, a.path);
          const m = basename(target, '.js');
          return listed.has(m) && relative(join(root, 'lib'), dirname(target)) === ''
            ? { path: m, namespace: 'eager' }
            : undefined;
        });
        build.onLoad({ filter: /.*/, namespace: 'eager' }, (a) => ({
          contents: `module.exports = require('./funckey.cjs').__modules[${JSON.stringify(a.path)}];`,
          loader: 'js',
        }));
      },
    },
  ],
});
// The lazy bundle must not carry a copy of an eager module: its `require('./funckey.cjs')` stays external.
const lazySrc = readFileSync(join(dist, 'funckey-lazy.cjs'), 'utf8');
for (const m of listed)
  if (lazySrc.includes(`\n// lib/${m}.ts\n`))
    throw new Error(`dist/funckey-lazy.cjs holds a copy of lib/${m}.ts, which funckey.cjs holds`);

const cjs = createRequire(import.meta.url)(join(dist, 'funckey.cjs'));
const names = Object.keys(cjs).filter((n) => n !== '__modules');
// In an ES module, `import ... from 'node:fs'` makes Node build the module's ES facade (every
// export of node:fs), which costs more than the rest of funckey's import: the ES bundle takes
// Node's built-in modules from process.getBuiltinModule instead (Node 20.16; before it, the
// facade after all).
const builtinsFromProcess = {
  name: 'builtins-from-process',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (a) =>
      a.namespace === 'builtin' || a.kind === 'dynamic-import'
        ? { path: a.path, external: true }
        : { path: a.path, namespace: 'builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (a) => {
      const names = Object.keys(createRequire(import.meta.url)(a.path)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n));
      const id = JSON.stringify(a.path);
      return {
        contents:
          `const m = typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule(${id}) : await import(${id});\n` +
          `export const { ${names.join(', ')} } = m;\nexport default m;\n`,
        loader: 'js',
      };
    });
  },
};
const esm = await esbuild.build({
  ...common,
  format: 'esm',
  define: { __funckeyCjsRequire: 'undefined' },
  plugins: [builtinsFromProcess],
  stdin: {
    contents:
      "import * as mine from './lib/entry.ts';\n" +
      "import { setNodeModule, shareOnce } from './lib/require.ts';\n" +
      "if (typeof process.getBuiltinModule !== 'function') setNodeModule(await import('node:module'));\n" +
      "const dir = import.meta.dirname ?? (await import('node:path')).dirname(decodeURIComponent(new URL(import.meta.url).pathname));\n" +
      `export const { ${names.join(', ')} } = shareOnce(mine, dir);\n`,
    resolveDir: root,
    sourcefile: 'funckey.mjs',
    loader: 'js',
  },
  outfile: 'dist/funckey.mjs',
});
const esmModules = Object.keys(esm.metafile.inputs).filter((f) => f.startsWith('lib/'));
const cjsModules = Object.keys(eager.metafile.inputs).filter((f) => f.startsWith('lib/'));
if (esmModules.sort().join() !== cjsModules.sort().join())
  throw new Error('dist/funckey.mjs and dist/funckey.cjs hold different modules');
// Types for require('funckey'): each dist/X.d.ts as dist/X.d.cts importing the other .d.cts
// files (a CommonJS declaration may not import an ES module's under node16/nodenext), the
// entry's being those of dist/index.d.ts.
/** The files below dir, as paths relative to it (readdirSync's `recursive` needs Node 20.1). */
function walk(dir, sub = '') {
  return readdirSync(join(dir, sub), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(dir, join(sub, e.name)) : [join(sub, e.name)],
  );
}
for (const f of walk(dist)) {
  if (!f.endsWith('.d.ts')) continue;
  const text = readFileSync(join(dist, f), 'utf8')
    .replace(/\/\/# sourceMappingURL=.*\n?/, '')
    .replace(/(from|import\() '(\.\.?\/[\w./-]+)\.js'/g, "$1 '$2.cjs'");
  writeFileSync(join(dist, f === 'index.d.ts' ? 'funckey.d.cts' : f.replace(/\.d\.ts$/, '.d.cts')), text);
}
