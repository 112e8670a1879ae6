import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FunckeyError } from './errors.js';

/**
 * The most bytes read from an input whose size is not known in advance: a pipe, a terminal,
 * standard input, a device such as /dev/zero, a file that reports size 0 (/proc). Past it the
 * read stops with E_IO; a regular file is read up to its size, whatever that is.
 */
export const MAX_STREAM_INPUT = 256 * 2 ** 20;

const CHUNK = 1 << 20;

/**
 * The whole of an input: a path, or 0 for standard input. Reads a regular file up to its size
 * and anything else in chunks, at most `limit` bytes (E_IO past them); errors are E_IO naming
 * `label`, the path as the user gave it.
 */
export function readBounded(path: string | 0, limit: number = MAX_STREAM_INPUT, label: string = path === 0 ? 'standard input' : path): Uint8Array {
  let fd: number | undefined;
  try {
    fd = path === 0 ? 0 : openSync(path, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const known = st.isFile() && st.size > 0;
    const max = known ? st.size : limit;
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buf = new Uint8Array(known ? Math.min(st.size - total, 1 << 30) || 1 : CHUNK);
      const n = readChunk(fd, buf);
      if (n === 0) break;
      chunks.push(n === buf.length ? buf : buf.subarray(0, n));
      total += n;
      if (known && total >= st.size) break;
      if (total > max)
        throw Object.assign(new Error(`not a regular file, and more than ${limit % 2 ** 20 === 0 ? `${limit / 2 ** 20} MiB` : `${limit} bytes`} (the limit for pipes and devices)`), { code: 'E2BIG' });
    }
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'E2BIG' ? err.message : (err.code ?? err.message);
    throw new FunckeyError('E_IO', `cannot read ${label}: ${why}`, { cause: e });
  } finally {
    if (fd !== undefined && fd !== 0) closeSync(fd);
  }
}

/** One read into buf; a non-blocking descriptor with nothing to read yet is waited for. */
function readChunk(fd: number, buf: Uint8Array): number {
  for (;;) {
    try {
      return readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
