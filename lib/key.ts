import { argU32, describeValue, isU32 } from './args.js';
import { FunckeyError } from './errors.js';
import { KINDS, KIND_COUNT, MAX_ABI, MAX_MODULE } from './format.js';

/**
 * The ten kinds of compiled function, numbered as in Wasmtime. The kind is the top 4 bits of
 * a FuncKey's namespace (FORMAT.md section 3).
 */
export enum FuncKind {
  DefinedWasmFunction = 0,
  ArrayToWasmTrampoline = 1,
  WasmToArrayTrampoline = 2,
  WasmToBuiltinTrampoline = 3,
  PatchableToBuiltinTrampoline = 4,
  PulleyHostCall = 5,
  ComponentTrampoline = 6,
  ResourceDropTrampoline = 7,
  UnsafeIntrinsic = 8,
  ModuleStartup = 9,
}

export enum Abi {
  Wasm = 0,
  Array = 1,
  Patchable = 2,
}

export { KIND_COUNT, MAX_ABI, MAX_MODULE };

/** Whether a kind's namespaces are stored sparsely (FORMAT.md 3, 3.3). */
export function kindIsSparse(kind: number): boolean {
  return KINDS[kind]?.sparse === true;
}
/** Whether a kind's functions have source locations (FORMAT.md 3.1). */
export function kindHasSrcLocs(kind: number): boolean {
  return KINDS[kind]?.srcLocs === true;
}

const checkU32 = argU32;
function checkModule(x: unknown): number {
  if (!isU32(x) || x > MAX_MODULE)
    throw new FunckeyError('E_ARG', `module index must be an integer in [0, 2^28), got ${String(x)}`);
  return x;
}
function checkAbi(x: unknown): number {
  if (!isU32(x) || x > MAX_ABI)
    throw new FunckeyError('E_ARG', `abi must be 0 (wasm), 1 (array) or 2 (patchable), got ${String(x)}`);
  return x;
}

/** Why (namespace, index) is not a valid key, or undefined when it is. */
export function rawKeyProblem(namespace: number, index: number): string | undefined {
  if (!isU32(namespace)) return `namespace must be an integer in [0, 2^32), got ${String(namespace)}`;
  if (!isU32(index)) return `index must be an integer in [0, 2^32), got ${String(index)}`;
  const kind = namespace >>> 28;
  if (kind >= KIND_COUNT)
    return `kind ${kind} (namespace 0x${namespace.toString(16)}) does not exist: kinds are 0 to 9`;
  const low = namespace & MAX_MODULE;
  const what = KINDS[kind]!.low;
  if (what === 'zero' && low !== 0)
    return `${FuncKind[kind]} has no module or abi, but namespace has low bits 0x${low.toString(16)}`;
  if (what === 'abi' && low > MAX_ABI) return `${FuncKind[kind]} abi ${low} does not exist: abis are 0 to 2`;
  if (kind === FuncKind.ResourceDropTrampoline && index !== 0)
    return `ResourceDropTrampoline has index 0 only, got ${index}`;
  if (kind === FuncKind.ModuleStartup && index > MAX_ABI) return `ModuleStartup index is an abi (0 to 2), got ${index}`;
  return undefined;
}

/**
 * A key of the function table: (namespace, index), ordered by namespace then index.
 * Instances are immutable and always valid.
 */
export class FuncKey {
  readonly namespace: number;
  readonly index: number;

  /** @internal Use the static constructors or FuncKey.fromRaw. */
  constructor(namespace: number, index: number, token?: typeof UNCHECKED) {
    if (token !== UNCHECKED) {
      const problem = rawKeyProblem(namespace, index);
      if (problem !== undefined) throw new FunckeyError('E_ARG', `invalid FuncKey: ${problem}`);
    }
    this.namespace = namespace;
    this.index = index;
  }

  static fromRaw(namespace: number, index: number): FuncKey {
    return new FuncKey(namespace, index);
  }

