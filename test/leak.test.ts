/**
 * The native backend releases what it takes: thousands of open/lookup/close cycles leave the
 * process's descriptors (/proc/self/fd) and mappings (/proc/self/maps) where they were, and
 * artifacts that are never closed are unmapped once the garbage collector finds them.
 *
 * Each check runs in a child `node --expose-gc` over the compiled package (dist/, built by
 * `npm test`'s pretest), so vitest's own activity does not blur the counts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeStatus } from '../lib/native.js';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist', 'index.js');
const dir = mkdtempSync(join(tmpdir(), 'funckey-leak-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CYCLES = 5000;
/** Unrelated runtime activity (GC threads, JIT pages) may add or drop a few mappings. */
const SLACK = 40;

function child(script: string): Record<string, number> {
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, FUNCKEY_BACKEND: '' },
    timeout: 120_000,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
}

const prelude = `
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open, ArtifactBuilder, FuncKey } from ${JSON.stringify(dist)};
import { nativeStats } from ${JSON.stringify(join(root, 'dist', 'native.js'))};
const fds = () => readdirSync('/proc/self/fd').length;
const maps = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').length;
const b = new ArtifactBuilder();
b.addModule({ name: 'leak', importedFuncs: 1, definedFuncs: 300 });
for (let i = 0; i < 300; i++) b.pushFunc(FuncKey.definedWasmFunction(0, i), { start: 100 + 10 * i, length: 8 });
for (let i = 1; i <= 300; i += 2) b.setFuncName(0, i, 'f' + i);
const bytes = b.finish();
const path = ${JSON.stringify(join(dir, 'leak.fkx'))};
writeFileSync(path, bytes);
// Distinct files of the same bytes: opening one path again shares its mapping, so a check
// that counts one mapping per artifact opens copies.
const copies = (n) => Array.from({ length: n }, (_, i) => { const p = path + '.' + i; writeFileSync(p, bytes); return p; });
const settle = async () => { for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); } };
`;

const onLinux = existsSync('/proc/self/maps') && existsSync('/proc/self/fd');

