// node bench/open-time.js
// Open time against the number of functions: artifacts of 1Ki, 64Ki and 1Mi functions (each
// named), opened 2,001 times each after 1,000 warm-up opens; the median of js open(bytes), native open(path) + close,
// and js open(path) (which reads what open validates; the rest when first used). Open decodes only the
// header, the section table, the namespaces and the module records.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmtNs, loadFunckey, removeWorkDir, workDir } from './lib/common.js';

const fk = await loadFunckey();
const native = fk.nativeStatus().available;
const median = (f) => {
  for (let r = 0; r < 1000; r++) f(); // warm-up: the JIT, and the file in the page cache
  const t = [];
  for (let r = 0; r < 2001; r++) {
    const s = process.hrtime.bigint();
    f();
    t.push(Number(process.hrtime.bigint() - s));
  }
  t.sort((a, b) => a - b);
  return t[1000];
};
console.log('functions  file MB  js open(bytes)  native open(path)+close  js open(path)');
try {
  for (const n of [1024, 65536, 1 << 20]) {
    const b = new fk.ArtifactBuilder();
    b.addModule({ importedFuncs: 0, definedFuncs: n });
    for (let i = 0; i < n; i++) b.pushFunc(fk.FuncKey.definedWasmFunction(0, i), { start: 8 * i, length: 6 });
    for (let i = 0; i < n; i++) b.setFuncName(0, i, `fn_${i}`);
    const path = join(workDir(), `open-${n}.fkx`);
    writeFileSync(path, b.finish());
    const bytes = readFileSync(path);
    const js = median(() => fk.open(bytes, { backend: 'js' }).close());
    const nat = native ? median(() => fk.open(path, { backend: 'native' }).close()) : undefined;
    const jsPath = median(() => fk.open(path, { backend: 'js' }).close());
    console.log(
      `${String(n).padStart(9)}  ${(bytes.length / 1e6).toFixed(2).padStart(7)}  ${fmtNs(js).padStart(14)}  ${fmtNs(nat).padStart(23)}  ${fmtNs(jsPath).padStart(13)}`,
    );
  }
} finally {
  removeWorkDir();
}
