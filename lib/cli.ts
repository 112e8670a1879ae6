#!/usr/bin/env node
/**
 * The `funckey` command: build an artifact from a .wasm file, inspect it, look things up in
 * it, symbolicate stack traces with it, and a demo of the whole path on a sample module.
 *
 * Exit status: 0 on success; 1 on a usage or input error, with one line on stderr,
 * `funckey: E_CODE: message` (with --json, one JSON line `{"error":{"code","message"}}`);
 * 2 on an internal error (a bug in funckey, not in the input).
 */
import * as nodeModule from 'node:module';
import { closeSync, openSync, readFileSync, readSync, realpathSync, statSync, writeSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { open, type Artifact, type BackendChoice } from './artifact.js';
import { readBounded } from './bounded-read.js';
import { builderFromWasm, type ModuleSrcLocs } from './build.js';
import { tableLookup } from './dwarf/index.js';
import { FunckeyError } from './errors.js';
import { FuncKey, FuncKind, kindIsSparse } from './key.js';
import { envVar, nativeStatus } from './native.js';
import { setNodeModule } from './require.js';
import { symbolicate, symbolicateFrames, type SymbolicatedFrame, type SymbolicateOptions } from './symbolicate.js';
import { TraceRewriter } from './trace-stream.js';
import { stripCustomSections, stripNameSection } from './wasm-strip.js';
import { writeFileAtomic } from './writer.js';

// node-gyp-build's require where process.getBuiltinModule is missing (Node before 20.16).
setNodeModule(nodeModule);

type Values = Record<string, string | boolean | undefined>;

interface Command {
  usage: string;
  summary: string;
  details: string;
  options: ParseArgsConfig['options'];
  run(positionals: string[], values: Values): string;
}

const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  backend: { type: 'string' },
} as const;

const COMMON_HELP = `Options of every command:
  --json                  machine-readable output (one JSON document on stdout)
  --backend auto|native|js
                          which reader answers (default auto: FUNCKEY_BACKEND, else native
                          when the addon loads, else js)
  -h, --help              this help`;

function usageError(message: string): FunckeyError {
  return new FunckeyError('E_ARG', message);
}

function backendOf(values: Values): BackendChoice {
  const b = values.backend ?? 'auto';
  if (b !== 'auto' && b !== 'native' && b !== 'js')
    throw usageError(`--backend must be auto, native or js, got ${JSON.stringify(b)}`);
  return b;
}

/**
 * Runs f; a FunckeyError from it that does not name `path` gets it in front, so every message
 * names the user's file once.
 */
function naming<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof FunckeyError) || e.message.includes(path)) throw e;
    throw new FunckeyError(e.code, `${path}: ${e.message}`, { cause: e, offset: e.offset });
  }
}

