// The trivial ES module of the cold-start floor (bench/cold-start-child.js trivial-esm).
export const trivial = 1;
