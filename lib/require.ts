/**
 * What the package's bundles need of the module system, kept off the path of `import
 * 'funckey'`: a CommonJS `require` (for node-gyp-build and the lazy bundle), made on first
 * use, and the one copy of the package that every entry point shares.
 *
 * dist/funckey.mjs (import) and dist/funckey.cjs (require) both run the eager bundle
 * dist/funckey-eager.cjs themselves (scripts/eager-loader.js), so that an ES module never
 * starts the CommonJS loader to import funckey (in a fresh ES-module process that costs more
 * than the rest of the import). The bundle registers its modules (shareOnce); the entry
 * points, and the lazy bundle through require('./funckey.cjs'), take those: one copy of
 * every class in a process whichever way funckey was loaded.
 */

/** The CommonJS bundle's own `require` (scripts/bundle.mjs defines it); undefined elsewhere. */
declare const __funckeyCjsRequire: ((id: string) => unknown) | undefined;

interface NodeModule {
  createRequire(from: string): (id: string) => unknown;
}

let nodeModule: NodeModule | undefined;
let req: ((id: string) => unknown) | undefined;

/**
 * Gives `node:module` to cjsRequire where `process.getBuiltinModule` (Node 20.16) is missing
 * and no CommonJS require was given: lib/index.ts and the CLI, run unbundled, import it.
 */
export function setNodeModule(m: NodeModule): void {
  nodeModule ??= m;
}

/** require(id) from this file's directory (the bundle's, or lib/'s). */
export function cjsRequire(id: string): unknown {
  if (req === undefined) {
    if (typeof __funckeyCjsRequire === 'function') {
      req = __funckeyCjsRequire;
    } else {
      const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
      const m = (get?.call(process, 'node:module') as NodeModule | undefined) ?? nodeModule;
      if (m === undefined) throw new Error('funckey: node:module is not available to load CommonJS modules');
      req = m.createRequire(import.meta.url);
    }
  }
  return req(id);
}

/**
 * The modules of the first bundle of the package directory `dir` loaded in this realm: `mine`
 * when this bundle is the first (it then registers them), else the registered ones.
 */
export function shareOnce<T extends object>(mine: T, dir: string): T {
  const key = Symbol.for(`funckey ${dir}`);
  const g = globalThis as unknown as Record<symbol, T | undefined>;
  const have = g[key];
  if (have !== undefined) return have;
  Object.defineProperty(g, key, { value: mine });
  return mine;
}