/** Whether the file starts like a WebAssembly binary (\0asm). */
function looksLikeWasm(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const b = new Uint8Array(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Why `backend` answers: the option, the environment variable, or what auto found. */
function backendReason(values: Values, backend: string): string {
  if (values.backend !== undefined && values.backend !== 'auto') return `chosen by --backend ${backend}`;
  const env = envVar('FUNCKEY_BACKEND');
  if (env !== undefined && env !== '' && env !== 'auto') return `chosen by FUNCKEY_BACKEND=${env}`;
  const s = nativeStatus();
  return s.available
    ? `the addon loaded from ${s.path}`
    : `the native addon is not available: ${s.reason ?? 'unknown reason'}`;
}

function openArtifact(path: string | undefined, values: Values): Artifact {
  if (path === undefined) throw usageError('missing <artifact> argument');
  const backend = backendOf(values);
  try {
    return naming(path, () => open(path, { backend }));
  } catch (e) {
    if (e instanceof FunckeyError && e.code === 'E_FORMAT' && looksLikeWasm(path))
      throw new FunckeyError(
        'E_FORMAT',
        `${path} is a WebAssembly module, not an artifact: run 'funckey build ${path}' first`,
        { cause: e },
      );
    throw e;
  }
}

/** A u32 written in decimal or 0x hex. */
function parseU32(what: string, text: string): number {
  const t = text.trim();
  if (!/^(0[xX][0-9a-fA-F]+|\d+)$/.test(t))
    throw usageError(`${what} must be a decimal or 0x hex number, got ${JSON.stringify(text)}`);
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n > 0xffffffff)
    throw new FunckeyError('E_RANGE', `${what} ${text} does not fit in 32 bits`);
  return n;
}

function moduleOption(values: Values): number | undefined {
  return values.module === undefined ? undefined : parseU32('--module', values.module as string);
}

const hex = (n: number) => '0x' + n.toString(16);
const json = (x: unknown) => JSON.stringify(x, null, 2) + '\n';

/** A binary input file, bounded as readBounded reads (lib/bounded-read.ts). */
function readBinary(path: string): Uint8Array {
  return readBounded(path);
}

/** E_ARG when writing `output` would replace `input` (the same file, whatever the paths say). */
function refuseOverwrite(input: string, output: string): void {
  let a, b;
  try {
    a = statSync(input);
    b = statSync(output);
  } catch {
    return; // no output yet (or no input: reading it reports that)
  }
  if (a.dev === b.dev && a.ino === b.ino)
    throw usageError(`${output} is the input ${input}: refusing to overwrite it (choose another -o)`);
}

/** The name of a key's function, for the kinds that are functions of a module. */
function nameOfKey(a: Artifact, key: FuncKey): { funcIndex: number; name: string | undefined } | undefined {
  if (key.kind !== FuncKind.DefinedWasmFunction) return undefined;
  const m = key.module!;
  const mods = a.modules;
  if (m >= mods.length) return undefined;
  const funcIndex = mods[m]!.importedFuncs + key.index;
  if (funcIndex > 0xffffffff) return undefined;
  return { funcIndex, name: a.funcName(funcIndex, m) };
}

function namespaceText(ns: number): string {
  const kind = ns >>> 28;
  const low = ns & 0x0fffffff;
  const name = FuncKind[kind] ?? `kind${kind}`;
  switch (kind) {
    case FuncKind.DefinedWasmFunction:
    case FuncKind.ArrayToWasmTrampoline:
    case FuncKind.ModuleStartup:
      return `${name} module ${low}`;
    case FuncKind.ComponentTrampoline:
    case FuncKind.UnsafeIntrinsic:
      return `${name} abi ${low}`;
    default:
      return name;
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s + ' ' : s + ' '.repeat(n - s.length);
}

const ENCODINGS = ['none', 'dense', 'sparse'] as const;

// --- Commands ------------------------------------------------------------------------------

const build: Command = {
  usage: 'funckey build <module.wasm> [-o out.fkx]',
  summary: 'build the artifact of a WebAssembly module or component',
  details: `Reads the module (or component), records every defined function's body range, the
names of its name section and a SHA-256 of each core module, and writes the artifact
atomically (a temporary file, then a rename). The default output is the input path with
its extension replaced by .fkx.

Options:
  -o, --output <path>     where to write the artifact`,
  options: { output: { type: 'string', short: 'o' } },
  run(pos, values) {
    if (pos.length !== 1)
      throw usageError(pos.length === 0 ? 'missing <module.wasm> argument' : 'build takes one <module.wasm>');
    const input = pos[0]!;
    const output =
      (values.output as string | undefined) ??
      (extname(input) === '' ? input : input.slice(0, -extname(input).length)) + '.fkx';
    if (output === '') throw usageError('--output must not be empty');
    refuseOverwrite(input, output);
    const bytes = readBinary(input);
    const t0 = performance.now();
    // The artifact holds the source locations of the modules' DWARF (docs/DWARF.md).
    const { builder, parsed } = naming(input, () => builderFromWasm(bytes));
    const artifact = builder.finish();
    writeFileAtomic(output, artifact);
    const ms = performance.now() - t0;
    const functions = parsed.modules.reduce((s, m) => s + m.definedFuncs, 0);
    const names = parsed.modules.reduce((s, m) => s + m.names.length, 0);
    if (values.json)
      return json({
        input,
        output,
        kind: parsed.kind,
        modules: parsed.modules.length,
        functions,
        names,
        bytes: artifact.length,
        ms: Number(ms.toFixed(3)),
      });
    const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
    return `wrote ${output}: ${plural(parsed.modules.length, 'module')}, ${plural(functions, 'function')}, ${plural(names, 'name')}, ${artifact.length} bytes in ${ms.toFixed(1)} ms\n`;
  },
};

const info: Command = {
  usage: 'funckey info <artifact>',
  summary: 'format version, backend, modules, counts, namespaces and sections',
  details: 'Decodes the header of the artifact only (what open() reads).',
  options: {},
  run(pos, values) {
    if (pos.length > 1) throw usageError('info takes one <artifact>');
    const a = openArtifact(pos[0], values);
    try {
      const d = a.describe();
      const why = backendReason(values, a.backend);
      if (values.json) return json({ path: pos[0], backend: a.backend, backendReason: why, ...d });
      const out: string[] = [];
      out.push(`artifact        ${pos[0]}`);
      out.push(`format version  ${d.formatVersion}`);
      out.push(`backend         ${a.backend} (${why})`);
      out.push(`file size       ${d.fileSize} bytes`);
      out.push(`text size       ${d.textSize} bytes`);
      out.push(
        `functions       ${d.funcCount} locations, ${d.sparseCount} sparse indices, ${d.srcLocCount} source locations`,
      );
      out.push(`names           ${d.nameBytes} bytes, index of ${d.nameIndexWords} words`);
      out.push(`modules         ${d.modules.length}`);
      d.modules.forEach((m, i) => {
        out.push(
          `  ${i}: name ${m.name === undefined ? '-' : JSON.stringify(m.name)}, ${m.importedFuncs} imported + ${m.definedFuncs} defined functions, ` +
            `byte offset ${m.byteOffset}, names ${ENCODINGS[m.nameEncoding]} (${m.nameCount}), sha256 ${m.sha256 ?? '-'}`,
        );
      });
      out.push(`namespaces      ${d.namespaces.length}`);
      for (const n of d.namespaces) {
        const sparse = !kindIsSparse(n.namespace >>> 28)
          ? ''
          : n.encoding === 'bitmap'
            ? `, sparse: rank bitmap of ${n.bitmapBlocks} blocks`
            : n.encoding === 'buckets'
              ? `, sparse: buckets of ${2 ** n.bucketShift} indices, a filter bit per ${2 ** n.bucketFilterShift} (${n.bucketWords} words)`
              : n.encoding === 'direct'
                ? ', sparse: direct (holes for absent indices)'
                : ', sparse: sorted indices';
        out.push(
          `  0x${n.namespace.toString(16).padStart(8, '0')}  ${pad(namespaceText(n.namespace), 34)}${n.funcCount} functions from ${n.funcStart}${sparse}`,
        );
      }
      out.push(`offset index    ${d.offsetCount} entries, buckets of ${2 ** d.offsetShift} bytes`);
      out.push(`sections        ${d.sections.length}`);
      for (const s of d.sections)
        out.push(`  ${pad(s.name, 20)}offset ${String(s.offset).padStart(8)}  size ${String(s.size).padStart(8)}`);
      return out.join('\n') + '\n';
    } finally {
      a.close();
    }
  },
};

const lookup: Command = {
  usage: 'funckey lookup <artifact> <KEY>...',
  summary: 'location, FilePos and name of keys such as DefinedWasmFunction(0, 12)',
  details: `Each KEY is written as its kind and arguments, e.g. 'DefinedWasmFunction(0, 12)' or
'ArrayToWasmTrampoline(0,3)' (quote it for the shell). A key the artifact does not hold
is reported as not found; that is not an error.`,
  options: {},
  run(pos, values) {
    if (pos.length < 2) throw usageError(pos.length === 0 ? 'missing <artifact> argument' : 'missing <KEY> argument');
    const keys = pos.slice(1).map((t) => FuncKey.parse(t));
    const a = openArtifact(pos[0], values);
    try {
      const rows = keys.map((key) => {
        const loc = a.funcLoc(key);
        const src = loc === undefined ? undefined : a.srcLoc(key);
        const nm = loc === undefined ? undefined : nameOfKey(a, key);
        return {
          key: key.toString(),
          found: loc !== undefined,
          start: loc?.start,
          length: loc?.length,
          filePos: src,
          funcIndex: nm?.funcIndex,
          name: nm?.name,
        };
      });
      if (values.json) return json(rows);
      return rows
        .map((r) => {
          if (!r.found) return `${r.key}  not found`;
          let s = `${r.key}  start ${hex(r.start!)} length ${r.length} filepos ${r.filePos === undefined ? '-' : hex(r.filePos)}`;
          if (r.funcIndex !== undefined) s += `  func ${r.funcIndex} name ${r.name === undefined ? '-' : r.name}`;
          return s + '\n';
        })
        .map((s) => (s.endsWith('\n') ? s : s + '\n'))
        .join('');
    } finally {
      a.close();
    }
  },
};

const addr: Command = {
  usage: 'funckey addr <artifact|module.wasm> <OFFSET>... | --symbolizer',
  summary: 'byte offsets (decimal or 0x hex) -> key, function index, name, file:line:column',
  details: `Each OFFSET is a byte offset in the artifact's text: for an artifact built from a
.wasm file, an offset in that file, as V8 prints it after wasm-function[N]:. An offset
in no function is reported as such; that is not an error. Where the artifact holds source
locations (read from the module's DWARF when it was built), each offset's chain of frames
follows, innermost first, inlined frames marked, each as function file:line:column
(docs/DWARF.md).

Given a .wasm module instead of an artifact, the artifact is built in memory, DWARF
included.

Options:
  --symbolizer            read addresses from standard input, one a line, and answer as
                          llvm-symbolizer --inlines --no-demangle does (its LLVM output
                          style): the addresses are offsets from the code section's payload,
                          as llvm-symbolizer takes them for wasm; a .wasm module only
  --module <N>            with --symbolizer: the core module (default 0)`,
  options: { symbolizer: { type: 'boolean' }, module: { type: 'string' } },
  run(pos, values) {
    if (pos.length === 0) throw usageError('missing <artifact> argument');
    if (values.symbolizer) {
      if (pos.length !== 1) throw usageError('--symbolizer reads addresses from standard input: give no OFFSET');
      return symbolizerOutput(srcLocSource(pos[0]!, values), moduleOption(values) ?? 0, readStdinText());
    }
    if (pos.length < 2) throw usageError('missing <OFFSET> argument');
    const offsets = pos.slice(1).map((t) => parseU32('OFFSET', t));
    const src = srcLocSource(pos[0]!, values);
    const a = src.artifact;
    try {
      const rows = offsets.map((offset) => {
        const key = a.funcByOffset(offset);
        const nm = key === undefined ? undefined : nameOfKey(a, key);
        const row = { offset, key: key?.toString(), module: key?.module, funcIndex: nm?.funcIndex, name: nm?.name };
        return { ...row, frames: a.srcLocs(offset) };
      });
      if (values.json) return json(rows);
      return rows
        .map((r) => {
          if (r.key === undefined) return `${hex(r.offset)}  not in a function\n`;
          let s = `${hex(r.offset)}  ${r.key}`;
          if (r.funcIndex !== undefined) s += `  func ${r.funcIndex} name ${r.name === undefined ? '-' : r.name}`;
          s += '\n';
          const frames = r.frames;
          frames.forEach((f, i) => {
            const where = `${f.file === '' ? '??' : f.file}:${f.line}:${f.column}`;
            s += `  ${f.function === '' ? '??' : f.function} ${where}${i < frames.length - 1 ? ' (inlined)' : ''}\n`;
          });
          return s;
        })
        .join('');
    } finally {
      a.close();
    }
  },
};

interface SrcLocSource {
  artifact: Artifact;
  /** The modules' source locations, when the input was a .wasm module with DWARF. */
  srcLocs: ModuleSrcLocs[];
  wasm: boolean;
}

/** An artifact, opened, or a .wasm module, built in memory with its DWARF read. */
function srcLocSource(path: string, values: Values): SrcLocSource {
  if (looksLikeWasm(path)) {
    const b = builderFromWasm(readBinary(path), { dwarf: true });
    return { artifact: open(b.builder.finish(), { backend: backendOf(values) }), srcLocs: b.srcLocs, wasm: true };
  }
  return { artifact: openArtifact(path, values), srcLocs: [], wasm: false };
}

/** All of standard input as text, bounded as readBounded reads (lib/bounded-read.ts). */
function readStdinText(): string {
  return new TextDecoder().decode(readBounded(0));
}

/** llvm-symbolizer's LLVM output style for each address line of `input` (code-section-relative). */
function symbolizerOutput(src: SrcLocSource, module: number, input: string): string {
  src.artifact.close();
  if (!src.wasm) throw usageError('--symbolizer reads source locations from DWARF: give the .wasm module');
  const mod = src.srcLocs.find((s) => s.module === module);
  let out = '';
  for (const raw of input.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    // As llvm-symbolizer reads a number: 0x hex, a leading 0 octal, else decimal; a line it
    // cannot read it echoes.
    const address = /^0[xX][0-9a-fA-F]{1,13}$/.test(line)
      ? parseInt(line.slice(2), 16)
      : /^0[0-7]{0,17}$/.test(line)
        ? parseInt(line, 8)
        : /^[1-9][0-9]{0,15}$/.test(line)
          ? Number(line)
          : -1;
    if (address < 0) {
      out += line + '\n';
      continue;
    }
    const frames = mod !== undefined && address < mod.table.codeSize ? tableLookup(mod.table, address) : [];
    if (frames.length === 0) out += '??\n??:0:0\n';
    for (const f of frames)
      out += `${f.function === '' ? '??' : f.function}\n${f.file === '' ? '??' : f.file}:${f.line}:${f.column}\n`;
    out += '\n';
  }
  return out;
}

/** The custom sections `funckey strip` drops: what the artifact stands in for. */
const isStrippable = (n: string) => n === 'name' || n.startsWith('.debug_');

const strip: Command = {
  usage: 'funckey strip <in.wasm> -o <out.wasm>',
  summary: 'write the module without its name and .debug_* sections (build first, then strip)',
  details: `Copies a core WebAssembly module without its \`name\` and \`.debug_*\` custom
sections; every other section is copied byte for byte. Build the artifact from the module
first: the artifact keeps the names and source locations the stripped module no longer
has. Code offsets are unchanged when those sections come after the code section, as
compilers and linkers place them; the command says so, or warns when they do not.
Components are not stripped (their nested modules would move).

Options:
  -o, --output <file>     where to write the stripped module (required)`,
  options: { output: { type: 'string', short: 'o' } },
  run(pos, values) {
    if (pos.length !== 1)
      throw usageError(pos.length === 0 ? 'missing <in.wasm> argument' : 'strip takes one <in.wasm>');
    const out = values.output;
    if (typeof out !== 'string' || out === '') throw usageError('missing -o <out.wasm>');
    const bytes = readBinary(pos[0]!);
    const wasm = bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
    if (!wasm) throw new FunckeyError('E_WASM', `${pos[0]} is not a WebAssembly binary (bad magic)`, { offset: 0 });
    if (bytes[4] !== 1) throw usageError(`${pos[0]} is not a core module (components are not stripped)`);
    const dropped: string[] = [];
    const stripped = stripCustomSections(bytes, (n) => {
      const drop = isStrippable(n);
      if (drop) dropped.push(n);
      return drop;
    });
    const codeMoved = codeOffset(bytes) !== codeOffset(stripped);
    writeFileAtomic(out, stripped);
    const r = {
      input: pos[0],
      output: out,
      inputBytes: bytes.length,
      outputBytes: stripped.length,
      dropped,
      codeOffsetsUnchanged: !codeMoved,
    };
    if (values.json) return json(r);
    let text = `${out}: ${stripped.length} bytes (${bytes.length - stripped.length} dropped: ${dropped.length === 0 ? 'nothing' : dropped.join(', ')})\n`;
    if (codeMoved)
      text +=
        'warning: a dropped section came before the code section; code offsets moved, so build the artifact from the stripped module\n';
    return text;
  },
};

/** Where the code section's header starts in a module (-1 without one); the sections are well-formed. */
function codeOffset(bytes: Uint8Array): number {
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    let size = 0,
      mul = 1,
      p = pos + 1;
    for (let i = 0; i < 5 && p < bytes.length; i++) {
      const b = bytes[p++]!;
      size += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) break;
    }
    if (id === 10) return pos;
    pos = p + size;
  }
  return -1;
}