describe.skipIf(!nativeStatus().available || !onLinux)('native resources', () => {
  it('the compiled package is present (npm test builds it)', () => {
    expect(existsSync(dist)).toBe(true);
  });

  it(`${CYCLES} open/lookup/close cycles leave descriptors and mappings where they were`, () => {
    const r = child(`${prelude}
      const cycle = (src) => {
        const a = open(src, { backend: 'native' });
        if (a.backend !== 'native') throw new Error('not native');
        let hits = 0;
        if (a.funcLoc(FuncKey.definedWasmFunction(0, 7))?.start === 170) hits++;
        if (a.funcByOffset(175)?.index === 7) hits++;
        if (a.funcName(7) === 'f7') hits++;
        if (a.funcNames(new Uint32Array([1, 2, 3]))[2] === 'f3') hits++;
        a.close();
        return hits;
      };
      cycle(path); cycle(bytes); await settle();
      const fd0 = fds(), maps0 = maps();
      let hits = 0, mapsDuring = 0;
      for (let i = 0; i < ${CYCLES}; i++) {
        hits += cycle(i % 2 ? path : bytes);
        if (i === ${CYCLES} >> 1) mapsDuring = maps();
      }
      await settle();
      // A control: the same number of artifacts left open does show up in the counts.
      const held = copies(1000).map((p) => open(p, { backend: 'native' }));
      const mapsHeld = maps(), fdHeld = fds();
      for (const a of held) a.close();
      const s = nativeStats();
      console.log(JSON.stringify({ fd0, maps0, fd1: fds(), maps1: maps(), mapsDuring, hits, mapsHeld, fdHeld, open: s.open }));
    `);
    expect(r.hits).toBe(4 * CYCLES);
    expect(Math.abs(r.fd1! - r.fd0!)).toBeLessThanOrEqual(2);
    expect(Math.abs(r.maps1! - r.maps0!)).toBeLessThanOrEqual(SLACK);
    expect(Math.abs(r.mapsDuring! - r.maps0!)).toBeLessThanOrEqual(SLACK);
    // Held artifacts: one mapping each, no descriptor each.
    expect(r.mapsHeld! - r.maps0!).toBeGreaterThanOrEqual(1000 - SLACK);
    expect(Math.abs(r.fdHeld! - r.fd0!)).toBeLessThanOrEqual(2);
    expect(r.open).toBe(0);
  });

  it('artifacts never closed are unmapped after garbage collection', () => {
    const r = child(`${prelude}
      await settle();
      const maps0 = maps(), live0 = nativeStats().live;
      // In functions of their own, so that no interpreter register of this frame keeps the last one.
      const files = copies(2000);
      const fill = (refs) => {
        for (let i = 0; i < 2000; i++) {
          const a = open(files[i], { backend: 'native' });
          if (a.funcName(9) !== 'f9') throw new Error('wrong answer');
          refs.push(a);
        }
        return refs;
      };
      const measure = (refs) => [maps(), nativeStats().live, refs.length];
      const [mapsOpen, liveOpen] = measure(fill([]));
      await settle();
      const s = nativeStats();
      console.log(JSON.stringify({ maps0, mapsOpen, maps1: maps(), live0, liveOpen, live1: s.live, open1: s.open }));
    `);
    expect(r.liveOpen! - r.live0!).toBe(2000);
    expect(r.mapsOpen! - r.maps0!).toBeGreaterThanOrEqual(2000 - SLACK);
    expect(r.live1).toBe(r.live0);
    expect(r.open1).toBe(0);
    expect(Math.abs(r.maps1! - r.maps0!)).toBeLessThanOrEqual(SLACK);
  });

  it('closing and then collecting releases once: no double unmap, nothing left behind', () => {
    const r = child(`${prelude}
      await settle();
      const maps0 = maps();
      const churn = () => {
        const refs = [];
        for (let i = 0; i < 1000; i++) {
          const a = open(i % 2 ? path : bytes, { backend: 'native' });
          if (i % 3) a.close();
          refs.push(a);
        }
        return refs.length;
      };
      churn();
      await settle();
      const s = nativeStats();
      // One opened after the collection still answers: no stale finalizer unmaps what it maps.
      const probe = () => {
        const z = open(path, { backend: 'native' });
        const ok = z.funcName(11) === 'f11' ? 1 : 0;
        z.close();
        return ok;
      };
      const ok = probe();
      console.log(JSON.stringify({ maps0, maps1: maps(), live: s.live, open: s.open, ok }));
    `);
    expect(r.ok).toBe(1);
    expect(r.live).toBe(0);
    expect(r.open).toBe(0);
    expect(Math.abs(r.maps1! - r.maps0!)).toBeLessThanOrEqual(SLACK);
  });

  it('worker threads load the addon, each with its own handles, and terminate with artifacts still open', () => {
    const r = child(`${prelude}
      const { Worker } = await import('node:worker_threads');
      const code = \`
        const { open } = await import(\${JSON.stringify(${JSON.stringify(dist)})});
        const { parentPort, workerData } = await import('node:worker_threads');
        const keep = [];
        for (let i = 0; i < 200; i++) { const a = open(workerData, { backend: 'native' }); keep.push(a); if (i % 2) a.close(); }
        parentPort.postMessage(keep[0].funcName(7) + ':' + keep[0].backend);
        setInterval(() => {}, 1000);
      \`;
      const answers = [];
      for (let i = 0; i < 4; i++) {
        const w = new Worker(code, { eval: true, type: 'module', workerData: path });
        answers.push(await new Promise((res, rej) => { w.once('message', res); w.once('error', rej); }));
        await w.terminate();
      }
      const a = open(path, { backend: 'native' });
      const main = a.funcName(7);
      a.close();
      console.log(JSON.stringify({ answers: answers.join(','), main, open: nativeStats().open }));
    `) as unknown as { answers: string; main: string; open: number };
    expect(r.answers).toBe('f7:native,f7:native,f7:native,f7:native');
    expect(r.main).toBe('f7');
    expect(r.open).toBe(0);
  });
});
