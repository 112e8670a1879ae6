/**
 * vitest globalSetup: the tests that run the package as a child process (the CLI, the bench,
 * end-to-end scripts) run dist/, not lib/. Before any test runs, dist/ is compiled again
 * (`npm run compile`: tsc, then scripts/bundle.mjs) when a lib/ source is newer than its
 * output or has none, or than one of the bundles the entry points load, and the run fails if
 * it still is not.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The lib/ sources (lib/a/b.ts) whose dist/a/b.js is missing or older. */
export function staleOutputs(root = ROOT): string[] {
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        const out = join(root, 'dist', relative(join(root, 'lib'), path).replace(/\.ts$/, '.js'));
        if (!existsSync(out) || statSync(out).mtimeMs < statSync(path).mtimeMs) stale.push(relative(root, path));
      }
    }
  };
  walk(join(root, 'lib'));
  return stale;
}

/** The bundles of scripts/bundle.mjs, each made from many lib/ sources. */
const BUNDLES = ['funckey-eager.cjs', 'funckey-lazy.cjs', 'funckey.cjs', 'funckey.mjs'];

/** The bundles (dist/x.cjs) missing or older than the newest lib/ source. */
export function staleBundles(root = ROOT): string[] {
  let newest = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(root, 'lib'));
  return BUNDLES.map((b) => join('dist', b)).filter((b) => {
    const out = join(root, b);
    return !existsSync(out) || statSync(out).mtimeMs < newest;
  });
}

export default function setup(): void {
  const before = [...staleOutputs(), ...staleBundles()];
  if (before.length === 0) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  let res = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
  if (res.status === 0)
    res = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, encoding: 'utf8' });
  const after = [...staleOutputs(), ...staleBundles()];
  if (res.status !== 0 || after.length > 0)
    throw new Error(
      `dist/ is older than lib/ (${before.join(', ')}) and compiling it did not make it current:\n${res.stdout}${res.stderr}`,
    );
}