const name: Command = {
  usage: 'funckey name <artifact> <FUNC_INDEX>... [--module N]',
  summary: 'function names by function index (counting imports)',
  details: `Options:
  --module <N>            the module of the artifact (default 0)`,
  options: { module: { type: 'string' } },
  run(pos, values) {
    if (pos.length < 2)
      throw usageError(pos.length === 0 ? 'missing <artifact> argument' : 'missing <FUNC_INDEX> argument');
    const indices = pos.slice(1).map((t) => parseU32('FUNC_INDEX', t));
    const module = moduleOption(values) ?? 0;
    const a = openArtifact(pos[0], values);
    try {
      const m = a.modules[module];
      const count = m === undefined ? undefined : m.importedFuncs + m.definedFuncs;
      for (const i of indices)
        if (count !== undefined && i >= count)
          throw new FunckeyError(
            'E_RANGE',
            `FUNC_INDEX ${i} is out of range: module ${module} has ${count} functions (0 to ${count - 1})`,
          );
      const names = a.funcNames(new Uint32Array(indices), module);
      const rows = indices.map((funcIndex, i) => ({ module, funcIndex, name: names[i] }));
      if (values.json) return json(rows);
      return rows.map((r) => `${r.funcIndex}  ${r.name === undefined ? '(no name)' : r.name}\n`).join('');
    } finally {
      a.close();
    }
  },
};

