/**
 * Resource use under load, each in a child process over the compiled package (dist/):
 *
 * - thousands of artifacts open at once (as many different files) under `ulimit -n 256`: every one
 *   opens and answers, and the native backend holds no descriptor per artifact (it closes
 *   the file once it is mapped), only one mapping each;
 * - open/lookup/close loops leave descriptors, mappings and resident memory where they were:
 *   the memory allowed to grow is a tenth of what the same number of cycles would add if
 *   each leaked its artifact, measured in the same child by holding artifacts on purpose.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_HELD_FILES } from '../lib/file.js';
import { BACKENDS } from './helpers/backends.js';
import { count } from './helpers/heavy.js';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist', 'index.js');
const dir = mkdtempSync(join(tmpdir(), 'funckey-resources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const onLinux = existsSync('/proc/self/maps') && existsSync('/proc/self/fd');
/** Artifacts open at once: far more than the descriptor limit either way. */
const MANY = count('FUNCKEY_MANY_ARTIFACTS', 600, 5000);
const FD_LIMIT = 256;
const CYCLES = count('FUNCKEY_CYCLES', 5000, 10000);
/** Unrelated runtime activity (GC threads, JIT pages) may add or drop a few mappings. */
const SLACK = 40;

/** Runs `script` as an ES module in `node --expose-gc` under `ulimit -n limit`; returns its last stdout line as JSON. */
function child(script: string, limit?: number): Record<string, number> {
  const node = `exec ${JSON.stringify(process.execPath)} --expose-gc --input-type=module`;
  const r = spawnSync('bash', ['-c', `${limit ? `ulimit -n ${limit} && ` : ''}${node}`], {
    input: script,
    encoding: 'utf8',
    env: { ...process.env, FUNCKEY_BACKEND: '' },
    timeout: 300_000,
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`child failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

const prelude = `
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open, ArtifactBuilder, FuncKey } from ${JSON.stringify(dist)};
const fds = () => readdirSync('/proc/self/fd').length;
const maps = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').length;
const rss = () => { const m = /VmRSS:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8')); return Number(m[1]) * 1024; };
const settle = async () => { for (let i = 0; i < 6; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 5)); } };
/** Function i of artifact 'tag' lies at 64 + 16 i (12 bytes) and is named tag + '_' + i. */
const build = (tag, n) => {
  const b = new ArtifactBuilder();
  b.addModule({ name: tag, importedFuncs: 0, definedFuncs: n });
  for (let i = 0; i < n; i++) b.pushFunc(FuncKey.definedWasmFunction(0, i), { start: 64 + 16 * i, length: 12 }, i);
  for (let i = 0; i < n; i++) b.setFuncName(0, i, tag + '_' + i);
  return b.finish();
};
`;

describe.skipIf(!onLinux)('resources', () => {
  describe.each(BACKENDS)('%s', (backend) => {
    it(`${MANY} artifacts open at once under ulimit -n ${FD_LIMIT}, each answering`, () => {
      const sub = join(dir, `many-${backend}`);
      const r = child(
        `${prelude}
        mkdirSync(${JSON.stringify(sub)}, { recursive: true });
        const paths = [];
        for (let i = 0; i < ${MANY}; i++) {
          const p = ${JSON.stringify(sub)} + '/a' + i + '.fkx';
          writeFileSync(p, build('a' + i, 1 + (i % 7)));
          paths.push(p);
        }
        // The descriptors this process can hold: open /dev/null until EMFILE.
        const probe = [];
        let limit = 0;
        const before = fds() - 1; // readdir's own descriptor is counted
        try { for (let i = 0; i < 100000; i++) probe.push(openSync('/dev/null', 'r')); } catch (e) { if (e.code === 'EMFILE') limit = before + probe.length; }
        for (const fd of probe) closeSync(fd);
        await settle();
        // Mappings of the artifact files (the heap's own mappings grow with the number of objects).
        const ours = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.includes(${JSON.stringify(sub)})).length;
        const fd0 = fds(), maps0 = ours();
        const held = paths.map((p) => open(p, { backend: ${JSON.stringify(backend)} }));
        const fdOpen = fds(), mapsOpen = ours();
        let right = 0;
        held.forEach((a, i) => {
          const n = 1 + (i % 7);
          if (a.funcName(n - 1) === 'a' + i + '_' + (n - 1) && a.funcByOffset(64 + 16 * (n - 1) + 3)?.index === n - 1 && a.backend === ${JSON.stringify(backend)}) right++;
        });
        for (const a of held) a.close();
        await settle();
        console.log(JSON.stringify({ limit, fd0, fdOpen, maps0, mapsOpen, mapsClosed: ours(), right }));
      `,
        FD_LIMIT,
      );
      // The child really ran under the lowered limit: it could not open descriptors past it.
      expect(r.limit).toBeGreaterThan(0);
      expect(r.limit).toBeLessThanOrEqual(FD_LIMIT);
      expect(r.right).toBe(MANY);
      // No descriptor per artifact: native closes it at open; js keeps at most MAX_HELD_FILES
      // (the oldest read the rest of their file and let theirs go).
      expect(Math.abs(r.fdOpen! - r.fd0!)).toBeLessThanOrEqual(2 + (backend === 'js' ? MAX_HELD_FILES : 0));
      // One mapping per artifact in native (none in js, which reads the file), none after close.
      expect(r.maps0).toBe(0);
      expect(r.mapsOpen).toBe(backend === 'native' ? MANY : 0);
      expect(r.mapsClosed).toBe(0);
    });

    for (const source of backend === 'native' ? ['path', 'bytes'] : ['path']) {
      it(`${CYCLES} open/lookup/close cycles (${source}): no growth of descriptors, mappings or resident memory`, () => {
        const path = join(dir, `cycle-${backend}-${source}.fkx`);
        const r = child(`${prelude}
          const path = ${JSON.stringify(path)};
          const bytes = build('c', 4000);
          writeFileSync(path, bytes);
          const src = ${JSON.stringify(source)} === 'path' ? path : bytes;
          const backend = ${JSON.stringify(backend)};
          const keys = new Uint32Array([0, 0, 0]), idx = new Uint32Array([0, 1999, 3999]);
          const offs = new Uint32Array([64, 64 + 16 * 2000 + 1, 64 + 16 * 3999 + 11]);
          const fis = new Uint32Array([0, 2000, 3999]);
          let hits = 0;
          const touch = (a) => {
            if (a.funcName(3999) === 'c_3999') hits++;
            if (a.funcLoc(FuncKey.definedWasmFunction(0, 1234))?.start === 64 + 16 * 1234) hits++;
            if (a.funcsByOffset(offs).indices[2] === 3999) hits++;
            if (a.funcLocs(keys, idx).starts[1] === 64 + 16 * 1999) hits++;
            if (a.funcNames(fis)[1] === 'c_2000') hits++;
          };
          const cycle = () => { const a = open(src, { backend }); touch(a); a.close(); };
          for (let i = 0; i < 1000; i++) cycle();
          await settle();
          const fd0 = fds(), maps0 = maps(), rss0 = rss();
          for (let i = 0; i < ${CYCLES}; i++) { cycle(); if (i % 1000 === 999) await new Promise((r) => setImmediate(r)); }
          await settle();
          const fd1 = fds(), maps1 = maps(), rss1 = rss();
          // The control: what one artifact left open (touched the same way) costs. A path
          // opened again shares the mapping already there, so the held ones are copies.
          const held = [];
          const HELD = ${JSON.stringify(source)} === 'path' ? 300 : 1000;
          for (let i = 0; i < HELD; i++) {
            let s = src;
            if (s === path) { s = path + '.' + i; writeFileSync(s, bytes); }
            const a = open(s, { backend }); touch(a); held.push(a);
          }
          await settle();
          const perLeak = (rss() - rss1) / held.length;
          for (const a of held) a.close();
          console.log(JSON.stringify({ fd0, fd1, maps0, maps1, rss0, rss1, perLeak, hits, fileBytes: bytes.length }));
        `);
        expect(r.hits).toBe(5 * (1000 + CYCLES + (source === 'path' ? 300 : 1000)));
        expect(Math.abs(r.fd1! - r.fd0!)).toBeLessThanOrEqual(2);
        expect(Math.abs(r.maps1! - r.maps0!)).toBeLessThanOrEqual(SLACK);
        // Under AddressSanitizer (npm run test:asan) freed memory is quarantined, not reused:
        // resident memory says nothing there, and descriptors and mappings still do.
        if (!process.env.FUNCKEY_ASAN) {
          // The control is meaningful: a held artifact costs at least a page.
          expect(r.perLeak).toBeGreaterThanOrEqual(4096);
          // A leak of one artifact every tenth cycle would exceed this. The held ones reuse
          // pages the cycles freed, so the control can come out below what a leak keeps:
          // a js artifact of a file under 1 MiB holds the whole file, half of which counts.
          const perLeak = backend === 'js' ? Math.max(r.perLeak!, r.fileBytes! / 2) : r.perLeak!;
          expect(r.rss1! - r.rss0!).toBeLessThan((CYCLES / 10) * perLeak);
        }
        if (process.env.FUNCKEY_VERBOSE) console.log(backend, source, r);
      });
    }
  });
});
