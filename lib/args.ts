import { FunckeyError } from './errors.js';

/** Argument checks shared by the public API: every failure is E_ARG with a clear message. */

export const U32_MAX = 0xffffffff;

export function isU32(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= U32_MAX;
}

/** A short, safe rendering of a value for an error message. */
export function describeValue(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? x.slice(0, 40) + '...' : x);
  if (x === null || typeof x !== 'object') return String(x);
  return Object.prototype.toString.call(x);
}

/** `x` when it is an integer in [0, 2^32), else E_ARG naming `what`. */
export function argU32(what: string, x: unknown): number {
  if (!isU32(x)) throw new FunckeyError('E_ARG', `${what} must be an integer in [0, 2^32), got ${describeValue(x)}`);
  return x;
}