const symbolicateCmd: Command = {
  usage: 'funckey symbolicate <artifact> [file|-] [--module N] [--no-inlines] [--no-line-info]',
  summary: 'put function names and source locations into the wasm frames of a stack trace',
  details: `Reads the trace from the file, or from standard input when it is '-' or absent, and
writes it back with every WebAssembly frame the artifact knows given its function name
(V8, SpiderMonkey, JavaScriptCore and Wasmtime frame forms); every other byte stays as it
was. Reads and writes as a stream, in constant memory, so a log of any size goes through.
With --json, prints the frames found instead: line, engine, url, function index, offset,
key, name, status and the source-location chain.

When the artifact has line information (built from a module with DWARF), a frame with an
offset also gets its source location, and its inlined frames one line each, innermost
first, in the engine's syntax (here V8's):
    at check (/src/util.h:6:7)
    at leaf [/src/main.c:8:10] (URL:wasm-function[4]:0xa0)
the inlined frame, then the frame with its own location. A Wasmtime frame is written as
Wasmtime writes it with WASMTIME_BACKTRACE_DETAILS=1. Symbolicating the output again
changes nothing.

Options:
  --module <N>            attribute every frame to module N of the artifact (default: 0
                          for an artifact of one module; else the module whose function at
                          the offset has the printed index)
  --no-inlines            one line per frame: the innermost location after the function's
                          name, no lines for inlined frames
  --no-line-info          no source locations, function names only`,
  options: { module: { type: 'string' }, 'no-inlines': { type: 'boolean' }, 'no-line-info': { type: 'boolean' } },
  run(pos, values) {
    if (pos.length < 1) throw usageError('missing <artifact> argument');
    if (pos.length > 2) throw usageError('symbolicate takes <artifact> and at most one input file');
    const module = moduleOption(values);
    const a = openArtifact(pos[0], values);
    try {
      const options: SymbolicateOptions = {
        ...(module === undefined ? {} : { module }),
        inlines: values['no-inlines'] !== true,
        lineInfo: values['no-line-info'] !== true,
      };
      streamTrace(a, options, pos[1], values.json === true);
      return '';
    } finally {
      a.close();
    }
  },
};

