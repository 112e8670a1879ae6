import { FunckeyError } from '../errors.js';

/** The .debug_* sections of one core module, as views into its bytes (absent: undefined). */
export interface DebugSections {
  info?: Uint8Array;
  abbrev?: Uint8Array;
  line?: Uint8Array;
  str?: Uint8Array;
  lineStr?: Uint8Array;
  ranges?: Uint8Array;
  rnglists?: Uint8Array;
  addr?: Uint8Array;
  strOffsets?: Uint8Array;
}

interface ModuleDebug {
  sections: DebugSections;
  /** Offset of the code section's payload from the module's first byte (DWARF address 0). */
  codeStart: number;
  /** Length of the code section's payload. */
  codeSize: number;
  /** The sum of the .debug_* sections' payload lengths (all of them, read or not). */
  debugBytes: number;
}

const KEYS: Record<string, keyof DebugSections> = {
  '.debug_info': 'info',
  '.debug_abbrev': 'abbrev',
  '.debug_line': 'line',
  '.debug_str': 'str',
  '.debug_line_str': 'lineStr',
  '.debug_ranges': 'ranges',
  '.debug_rnglists': 'rnglists',
  '.debug_addr': 'addr',
  '.debug_str_offsets': 'strOffsets',
};

function fail(message: string, offset: number): never {
  throw new FunckeyError('E_WASM', `${message} (at byte ${offset} of the module)`, { offset });
}

function leb(bytes: Uint8Array, pos: number): [number, number] {
  let result = 0,
    mul = 1;
  for (let i = 0; i < 5; i++) {
    if (pos >= bytes.length) fail('LEB128 past the end', pos);
    const b = bytes[pos++]!;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [result, pos];
    mul *= 128;
  }
  return fail('LEB128 longer than 5 bytes', pos);
}

const decoder = new TextDecoder('utf-8');

/**
 * Finds the code section and the .debug_* custom sections of a core module (`module` is the
 * module's own bytes, from its `\0asm` header). Returns undefined for a module without a
 * code section or without .debug_info. The first section of each name counts, as in LLVM.
 */
export function findDebugSections(module: Uint8Array): ModuleDebug | undefined {
  let pos = 8;
  let codeStart = -1,
    codeSize = 0,
    debugBytes = 0;
  const sections: DebugSections = {};
  while (pos < module.length) {
    const id = module[pos]!;
    const [size, payload] = leb(module, pos + 1);
    if (size > module.length - payload) fail('section past the end of the module', pos);
    const end = payload + size;
    if (id === 10 && codeStart < 0) {
      codeStart = payload;
      codeSize = size;
    } else if (id === 0) {
      const [nameLen, nameStart] = leb(module, payload);
      if (nameLen > end - nameStart) fail('custom section name past the section', payload);
      const name = decoder.decode(module.subarray(nameStart, nameStart + nameLen));
      if (name.startsWith('.debug_')) {
        debugBytes += end - (nameStart + nameLen);
        const key = KEYS[name];
        if (key !== undefined && sections[key] === undefined) sections[key] = module.subarray(nameStart + nameLen, end);
      }
    }
    pos = end;
  }
  if (codeStart < 0 || sections.info === undefined) return undefined;
  return { sections, codeStart, codeSize, debugBytes };
}
