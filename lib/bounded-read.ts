import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FunckeyError } from './errors.js';

/**
 * The most bytes read from an input whose size is not known in advance: a pipe, a terminal,
 * standard input, a device such as /dev/zero, a file that reports size 0 (/proc). Past it the
 * read stops with E_IO; a regular file is read up to its size, whatever that is.
 */
const MAX_STREAM_INPUT = 256 * 2 ** 20;

const CHUNK = 1 << 20;

/**
 * Calls `f` with each chunk (at most 1 MiB; valid only during the call) of an input: a path,
 * or 0 for standard input. A regular file is read up to its size; anything else up to
 * `limit` bytes, past which the read stops with E_IO. Errors are E_IO naming `label`, the
 * path as the user gave it. Memory: one chunk.
 */
function readChunks(
  path: string | 0,
  f: (chunk: Uint8Array) => void,
  limit: number = MAX_STREAM_INPUT,
  label: string = path === 0 ? 'standard input' : path,
): void {
  let fd: number | undefined;
  try {
    fd = path === 0 ? 0 : openSync(path, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const size = st.isFile() && st.size > 0 ? st.size : undefined;
    const buf = new Uint8Array(size === undefined ? CHUNK : Math.min(size, CHUNK));
    let total = 0;
    while (size === undefined || total < size) {
      const n = readChunk(fd, buf, size === undefined ? buf.length : Math.min(buf.length, size - total));
      if (n === 0) break;
      total += n;
      if (size === undefined && total > limit) {
        const max = limit % 2 ** 20 === 0 ? `${limit / 2 ** 20} MiB` : `${limit} bytes`;
        throw Object.assign(new Error(`not a regular file, and more than ${max} (the limit for pipes and devices)`), {
          code: 'E2BIG',
        });
      }
      f(buf.subarray(0, n));
    }
  } catch (e) {
    if (e instanceof FunckeyError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'E2BIG' ? err.message : (err.code ?? err.message);
    throw new FunckeyError('E_IO', `cannot read ${label}: ${why}`, { cause: e });
  } finally {
    if (fd !== undefined && fd !== 0) closeSync(fd);
  }
}

/** The whole of an input, read as readChunks reads it (the same limit and errors). */
export function readBounded(path: string | 0, limit: number = MAX_STREAM_INPUT, label?: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  readChunks(
    path,
    (c) => {
      chunks.push(c.slice());
      total += c.length;
    },
    limit,
    label,
  );
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** One read of at most `len` bytes into buf; a non-blocking descriptor with nothing to read yet is waited for. */
function readChunk(fd: number, buf: Uint8Array, len: number): number {
  for (;;) {
    try {
      return readSync(fd, buf, 0, len, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