/** A frame of --json output. */
function frameJson(f: SymbolicatedFrame): Record<string, unknown> {
  return {
    line: f.line,
    engine: f.engine,
    form: f.form,
    url: f.url,
    funcIndex: f.funcIndex,
    offset: f.offset,
    printedName: f.printedName,
    status: f.status,
    module: f.module,
    key: f.key?.toString(),
    resolvedIndex: f.resolvedIndex,
    name: f.name,
    srcLocs: f.srcLocs,
    text: f.text,
    rewritten: f.rewritten,
  };
}

/**
 * Symbolicates the input (a file, or standard input for '-' or none) to standard output in
 * chunks, with blocking reads and writes: memory stays bounded by the chunk and the longest
 * line kept (TraceRewriter). With `json`, writes the frames as a JSON array instead.
 */
function streamTrace(a: Artifact, options: SymbolicateOptions, path: string | undefined, asJson: boolean): void {
  const stdin = path === undefined || path === '-';
  const what = stdin ? 'standard input' : path;
  let fd: number;
  try {
    fd = stdin ? 0 : openSync(path, 'r');
  } catch (e) {
    throw ioError(`cannot read ${what}`, e);
  }
  let count = 0;
  const onFrame = (f: SymbolicatedFrame) => {
    const j = JSON.stringify(frameJson(f), null, 2).replace(/\n/g, '\n  ');
    writeAll(Buffer.from(`${count++ === 0 ? '[\n  ' : ',\n  '}${j}`, 'utf8'));
  };
  try {
    const rw = new TraceRewriter(a, options, asJson ? onFrame : undefined);
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSome(fd, buf, what);
      if (n === 0) break;
      for (const b of rw.push(buf.subarray(0, n))) if (!asJson) writeAll(b);
    }
    for (const b of rw.end()) if (!asJson) writeAll(b);
    if (asJson) writeAll(Buffer.from(count === 0 ? '[]\n' : '\n]\n'));
  } finally {
    if (!stdin) closeSync(fd);
  }
}

