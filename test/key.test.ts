import { describe, expect, it } from 'vitest';
import { FuncKey, FuncKind, FunckeyError } from '../lib/index.js';
import { int, rng } from './helpers/gen.js';

describe('FuncKey', () => {
  // The raw parts written out by hand: kind in the top 4 bits of the namespace.
  const cases: [FuncKey, number, number, string][] = [
    [FuncKey.definedWasmFunction(0, 12), 0x00000000, 12, 'DefinedWasmFunction(0, 12)'],
    [FuncKey.definedWasmFunction(3, 7), 0x00000003, 7, 'DefinedWasmFunction(3, 7)'],
    [FuncKey.arrayToWasmTrampoline(2, 5), 0x10000002, 5, 'ArrayToWasmTrampoline(2, 5)'],
    [FuncKey.wasmToArrayTrampoline(9), 0x20000000, 9, 'WasmToArrayTrampoline(9)'],
    [FuncKey.wasmToBuiltinTrampoline(4), 0x30000000, 4, 'WasmToBuiltinTrampoline(4)'],
    [FuncKey.patchableToBuiltinTrampoline(4), 0x40000000, 4, 'PatchableToBuiltinTrampoline(4)'],
    [FuncKey.pulleyHostCall(1), 0x50000000, 1, 'PulleyHostCall(1)'],
    [FuncKey.componentTrampoline(2, 8), 0x60000002, 8, 'ComponentTrampoline(2, 8)'],
    [FuncKey.resourceDropTrampoline(), 0x70000000, 0, 'ResourceDropTrampoline()'],
    [FuncKey.unsafeIntrinsic(1, 3), 0x80000001, 3, 'UnsafeIntrinsic(1, 3)'],
    [FuncKey.moduleStartup(2, 6), 0x90000006, 2, 'ModuleStartup(2, 6)'],
  ];

  it('lays out every kind as namespace = kind << 28 | low bits', () => {
    for (const [key, ns, index, text] of cases) {
      expect(key.namespace).toBe(ns);
      expect(key.index).toBe(index);
      expect(key.kind).toBe(ns >>> 28);
      expect(key.toString()).toBe(text);
      expect(FuncKey.parse(text).equals(key)).toBe(true);
      expect(FuncKey.fromRaw(ns, index).equals(key)).toBe(true);
    }
    expect(FuncKey.definedWasmFunction(3, 7).module).toBe(3);
    expect(FuncKey.componentTrampoline(2, 8).abi).toBe(2);
    expect(FuncKey.componentTrampoline(2, 8).module).toBe(undefined);
    expect(FuncKey.moduleStartup(2, 6).abi).toBe(2);
    expect(FuncKey.moduleStartup(2, 6).module).toBe(6);
    expect(FuncKey.moduleStartup(2, 6).kind).toBe(FuncKind.ModuleStartup);
  });

  it('parses spacing and hex, and refuses nonsense', () => {
    expect(FuncKey.parse('  DefinedWasmFunction( 0x1 ,2 ) ').toString()).toBe('DefinedWasmFunction(1, 2)');
    expect(FuncKey.parse('ResourceDropTrampoline').toString()).toBe('ResourceDropTrampoline()');
    for (const bad of [
      '',
      'DefinedWasmFunction(1)',
      'DefinedWasmFunction(1, -2)',
      'WasmToArrayTrampoline(1, 2)',
      'ModuleStartup(3, 0)',
      'DefinedWasmFunction(268435456, 0)',
      'X(1)',
    ])
      expect(() => FuncKey.parse(bad), bad).toThrow(FunckeyError);
  });

  it('refuses raw parts that are no key', () => {
    for (const [ns, index] of [
      [0xa0000000, 0],
      [0xf0000000, 0],
      [0x20000001, 0],
      [0x60000003, 0],
      [0x70000000, 1],
      [0x90000000, 3],
      [-1, 0],
      [0, 2 ** 32],
      [0, 0.5],
    ])
      expect(() => FuncKey.fromRaw(ns!, index!)).toThrow(FunckeyError);
  });

  it('orders by namespace, then index, as the unsigned pair', () => {
    const r = rng(1);
    const keys = Array.from({ length: 2000 }, () => {
      const kind = int(r, 0, 9);
      try {
        return FuncKey.fromRaw(
          ((kind << 28) | int(r, 0, 2)) >>> 0,
          kind === 7 ? 0 : kind === 9 ? int(r, 0, 2) : int(r, 0, 0xffffffff),
        );
      } catch {
        return FuncKey.resourceDropTrampoline();
      }
    });
    const sorted = [...keys].sort(FuncKey.compare);
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1]!;
      const b = sorted[i]!;
      const big = (k: FuncKey) => (BigInt(k.namespace) << 32n) | BigInt(k.index);
      expect(big(a) <= big(b)).toBe(true);
    }
  });
});
