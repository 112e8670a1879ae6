/**
 * Symbolication of a byte stream of any size in constant memory: `TraceRewriter` takes
 * chunks and gives back output chunks, `symbolicateStream` wraps it in a Node Transform.
 *
 * Bytes are read as Latin-1 (one character per byte), so that every byte that is not part of
 * a rewritten frame comes out exactly as it went in, valid UTF-8 or not; names are written
 * as UTF-8. The input is cut after the last '\n' of each chunk; the rest of the line waits
 * for the next chunk. A line longer than MAX_LINE bytes is passed through as it is, unread (a
 * frame is far shorter), whatever the chunking, so that memory stays bounded by MAX_LINE plus
 * a chunk.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { Artifact } from './artifact.js';
import { FunckeyError } from './errors.js';
import {
  checkArtifact,
  countLines,
  symbolicateBlock,
  Symbolicator,
  type Codec,
  type SymbolicatedFrame,
  type SymbolicateOptions,
} from './symbolicate.js';
import { ByteOut } from './trace-out.js';
import { newScanState, type ScanState } from './trace-scan.js';

import { MAX_LINE } from './limits.js';
export { MAX_LINE };

const ASCII = /^[\x00-\x7f]*$/;

/** Latin-1 strings of UTF-8 bytes: how a block read as Latin-1 holds a JS string. */
export const BYTES: Codec = {
  enc: (s) => (ASCII.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1')),
  dec: (s) => (ASCII.test(s) ? s : Buffer.from(s, 'latin1').toString('utf8')),
};

/** A block's output is written here first, while it fits. */
const SCRATCH = 256 * 1024;

export class TraceRewriter {
  readonly #sym: Symbolicator;
  readonly #state: ScanState = newScanState(MAX_LINE);
  readonly #onFrame: ((f: SymbolicatedFrame) => void) | undefined;
  #carry: Buffer | undefined;
  /** Inside a line longer than MAX_LINE: bytes go through until its '\n'. */
  #skipping = false;
  /** Number of the line the next block starts with. */
  #line = 1;
  /** The output buffer that blocks reuse (at most SCRATCH bytes). */
  #scratch: Buffer | undefined;

  /**
   * `onFrame`, when given, is called with every frame found, its text, URL and names decoded
   * from UTF-8 and its start and end counted in bytes.
   */
  constructor(artifact: Artifact, options?: SymbolicateOptions, onFrame?: (f: SymbolicatedFrame) => void) {
    if (onFrame !== undefined && typeof onFrame !== 'function')
      throw new FunckeyError('E_ARG', 'onFrame must be a function');
    this.#sym = new Symbolicator(checkArtifact(artifact), options, BYTES);
    this.#onFrame = onFrame;
  }

  /** The output for the next chunk of input (the chunk may be reused by the caller afterwards). */
  push(chunk: Uint8Array): Buffer[] {
    if (!(chunk instanceof Uint8Array)) throw new FunckeyError('E_ARG', 'a chunk must be a Uint8Array or a Buffer');
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: Buffer[] = [];
    if (this.#skipping) {
      const nl = data.indexOf(10);
      if (nl < 0) return [Buffer.from(data)];
      out.push(Buffer.from(data.subarray(0, nl + 1)));
      this.#line++;
      this.#skipping = false;
      data = data.subarray(nl + 1);
    }
    const nl = data.lastIndexOf(10);
    if (nl < 0) {
      this.#carry = this.#carry === undefined ? Buffer.from(data) : Buffer.concat([this.#carry, data]);
      if (this.#carry.length > MAX_LINE) {
        out.push(this.#carry);
        this.#carry = undefined;
        this.#skipping = true;
      }
      return out;
    }
    const head = data.subarray(0, nl + 1);
    const block = this.#carry === undefined ? head : Buffer.concat([this.#carry, head]);
    this.#carry = nl + 1 < data.length ? Buffer.from(data.subarray(nl + 1)) : undefined;
    out.push(this.#block(block, block === head));
    return out;
  }

  /** The output that remains at the end of the input. */
  end(): Buffer[] {
    const c = this.#carry;
    this.#carry = undefined;
    if (c === undefined || this.#skipping) return c === undefined ? [] : [c];
    return [this.#block(c, false)];
  }

  /** The block rewritten; `borrowed` when it is the caller's memory (so must be copied). */
  #block(block: Buffer, borrowed: boolean): Buffer {
    const s = block.toString('latin1');
    const out = new ByteOut(block.length, (buf) => buf.set(block), this.#scratch);
    const frames: SymbolicatedFrame[] | undefined = this.#onFrame === undefined ? undefined : [];
    symbolicateBlock(this.#sym, s, this.#state, out, frames, this.#line);
    if (frames !== undefined) {
      this.#line += countLines(s, 0, s.length);
      for (const f of frames) this.#onFrame!(decoded(f));
    }
    if (!out.edited) return borrowed ? Buffer.from(block) : block;
    out.finish();
    if (out.buf.length <= SCRATCH) this.#scratch = out.buf;
    return Buffer.from(out.output);
  }
}

function decoded(f: SymbolicatedFrame): SymbolicatedFrame {
  const d = BYTES.dec;
  return {
    ...f,
    text: d(f.text),
    url: d(f.url),
    printedName: f.printedName === undefined ? undefined : d(f.printedName),
    rewritten: d(f.rewritten),
  };
}

/**
 * A Transform stream: bytes of a trace or log in, the same bytes out with every wasm frame
 * the artifact resolves given its function's name. Memory stays bounded whatever the size of
 * the input. Arguments are checked at once (FunckeyError); a failure later (the artifact
 * closed meanwhile) is the stream's error.
 */
export function symbolicateStream(artifact: Artifact, options?: SymbolicateOptions): Transform {
  const rw = new TraceRewriter(artifact, options);
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      try {
        for (const b of rw.push(chunk)) this.push(b);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        for (const b of rw.end()) this.push(b);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  });
}
