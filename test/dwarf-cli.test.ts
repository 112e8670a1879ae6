/*
 * `funckey strip`, run as a child process from dist/ (npm test compiles it first). The
 * reference for what a stripped module holds is wabt's wasm-objdump: its section list and
 * its disassembly, which must be the input's, offsets included.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { describeWabt, run as tool } from './helpers/wabt.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/dwarf/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'funckey-dwarf-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** wasm-objdump -h's section lines, without the file name line. */
function sections(path: string): string[] {
  return tool('wasm-objdump', ['-h', path]).split('\n').filter((l) => /^\s+\w+ start=/.test(l));
}

describeWabt('funckey strip', () => {
  for (const name of ['c-O2-dwarf5.wasm', 'rust-O0.wasm']) {
    it(`${name}: no name and no .debug_* section left, the rest byte for byte`, () => {
      const input = join(FIXTURES, name);
      const output = join(dir, name);
      const r = cli(['strip', input, '-o', output, '--json']);
      expect(r.status, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout);
      const before = sections(input);
      const after = sections(output);
      const custom = (l: string) => /Custom .*"(name|\.debug_[a-z_]+)"/.test(l);
      expect(before.filter(custom).length).toBeGreaterThan(3);
      expect(after.filter(custom)).toEqual([]);
      // Every other section is still there with its size; the code section at the same place.
      const unplaced = (l: string) => l.replace(/start=\S+ end=\S+ /, '');
      expect(after.map(unplaced)).toEqual(before.filter((l) => !custom(l)).map(unplaced));
      const code = (ls: string[]) => ls.find((l) => /^\s*Code /.test(l));
      expect(code(after)).toBe(code(before));
      expect(report.dropped.length).toBe(before.filter(custom).length);
      expect(report.codeOffsetsUnchanged).toBe(true);
      const dis = (p: string) => tool('wasm-objdump', ['-d', p]).split('\n').slice(2).join('\n');
      const strippedDis = dis(output).replace(/ ?<[^>]*>/g, '');
      expect(strippedDis).toBe(dis(input).replace(/ ?<[^>]*>/g, ''));
      expect(readFileSync(output).length).toBe(report.outputBytes);
    });
  }

  it('refuses a component, a missing -o and a file that is not wasm, with E_ARG / E_WASM', () => {
    const component = join(dir, 'c.wasm');
    writeFileSync(component, Uint8Array.from([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]));
    let r = cli(['strip', component, '-o', join(dir, 'x.wasm')]);
    expect([r.status, r.stderr.split(':')[1]?.trim()]).toEqual([1, 'E_ARG']);
    r = cli(['strip', join(FIXTURES, 'c-O0-dwarf4.wasm')]);
    expect([r.status, r.stderr.split(':')[1]?.trim()]).toEqual([1, 'E_ARG']);
    const junk = join(dir, 'junk.wasm');
    writeFileSync(junk, 'not wasm at all');
    r = cli(['strip', junk, '-o', join(dir, 'y.wasm')]);
    expect([r.status, r.stderr.split(':')[1]?.trim()]).toEqual([1, 'E_WASM']);
  });
});
