// SpiderMonkey through gjs: `gjs run-gjs.js <module.wasm>` prints the trap's stack.
const GLib = imports.gi.GLib;
const [, bytes] = GLib.file_get_contents(ARGV[0]);
const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { tick() {} } });
try {
  instance.exports.run();
} catch (e) {
  print(e.stack);
}
