/**
 * Worker threads: the addon loads in several workers at once (it keeps no global state: one
 * registry per environment), each worker opens the same artifacts in every backend and
 * answers the same questions in parallel with the main thread, and the answers (a
 * fingerprint of every one) are the main thread's. Mappings a worker holds are released
 * when it exits, whether it closed its artifacts or not, and when it is terminated.
 *
 * Workers import the compiled package (dist/, built by `npm test`'s pretest).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKENDS, NATIVE } from './helpers/backends.js';
import { buildModel, queryKeys, queryOffsets, randomModel, rng } from './helpers/gen.js';
import { count } from './helpers/heavy.js';
import { buildFromWasm } from '../lib/build.js';

const root = join(import.meta.dirname, '..');
const distUrl = pathToFileURL(join(root, 'dist', 'index.js')).href;
const dir = mkdtempSync(join(tmpdir(), 'funckey-threads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WORKERS = 4;
/** Rounds of every case in every thread; at least two, so that a changed answer between rounds shows. */
const ROUNDS = count('FUNCKEY_WORKER_ROUNDS', 2, 5);

interface Case {
  path: string;
  keys: [number, number][];
  offsets: number[];
  funcIndices: number[];
  modules: number;
}

/** Artifacts on disk: seeded random ones and the one of samples/many.wasm, with their questions. */
const CASES: Case[] = [];
for (const seed of [5, 23, 77]) {
  const model = randomModel(seed, { maxModules: 3, maxDefined: 300 });
  const path = join(dir, `random-${seed}.fkx`);
  writeFileSync(path, buildModel(model).finish());
  const r = rng(seed);
  const maxFi = Math.max(...model.modules.map((m) => m.importedFuncs + m.definedFuncs));
  CASES.push({
    path,
    keys: queryKeys(model, r, 100),
    offsets: queryOffsets(model, r, 100),
    funcIndices: [...Array(maxFi + 2).keys(), 0xffffffff],
    modules: model.modules.length,
  });
}
{
  const wasm = readFileSync(join(root, 'samples', 'many.wasm'));
  const path = join(dir, 'many.fkx');
  writeFileSync(path, buildFromWasm(wasm));
  const offsets = Array.from({ length: 600 }, (_, i) => Math.floor((i * wasm.length) / 600));
  CASES.push({
    path,
    keys: Array.from({ length: 400 }, (_, i) => [0, i] as [number, number]),
    offsets,
    funcIndices: Array.from({ length: 420 }, (_, i) => i),
    modules: 1,
  });
}

/**
 * The fingerprint, as source shared by the main thread and the workers: every answer (or
 * error code) of every lookup, single and batch, and describe(). `pkg` is the package.
 */
const FINGERPRINT = `
const { open, FuncKey, FunckeyError } = pkg;
const a = open(c.path, { backend });
if (a.backend !== backend) throw new Error('opened with ' + a.backend);
const out = [];
const t = (f) => {
  try { out.push(JSON.stringify(f(), (k, v) => (v instanceof Uint32Array ? Array.from(v) : v === undefined ? null : v))); }
  catch (e) { if (!(e instanceof FunckeyError)) throw e; out.push('err:' + e.code); }
};
t(() => a.describe());
for (const [ns, i] of c.keys) {
  let k;
  try { k = FuncKey.fromRaw(ns, i); } catch { continue; }
  t(() => a.funcLoc(k));
  t(() => a.srcLoc(k));
}
t(() => a.funcLocs(new Uint32Array(c.keys.map((k) => k[0])), new Uint32Array(c.keys.map((k) => k[1]))));
for (const o of c.offsets) t(() => a.funcByOffset(o)?.toString());
t(() => a.funcsByOffset(new Uint32Array(c.offsets)));
for (let m = 0; m <= c.modules; m++) {
  for (const fi of c.funcIndices) t(() => a.funcName(fi, m));
  t(() => a.funcNames(new Uint32Array(c.funcIndices), m));
}
if (closeIt) a.close(); else held.push(a);
return out.join('\\n');
`;

const makeFingerprint = (pkg: unknown) =>
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function('pkg', 'c', 'backend', 'closeIt', 'held', FINGERPRINT).bind(null, pkg) as (
    c: Case,
    backend: string,
    closeIt: boolean,
    held: unknown[],
  ) => string;

