/*
 * Streams: TraceRewriter, symbolicateStream and `funckey symbolicate` give the same bytes
 * whatever the chunking, pass every byte outside a rewritten frame through as it was (not
 * UTF-8 included), and hold memory bounded whatever the input's size. References: the
 * engines' own traces of the named module (test/fixtures/traces/) and bytes written by hand.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFromWasmFile, MAX_LINE, open, symbolicateStream, TraceRewriter, type Artifact } from '../lib/index.js';
import { BACKENDS } from './helpers/backends.js';
import { codeOf } from './helpers/codes.js';

const HEAVY = process.env.FUNCKEY_HEAVY === '1';
const NAMED = fileURLToPath(new URL('../samples/engines/named.wasm', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const STREAM_JS = fileURLToPath(new URL('../dist/trace-stream.js', import.meta.url));
const INDEX_JS = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const fixture = (f: string) => readFileSync(new URL(`./fixtures/traces/${f}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'funckey-stream-'));
const ARTIFACT = join(dir, 'named.fkx');
writeFileSync(ARTIFACT, buildFromWasmFile(NAMED));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The rewriter's output for `input` pushed in chunks of `size` bytes. */
function rewrite(a: Artifact, input: Buffer, size: number): Buffer {
  const rw = new TraceRewriter(a);
  const out: Buffer[] = [];
  const scratch = Buffer.alloc(size);
  for (let p = 0; p < input.length; p += size) {
    // The same scratch buffer every time: the rewriter must not keep the caller's memory.
    const n = input.copy(scratch, 0, p, p + size);
    out.push(...rw.push(scratch.subarray(0, n)));
    scratch.fill(0x2a);
  }
  out.push(...rw.end());
  return Buffer.concat(out);
}

const V8_STRIPPED = '    at wasm://wasm/000de97e:wasm-function[12000]:0x37a4e';
const V8_NAMED = '    at ownmod.fn_11999 (wasm://wasm/000de97e:wasm-function[12000]:0x37a4e)';

describe.each(BACKENDS)('TraceRewriter (%s backend)', (backend) => {
  const a = open(ARTIFACT, { backend });
  const engines = ['gjs', 'jsc', 'wasmtime', 'bun-callsites'];

  it.each([1, 3, 17, 4096, 1 << 20])('gives the engines their named traces in chunks of %i bytes', (size) => {
    // Non-V8 engines print the same URLs for both builds, so the bytes compare as they are.
    for (const e of engines)
      expect(rewrite(a, fixture(`${e}.stripped.txt`), size).toString('utf8')).toBe(
        fixture(`${e}.named.txt`).toString('utf8'),
      );
  });

  it('passes bytes that are not UTF-8 through as they are, in frame lines too', () => {
    const raw = (s: string) => Buffer.from(s, 'latin1');
    const input = Buffer.concat([
      raw('\xff\xfe log \x80\r\n'),
      raw(V8_STRIPPED),
      raw(' \xc3\x28 trailing\n'),
      raw('\xe9t\xe9\r'),
      raw(V8_STRIPPED),
    ]);
    const expected = Buffer.concat([
      raw('\xff\xfe log \x80\r\n'),
      Buffer.from(V8_NAMED),
      raw(' \xc3\x28 trailing\n'),
      raw('\xe9t\xe9\r'),
      Buffer.from(V8_NAMED),
    ]);
    for (const size of [1, 2, 5, 64, 4096]) expect(rewrite(a, input, size).equals(expected)).toBe(true);
  });

  it('writes names as UTF-8 (non-ASCII names of the module)', () => {
    const input = Buffer.from('x\xff\n    at wasm://wasm/000de97e:wasm-function[5001]:0x18e37\n', 'latin1');
    const out = rewrite(a, input, 7);
    expect(out.subarray(0, 3).equals(Buffer.from('x\xff\n', 'latin1'))).toBe(true);
    expect(out.subarray(3).toString('utf8')).toBe(
      '    at ownmod.fn_5000_ñé€_🦀 (wasm://wasm/000de97e:wasm-function[5001]:0x18e37)\n',
    );
  });

  it('passes a line longer than MAX_LINE through unread; the lines after it are read', () => {
    const long = V8_STRIPPED + ' ' + 'x'.repeat(MAX_LINE);
    const input = Buffer.from(`${long}\n${V8_STRIPPED}\n${long}`);
    for (const size of [4096, 1 << 20, 3 << 20])
      expect(rewrite(a, input, size).toString()).toBe(`${long}\n${V8_NAMED}\n${long}`);
  });

  it('symbolicateStream is a Transform of the same bytes', async () => {
    const input = fixture('gjs.stripped.txt');
    const chunks = Array.from({ length: Math.ceil(input.length / 100) }, (_, i) =>
      input.subarray(i * 100, i * 100 + 100),
    );
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(chunks),
      symbolicateStream(a),
      new Writable({
        write(c: Buffer, _e, cb) {
          out.push(c);
          cb();
        },
      }),
    );
    expect(Buffer.concat(out).toString()).toBe(fixture('gjs.named.txt').toString());
  });

  it('checks its arguments: E_ARG', () => {
    expect(codeOf(() => new TraceRewriter(null as never))).toBe('E_ARG');
    expect(codeOf(() => symbolicateStream({} as never))).toBe('E_ARG');
    expect(codeOf(() => new TraceRewriter(a, null as never))).toBe('E_ARG');
    expect(codeOf(() => new TraceRewriter(a).push('text' as never))).toBe('E_ARG');
    expect(codeOf(() => new TraceRewriter(a, {}, 'f' as never))).toBe('E_ARG');
  });
});

