/**
 * Public limits that both the eager entry point (lib/entry.ts) and the modules that enforce
 * them import, so that each is written once.
 */

/** A trace line longer than this many bytes is passed through by the streams unread. */
export const MAX_LINE = 1 << 20;
