import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BinaryReader,
  BinaryReaderState,
  type IFunctionNameEntry,
  type IImportEntry,
  type IModuleNameEntry,
  type INameEntry,
  type ISectionInformation,
} from 'wasmparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { open } from '../lib/artifact.js';
import { buildFromWasm } from '../lib/build.js';
import { FuncKey } from '../lib/key.js';
import { parseWasm, type CoreModule } from '../lib/wasm.js';
import { BACKENDS } from './helpers/backends.js';
import { IN_CI, WABT, objdump } from './helpers/wabt.js';

/**
 * Real modules of several megabytes from npm packages (dev dependencies), each compared
 * function by function, all of them, with two independent readers: the `wasmparser`
 * package, and wabt's wasm-objdump when present (always in CI).
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REAL = [
  // Rust (wasm-bindgen), 45 MB, a name section of about 7.6 MB with every function named.
  { pkg: '@biomejs/wasm-nodejs', file: 'biome_wasm_bg.wasm', minNameSection: 1_000_000 },
  // Rust (wasm-bindgen), 18 MB, a name section holding only a couple of names.
  { pkg: '@swc/wasm', file: 'wasm_bg.wasm', minNameSection: 0 },
  // Go, 14 MB, no name section.
  { pkg: 'esbuild-wasm', file: 'esbuild.wasm', minNameSection: 0 },
];

/** What the reference readers say about one module. */
interface Reference {
  importedFuncs: number;
  /** Per defined function: offset of the body-size LEB128, body start, body end. */
  lebAt: number[];
  starts: number[];
  ends: number[];
  moduleName: string | undefined;
  names: Map<number, string>;
  nameSectionSize: number;
}

/** Decodes an unsigned LEB128 at `pos`: [value, bytes used]. */
function leb(b: Uint8Array, pos: number): [number, number] {
  let v = 0;
  let mul = 1;
  let p = pos;
  for (;;) {
    const byte = b[p++]!;
    v += (byte & 0x7f) * mul;
    mul *= 128;
    if (byte < 0x80) return [v, p - pos];
  }
}

/**
 * The wasmparser package's view: imported functions, where each body ends (the reader's
 * position after skipping it), names and module name. Body starts follow from the ends: the
 * first body-size LEB128 comes after the code section's count, each next one where the
 * previous body ends.
 */
function wasmparserReference(bytes: Uint8Array): Reference {
  const r = new BinaryReader();
  r.setData(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length);
  const dec = new TextDecoder();
  const ref: Reference = {
    importedFuncs: 0,
    lebAt: [],
    starts: [],
    ends: [],
    moduleName: undefined,
    names: new Map(),
    nameSectionSize: 0,
  };
  let sectionStart = 8;
  let inName = false;
  let next = -1;
  for (;;) {
    if (!r.read()) throw new Error(`wasmparser stopped at ${r.position}`);
    const st = r.state;
    if (st === BinaryReaderState.END_WASM) break;
    if (st === BinaryReaderState.ERROR) throw r.error;
    if (st === BinaryReaderState.BEGIN_SECTION) {
      const sec = r.result as ISectionInformation;
      const name = sec.id === 0 ? dec.decode(sec.name) : '';
      inName = sec.id === 0 && name === 'name' && ref.nameSectionSize === 0;
      if (sec.id === 10) {
        const [, n] = leb(bytes, r.position); // the code count
        next = r.position + n;
      } else if (sec.id !== 2 && !inName) {
        r.skipSection();
      }
    } else if (st === BinaryReaderState.END_SECTION) {
      if (inName) ref.nameSectionSize = r.position - sectionStart;
      sectionStart = r.position;
    } else if (st === BinaryReaderState.IMPORT_SECTION_ENTRY) {
      if ((r.result as IImportEntry).kind === 0) ref.importedFuncs++;
    } else if (st === BinaryReaderState.BEGIN_FUNCTION_BODY) {
      const [size, n] = leb(bytes, next);
      ref.lebAt.push(next);
      ref.starts.push(next + n);
      ref.ends.push(next + n + size);
      r.skipFunctionBody();
    } else if (st === BinaryReaderState.END_FUNCTION_BODY) {
      const end = r.position;
      if (end !== ref.ends[ref.ends.length - 1])
        throw new Error(`body ${ref.ends.length - 1}: wasmparser ends at ${end}`);
      next = end;
    } else if (st === BinaryReaderState.NAME_SECTION_ENTRY && inName) {
      const e = r.result as INameEntry;
      if (e.type === 0) ref.moduleName = dec.decode((e as IModuleNameEntry).moduleName);
      if (e.type === 1) for (const n of (e as IFunctionNameEntry).names) ref.names.set(n.index, dec.decode(n.name));
    }
  }
  return ref;
}

const namesOf = (m: CoreModule) => new Map([...m.nameIndices].map((fi, k) => [fi, m.names[k]!]));