  static definedWasmFunction(module: number, index: number): FuncKey {
    return new FuncKey(
      ((FuncKind.DefinedWasmFunction << 28) | checkModule(module)) >>> 0,
      checkU32('index', index),
      UNCHECKED,
    );
  }
  static arrayToWasmTrampoline(module: number, index: number): FuncKey {
    return new FuncKey(
      ((FuncKind.ArrayToWasmTrampoline << 28) | checkModule(module)) >>> 0,
      checkU32('index', index),
      UNCHECKED,
    );
  }
  static wasmToArrayTrampoline(typeIndex: number): FuncKey {
    return new FuncKey((FuncKind.WasmToArrayTrampoline << 28) >>> 0, checkU32('type index', typeIndex), UNCHECKED);
  }
  static wasmToBuiltinTrampoline(builtin: number): FuncKey {
    return new FuncKey((FuncKind.WasmToBuiltinTrampoline << 28) >>> 0, checkU32('builtin', builtin), UNCHECKED);
  }
  static patchableToBuiltinTrampoline(builtin: number): FuncKey {
    return new FuncKey((FuncKind.PatchableToBuiltinTrampoline << 28) >>> 0, checkU32('builtin', builtin), UNCHECKED);
  }
  static pulleyHostCall(hostCall: number): FuncKey {
    return new FuncKey((FuncKind.PulleyHostCall << 28) >>> 0, checkU32('host call', hostCall), UNCHECKED);
  }
  static componentTrampoline(abi: number, index: number): FuncKey {
    return new FuncKey(
      ((FuncKind.ComponentTrampoline << 28) | checkAbi(abi)) >>> 0,
      checkU32('index', index),
      UNCHECKED,
    );
  }
  static resourceDropTrampoline(): FuncKey {
    return new FuncKey((FuncKind.ResourceDropTrampoline << 28) >>> 0, 0, UNCHECKED);
  }
  static unsafeIntrinsic(abi: number, index: number): FuncKey {
    return new FuncKey(((FuncKind.UnsafeIntrinsic << 28) | checkAbi(abi)) >>> 0, checkU32('index', index), UNCHECKED);
  }
  static moduleStartup(abi: number, module: number): FuncKey {
    return new FuncKey(((FuncKind.ModuleStartup << 28) | checkModule(module)) >>> 0, checkAbi(abi), UNCHECKED);
  }

  get kind(): FuncKind {
    return this.namespace >>> 28;
  }
  get kindName(): string {
    return FuncKind[this.kind]!;
  }
  /** The module index, for the kinds that have one (else undefined). */
  get module(): number | undefined {
    const k = this.kind;
    return KINDS[k]!.low === 'module' ? this.namespace & MAX_MODULE : undefined;
  }
  /** The abi, for the kinds that have one (else undefined). */
  get abi(): Abi | undefined {
    const k = this.kind;
    if (KINDS[k]!.low === 'abi') return this.namespace & MAX_MODULE;
    if (k === FuncKind.ModuleStartup) return this.index;
    return undefined;
  }
  get isSparse(): boolean {
    return kindIsSparse(this.kind);
  }

  /** The constructor's arguments, in order. */
  args(): number[] {
    const low = this.namespace & MAX_MODULE;
    switch (this.kind) {
      case FuncKind.DefinedWasmFunction:
      case FuncKind.ArrayToWasmTrampoline:
      case FuncKind.ComponentTrampoline:
      case FuncKind.UnsafeIntrinsic:
        return [low, this.index];
      case FuncKind.ResourceDropTrampoline:
        return [];
      case FuncKind.ModuleStartup:
        return [this.index, low];
      default:
        return [this.index];
    }
  }

  /** `DefinedWasmFunction(0, 12)`: the kind and its constructor's arguments. */
  toString(): string {
    return `${this.kindName}(${this.args().join(', ')})`;
  }

  toJSON(): { kind: string; namespace: number; index: number; text: string } {
    return { kind: this.kindName, namespace: this.namespace, index: this.index, text: this.toString() };
  }

  equals(other: FuncKey): boolean {
    return this.namespace === other.namespace && this.index === other.index;
  }

  /** Negative, zero or positive as a orders before, with or after b. */
  static compare(a: FuncKey, b: FuncKey): number {
    return a.namespace !== b.namespace ? a.namespace - b.namespace : a.index - b.index;
  }

  compareTo(other: FuncKey): number {
    return FuncKey.compare(this, other);
  }

