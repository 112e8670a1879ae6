// Builds the package's entry point from lib/ (after tsc, which writes dist/*.js and the types):
//   dist/funckey-eager.cjs  lib/entry.ts as CommonJS: what a reader uses
//   dist/funckey.cjs        require('funckey') and
//   dist/funckey.mjs        import 'funckey': each runs funckey-eager.cjs once per realm
//                           (scripts/eager-loader.js), with V8's code cache when one fits,
//                           without starting the module loader of the other kind
//   dist/funckey-eager.v8cache  that code cache (scripts/code-cache.cjs; again at install)
//   dist/funckey-lazy.cjs   lib/index.ts without what funckey-eager.cjs holds: the wasm parser,
//                           building, hashing, symbolication; loaded on first use
//   dist/*.d.cts            the types of require('funckey'): those of dist/*.d.ts
// The eager bundle registers its modules (lib/require.ts shareOnce), both entry points export
// those, and the lazy bundle takes every module the eager one holds from funckey.cjs (its
// `__modules`): a process has one copy of each class whichever way it loaded funckey.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
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
  // lib/require.ts's require and lib/native.ts's directory: the bundle's own.
  define: { 'import.meta.url': '__funckeyMeta.url', __funckeyCjsRequire: 'require', __funckeyCjsDirname: '__dirname' },
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
    sourcefile: 'funckey-eager.cjs',
    loader: 'js',
  },
  outfile: 'dist/funckey-eager.cjs',
});
// The entry points: the loader, then what each module system gives it.
const loader = readFileSync(join(root, 'scripts', 'eager-loader.js'), 'utf8');
writeFileSync(
  join(dist, 'funckey.cjs'),
  `'use strict';\n// require('funckey'): dist/funckey-eager.cjs, run by scripts/bundle.mjs's loader.\n${loader}\n` +
    'module.exports = loadEager(__dirname, require, require);\n',
);
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
    throw new Error(`dist/funckey-lazy.cjs holds a copy of lib/${m}.ts, which funckey-eager.cjs holds`);

const cjs = createRequire(import.meta.url)(join(dist, 'funckey.cjs'));
const names = Object.keys(cjs).filter((n) => n !== '__modules');
const BUILTINS = ['node:fs', 'node:module', 'node:path', 'node:url', 'node:vm'];
writeFileSync(
  join(dist, 'funckey.mjs'),
  `// import 'funckey': dist/funckey-eager.cjs, run by scripts/bundle.mjs's loader. Node's
// built-in modules come from process.getBuiltinModule (Node 20.16): an ES module's import of
// node:fs makes Node build that module's ES facade, which costs more than the rest of funckey's
// import; before 20.16, from import() after all.
const builtin =
  typeof process.getBuiltinModule === 'function'
    ? (id) => process.getBuiltinModule(id)
    : await (async () => {
        const m = new Map();
        for (const id of ${JSON.stringify(BUILTINS)}) m.set(id, (await import(id)).default);
        return (id) => m.get(id);
      })();
let cjs;
const require = (id) =>
  id.startsWith('node:') ? builtin(id) : (cjs ??= builtin('node:module').createRequire(import.meta.url))(id);
const dir = import.meta.dirname ?? builtin('node:path').dirname(builtin('node:url').fileURLToPath(import.meta.url));
${loader}
export const { ${names.join(', ')} } = loadEager(dir, builtin, require);
`,
);
for (const id of readFileSync(join(dist, 'funckey-eager.cjs'), 'utf8').match(/require\(["'][^"']+["']\)/g) ?? []) {
  const m = /["'](.*)["']/.exec(id)[1];
  if (m.startsWith('node:') && !BUILTINS.includes(m))
    throw new Error(`dist/funckey-eager.cjs requires ${m}: add it to BUILTINS (funckey.mjs on Node < 20.16)`);
}
execFileSync(process.execPath, [join(root, 'scripts', 'code-cache.cjs')], { stdio: 'inherit' });

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
