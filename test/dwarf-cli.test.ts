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
import { afterAll, describe, expect, it } from 'vitest';
import { describeWabt, run as tool } from './helpers/wabt.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/dwarf/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'funckey-dwarf-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** wasm-objdump -h's section lines, without the file name line. */
function sections(path: string): string[] {
  return tool('wasm-objdump', ['-h', path])
    .split('\n')
    .filter((l) => /^\s+\w+ start=/.test(l));
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

/** A golden file (scripts/make-dwarf-fixtures.sh) as (address, frames "f|file|line|col") pairs. */
function golden(name: string): [number, string[]][] {
  const out: [number, string[]][] = [];
  let prev: string[] = [];
  for (const line of readFileSync(join(FIXTURES, name.replace(/\.wasm$/, '.golden')), 'utf8').split('\n')) {
    if (line === '') continue;
    const [addr, ...frames] = line.split('\t');
    prev = frames.length === 1 && frames[0] === '=' ? prev : frames.filter((f) => f !== '');
    out.push([parseInt(addr!, 16), prev]);
  }
  return out;
}

/** llvm-symbolizer's LLVM output style for golden chains. */
function llvmStyle(chains: string[][]): string {
  return chains
    .map((frames) => {
      if (frames.length === 0) return '??\n??:0:0\n\n';
      return (
        frames
          .map((f) => {
            const [fn, file, line, col] = f.split('|');
            return `${fn || '??'}\n${file || '??'}:${line}:${col}\n`;
          })
          .join('') + '\n'
      );
    })
    .join('');
}

const HAVE_LLVM = spawnSync('llvm-symbolizer-14', ['--version']).status === 0;
const ALL = process.env.CI === 'true' || process.env.FUNCKEY_HEAVY === '1';

describe('funckey addr --symbolizer', () => {
  const names = ALL
    ? [
        'c-O0-dwarf4.wasm',
        'c-O2-dwarf5.wasm',
        'cpp-O2-dwarf4.wasm',
        'cpp-O0-dwarf5.wasm',
        'rust-O0.wasm',
        'rust-O2.wasm',
      ]
    : ['c-O2-dwarf5.wasm', 'rust-O2.wasm'];
  for (const name of names) {
    it(`${name}: every instruction address, as llvm-symbolizer-14 --inlines --no-demangle prints it`, () => {
      const g = golden(name);
      const input = g.map(([a]) => '0x' + a.toString(16)).join('\n') + '\n';
      const r = cli(['addr', join(FIXTURES, name), '--symbolizer'], input);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(llvmStyle(g.map(([, c]) => c)));
      if (HAVE_LLVM) {
        const live = spawnSync('llvm-symbolizer-14', ['--inlines', '--no-demangle', `--obj=${join(FIXTURES, name)}`], {
          input,
          encoding: 'utf8',
          maxBuffer: 1 << 28,
        });
        expect(r.stdout).toBe(live.stdout);
      }
    });
  }

  it('an artifact is E_ARG (the source locations come from the module)', () => {
    const demo = fileURLToPath(new URL('../samples/demo.wasm', import.meta.url));
    const art = join(dir, 'demo.fkx');
    expect(cli(['build', demo, '-o', art]).status).toBe(0);
    const r = cli(['addr', art, '--symbolizer'], '0x10\n');
    expect([r.status, r.stderr.split(':')[1]?.trim()]).toEqual([1, 'E_ARG']);
  });
});

describeWabt('funckey addr <module.wasm> OFFSET', () => {
  it('prints the chain, innermost first, at offsets of the file (the code section moved in by wasm-objdump -h)', () => {
    const name = 'c-O2-dwarf5.wasm';
    const code = parseInt(/Code start=0x([0-9a-f]+)/.exec(tool('wasm-objdump', ['-h', join(FIXTURES, name)]))![1]!, 16);
    const g = golden(name)
      .filter(([, c]) => c.length >= 2)
      .slice(0, 20);
    const r = cli(['addr', join(FIXTURES, name), ...g.map(([a]) => '0x' + (a + code).toString(16)), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as {
      offset: number;
      frames: { function: string; file: string; line: number; column: number }[];
    }[];
    expect(rows.map((x) => x.frames.map((f) => `${f.function}|${f.file}|${f.line}|${f.column}`))).toEqual(
      g.map(([, c]) => c),
    );
    const text = cli(['addr', join(FIXTURES, name), '0x' + (g[0]![0] + code).toString(16)]).stdout.split('\n');
    expect(text[1]).toMatch(/^  \S+ \S+:\d+:\d+ \(inlined\)$/);
  });

  it('the same from the artifact funckey build wrote (its source-location sections)', () => {
    const name = 'c-O2-dwarf5.wasm';
    const code = parseInt(/Code start=0x([0-9a-f]+)/.exec(tool('wasm-objdump', ['-h', join(FIXTURES, name)]))![1]!, 16);
    const g = golden(name)
      .filter(([, c]) => c.length >= 2)
      .slice(0, 20);
    const art = join(dir, 'c-O2-dwarf5.fkx');
    expect(cli(['build', join(FIXTURES, name), '-o', art]).status).toBe(0);
    const offsets = g.map(([a]) => '0x' + (a + code).toString(16));
    const r = cli(['addr', art, ...offsets, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as {
      frames: { function: string; file: string; line: number; column: number }[];
    }[];
    expect(rows.map((x) => x.frames.map((f) => `${f.function}|${f.file}|${f.line}|${f.column}`))).toEqual(
      g.map(([, c]) => c),
    );
    expect(cli(['addr', art, ...offsets]).stdout).toBe(cli(['addr', join(FIXTURES, name), ...offsets]).stdout);
  });
});
