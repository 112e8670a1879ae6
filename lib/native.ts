import type { Core } from './core.js';
import { FunckeyError } from './errors.js';

// Placeholder until the native backend lands: reports the addon as unavailable.

export interface NativeStatus {
  available: boolean;
  /** Why the addon did not load, when it did not. */
  reason?: string;
}

export function nativeStatus(): NativeStatus {
  return { available: false, reason: 'the native backend is not built in this version' };
}

export function openNativeCore(_source: string | Uint8Array): Core {
  throw new FunckeyError('E_BACKEND', `native backend unavailable: ${nativeStatus().reason}`);
}