function ioError(message: string, e: unknown): FunckeyError {
  const err = e as NodeJS.ErrnoException;
  return new FunckeyError('E_IO', `${message}: ${err.code ?? err.message}`, { cause: e });
}

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** A blocking read (retrying while a non-blocking descriptor has nothing yet). */
function readSome(fd: number, buf: Buffer, what: string): number {
  for (;;) {
    try {
      return readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') pause(2);
      else if (code === 'EOF') return 0;
      else throw ioError(`cannot read ${what}`, e);
    }
  }
}

/** Writes all of b to standard output; a closed pipe ends the process quietly, as `head` expects. */
function writeAll(b: Uint8Array): void {
  let off = 0;
  while (off < b.length) {
    try {
      off += writeSync(1, b, off, b.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') pause(2);
      else if (code === 'EPIPE') process.exit(process.exitCode ?? 0);
      else throw ioError('cannot write standard output', e);
    }
  }
}

/** Where the package's sample module is: samples/ next to dist/ (or lib/). */
function samplePath(file: string): string {
  return fileURLToPath(new URL(`../samples/${file}`, import.meta.url));
}

/** The runtime this process is, as the demo names it. */
function runtimeName(): string {
  const v = process.versions as Record<string, string | undefined>;
  const deno = (globalThis as { Deno?: { version: { deno: string; v8: string } } }).Deno;
  if (v.bun !== undefined) return `Bun ${v.bun} (JavaScriptCore)`;
  if (deno !== undefined) return `Deno ${deno.version.deno} (V8 ${deno.version.v8})`;
  return `Node ${process.version} (V8 ${v.v8 ?? '?'})`;
}

/**
 * Runs the stripped sample until it traps; returns the trap's stack and how it was taken.
 * Bun prints `at unknown` for every wasm frame of err.stack, so there the stack is written
 * from its call sites (Error.prepareStackTrace), whose function names carry the index.
 */
function trapStack(stripped: ReturnType<typeof stripNameSection>): { stack: string; how: string } {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(stripped), {
    host: { log: () => {}, now: () => 0, report: () => {} },
  });
  const E = Error as unknown as { stackTraceLimit: number; prepareStackTrace?: unknown };
  const { stackTraceLimit, prepareStackTrace } = E;
  const bun = (process.versions as Record<string, string | undefined>).bun !== undefined;
  E.stackTraceLimit = 50;
  if (bun)
    E.prepareStackTrace = (e: Error, sites: { getFunctionName(): string | null; getFileName(): string | null }[]) =>
      [String(e), ...sites.map((c) => `    ${c.getFunctionName() ?? ''}@${c.getFileName() ?? ''}`)].join('\n');
  try {
    (instance.exports.main as () => number)();
  } catch (e) {
    const stack = (e as Error).stack ?? String(e);
    return {
      stack,
      how: bun
        ? `as ${runtimeName()} gives it in its call sites (err.stack prints \`at unknown\` for wasm frames)`
        : `as ${runtimeName()} prints it`,
    };
  } finally {
    E.stackTraceLimit = stackTraceLimit;
    E.prepareStackTrace = prepareStackTrace;
  }
  throw new FunckeyError('E_WASM', 'the sample module did not trap');
}

