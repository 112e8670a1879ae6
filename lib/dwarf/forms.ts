import type { Cursor } from './cursor.js';

/** What readForm found, beside its number: how the number is to be understood. */
export enum Kind {
  None, // a block, an expression, a signature: nothing this reader uses
  Const, // a constant or a section offset
  Addr, // an address
  AddrX, // an index into .debug_addr
  StrInfo, // a string in .debug_info at this offset (DW_FORM_string)
  Strp, // an offset into .debug_str
  LineStrp, // an offset into .debug_line_str
  StrX, // an index into .debug_str_offsets
  Ref, // a .debug_info offset
  RngListX, // an index into the unit's range list offsets
}

/** The layout a form is read with: the unit's address and offset sizes and where it starts. */
export interface FormContext {
  version: number;
  addrSize: number;
  offsetSize: number;
  /** Offset of the unit's header in .debug_info (unit-relative references count from it). */
  unitOffset: number;
}

export let kind: Kind = Kind.None;

/**
 * Reads one attribute value of `form` at the cursor and returns it as a number, setting
 * `kind`. `implicit` is the abbreviation's DW_FORM_implicit_const value. Forms this reader
 * does not know are E_DWARF, since the DIE's size cannot be known past them.
 */
export function readForm(c: Cursor, form: number, implicit: number, u: FormContext): number {
  for (let depth = 0; ; depth++) {
    switch (form) {
      case 0x01:
        kind = Kind.Addr;
        return c.uN(u.addrSize); // addr
      case 0x03:
        kind = Kind.None;
        c.skip(c.u16());
        return 0; // block2
      case 0x04:
        kind = Kind.None;
        c.skip(c.u32());
        return 0; // block4
      case 0x05:
        kind = Kind.Const;
        return c.u16(); // data2
      case 0x06:
        kind = Kind.Const;
        return c.u32(); // data4
      case 0x07:
        kind = Kind.Const;
        return c.u64(); // data8
      case 0x08:
        kind = Kind.StrInfo;
        return c.skipCStr(); // string
      case 0x09:
      case 0x18:
        kind = Kind.None;
        c.skip(c.uleb());
        return 0; // block, exprloc
      case 0x0a:
        kind = Kind.None;
        c.skip(c.u8());
        return 0; // block1
      case 0x0b:
        kind = Kind.Const;
        return c.u8(); // data1
      case 0x0c:
        kind = Kind.Const;
        return c.u8(); // flag
      case 0x0d:
        kind = Kind.Const;
        return c.sleb(); // sdata
      case 0x0e:
        kind = Kind.Strp;
        return c.uN(u.offsetSize); // strp
      case 0x0f:
        kind = Kind.Const;
        return c.uleb(); // udata
      case 0x10:
        kind = Kind.Ref;
        return c.uN(u.version <= 2 ? u.addrSize : u.offsetSize); // ref_addr
      case 0x11:
        kind = Kind.Ref;
        return u.unitOffset + c.u8(); // ref1
      case 0x12:
        kind = Kind.Ref;
        return u.unitOffset + c.u16(); // ref2
      case 0x13:
        kind = Kind.Ref;
        return u.unitOffset + c.u32(); // ref4
      case 0x14:
        kind = Kind.Ref;
        return u.unitOffset + c.u64(); // ref8
      case 0x15:
        kind = Kind.Ref;
        return u.unitOffset + c.uleb(); // ref_udata
      case 0x16: // indirect: the form comes first; each level reads at least a byte
        if (depth > 8) c.fail('DW_FORM_indirect nested too deep');
        form = c.uleb();
        continue;
      case 0x17:
        kind = Kind.Const;
        return c.uN(u.offsetSize); // sec_offset
      case 0x19:
        kind = Kind.Const;
        return 1; // flag_present
      case 0x1a:
      case 0x1f02:
        kind = Kind.StrX;
        return c.uleb(); // strx, GNU_str_index
      case 0x1b:
      case 0x1f01:
        kind = Kind.AddrX;
        return c.uleb(); // addrx, GNU_addr_index
      case 0x1c:
        kind = Kind.None;
        c.skip(4);
        return 0; // ref_sup4
      case 0x1d:
      case 0x1f20:
      case 0x1f21:
        kind = Kind.None;
        c.skip(u.offsetSize);
        return 0; // strp_sup, GNU_ref_alt, GNU_strp_alt
      case 0x1e:
        kind = Kind.None;
        c.skip(16);
        return 0; // data16
      case 0x1f:
        kind = Kind.LineStrp;
        return c.uN(u.offsetSize); // line_strp
      case 0x20:
        kind = Kind.None;
        c.skip(8);
        return 0; // ref_sig8
      case 0x21:
        kind = Kind.Const;
        return implicit; // implicit_const
      case 0x22:
        kind = Kind.Const;
        return c.uleb(); // loclistx
      case 0x23:
        kind = Kind.RngListX;
        return c.uleb(); // rnglistx
      case 0x24:
        kind = Kind.None;
        c.skip(8);
        return 0; // ref_sup8
      case 0x25:
        kind = Kind.StrX;
        return c.u8(); // strx1
      case 0x26:
        kind = Kind.StrX;
        return c.u16(); // strx2
      case 0x27:
        kind = Kind.StrX;
        return c.uN(2) + c.u8() * 0x10000; // strx3
      case 0x28:
        kind = Kind.StrX;
        return c.u32(); // strx4
      case 0x29:
        kind = Kind.AddrX;
        return c.u8(); // addrx1
      case 0x2a:
        kind = Kind.AddrX;
        return c.u16(); // addrx2
      case 0x2b:
        kind = Kind.AddrX;
        return c.uN(2) + c.u8() * 0x10000; // addrx3
      case 0x2c:
        kind = Kind.AddrX;
        return c.u32(); // addrx4
      default:
        return c.fail(`unknown attribute form 0x${form.toString(16)}`);
    }
  }
}
