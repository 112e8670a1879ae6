/**
 * Expected values written by hand from the spec and the samples, not from lib/: the tests
 * that compare funckey's output with them share one copy.
 */

/**
 * The sections of an artifact, in the order of docs/FORMAT.md section 1.3 (section 0 aside),
 * source-location ones aside (LINE_SECTIONS: only where there are source locations).
 */
export const FORMAT_SECTIONS = [
  '.shstrtab',
  '.fk.info',
  '.fk.namespaces',
  '.fk.func_loc_starts',
  '.fk.sparse_starts',
  '.fk.src_loc_starts',
  '.fk.sparse_indices',
  '.fk.func_locs',
  '.fk.src_locs',
  '.fk.name_index',
  '.fk.names',
  '.fk.bitmap_starts',
  '.fk.sparse_bitmaps',
  '.fk.offset_index',
  '.fk.bucket_starts',
  '.fk.sparse_buckets',
] as const;

/** The source-location sections (FORMAT.md 3.5), after FORMAT_SECTIONS in an artifact that has them. */
export const LINE_SECTIONS = [
  '.fk.line_blocks',
  '.fk.line_pieces',
  '.fk.line_frames',
  '.fk.line_strings',
  '.fk.line_string_bytes',
] as const;

/** The call chain of samples/demo.wat when it traps, innermost first. */
export const DEMO_CHAIN = [
  'unit_average',
  'price_order',
  'apply_discount',
  'process_order',
  'process_batch',
  'run_pipeline',
  'main',
] as const;
