import { FunckeyError, type ErrorCode } from '../../lib/errors.js';

/** 'ok' when f returns, the code of the FunckeyError it throws; anything else propagates. */
export function codeOf(f: () => unknown): ErrorCode | 'ok' {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof FunckeyError) return e.code;
    throw e;
  }
}
