import { execFileSync, spawnSync } from 'node:child_process';
import { describe } from 'vitest';

/**
 * The wabt tools (wat2wasm, wasm-objdump) used as an independent reference. Tests that need
 * them skip with a message when they are absent, except in CI (CI set), where they must run
 * and fail if the tools are missing.
 */
/** Whether `tool --version` runs and exits 0 (a tool a test uses as its reference is installed). */
export function has(tool: string): boolean {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return r.error === undefined && r.status === 0;
}

export const WABT = has('wat2wasm') && has('wasm-objdump');
export const IN_CI = !!process.env.CI;

export function describeWabt(name: string, fn: () => void): void {
  if (WABT || IN_CI) {
    describe(name, fn);
  } else {
    describe.skip(`${name} (skipped: wabt's wat2wasm/wasm-objdump not found; apt-get install -y wabt)`, fn);
  }
}

export function run(tool: string, args: string[]): string {
  return execFileSync(tool, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
}

export interface ObjdumpReference {
  moduleName: string | undefined;
  /** Number of function imports (Import section, kind func). */
  importedFuncs: number;
  /** Function index and body size of every entry of the Code section, in order. */
  code: { index: number; size: number }[];
  /** Function names from the name section. */
  names: Map<number, string>;
}

/**
 * What `wasm-objdump -x` says about a module's imports, code bodies and names. It prints
 * names as their raw bytes, one per line, so a name holding a line break would not parse.
 */
export function objdump(path: string): ObjdumpReference {
  const head = run('wasm-objdump', ['-h', path]);
  const has = (s: string) => new RegExp(`^\\s*${s} start=`, 'm').test(head);
  let importedFuncs = 0;
  if (has('Import')) {
    for (const line of run('wasm-objdump', ['-x', '-j', 'Import', path]).split('\n'))
      if (/^ - func\[\d+\] /.test(line)) importedFuncs++;
  }
  const code: { index: number; size: number }[] = [];
  if (has('Code')) {
    for (const line of run('wasm-objdump', ['-x', '-j', 'Code', path]).split('\n')) {
      const m = /^ - func\[(\d+)\] size=(\d+)/.exec(line);
      if (m) code.push({ index: Number(m[1]), size: Number(m[2]) });
    }
  }
  const names = new Map<number, string>();
  let moduleName: string | undefined;
  if (/"name"/.test(head)) {
    for (const line of run('wasm-objdump', ['-x', '-j', 'name', path]).split('\n')) {
      const f = /^ - func\[(\d+)\] <(.*)>$/.exec(line);
      if (f) names.set(Number(f[1]), f[2]!);
      const m = /^ - module <(.*)>$/.exec(line);
      if (m) moduleName = m[1];
    }
  }
  return { moduleName, importedFuncs, code, names };
}

/** Body start offsets from `wasm-objdump -d` (the address printed before each `func[N]`). */
export function objdumpBodyStarts(path: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of run('wasm-objdump', ['-d', path]).split('\n')) {
    const m = /^([0-9a-f]+) func\[(\d+)\]/.exec(line);
    if (m) out.set(Number(m[2]), parseInt(m[1]!, 16));
  }
  return out;
}
