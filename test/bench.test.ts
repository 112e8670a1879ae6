import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import wasmparser from 'wasmparser';
// @ts-expect-error plain JavaScript without declarations
import { decodeNameMap, encodeSyntheticModule, nameSectionBytes, scanModule } from '../bench/lib/wasm.js';
import { HEAVY } from './helpers/heavy.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'funckey-bench-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Names of the `name` section as wasmparser reads them: an independent decoder. */
function namesByWasmparser(bytes: Uint8Array): Map<number, string> {
  const r = new wasmparser.BinaryReader();
  r.setData(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<number, string>();
  while (r.read()) {
    if (r.state === wasmparser.BinaryReaderState.ERROR) throw r.error;
    if (r.state === wasmparser.BinaryReaderState.BEGIN_SECTION) {
      if (r.result.id !== 0 || wasmparser.bytesToString(r.result.name) !== 'name') r.skipSection();
    } else if (r.state === wasmparser.BinaryReaderState.NAME_SECTION_ENTRY && r.result.type === 1) {
      for (const n of r.result.names) out.set(n.index, wasmparser.bytesToString(n.name));
    }
  }
  return out;
}

describe('bench helpers', () => {
  const bytes: Uint8Array = encodeSyntheticModule({ imports: 3, defined: 500, seed: 5 });

  it('the synthetic module is valid WebAssembly', () => {
    expect(WebAssembly.validate(bytes)).toBe(true);
    const mod = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(mod).filter((i) => i.kind === 'function')).toHaveLength(3);
  });

  it('the hand-written name decoder agrees with wasmparser', () => {
    const mine: Map<number, string> = decodeNameMap(bytes);
    const theirs = namesByWasmparser(bytes);
    expect(mine.size).toBe(503);
    expect([...mine]).toEqual([...theirs]);
  });

  it('the module scan finds the imports and every body', () => {
    const m = scanModule(bytes);
    expect(m.importedFuncs).toBe(3);
    expect(m.definedFuncs).toBe(500);
    // Bodies tile the code section: each starts after its size LEB, right after the previous one.
    for (let i = 1; i < 500; i++) expect(m.filePos[i]).toBe(m.starts[i - 1] + m.lengths[i - 1]);
    // Every body ends with `end` (0x0b).
    for (let i = 0; i < 500; i++) expect(bytes[m.starts[i] + m.lengths[i] - 1]).toBe(0x0b);
    expect(nameSectionBytes(bytes)).toBeGreaterThan(500 * 20);
  });
});

// Every group once in quick mode: by far the longest test, so in heavy runs only.
describe.runIf(HEAVY)('npm run bench -- --quick', () => {
  it('runs every group and writes well-formed records', () => {
    const out = join(tmp, 'bench.json');
    const res = spawnSync(process.execPath, ['bench/run.js', '--quick', '--json', out], {
      cwd: ROOT,
      encoding: 'utf8',
      // A quick run takes well under a minute on two idle cores; a loaded machine, far longer.
      timeout: 400_000,
    });
    expect(res.status, res.stderr).toBe(0);
    for (const title of ['1a', '1b', '2', '3', '4', '5a', '5b']) expect(res.stdout).toContain(`## Group ${title}:`);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    const records: Record<string, unknown>[] = json.records;
    for (const g of [1, 2, 3, 4, 5]) expect(records.filter((r) => r.group === g).length).toBeGreaterThan(0);
    for (const r of records) {
      for (const f of ['group', 'case', 'backend', 'n', 'median_ns', 'ratio', 'baseline']) expect(r).toHaveProperty(f);
      expect(typeof r.case).toBe('string');
      expect(typeof r.baseline).toBe('string');
      expect(Number.isInteger(r.n) && (r.n as number) > 0).toBe(true);
      expect(Number.isFinite(r.ratio) && (r.ratio as number) > 0).toBe(true);
      if (r.unit === 'bytes') {
        expect(r.median_ns).toBeNull();
        expect(Number.isFinite(r.bytes) && (r.bytes as number) > 0).toBe(true);
      } else {
        expect(r.unit).toBe('ns');
        expect(Number.isFinite(r.median_ns) && (r.median_ns as number) > 0).toBe(true);
      }
    }
    // Timing records exist in every group (group 4 times its builds).
    for (const g of [1, 2, 3, 4, 5]) expect(records.some((r) => r.group === g && r.unit === 'ns')).toBe(true);
    // Fresh-process records carry wall time; those of the first name, memory; those of the
    // first source location, the wall time above an empty node process.
    for (const r of records.filter((x) => x.group === 2)) {
      expect(Number.isFinite(r.wall_median_ns) && (r.wall_median_ns as number) > 0).toBe(true);
      if (String(r.case).startsWith('DWARF cold start')) expect(Number.isFinite(r.wall_above_empty_ns)).toBe(true);
      else expect(Number.isFinite(r.rss_grown_bytes)).toBe(true);
      // The pages mapping the artifact (Linux): the native backend's lookups map some, js none.
      if (process.platform === 'linux' && String(r.case).endsWith("import 'funckey', open, funcName")) {
        if (r.backend === 'native') expect(r.rss_artifact_bytes as number).toBeGreaterThan(0);
        if (r.backend === 'js') expect(r.rss_artifact_bytes).toBe(0);
      }
    }
    expect(records.some((r) => r.group === 2 && String(r.case).startsWith('DWARF cold start'))).toBe(true);
    // Each group's baseline is itself a record of that group.
    for (const g of [1, 3, 5]) {
      const recs = records.filter((r) => r.group === g);
      for (const r of recs) expect(recs.some((b) => b.case === r.baseline)).toBe(true);
    }
    // compare-formats.js matches records across builds by (case, backend, n): no two alike.
    const keys = records.map((r) => `${r.group}\u0000${r.case}\u0000${r.backend}\u0000${r.n}`);
    expect(new Set(keys).size).toBe(keys.length);
    // Group 1b: per density and path, two pairs of records: the hits (sparse against dense, on
    // as many lookups as trampolines) and every index (sparse against the same namespace laid
    // out dense, on all 65,536); each sparse record against its baseline of the same path and
    // backend; and the table against sorted runs and the dense layout.
    const g1b = records.filter((r) => r.group === 1 && typeof r.density === 'number');
    const densities = [...new Set(g1b.map((r) => r.density as number))].sort((a, b) => a - b);
    expect(densities).toEqual([0.01, 0.3, 0.9]);
    for (const d of densities) {
      const timed = g1b.filter((r) => r.density === d && r.unit === 'ns');
      for (const path of ['core', 'per call', 'batch'])
        expect(timed.some((r) => r.path === path && r.backend === 'js')).toBe(true);
      const sparse = timed.filter((x) => x.namespace === 'sparse');
      expect(
        sparse
          .filter((r) => r.backend === 'js')
          .map((r) => r.queries)
          .sort(),
      ).toEqual(['every index', 'every index', 'every index', 'hits', 'hits', 'hits']);
      for (const r of sparse) {
        const base = timed.find((b) => b.case === r.baseline && b.backend === r.backend);
        expect(base?.namespace).toBe(r.queries === 'hits' ? 'dense' : 'direct');
        expect(base?.queries).toBe(r.queries);
        expect(base?.n).toBe(r.n);
        // The ratio is the median of per-round ratios (round robin), so near, not equal to,
        // the ratio of the medians; in quick mode (three short rounds) on a loaded machine
        // the two can differ severalfold, so the check is loose: within a factor of ten.
        const ofMedians = (r.median_ns as number) / (base!.median_ns as number);
        expect(r.ratio as number).toBeGreaterThan(ofMedians / 10);
        expect(r.ratio as number).toBeLessThan(ofMedians * 10);
        expect(r.samples).toBeGreaterThanOrEqual(3);
      }
      const hits = sparse.find((r) => r.queries === 'hits')!;
      expect(hits.n).toBe(hits.trampolines);
      expect(sparse.find((r) => r.queries === 'every index')!.n).toBe(65536);
      expect(typeof timed[0]!.encoding).toBe('string');
      const sizes = g1b.filter((r) => r.density === d && r.unit === 'bytes').map((r) => r.case);
      const p = `table bytes, ${Math.round(d * 100)}%`;
      expect(sizes.sort()).toEqual([`${p}, auto`, `${p}, direct`, `${p}, sorted`]);
    }
  }, 420_000);
});

