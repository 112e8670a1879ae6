/**
 * Heavy counts. `npm test` runs small counts that still reach every branch the large ones do;
 * `npm run test:heavy` (FUNCKEY_HEAVY=1, run by CI after `npm test`) runs the large counts and
 * the heavy suites. A count's own environment variable, when set, wins over both.
 */
export const HEAVY = process.env.FUNCKEY_HEAVY === '1';

/** `light` normally, `heavy` under FUNCKEY_HEAVY=1, or the integer in the environment variable `name`. */
export function count(name: string, light: number, heavy: number): number {
  const set = process.env[name];
  if (set === undefined || set === '') return HEAVY ? heavy : light;
  const n = Number(set);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name} must be a count (a non-negative integer), got ${JSON.stringify(set)}`);
  return n;
}
