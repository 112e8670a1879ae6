#!/usr/bin/env node
// npm "install" script: find or build the native addon, and never fail the install.
//
// 1. If a build (build/Release) or a prebuild (prebuilds/<platform>-<arch>/) loads, done.
// 2. Else compile it with node-gyp (npm's bundled node-gyp when npm runs us, else the
//    node-gyp package, else one on PATH).
// 3. If that fails too, print one line and exit 0: funckey then answers with its js backend.
//
// FUNCKEY_SKIP_NATIVE=1 skips the build; FUNCKEY_BUILD_VERBOSE=1 shows the compiler output.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');

function fallback(reason) {
  console.log(`funckey: native addon unavailable (${reason}); funckey will use the js backend`);
  process.exit(0);
}

function loads() {
  // In a child process, so that a crashing or half-built addon cannot take the install down.
  const code = `require(${JSON.stringify(require.resolve('node-gyp-build'))})(${JSON.stringify(root)})`;
  const r = spawnSync(process.execPath, ['-e', code], { stdio: 'ignore' });
  return r.status === 0;
}

function nodeGypCommand() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && fs.existsSync(fromNpm)) return [process.execPath, [fromNpm]];
  try {
    return [process.execPath, [require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] })]];
  } catch {
    return [process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp', []];
  }
}

function main() {
  if (process.env.FUNCKEY_SKIP_NATIVE === '1') fallback('FUNCKEY_SKIP_NATIVE=1');
  let haveLoader = true;
  try {
    require.resolve('node-gyp-build');
  } catch {
    haveLoader = false;
  }
  if (!haveLoader) fallback('node-gyp-build is not installed');
  if (loads()) return;
  const [cmd, pre] = nodeGypCommand();
  const verbose = process.env.FUNCKEY_BUILD_VERBOSE === '1';
  const args = [...pre, 'rebuild'];
  // Outside npm no nodedir is configured: use this Node's own headers when they are
  // installed beside it, rather than downloading them.
  const prefix = path.join(path.dirname(process.execPath), '..');
  if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi')))
    args.push(`--nodedir=${prefix}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: verbose ? 'inherit' : 'pipe', encoding: 'utf8', shell: false });
  if (r.error) fallback(`cannot run node-gyp: ${r.error.message}`);
  if (r.status !== 0) {
    const lines = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').map((l) => l.trim());
    const first =
      lines.find((l) => /\berror:/i.test(l) && !l.startsWith('gyp')) ??
      lines.find((l) => l.startsWith('gyp ERR! stack Error')) ??
      lines.find((l) => l.startsWith('gyp ERR!'));
    fallback(`the build failed${first ? `: ${first.slice(0, 160)}` : ''}`);
  }
  if (!loads()) fallback('the addon was built but does not load');
}

try {
  main();
} catch (e) {
  fallback(e && e.message ? e.message : String(e));
}
