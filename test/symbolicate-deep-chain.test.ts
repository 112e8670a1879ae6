/**
 * A damaged or hostile artifact whose source-location chain is deep and whose frames share
 * one long string: symbolicate writes such a frame in the one-line form (the innermost
 * location after the function's name) instead of one line per frame, so that the text a
 * frame gets stays bounded by its strings (lib/trace-srcloc.ts, expandable()). The tables
 * are written by hand here (lib/srclocs.ts describes them); expected text by hand.
 */
import { describe, expect, it } from 'vitest';
import { ArtifactBuilder, FuncKey, open, symbolicate, symbolicateFrames } from '../lib/index.js';
import { BACKENDS } from './helpers/backends.js';

const uleb = (v: number): number[] => {
  const out: number[] = [];
  do {
    let x = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) x |= 0x80;
    out.push(x);
  } while (v !== 0);
  return out;
};

/**
 * One function at [0x10, 0x110); from 0x10 on, the chain of `depth` frames, each named and
 * placed in string 0 (`len` bytes of 'x'), line 1, column 1: the innermost from the piece,
 * the others from the frames table, each frame (5 bytes) the parent of the one after it.
 */
function deepArtifact(depth: number, len: number): Uint8Array {
  const frames = new Uint8Array(5 * (depth - 1));
  for (let k = 0; k < depth - 1; k++) frames.set([0, 0, 1, 1, k === 0 ? 0 : 5], 5 * k);
  // Op: no distance (the block's first piece), then function + 1, file, parent + 1, column, line.
  const parent = depth > 1 ? 5 * (depth - 2) + 1 : 0;
  const pieces = new Uint8Array([8 | 16 | 32 | 64 | 128, 1, 0, ...uleb(parent), 1, 1]);
  const b = new ArtifactBuilder();
  b.addModule({ importedFuncs: 0, definedFuncs: 1 });
  b.pushFunc(FuncKey.definedWasmFunction(0, 0), { start: 0x10, length: 0x100 });
  b.setSrcLocs({
    blocks: new Uint32Array([0x10, 0]),
    pieces,
    frames,
    strings: new Uint32Array([0, len]),
    stringBytes: new Uint8Array(len).fill(0x78),
  });
  return b.finish();
}

const V8 = '    at wasm://wasm/m:wasm-function[0]:0x20\n';
const SM = 'f@wasm://wasm/m:wasm-function[0]:0x20\n';
const WT = '    0:     0x20 - <unknown>!<wasm function 0>\n';

describe.each(BACKENDS)('a chain too deep and long for one line per frame (%s)', (backend) => {
  it('a short chain still gets one line per frame', () => {
    const a = open(deepArtifact(3, 4), { backend });
    expect(symbolicate(V8, a)).toBe(
      '    at xxxx (xxxx:1:1)\n    at xxxx (xxxx:1:1)\n    at xxxx [xxxx:1:1] (wasm://wasm/m:wasm-function[0]:0x20)\n',
    );
  });

  it('1,024 frames (the most a chain has) sharing a 10,000-byte string: the one-line form, in every engine syntax', () => {
    const a = open(deepArtifact(1024, 10_000), { backend });
    const x = 'x'.repeat(10_000);
    expect(a.srcLocs(0x20)).toHaveLength(1024);
    expect(symbolicate(V8, a)).toBe(`    at ${x} [${x}:1:1] (wasm://wasm/m:wasm-function[0]:0x20)\n`);
    expect(symbolicate(SM, a)).toBe(`${x} [${x}:1:1]@wasm://wasm/m:wasm-function[0]:0x20\n`);
    expect(symbolicate(WT, a)).toBe(`    0:     0x20 - <unknown>!${x} [${x}:1:1]\n`);
  });

  it('a chain of more than 256 frames: its innermost and outermost frames, at every offset of a trace', () => {
    // 256 frames of distinct offsets, each with a chain of 1,024 frames of a 4-byte string:
    // carried whole, their copies in symbolicateFrames would grow with the depth.
    const a = open(deepArtifact(1024, 4), { backend });
    let text = '';
    for (let o = 0x10; o < 0x110; o++) text += `    at wasm://wasm/m:wasm-function[0]:0x${o.toString(16)}\n`;
    const frames = symbolicateFrames(text, a);
    expect(frames).toHaveLength(256);
    const x = { function: 'xxxx', file: 'xxxx', line: 1, column: 1 };
    for (const f of frames) expect(f.srcLocs).toEqual([x, x]);
    expect(symbolicate(text, a).split('\n')[0]).toBe('    at xxxx [xxxx:1:1] (wasm://wasm/m:wasm-function[0]:0x10)');
    // 256 frames exactly: one line per frame.
    const b = open(deepArtifact(256, 4), { backend });
    expect(symbolicate(V8, b).split('\n')).toHaveLength(257);
  });
});
