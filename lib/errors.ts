/**
 * Every failure funckey reports is a FunckeyError with a stable `code`. The codes are the
 * same whichever backend answered, so callers can switch on them.
 */
export type ErrorCode =
  | 'E_FORMAT' // not an ELF file, or an ELF file that is not a funckey artifact
  | 'E_VERSION' // a funckey artifact of a format version this reader does not know
  | 'E_TRUNCATED' // the file ends before a structure it declares
  | 'E_CORRUPT' // an invariant of the format is broken
  | 'E_ARG' // an argument of the wrong type or out of its domain
  | 'E_RANGE' // an argument outside what the artifact holds (e.g. a module index)
  | 'E_ORDER' // builder input out of order or overlapping
  | 'E_CLOSED' // the artifact was closed
  | 'E_IO' // the operating system refused (open, read, write, map)
  | 'E_WASM' // malformed WebAssembly input
  | 'E_DWARF' // malformed or unsupported DWARF in a module's .debug_* sections (strict builds)
  | 'E_BACKEND'; // the requested backend is not available

export const ERROR_CODES: readonly ErrorCode[] = [
  'E_FORMAT',
  'E_VERSION',
  'E_TRUNCATED',
  'E_CORRUPT',
  'E_ARG',
  'E_RANGE',
  'E_ORDER',
  'E_CLOSED',
  'E_IO',
  'E_WASM',
  'E_DWARF',
  'E_BACKEND',
];

export class FunckeyError extends Error {
  readonly code: ErrorCode;
  /**
   * For E_WASM: the byte offset in the input where the problem was found. For E_DWARF: the
   * byte offset in the .debug_* section the message names.
   */
  readonly offset?: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; offset?: number }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'FunckeyError';
    this.code = code;
    if (options?.offset !== undefined) this.offset = options.offset;
  }
}

export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === 'string' && (ERROR_CODES as readonly string[]).includes(x);
}