const demo: Command = {
  usage: 'funckey demo',
  summary: 'the whole path on the sample module: build, strip, trap, symbolicate',
  details: `Uses samples/demo.wasm, which ships with the package (its WAT source is samples/demo.wat):
builds its artifact in memory, strips the name section from a copy of the module, runs the
stripped copy in this process until it traps (a division by zero seven calls deep), and
prints the trap's stack trace, as this runtime (Node, Deno or Bun) gives it, before and
after symbolication. Exits 1 when the trace holds no frame funckey could name.`,
  options: {},
  run(pos, values) {
    if (pos.length > 0) throw usageError('demo takes no arguments');
    const wasmPath = samplePath('demo.wasm');
    const bytes = readBinary(wasmPath);
    const t0 = performance.now();
    const artifactBytes = builderFromWasm(bytes).builder.finish();
    const buildMs = performance.now() - t0;
    const a = open(artifactBytes, { backend: backendOf(values) });
    try {
      const stripped = stripNameSection(bytes);
      const { stack: before, how } = trapStack(stripped);
      const after = symbolicate(before, a);
      const frames = symbolicateFrames(before, a);
      const named = frames.filter((f) => f.status === 'resolved' && f.name !== undefined).length;
      if (named === 0)
        throw new FunckeyError(
          'E_WASM',
          `${runtimeName()} printed no wasm frame funckey can name (${frames.length} found) in the trace: ${JSON.stringify(before)}`,
        );
      if (values.json) {
        return json({
          module: wasmPath,
          moduleBytes: bytes.length,
          strippedBytes: stripped.length,
          artifactBytes: artifactBytes.length,
          backend: a.backend,
          runtime: runtimeName(),
          before,
          after,
          frames: frames.map((f) => ({
            line: f.line,
            funcIndex: f.funcIndex,
            offset: f.offset,
            key: f.key?.toString(),
            name: f.name,
            status: f.status,
          })),
        });
      }
      return [
        `Sample module:  ${wasmPath} (${bytes.length} bytes with its name section)`,
        `Artifact:       ${artifactBytes.length} bytes, built in memory in ${buildMs.toFixed(1)} ms, read by the ${a.backend} backend`,
        `Stripped copy:  ${stripped.length} bytes, no name section; run in ${runtimeName()} until it traps`,
        '',
        `Stack trace of the stripped module, ${how}:`,
        '',
        indent(before),
        '',
        'The same trace after `funckey symbolicate`:',
        '',
        indent(after),
        '',
        `${named} of ${frames.length} wasm frames named.`,
        '',
      ].join('\n');
    } finally {
      a.close();
    }
  },
};

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => '  ' + l)
    .join('\n');
}