for (const { pkg, file, minNameSection } of REAL) {
  const path = join(ROOT, 'node_modules', pkg, file);
  const present = existsSync(path);
  const suite = present || IN_CI ? describe : describe.skip;
  const title = present || IN_CI ? `${pkg}/${file}` : `${pkg}/${file} (skipped: not installed; run npm install)`;

  suite(title, () => {
    let bytes: Uint8Array;
    let m: CoreModule;
    let ref: Reference;
    let artifact: Uint8Array;

    beforeAll(() => {
      bytes = new Uint8Array(readFileSync(path));
      m = parseWasm(bytes).modules[0]!;
      ref = wasmparserReference(bytes);
      artifact = buildFromWasm(bytes);
    });

    it('is a module of several megabytes (with a name section over 1 MB where expected)', () => {
      expect(bytes.length).toBeGreaterThan(5_000_000);
      expect(ref.ends.length).toBeGreaterThan(1000);
      expect(ref.nameSectionSize).toBeGreaterThanOrEqual(minNameSection);
      if (minNameSection > 0) expect(ref.names.size).toBeGreaterThan(ref.ends.length);
    });

    it('agrees with wasmparser on every function: imports, body ranges, names', () => {
      expect(m.importedFuncs).toBe(ref.importedFuncs);
      expect(m.definedFuncs).toBe(ref.ends.length);
      expect([...m.funcStarts]).toEqual(ref.lebAt);
      expect([...m.bodyStarts]).toEqual(ref.starts);
      expect([...m.bodyEnds]).toEqual(ref.ends);
      expect(m.name).toBe(ref.moduleName);
      expect(namesOf(m)).toEqual(ref.names);
    });

    (WABT || IN_CI ? it : it.skip)(
      `agrees with wasm-objdump on every function${WABT || IN_CI ? '' : " (skipped: wabt's wasm-objdump not found)"}`,
      () => {
        const od = objdump(path);
        expect(m.importedFuncs).toBe(od.importedFuncs);
        expect(od.code.map((c) => c.index)).toEqual(
          Array.from({ length: m.definedFuncs }, (_, i) => m.importedFuncs + i),
        );
        expect(od.code.map((c) => c.size)).toEqual([...m.bodyEnds].map((e, i) => e - m.bodyStarts[i]!));
        expect(m.name).toBe(od.moduleName);
        expect(namesOf(m)).toEqual(od.names);
      },
    );

    describe.each(BACKENDS)('its artifact, opened with the %s backend', (backend) => {
      it('answers funcLoc, srcLoc, funcByOffset and funcName for every function as the reference does', () => {
        const art = open(artifact, { backend });
        try {
          expect(art.describe().textSize).toBe(bytes.length);
          expect(art.modules[0]).toMatchObject({
            importedFuncs: ref.importedFuncs,
            definedFuncs: ref.ends.length,
            byteOffset: 0,
            name: ref.moduleName,
          });
          const bad: string[] = [];
          const n = ref.ends.length;
          const offsets = new Uint32Array(3 * n);
          for (let i = 0; i < n; i++) {
            const key = FuncKey.definedWasmFunction(0, i);
            const start = ref.starts[i]!;
            const end = ref.ends[i]!;
            const loc = art.funcLoc(key);
            if (loc?.start !== start || loc.length !== end - start)
              bad.push(`funcLoc ${i}: ${JSON.stringify(loc)} != ${start}+${end - start}`);
            if (art.srcLoc(key) !== ref.lebAt[i]) bad.push(`srcLoc ${i}: ${art.srcLoc(key)} != ${ref.lebAt[i]}`);
            const probes = [start, start + ((end - start) >>> 1), end - 1];
            for (let k = 0; k < 3; k++) {
              offsets[3 * i + k] = probes[k]!;
              const got = art.funcByOffset(probes[k]!);
              if (got?.namespace !== key.namespace || got.index !== i)
                bad.push(`funcByOffset ${probes[k]}: ${got} != ${key}`);
            }
            // The body-size LEB128 belongs to no function.
            if (art.funcByOffset(ref.lebAt[i]!) !== undefined)
              bad.push(`funcByOffset ${ref.lebAt[i]} (a size LEB) found a function`);
          }
          const total = ref.importedFuncs + n;
          for (let fi = 0; fi <= total; fi++) {
            const got = art.funcName(fi);
            if (got !== ref.names.get(fi)) bad.push(`funcName ${fi}: ${got} != ${ref.names.get(fi)}`);
          }
          // The batch forms give the same answers.
          const { namespaces, indices } = art.funcsByOffset(offsets);
          for (let j = 0; j < offsets.length; j++)
            if (namespaces[j] !== 0 || indices[j] !== Math.floor(j / 3))
              bad.push(`funcsByOffset[${j}]: (${namespaces[j]}, ${indices[j]})`);
          const all = Uint32Array.from({ length: total }, (_, fi) => fi);
          const batchNames = art.funcNames(all);
          for (let fi = 0; fi < total; fi++)
            if (batchNames[fi] !== ref.names.get(fi)) bad.push(`funcNames[${fi}]: ${batchNames[fi]}`);
          expect(bad.slice(0, 20)).toEqual([]);
        } finally {
          art.close();
        }
      });
    });
  });
}
