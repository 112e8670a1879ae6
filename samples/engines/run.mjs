// Runs a module of gen.mjs until it traps and prints the trap's stack as the engine gives it.
// For Node, Deno and Bun: `node run.mjs <module.wasm> [callsites]`. With `callsites`, prints
// instead one line per frame of the structured stack (Error.prepareStackTrace call sites),
// `getFunctionName()@getFileName()`, the form a server would log them in.
import { readFileSync } from 'node:fs';

const [file, form] = (globalThis.Deno?.args ?? process.argv.slice(2));
const bytes = readFileSync(file);
const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { tick() {} } });
Error.stackTraceLimit = 100;
if (form === 'callsites')
  Error.prepareStackTrace = (_, sites) =>
    sites.map((s) => `    ${s.getFunctionName()}@${s.getFileName()}`).join('\n');
try {
  instance.exports.run();
} catch (e) {
  console.log(e.stack);
}