// Starts the runner twice and kills it: in heavy runs only, like the run above.
describe.runIf(HEAVY)('bench processes', () => {
  /** The processes whose parent is pid, from /proc (Linux). */
  const childrenOf = (pid: number): number[] => {
    const out: number[] = [];
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      try {
        // Field 4 of /proc/PID/stat, after the command name in parentheses.
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(e));
      } catch {
        // The process has exited meanwhile.
      }
    }
    return out;
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const waitFor = async (what: string, cond: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end;) {
      if (cond()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  // A group's process (bench/run.js --child) or the runner itself left behind by a killed
  // parent would go on loading the machine for minutes.
  it.skipIf(process.platform !== 'linux')(
    'a group does not outlive its runner, nor the runner its parent, however they end',
    async () => {
      // The runner killed outright: its group's process exits.
      const runner = spawn(process.execPath, ['bench/run.js', '--group', '1', '--quick'], {
        cwd: ROOT,
        stdio: 'ignore',
      });
      let group = 0;
      await waitFor('the group process', () => (group = childrenOf(runner.pid!)[0] ?? 0) > 0, 30_000);
      // Its arguments: --child GROUP RECORDS_FILE, the file in the runner's directory of records.
      const args = readFileSync(`/proc/${group}/cmdline`, 'utf8').split('\0');
      const records = dirname(args[args.indexOf('--child') + 2]!);
      expect(existsSync(records)).toBe(true);
      runner.kill('SIGKILL');
      await waitFor(`group process ${group} to exit`, () => !alive(group), 10_000);
      // The runner could not remove its directory of records; the group's process did.
      expect(existsSync(records)).toBe(false);
      // The runner's parent killed outright: the runner takes its group's process with it.
      const shell = spawn('/bin/sh', ['-c', `"${process.execPath}" bench/run.js --group 1 --quick; true`], {
        cwd: ROOT,
        stdio: 'ignore',
      });
      let runner2 = 0;
      let group2 = 0;
      await waitFor('the runner', () => (runner2 = childrenOf(shell.pid!)[0] ?? 0) > 0, 30_000);
      await waitFor('the group process', () => (group2 = childrenOf(runner2)[0] ?? 0) > 0, 30_000);
      shell.kill('SIGKILL');
      await waitFor(
        `runner ${runner2} and group process ${group2} to exit`,
        () => !alive(runner2) && !alive(group2),
        10_000,
      );
      // A runner killed while its group's process was still starting: that process is told its
      // runner's pid, so it does not take its new parent for the one to watch. Here the pid it is
      // told is not its parent's from the start: it exits at once and removes the records.
      const dir = mkdtempSync(join(tmpdir(), 'funckey-bench-orphan-'));
      const orphan = spawnSync(
        process.execPath,
        ['bench/run.js', '--child', '1', join(dir, 'group1.json'), '--parent', String(runner2), '--quick'],
        {
          cwd: ROOT,
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(orphan.status).toBe(1);
      expect(existsSync(dir)).toBe(false);
    },
    120_000,
  );
});
