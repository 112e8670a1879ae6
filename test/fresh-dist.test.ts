/** The check run before the suite (test/helpers/fresh-dist.ts) that keeps dist/ no older than lib/. */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { staleBundles, staleOutputs } from './helpers/fresh-dist.js';

const root = mkdtempSync(join(tmpdir(), 'funckey-fresh-dist-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const file = (path: string, mtime: number) => {
  const at = join(root, path);
  mkdirSync(join(at, '..'), { recursive: true });
  writeFileSync(at, '');
  utimesSync(at, mtime, mtime);
};

describe('staleOutputs', () => {
  it('names each lib/ source whose dist/ output is missing or older, and nothing else', () => {
    file('lib/a.ts', 1000);
    file('dist/a.js', 2000); // newer: fresh
    file('lib/b.ts', 3000);
    file('dist/b.js', 2000); // older: stale
    file('lib/sub/c.ts', 1000); // no output: stale
    file('lib/types.d.ts', 5000); // declarations compile to nothing
    expect(staleOutputs(root).sort()).toEqual(['lib/b.ts', join('lib', 'sub', 'c.ts')]);
    file('dist/b.js', 4000);
    file('dist/sub/c.js', 4000);
    expect(staleOutputs(root)).toEqual([]);
  });

  it('finds the repository dist/ up to date once the suite has started', () => {
    expect(staleOutputs()).toEqual([]);
    expect(staleBundles()).toEqual([]);
  });
});

describe('staleBundles', () => {
  it('names each bundle missing or older than the newest lib/ source', () => {
    const r = mkdtempSync(join(tmpdir(), 'funckey-fresh-bundles-'));
    const at = (path: string, mtime: number) => {
      mkdirSync(join(r, path, '..'), { recursive: true });
      writeFileSync(join(r, path), '');
      utimesSync(join(r, path), mtime, mtime);
    };
    try {
      at('lib/a.ts', 1000);
      at('lib/sub/b.ts', 3000);
      at('dist/funckey-eager.cjs', 4000); // newer than every source: fresh
      at('dist/funckey-lazy.cjs', 2000); // older than lib/sub/b.ts: stale
      at('dist/funckey.cjs', 3000); // as new as the newest: fresh
      // dist/funckey.mjs missing: stale
      expect(staleBundles(r).sort()).toEqual([join('dist', 'funckey-lazy.cjs'), join('dist', 'funckey.mjs')]);
      at('dist/funckey-lazy.cjs', 5000);
      at('dist/funckey.mjs', 5000);
      expect(staleBundles(r)).toEqual([]);
    } finally {
      rmSync(r, { recursive: true, force: true });
    }
  });
});