const COMMANDS: Record<string, Command> = { build, info, lookup, addr, name, symbolicate: symbolicateCmd, strip, demo };

function mainHelp(): string {
  const lines = [
    'funckey: WebAssembly function tables and names from a memory-mapped artifact',
    '',
    'Usage: funckey <command> [arguments] [options]',
    '',
    'Commands:',
    ...Object.values(COMMANDS).map((c) => `  ${c.usage}\n      ${c.summary}`),
    '',
    COMMON_HELP,
    '  --version               the version of funckey',
    '',
    "Run 'funckey <command> --help' for a command's details.",
    '',
  ];
  return lines.join('\n');
}

function commandHelp(c: Command): string {
  return `Usage: ${c.usage}\n\n${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.\n\n${c.details}\n\n${COMMON_HELP}\n`;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Runs the command line `argv` (without node and the script); returns the exit status. */
export function main(argv: string[], out: (s: string) => void, err: (s: string) => void): number {
  try {
    const [cmdName, ...rest] = argv;
    if (cmdName === undefined) throw usageError("missing command (try 'funckey --help')");
    if (cmdName === '--help' || cmdName === '-h' || cmdName === 'help') {
      out(mainHelp());
      return 0;
    }
    if (cmdName === '--version') {
      out(version() + '\n');
      return 0;
    }
    const cmd = COMMANDS[cmdName];
    if (cmd === undefined)
      throw usageError(
        `unknown command ${JSON.stringify(cmdName)} (commands: ${Object.keys(COMMANDS).join(', ')}; try --help)`,
      );
    let parsed: { values: Values; positionals: string[] };
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...COMMON_OPTIONS, ...cmd.options },
        allowPositionals: true,
        strict: true,
      }) as typeof parsed;
    } catch (e) {
      throw usageError(`${cmdName}: ${(e as Error).message.split('\n')[0]!.split('. ')[0]}`);
    }
    if (parsed.values.help) {
      out(commandHelp(cmd));
      return 0;
    }
    out(cmd.run(parsed.positionals, parsed.values));
    return 0;
  } catch (e) {
    return report(e, argv.includes('--json'), err);
  }
}

/**
 * Writes the error of a failed command and returns the exit status: 1 for a FunckeyError (the
 * input or the arguments), 2 for anything else (a bug in funckey, not in the input: said so
 * rather than given an invented code). With --json, one JSON line.
 */
function report(e: unknown, asJson: boolean, err: (s: string) => void): number {
  const known = e instanceof FunckeyError;
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
  if (asJson) err(JSON.stringify({ error: known ? { code: e.code, message } : { code: 'internal', message } }) + '\n');
  else
    err(known ? `funckey: ${e.code}: ${message}\n` : `funckey: internal error (a bug; please report it): ${message}\n`);
  return known ? 1 : 2;
}

/** True when this file is the program node runs (directly or through the npm bin link). */
const isEntry = (() => {
  try {
    return (
      process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
    );
  } catch {
    return false;
  }
})();

if (isEntry) {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  process.exitCode = main(
    process.argv.slice(2),
    (s) => void process.stdout.write(s),
    (s) => void process.stderr.write(s),
  );
}
