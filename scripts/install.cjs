#!/usr/bin/env node
// npm "install" script: find or build the native addon, and never fail the install.
//
// 1. If a build (build/Release) or a prebuild (prebuilds/<platform>-<arch>/) loads, done.
// 2. Else compile it with node-gyp (npm's bundled node-gyp when npm runs us, else the
//    node-gyp package, else one on PATH).
// 3. If that fails too, print one line and exit 0: funckey then answers with its js backend.
// 4. Either way, write the V8 code cache of the entry point for this Node (code-cache.cjs).
//
// FUNCKEY_SKIP_NATIVE=1 skips the build; FUNCKEY_BUILD_VERBOSE=1 shows the compiler output;
// FUNCKEY_BUILD_TIMEOUT=<seconds> bounds the build (default 600): a node-gyp still running
// then is killed and funckey falls back to js, so that no install waits forever.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');

const BUILD_TIMEOUT_S = Number(process.env.FUNCKEY_BUILD_TIMEOUT) > 0 ? Number(process.env.FUNCKEY_BUILD_TIMEOUT) : 600;

/** The V8 code cache of the entry point, for this Node (scripts/code-cache.cjs; never fails). */
function codeCache() {
  spawnSync(process.execPath, [path.join(__dirname, 'code-cache.cjs')], {
    stdio: 'inherit',
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
}

function fallback(reason) {
  console.log(`funckey: native addon unavailable (${reason}); funckey will use the js backend`);
  codeCache();
  process.exit(0);
}

function loads() {
  // In a child process, so that a crashing or half-built addon cannot take the install down.
  const code = `require(${JSON.stringify(require.resolve('node-gyp-build'))})(${JSON.stringify(root)})`;
  const r = spawnSync(process.execPath, ['-e', code], { stdio: 'ignore', timeout: 60_000, killSignal: 'SIGKILL' });
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

/**
 * The line of node-gyp's output that says why the build failed: a compiler error, else the
 * error node-gyp reports (e.g. "FetchError: request to https://.../node-v20.x-headers.tar.gz
 * failed, reason: getaddrinfo ENOTFOUND nodejs.org" when headers cannot be fetched). A long
 * line keeps its start and its end, where the cause is.
 */
function buildFailure(output) {
  const lines = output.split('\n').map((l) => l.trim());
  const line =
    lines.find((l) => /\berror:/i.test(l) && !l.startsWith('gyp')) ??
    lines.find((l) => /^gyp ERR! stack \w*Error\b/.test(l))?.replace(/^gyp ERR! stack /, '') ??
    lines.find((l) => l.startsWith('gyp ERR!') && !/^gyp ERR! \w+ error$/.test(l)) ??
    lines.find((l) => l.startsWith('gyp ERR!'));
  if (line === undefined) return undefined;
  return line.length <= 300 ? line : `${line.slice(0, 120)} ... ${line.slice(-170)}`;
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
  if (loads()) return codeCache();
  const [cmd, pre] = nodeGypCommand();
  const verbose = process.env.FUNCKEY_BUILD_VERBOSE === '1';
  const args = [...pre, 'rebuild'];
  // Outside npm no nodedir is configured: use this Node's own headers when they are
  // installed beside it, rather than downloading them.
  const prefix = path.join(path.dirname(process.execPath), '..');
  if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi')))
    args.push(`--nodedir=${prefix}`);
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: verbose ? 'inherit' : 'pipe',
    encoding: 'utf8',
    shell: false,
    timeout: BUILD_TIMEOUT_S * 1000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error && r.error.code === 'ETIMEDOUT')
    fallback(`node-gyp did not finish in ${BUILD_TIMEOUT_S} s (FUNCKEY_BUILD_TIMEOUT) and was stopped`);
  if (r.error) fallback(`cannot run node-gyp: ${r.error.message}`);
  if (r.status !== 0) {
    const cause = buildFailure(`${r.stdout ?? ''}\n${r.stderr ?? ''}`);
    fallback(`the build failed${cause ? `: ${cause}` : ''}`);
  }
  if (!loads()) fallback('the addon was built but does not load');
  codeCache();
}

try {
  main();
} catch (e) {
  fallback(e && e.message ? e.message : String(e));
}
