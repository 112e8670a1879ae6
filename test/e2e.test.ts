/*
 * End to end against the real engine: the sample modules (compiled from their WAT with
 * names, samples/build.sh) run in this Node process until they trap, once as they are and
 * once without their name section. Symbolicating the stripped module's `err.stack` with the
 * artifact built from the named module must give, frame by frame, what V8 itself prints for
 * the named module.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildFromWasm,
  open,
  parseStack,
  stripNameSection,
  symbolicate,
  symbolicateFrames,
  type Artifact,
} from '../lib/index.js';
import { writeFileAtomic } from '../lib/writer.js';
import { BACKENDS } from './helpers/backends.js';
import { DEMO_CHAIN } from './helpers/expected.js';

const dir = mkdtempSync(join(tmpdir(), 'funckey-e2e-'));
let savedLimit = 10;
beforeAll(() => {
  savedLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 500;
});
afterAll(() => {
  Error.stackTraceLimit = savedLimit;
  rmSync(dir, { recursive: true, force: true });
});

const sample = (f: string) => new Uint8Array(readFileSync(new URL(`../samples/${f}`, import.meta.url)));

type Runner = (exports: WebAssembly.Exports) => void;

/** Instantiates `bytes`, calls `run`, returns the stack of what it threw. */
function trap(
  bytes: Uint8Array,
  imports: (get: () => WebAssembly.Exports) => WebAssembly.Imports,
  run: Runner,
): string {
  let exports: WebAssembly.Exports | undefined;
  const instance = new WebAssembly.Instance(
    new WebAssembly.Module(bytes),
    imports(() => exports!),
  );
  exports = instance.exports;
  try {
    run(exports);
  } catch (e) {
    expect(e).toBeInstanceOf(WebAssembly.RuntimeError);
    return (e as Error).stack!;
  }
  throw new Error('the module did not trap');
}

/** The stack with V8's module URLs (a hash of the module bytes, and its name) made equal. */
const sameUrls = (stack: string) => stack.replace(/wasm:\/\/wasm\/[^:\s)]+/g, 'wasm://wasm/M');

/**
 * Runs the named and the stripped module alike and checks the symbolicated stripped trace
 * against the named one, frame by frame and as a whole. Returns the named module's frames.
 */
function compare(named: Uint8Array, artifact: Artifact, imports: Parameters<typeof trap>[1], run: Runner) {
  const stripped = stripNameSection(named);
  expect(stripped.length).toBeLessThan(named.length);
  // One call site for both, so that the JS frames of the two traces are the same.
  const [want, before] = [named, stripped].map((b) => trap(b, imports, run)) as [string, string];
  const after = symbolicate(before, artifact);

  const wantFrames = parseStack(want);
  const beforeFrames = parseStack(before);
  const afterFrames = parseStack(after);
  // The stripped module's frames carry no names; after symbolication they carry V8's.
  expect(beforeFrames.length).toBe(wantFrames.length);
  expect(beforeFrames.every((f) => f.printedName === undefined)).toBe(true);
  expect(afterFrames.length).toBe(wantFrames.length);
  wantFrames.forEach((w, i) => {
    const got = afterFrames[i]!;
    expect([got.line, got.printedName, got.funcIndex, got.offset], `frame ${i}`).toEqual([
      w.line,
      w.printedName,
      w.funcIndex,
      w.offset,
    ]);
  });
  expect(symbolicateFrames(before, artifact).every((f) => f.status === 'resolved')).toBe(true);
  // Everything else (message, JS frames) is as V8 printed it.
  expect(sameUrls(after)).toBe(sameUrls(want));
  return wantFrames;
}

const demoImports = () => ({ host: { log: () => {}, now: () => 0, report: () => {} } });

// many.wasm: function k (table entry k, function index k + 2) calls function (37k + 11) mod
// 400 with depth - 1 and traps at depth 0; k % 50 == 25 goes through JS (env.bounce), which
// calls run() again; k % 9 == 4 has no name (V8 then prints the module name alone).
const manyImports = (get: () => WebAssembly.Exports) => ({
  env: {
    tick: () => {},
    bounce: (k: number, d: number) => (get().run as (k: number, d: number) => void)(k, d),
  },
});
const MANY_CASES: [number, number][] = [
  [3, 30], // passes through two JS bounces
  [0, 12],
  [4, 0], // traps at once in an unnamed function
  [13, 6], // starts in an unnamed function
  [25, 1], // bounces first
  [399, 150], // deep
  [7, 6],
];

describe.each(BACKENDS)('e2e with V8 (%s backend)', (backend) => {
  it('demo.wasm (3 imports, a 7-deep chain that divides by zero)', () => {
    const named = sample('demo.wasm');
    const artifact = open(buildFromWasm(named), { backend });
    const frames = compare(named, artifact, demoImports, (x) => (x.main as () => number)());
    // From demo.wat: the chain, innermost first, with its function indices (3 imports first).
    expect(frames.map((f) => [f.printedName, f.funcIndex])).toEqual([
      ['unit_average', 3],
      ['price_order', 5],
      ['apply_discount', 6],
      ['process_order', 7],
      ['process_batch', 8],
      ['run_pipeline', 9],
      ['main', 10],
    ]);
    artifact.close();
  });

  it('demo.wasm through WebAssembly.instantiate', async () => {
    const named = sample('demo.wasm');
    const artifact = open(buildFromWasm(named), { backend });
    const { instance } = await WebAssembly.instantiate(stripNameSection(named), demoImports());
    let stack = '';
    try {
      (instance.exports.main as () => number)();
    } catch (e) {
      stack = (e as Error).stack!;
    }
    const names = parseStack(symbolicate(stack, artifact)).map((f) => f.printedName);
    expect(names).toEqual(DEMO_CHAIN);
    artifact.close();
  });

  it('many.wasm (402 functions, a module name, unnamed functions, JS in between), from a file', () => {
    const named = sample('many.wasm');
    const path = join(dir, `many-${backend}.fkx`);
    writeFileAtomic(path, buildFromWasm(named));
    const artifact = open(path, { backend });
    expect(artifact.modules[0]).toMatchObject({ name: 'many', importedFuncs: 2, definedFuncs: 401 });
    let total = 0;
    for (const [start, depth] of MANY_CASES) {
      const frames = compare(named, artifact, manyImports, (x) =>
        (x.run as (k: number, d: number) => void)(start, depth),
      );
      total += frames.length;
      // The innermost frame is the function reached after `depth` hops (not counting the
      // bounces' fresh entry through run): checked against the generator's rule.
      let k = start;
      for (let d = depth; d > 0; d--) k = (k * 37 + 11) % 400;
      expect(frames[0]!.funcIndex).toBe(k + 2);
      expect(frames[0]!.printedName).toBe(k % 9 === 4 ? 'many' : `many.fn_${k}`);
      expect(frames[frames.length - 1]!.printedName).toBe('many.run');
    }
    expect(total).toBeGreaterThan(200);
    artifact.close();
  });
});
