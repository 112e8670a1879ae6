/**
 * Paths that are not artifacts a reader can take whole: a FIFO, /proc and /sys files whose
 * size fstat does not tell, devices, directories. Each gives the same code from both
 * backends, at once. Run in a child process over dist/, with a time and memory limit: a
 * reader that waited for a FIFO's writer, or read /proc/self/pagemap to its end, would
 * otherwise hang or kill the test runner.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKENDS } from './helpers/backends.js';

const dist = join(__dirname, '..', 'dist', 'index.js');
const dir = mkdtempSync(join(tmpdir(), 'funckey-hostile-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);
// A sparse file of 5 GiB: past the 4 GiB an artifact (and a binary funckey reads) can have.
const huge = join(dir, 'huge');
writeFileSync(huge, '');
truncateSync(huge, 5 * 2 ** 30);

/** The code each path gives in a child with 10 s and 4 GiB of address space at most. */
function codes(backend: string, paths: string[], call: 'open' | 'buildFromWasmFile'): Record<string, string> {
  const script = `
    import(${JSON.stringify(dist)}).then((fk) => {
      const out = {};
      for (const p of ${JSON.stringify(paths)}) {
        try { ${call === 'open' ? `fk.open(p, { backend: ${JSON.stringify(backend)} })` : 'fk.buildFromWasmFile(p)'}; out[p] = 'ok'; }
        catch (e) { out[p] = e.code ?? String(e); }
      }
      console.log(JSON.stringify(out));
    });`;
  // Address space capped at 4 GiB, except under AddressSanitizer, whose shadow memory needs more.
  const cap = process.env.FUNCKEY_ASAN ? '' : 'ulimit -v 4194304 && ';
  const r = spawnSync(
    'bash',
    ['-c', `${cap}exec node --max-old-space-size=512 -e '${script.replace(/'/g, `'\\''`)}'`],
    {
      encoding: 'utf8',
      timeout: 10_000,
    },
  );
  expect(r.error, 'the child finished in time').toBe(undefined);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, string>;
}

const special: [string, string][] = [
  [fifo, 'E_IO'],
  [huge, 'E_IO'],
  ['/dev/zero', 'E_IO'],
  ['/dev/null', 'E_IO'],
  [dir, 'E_IO'],
  ['/proc/self/pagemap', 'E_FORMAT'], // a regular file of size 0 to fstat: read as empty
  ['/proc/self/mem', 'E_FORMAT'],
  ['/proc/self/status', 'E_FORMAT'],
];
const sys = '/sys/kernel/mm/transparent_hugepage/enabled'; // fstat says 4096 bytes; it has fewer
if (existsSync(sys)) special.push([sys, 'E_IO']);

describe.each(BACKENDS)('special files, backend %s', (backend) => {
  it('open: the same code as the other backend, in bounded time and memory', () => {
    const got = codes(
      backend,
      special.map(([p]) => p),
      'open',
    );
    expect(got).toEqual(Object.fromEntries(special));
  });
});

describe('special files given to buildFromWasmFile', () => {
  it('are refused at once, E_IO for what is no regular file, E_WASM for an empty one', () => {
    const want = special.map(([p, code]) => [p, code === 'E_FORMAT' ? 'E_WASM' : code] as [string, string]);
    expect(
      codes(
        'js',
        want.map(([p]) => p),
        'buildFromWasmFile',
      ),
    ).toEqual(Object.fromEntries(want));
  });
});
