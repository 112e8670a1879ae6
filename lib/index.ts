import * as nodeModule from 'node:module';
import { setNodeModule } from './require.js';

// Where process.getBuiltinModule is missing (Node before 20.16), the CommonJS require that
// loads node-gyp-build comes from here.
setNodeModule(nodeModule);

export { FunckeyError, ERROR_CODES, type ErrorCode } from './errors.js';
export { FuncKey, FuncKind, Abi, kindIsSparse, kindHasSrcLocs } from './key.js';
export { NONE, FORMAT_VERSION } from './format.js';
export {
  ArtifactBuilder,
  type BuilderOptions,
  type ModuleSpec,
  type FuncLoc,
  type NameEncodingChoice,
} from './writer.js';
export { open, Artifact, type OpenOptions, type ModuleInfo, type BackendName, type BackendChoice } from './artifact.js';
export type { Description } from './core.js';
export type { SrcFrame } from './srclocs.js';
export type { SrcLocSections } from './srclocs.js';
export { nativeStatus, type NativeStatus } from './native.js';
export {
  buildFromWasm,
  buildFromWasmFile,
  builderFromWasm,
  type BuildFromWasmOptions,
  type WasmBuild,
} from './build.js';
export { parseWasm, type ParsedWasm, type CoreModule, type ParseOptions } from './wasm.js';
export { stripNameSection, stripCustomSections } from './wasm-strip.js';
export {
  symbolicate,
  symbolicateFrames,
  parseStack,
  type Engine,
  type FrameForm,
  type ParsedFrame,
  type SymbolicatedFrame,
  type SymbolicateOptions,
  type FrameStatus,
  type UrlMatcher,
} from './symbolicate.js';
export { symbolicateStream, TraceRewriter, MAX_LINE } from './trace-stream.js';
