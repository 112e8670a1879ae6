// The one seeded random number generator of the benchmarks, the fuzz corpus generator and
// the tests. Plain JavaScript with no imports, so that bench/ and fuzz/ (run by node as
// they are) and the TypeScript tests (through vitest) all import this same file; the
// declarations are in rand.d.ts. A fixed seed gives the same stream on every machine, so a
// failing seed can be replayed.

/** A generator with 32 bits of state (mulberry32), uniform in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi], both included. */
export const int = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1));

/** One element of xs. */
export const pick = (r, xs) => xs[Math.floor(r() * xs.length)];

/** Fisher-Yates shuffle of arr in place; returns arr. */
export function shuffle(arr, r) {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = arr[i];
    arr[i] = arr[j];
    arr[j] = t;
  }
  return arr;
}
