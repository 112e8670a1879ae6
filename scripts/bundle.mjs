// Builds the package's entry point from lib/ (after tsc, which writes dist/*.js and the types):
//   dist/funckey.cjs       lib/entry.ts: what a reader uses, loaded by require('funckey')
//   dist/funckey-lazy.cjs  lib/index.ts without what funckey.cjs holds: the wasm parser,
//                          building, hashing, symbolication; loaded on first use
//   dist/funckey.mjs       import 'funckey': the names of funckey.cjs, re-exported
//   dist/*.d.cts           the types of require('funckey'): those of dist/*.d.ts
// The lazy bundle takes every module funckey.cjs holds from funckey.cjs (its `__modules`), so
// a process has one copy of each class whichever way it loaded funckey.
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
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  absWorkingDir: root,
  // import.meta.url in a CommonJS bundle: the bundle's own URL.
  define: { 'import.meta.url': '__funckeyBundleUrl' },
  banner: { js: "'use strict';\nconst __funckeyBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  metafile: true,
};

const eager = await esbuild.build({
  ...common,
  entryPoints: ['lib/entry.ts'],
  outfile: 'dist/funckey.cjs',
  external: ['./funckey-lazy.cjs', 'node-gyp-build'],
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
  ...common,
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
writeFileSync(
  join(dist, 'funckey.mjs'),
  `// import 'funckey': the exports of funckey.cjs (one copy of the package whichever way it is loaded).\n` +
    `import { createRequire } from 'node:module';\n` +
    `const funckey = createRequire(import.meta.url)('./funckey.cjs');\n` +
    `export const { ${names.join(', ')} } = funckey;\n`,
);
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
