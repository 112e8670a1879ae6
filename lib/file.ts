import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { FunckeyError } from './errors.js';

/** The largest file read whole: 2^32 - 1 bytes (an artifact, and a wasm binary funckey reads, is below 4 GiB). */
const MAX_FILE_BYTES = 0xffffffff;

/**
 * The whole of a regular file, read as the native backend maps one: opened without blocking
 * (a FIFO never waits for a writer), refused unless fstat calls it a regular file (E_IO),
 * then exactly the size fstat gave read, no byte more, so that time and memory are bounded by
 * that size whatever the file is (a /proc file of size 0 reads as empty, /dev/zero is
 * refused). A file that ends before that size is E_IO.
 */
export function readRegularFile(path: string): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
    if (st.size > MAX_FILE_BYTES)
      throw Object.assign(new Error(`larger than ${MAX_FILE_BYTES} bytes`), { code: 'EFBIG' });
    const bytes = new Uint8Array(st.size);
    let off = 0;
    while (off < bytes.length) {
      const n = readSync(fd, bytes, off, bytes.length - off, off);
      if (n === 0)
        throw Object.assign(new Error(`ends after ${off} of the ${bytes.length} bytes fstat gave`), { code: 'ESHORT' });
      off += n;
    }
    return bytes;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const detail =
      err.code !== undefined && !err.message.startsWith(err.code) ? `${err.code}: ${err.message}` : err.message;
    throw new FunckeyError('E_IO', `cannot read ${path}: ${detail}`, { cause: e });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
