export { FunckeyError, ERROR_CODES, type ErrorCode } from './errors.js';
export { FuncKey, FuncKind, Abi, kindIsSparse, kindHasSrcLocs } from './key.js';
export { NONE, FORMAT_VERSION } from './format.js';
export { ArtifactBuilder, type BuilderOptions, type ModuleSpec, type FuncLoc, type NameEncodingChoice } from './writer.js';
export { open, Artifact, type OpenOptions, type ModuleInfo, type BackendName, type BackendChoice } from './artifact.js';
export type { Description } from './core.js';
export { nativeStatus, type NativeStatus } from './native.js';