/**
 * The worker: imports the package, waits at a barrier so that all workers start together,
 * answers every case ROUNDS times in every backend, posts its fingerprints, then (if told
 * to) keeps its artifacts open and waits to be told to exit or to be terminated.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const pkg = await import(workerData.distUrl);
  const status = pkg.nativeStatus();
  const fingerprint = new Function('pkg', 'c', 'backend', 'closeIt', 'held', workerData.body).bind(null, pkg);
  const barrier = new Int32Array(workerData.barrier);
  Atomics.add(barrier, 0, 1);
  while (Atomics.load(barrier, 0) < workerData.workers) Atomics.wait(barrier, 0, Atomics.load(barrier, 0), 50);
  const held = [];
  const prints = {};
  for (let round = 0; round < workerData.rounds; round++) {
    for (const backend of workerData.backends) {
      workerData.cases.forEach((c, i) => {
        const keep = workerData.hold && round === workerData.rounds - 1;
        const fp = fingerprint(c, backend, !keep, held);
        const id = backend + ':' + i;
        if (prints[id] === undefined) prints[id] = fp;
        else if (prints[id] !== fp) prints[id] = 'CHANGED BETWEEN ROUNDS';
      });
    }
  }
  parentPort.postMessage({ status, prints, held: held.length });
  if (workerData.hold === 'forever') setInterval(() => {}, 1000);
  else parentPort.once('message', () => process.exit(0));
})().catch((e) => { parentPort.postMessage({ error: String(e && e.stack || e) }); });
`;

interface WorkerReport {
  status: { available: boolean; reason?: string };
  prints: Record<string, string>;
  held: number;
  error?: string;
}

function startWorkers(
  n: number,
  hold: false | true | 'forever',
): { workers: Worker[]; reports: Promise<WorkerReport[]> } {
  const barrier = new SharedArrayBuffer(4);
  const workers: Worker[] = [];
  const reports: Promise<WorkerReport>[] = [];
  for (let w = 0; w < n; w++) {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        distUrl,
        body: FINGERPRINT,
        barrier,
        workers: n,
        rounds: ROUNDS,
        backends: BACKENDS,
        cases: CASES,
        hold,
      },
    });
    workers.push(worker);
    reports.push(
      new Promise((resolve, reject) => {
        worker.once('message', (m: WorkerReport) => (m.error ? reject(new Error(m.error)) : resolve(m)));
        worker.once('error', reject);
      }),
    );
  }
  return { workers, reports: Promise.all(reports) };
}

const exited = (w: Worker) => new Promise<number>((resolve) => w.once('exit', resolve));

/** Mappings of this process whose file is one of the test's artifacts. */
function artifactMappings(): number {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => l.includes(dir)).length;
}

describe('worker threads', () => {
  it(`${WORKERS} workers load the addon at once and answer like the main thread, in parallel (${BACKENDS.join(', ')})`, async () => {
    const pkg = await import(distUrl);
    const fingerprint = makeFingerprint(pkg);
    const main: Record<string, string> = {};
    for (const backend of BACKENDS)
      CASES.forEach((c, i) => (main[`${backend}:${i}`] = fingerprint(c, backend, true, [])));
    // The questions reach the answers: most keys and offsets of the cases are found.
    expect(
      Object.values(main)
        .join('\n')
        .match(/"start":/g)!.length,
    ).toBeGreaterThan(500);

    const { workers, reports } = startWorkers(WORKERS, false);
    // The main thread keeps answering while the workers do.
    let mainRounds = 0;
    const racing = (async () => {
      for (let i = 0; i < ROUNDS; i++) {
        for (const backend of BACKENDS)
          CASES.forEach((c, k) => expect(fingerprint(c, backend, true, [])).toBe(main[`${backend}:${k}`]));
        mainRounds++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const got = await reports;
    await racing;
    expect(mainRounds).toBe(ROUNDS);
    for (const r of got) {
      if (BACKENDS.includes('native')) expect(r.status).toMatchObject({ available: true });
      expect(Object.keys(r.prints).sort()).toEqual(Object.keys(main).sort());
      for (const [id, fp] of Object.entries(r.prints)) expect(fp, id).toBe(main[id]);
    }
    for (const w of workers) w.postMessage('exit');
    expect(await Promise.all(workers.map(exited))).toEqual(workers.map(() => 0));
  });

  it.skipIf(!NATIVE.available || !BACKENDS.includes('native'))(
    'mappings held by workers are released when they exit, closed or not, and when terminated',
    async () => {
      expect(artifactMappings()).toBe(0);
      // Workers that keep every artifact of their last round open, then exit by themselves.
      const a = startWorkers(3, true);
      const ra = await a.reports;
      for (const r of ra) expect(r.held).toBe(CASES.length * BACKENDS.length);
      // One mapping per case in the native backend: the workers' artifacts of one file share it.
      expect(artifactMappings()).toBe(CASES.length);
      for (const w of a.workers) w.postMessage('exit');
      await Promise.all(a.workers.map(exited));
      expect(artifactMappings()).toBe(0);

      // Workers terminated from outside while holding their artifacts.
      const b = startWorkers(2, 'forever');
      await b.reports;
      expect(artifactMappings()).toBe(CASES.length);
      await Promise.all(b.workers.map((w) => w.terminate()));
      expect(artifactMappings()).toBe(0);
    },
  );
});
