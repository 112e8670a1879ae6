import { Cursor } from './cursor.js';

/** One abbreviation: a DIE's tag, whether it has children, its attributes and their forms. */
export interface Abbrev {
  tag: number;
  children: boolean;
  /** Attribute names, in the order the DIE stores them. */
  names: number[];
  /** The form of each attribute. */
  forms: number[];
  /** The value of each DW_FORM_implicit_const attribute (0 for the others). */
  consts: number[];
  /** How to read a DIE of this abbreviation (lib/dwarf/info.ts diePlan), for the unit layout `planKey`. */
  plan?: Int32Array | null;
  planKey?: number;
}

const DW_FORM_implicit_const = 0x21;

/**
 * Reads the abbreviation table at `offset` of .debug_abbrev, up to its terminating 0 code.
 * Every entry takes at least 4 bytes, so the table's size bounds the work.
 */
export function readAbbrevs(section: Uint8Array, offset: number): Map<number, Abbrev> {
  const c = new Cursor('.debug_abbrev', section, offset);
  if (!(offset >= 0 && offset < section.length)) c.fail('abbreviation table offset out of the section', offset);
  const table = new Map<number, Abbrev>();
  for (;;) {
    const code = c.uleb();
    if (code === 0) return table;
    const tag = c.uleb();
    const children = c.u8() !== 0;
    const names: number[] = [],
      forms: number[] = [],
      consts: number[] = [];
    for (;;) {
      const name = c.uleb();
      const form = c.uleb();
      if (name === 0 && form === 0) break;
      names.push(name);
      forms.push(form);
      consts.push(form === DW_FORM_implicit_const ? c.sleb() : 0);
    }
    // The first definition of a code counts (LLVM keeps the first too).
    if (!table.has(code)) table.set(code, { tag, children, names, forms, consts });
  }
}