  /**
   * The inverse of toString(): `DefinedWasmFunction(0, 12)`, spaces optional. Linear in the
   * text's length: one scan for the kind, one for each argument, no backtracking pattern.
   */
  static parse(text: string): FuncKey {
    if (typeof text !== 'string') throw new FunckeyError('E_ARG', 'FuncKey.parse takes a string');
    const shown = describeValue(text);
    const notKey = () =>
      new FunckeyError('E_ARG', `not a FuncKey: ${shown} (expected e.g. DefinedWasmFunction(0, 12))`);
    const s = text.trim();
    let i = 0;
    while (i < s.length && isAsciiLetter(s.charCodeAt(i))) i++;
    if (i === 0) throw notKey();
    const name = s.slice(0, i);
    const rest = s.slice(i).trimStart();
    let argText = '';
    if (rest !== '') {
      // `(`, arguments without a `)`, and a `)` that ends the text.
      if (rest[0] !== '(' || rest[rest.length - 1] !== ')' || rest.indexOf(')') !== rest.length - 1) throw notKey();
      argText = rest.slice(1, -1).trim();
    }
    const kind = Object.hasOwn(FuncKind, name) ? (FuncKind as unknown as Record<string, unknown>)[name] : undefined;
    if (typeof kind !== 'number') throw new FunckeyError('E_ARG', `unknown FuncKey kind ${describeValue(name)}`);
    const parts = argText === '' ? [] : argText.split(',').map((p) => p.trim());
    const args = parts.map((p) => {
      if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(p))
        throw new FunckeyError('E_ARG', `not a number in FuncKey ${shown}: ${describeValue(p)}`);
      return Number(p);
    });
    const arity = [2, 2, 1, 1, 1, 1, 2, 0, 2, 2][kind]!;
    if (args.length !== arity)
      throw new FunckeyError(
        'E_ARG',
        `${name} takes ${arity} argument${arity === 1 ? '' : 's'}, got ${args.length} in ${shown}`,
      );
    const [a, b] = args as [number, number];
    switch (kind as FuncKind) {
      case FuncKind.DefinedWasmFunction:
        return FuncKey.definedWasmFunction(a, b);
      case FuncKind.ArrayToWasmTrampoline:
        return FuncKey.arrayToWasmTrampoline(a, b);
      case FuncKind.WasmToArrayTrampoline:
        return FuncKey.wasmToArrayTrampoline(a);
      case FuncKind.WasmToBuiltinTrampoline:
        return FuncKey.wasmToBuiltinTrampoline(a);
      case FuncKind.PatchableToBuiltinTrampoline:
        return FuncKey.patchableToBuiltinTrampoline(a);
      case FuncKind.PulleyHostCall:
        return FuncKey.pulleyHostCall(a);
      case FuncKind.ComponentTrampoline:
        return FuncKey.componentTrampoline(a, b);
      case FuncKind.ResourceDropTrampoline:
        return FuncKey.resourceDropTrampoline();
      case FuncKind.UnsafeIntrinsic:
        return FuncKey.unsafeIntrinsic(a, b);
      case FuncKind.ModuleStartup:
        return FuncKey.moduleStartup(a, b);
    }
  }
}

function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** @internal Lets readers build keys they have already validated without re-checking. */
export const UNCHECKED: unique symbol = Symbol('funckey.unchecked');

/**
 * The namespace and index of `x`, read once each: `x` must be a FuncKey (or subclass), and a
 * getter or an overridden property cannot make the numbers used differ from the numbers
 * checked. Writes them to out[0], out[1]; E_ARG otherwise. `valid`: the two must form a valid
 * key (what a builder stores); else two u32s are enough (what a lookup needs: a namespace no
 * artifact holds is simply absent).
 */
export function argKeyParts(what: string, x: unknown, out: number[] | Uint32Array, valid: boolean): void {
  if (!(x instanceof FuncKey)) throw new FunckeyError('E_ARG', `${what} must be a FuncKey, got ${describeValue(x)}`);
  const namespace: unknown = x.namespace;
  const index: unknown = x.index;
  if (valid || (namespace as number) >>> 0 !== namespace || (index as number) >>> 0 !== index) {
    const problem = rawKeyProblem(namespace as number, index as number);
    if (problem !== undefined) throw new FunckeyError('E_ARG', `${what} is not a valid FuncKey: ${problem}`);
  }
  out[0] = namespace as number;
  out[1] = index as number;
}
