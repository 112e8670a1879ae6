/**
 * A damaged or hostile artifact whose source-location chain is deep and whose frames share
 * one long string: symbolicate writes such a frame in the one-line form (the innermost
 * location after the function's name) instead of one line per frame, so that the text a
 * frame gets stays bounded by its strings (lib/trace-srcloc.ts, expandable()). The tables
 * are written by hand (deepSrcLocs in test/helpers/srclocs.ts); expected text by hand.
 */
import { describe, expect, it } from 'vitest';
import { open, symbolicate, symbolicateFrames } from '../lib/index.js';
import { deepSrcLocs as deepArtifact } from './helpers/srclocs.js';
import { BACKENDS } from './helpers/backends.js';

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
