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
    const bytes = new Uint8Array(regularSize(fd));
    let off = 0;
    while (off < bytes.length) {
      const n = readSync(fd, bytes, off, bytes.length - off, off);
      if (n === 0)
        throw Object.assign(new Error(`ends after ${off} of the ${bytes.length} bytes fstat gave`), { code: 'ESHORT' });
      off += n;
    }
    return bytes;
  } catch (e) {
    throw ioError(path, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The size of the file open at `fd`, which must be a regular file of at most MAX_FILE_BYTES
 * (else an error with the code ioError turns into its message): the one rule of what the js
 * backend reads, whole or in parts.
 */
function regularSize(fd: number): number {
  const st = fstatSync(fd);
  if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
  if (st.size > MAX_FILE_BYTES)
    throw Object.assign(new Error(`larger than ${MAX_FILE_BYTES} bytes`), { code: 'EFBIG' });
  return st.size;
}

/** How many files read in parts keep their descriptor at once (FileImage). */
export const MAX_HELD_FILES = 32;

/** Files smaller than this are read whole at open (FileImage): parts would save little. */
export const READ_WHOLE_BELOW = 1 << 20;

/**
 * A regular file read in parts, when they are first needed, into `bytes`: an array of the
 * file's size, allocated without being cleared (Buffer.allocUnsafeSlow: its pages cost
 * memory only once written, so an artifact costs the memory of what its lookups read), of
 * which nothing but what was read is ever looked at (JsCore reads each section before its
 * first use; open reads what it validates). Checked as
 * readRegularFile checks a file. The descriptor stays open until close() (or until the
 * image is garbage-collected), so that the file read is the one opened even after it was
 * replaced by rename or deleted. At most MAX_HELD_FILES images hold one: opening another
 * makes the oldest read the rest of its file and close its descriptor. A file smaller than
 * READ_WHOLE_BELOW is read whole at open and holds none.
 */
export class FileImage {
  readonly bytes: Uint8Array;
  #fd: number | undefined;
  #failed: FunckeyError | undefined;
  readonly #id = nextId++;

  private constructor(
    readonly path: string,
    fd: number,
    size: number,
  ) {
    this.#fd = fd;
    const b = Buffer.allocUnsafeSlow(size);
    this.bytes = new Uint8Array(b.buffer, b.byteOffset, size);
  }

  static open(path: string): FileImage {
    let fd: number | undefined;
    let image: FileImage;
    try {
      fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
      image = new FileImage(path, fd, regularSize(fd));
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      throw ioError(path, e);
    }
    if (image.bytes.length < READ_WHOLE_BELOW) {
      image.#readAll();
      return image;
    }
    while (held.size >= MAX_HELD_FILES) {
      const [id, ref] = held.entries().next().value!;
      const old = ref.deref();
      if (old === undefined) held.delete(id);
      else old.#evict();
    }
    held.set(image.#id, new WeakRef(image));
    finalizer.register(image, { fd, id: image.#id }, image);
    return image;
  }

  /** Whether the whole file is in `bytes` (read() then reads nothing). */
  get complete(): boolean {
    return this.#fd === undefined;
  }

  /**
   * Reads [offset, offset + size) of the file (within it) into bytes, or into `into` at 0.
   * Once reading the rest of the file failed (#readAll), every read is that E_IO again:
   * `bytes` then holds parts never read.
   */
  read(offset: number, size: number, into: Uint8Array = this.bytes): void {
    const fd = this.#fd;
    if (fd === undefined) {
      if (this.#failed !== undefined) throw this.#failed;
      if (into !== this.bytes) into.set(this.bytes.subarray(offset, offset + size));
      return;
    }
    const at = into === this.bytes ? offset : 0;
    try {
      let done = 0;
      while (done < size) {
        const n = readSync(fd, into, at + done, size - done, offset + done);
        if (n === 0)
          throw Object.assign(
            new Error(`ends after ${offset + done} of the ${this.bytes.length} bytes it had at open`),
            {
              code: 'ESHORT',
            },
          );
        done += n;
      }
    } catch (e) {
      throw ioError(this.path, e);
    }
  }

  /** Reads what is left of the file, and closes the descriptor. */
  #readAll(): void {
    try {
      this.read(0, this.bytes.length);
    } finally {
      this.#release();
    }
  }

  /**
   * Reads the rest of the file to let the descriptor go for another image. A failure (the
   * file shortened since open) is this image's, not the opening one's: kept for its reads.
   */
  #evict(): void {
    try {
      this.#readAll();
    } catch (e) {
      this.#failed = e as FunckeyError;
    }
  }

  /** Closes the descriptor (the bytes read stay). Harmless twice. */
  close(): void {
    if (this.#fd !== undefined) this.#release();
  }

  #release(): void {
    const fd = this.#fd!;
    this.#fd = undefined;
    held.delete(this.#id);
    finalizer.unregister(this);
    closeSync(fd);
  }
}

let nextId = 0;
/** The images holding a descriptor, oldest first. */
const held = new Map<number, WeakRef<FileImage>>();
const finalizer = new FinalizationRegistry<{ fd: number; id: number }>(({ fd, id }) => {
  held.delete(id);
  try {
    closeSync(fd);
  } catch {
    // nothing left to release
  }
});

function ioError(path: string, e: unknown): FunckeyError {
  const err = e as NodeJS.ErrnoException;
  const detail =
    err.code !== undefined && !err.message.startsWith(err.code) ? `${err.code}: ${err.message}` : err.message;
  return new FunckeyError('E_IO', `cannot read ${path}: ${detail}`, { cause: e });
}
