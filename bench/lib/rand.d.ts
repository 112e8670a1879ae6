/** Declarations of rand.js for the TypeScript tests. */
export type Rand = () => number;
export function rng(seed: number): Rand;
export function int(r: Rand, lo: number, hi: number): number;
export function pick<T>(r: Rand, xs: readonly T[]): T;
export function shuffle<T, A extends { length: number; [i: number]: T }>(arr: A, r: Rand): A;