/** A child that pumps `mib` MiB of V8 traces through `what` and reports its peak RSS (KiB). */
function peakRss(what: 'lib' | 'cli', mib: number): { rss: number; out: number; named: number } {
  const gen = `
    const line = Buffer.from(${JSON.stringify(`${V8_STRIPPED}\n    at Object.<anonymous> (/srv/app/index.js:12:5)\nlog line \xff\xfe\n`)}, 'latin1');
    const chunk = Buffer.concat(Array.from({ length: Math.ceil(65536 / line.length) }, () => line));
    const chunks = Math.ceil(${mib} * 1048576 / chunk.length);`;
  if (what === 'lib') {
    const script = `
      const { open } = await import(${JSON.stringify(INDEX_JS)});
      const { TraceRewriter } = await import(${JSON.stringify(STREAM_JS)});
      ${gen}
      const rw = new TraceRewriter(open(${JSON.stringify(ARTIFACT)}));
      let out = 0, named = 0;
      for (let i = 0; i < chunks; i++) for (const b of rw.push(chunk)) { out += b.length; named += b.includes('ownmod.fn_11999') ? 1 : 0; }
      console.log(JSON.stringify({ rss: process.resourceUsage().maxRSS, out, named }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  }
  // The CLI's peak RSS, as its parent (python3) sees it in getrusage(RUSAGE_CHILDREN).
  const py = `
import resource, subprocess, sys, json
line = ${JSON.stringify(`${V8_STRIPPED}\n    at Object.<anonymous> (/srv/app/index.js:12:5)\nlog line \xff\xfe\n`)}.encode('latin1')
chunk = line * (65536 // len(line) + 1)
n = int(${mib} * 1048576 / len(chunk)) + 1
p = subprocess.Popen([sys.argv[1], sys.argv[2], 'symbolicate', sys.argv[3]], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
import threading
res = {'out': 0, 'named': 0}
def read():
    tail = b''
    while True:
        b = p.stdout.read(1 << 16)
        if not b: break
        res['out'] += len(b)
        res['named'] += (tail + b).count(b'ownmod.fn_11999')
        tail = b[-32:]
t = threading.Thread(target=read); t.start()
for i in range(n): p.stdin.write(chunk)
p.stdin.close(); p.wait(); t.join()
res['rss'] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
res['status'] = p.returncode
print(json.dumps(res))`;
  const r = spawnSync('python3', ['-c', py, process.execPath, CLI, ARTIFACT], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const j = JSON.parse(r.stdout);
  expect(j.status).toBe(0);
  return j;
}

const hasPython = spawnSync('python3', ['-c', '1']).status === 0;

describe('memory on a large log', () => {
  const mib = HEAVY ? 1024 : 16;
  it(`TraceRewriter: ${mib} MiB through, peak RSS under 100 MiB`, { timeout: 600_000 }, () => {
    const r = peakRss('lib', mib);
    expect(r.rss).toBeLessThan(100 * 1024);
    expect(r.out).toBeGreaterThan(mib * 1048576);
    expect(r.named).toBeGreaterThan(0);
  });
  it.skipIf(!hasPython)(
    `funckey symbolicate: ${mib} MiB through a pipe, peak RSS under 100 MiB`,
    { timeout: 600_000 },
    () => {
      const r = peakRss('cli', mib);
      expect(r.rss).toBeLessThan(100 * 1024);
      expect(r.out).toBeGreaterThan(mib * 1048576);
      expect(r.named).toBeGreaterThan(1000);
    },
  );
});

describe('funckey symbolicate streams bytes', () => {
  it('keeps bytes that are not UTF-8, from a file and from stdin', () => {
    const input = Buffer.concat([
      Buffer.from('\xff\xfe\n', 'latin1'),
      Buffer.from(V8_STRIPPED + '\n'),
      Buffer.from('\x80end', 'latin1'),
    ]);
    const expected = Buffer.concat([
      Buffer.from('\xff\xfe\n', 'latin1'),
      Buffer.from(V8_NAMED + '\n'),
      Buffer.from('\x80end', 'latin1'),
    ]);
    const file = join(dir, 'trace.bin');
    writeFileSync(file, input);
    for (const args of [[file], ['-'], []]) {
      const r = spawnSync(process.execPath, [CLI, 'symbolicate', ARTIFACT, ...args], { input });
      expect(r.stderr.toString()).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.equals(expected)).toBe(true);
    }
  });

  it('--json lists the frames, lines counted across chunks', () => {
    const text = 'first\n'.repeat(300_000) + V8_STRIPPED + '\n';
    const r = spawnSync(process.execPath, [CLI, 'symbolicate', ARTIFACT, '--json'], {
      input: text,
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject([
      { line: 300_001, engine: 'v8', funcIndex: 12000, offset: 0x37a4e, name: 'fn_11999', status: 'resolved' },
    ]);
    const none = spawnSync(process.execPath, [CLI, 'symbolicate', ARTIFACT, '--json'], {
      input: 'nothing\n',
      encoding: 'utf8',
    });
    expect(JSON.parse(none.stdout)).toEqual([]);
  });
});
