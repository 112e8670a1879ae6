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

// The typed-array accessors of the language itself: a subclass or an own property cannot
// override them, so they give the memory an array really covers.
const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const getter = (name: string) => Object.getOwnPropertyDescriptor(TypedArrayProto, name)!.get!;
const TA_BUFFER = getter('buffer');
const TA_BYTE_OFFSET = getter('byteOffset');
const TA_LENGTH = getter('length');
const TA_TAG = Object.getOwnPropertyDescriptor(TypedArrayProto, Symbol.toStringTag)!.get!;

/**
 * Whether `x` is really a typed array of that type (a subclass counts; a Proxy, or an object
 * that only claims the prototype, does not). Runs none of the caller's code.
 */
export function isTypedArray<T extends 'Uint8Array' | 'Uint32Array'>(
  x: unknown,
  type: T,
): x is T extends 'Uint8Array' ? Uint8Array : Uint32Array {
  return typeof x === 'object' && x !== null && TA_TAG.call(x) === type;
}

/**
 * A fresh Uint8Array or Uint32Array (no subclass, no own properties) over exactly the memory
 * `x` covers now, read with the language's own accessors. Lookups use the fresh view, so a
 * lying `length`, `buffer` or `byteOffset`, or an own `subarray`, cannot make the backends
 * read different memory or run the caller's code.
 */
export function plainView(x: Uint8Array): Uint8Array;
export function plainView(x: Uint32Array): Uint32Array;
export function plainView(x: Uint8Array | Uint32Array): Uint8Array | Uint32Array {
  const C = TA_TAG.call(x) === 'Uint8Array' ? Uint8Array : Uint32Array;
  const length = TA_LENGTH.call(x) as number;
  // Detached or out of bounds: no memory at all.
  if (length === 0) return new C(0);
  return new C(TA_BUFFER.call(x) as ArrayBuffer, TA_BYTE_OFFSET.call(x) as number, length);
}

const AB_RESIZABLE = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'resizable')?.get;

/** Whether the memory under `x` can shrink or move (a resizable ArrayBuffer). */
export function isResizable(x: Uint8Array | Uint32Array): boolean {
  const b = TA_BUFFER.call(x) as ArrayBufferLike;
  if (AB_RESIZABLE === undefined) return false;
  try {
    return AB_RESIZABLE.call(b) === true;
  } catch {
    return false; // a SharedArrayBuffer: it can only grow, which leaves every view valid
  }
}
