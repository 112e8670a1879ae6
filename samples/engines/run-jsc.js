// JavaScriptCore's shell: `jsc run-jsc.js -- <module.wasm>` prints the trap's stack.
const bytes = readFile(arguments[0], 'binary');
const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { tick() {} } });
Error.stackTraceLimit = 100;
try {
  instance.exports.run();
} catch (e) {
  print(e.stack);
}
