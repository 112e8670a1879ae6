// Group 6: symbolication throughput in MB/s of realistic V8 traces (a trap message, 20 wasm
// frames of the 12,000-function module of samples/engines/, 3 JS frames, a log line between
// traces) for js and native: symbolicate() on a string, and TraceRewriter on 64 KiB chunks
// of bytes (what `funckey symbolicate` and symbolicateStream run). The floor is a plain line
// split of the same text: String.prototype.split('\n') of the string, and a '\n' scan of the
// bytes with Buffer.indexOf. Run alone: node bench/run.js --group 6 [--quick]
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { do_not_optimize, fmtRatio, loadFunckey, nativeInfo, printTable, rng, timeIt, ROOT } from './lib/common.js';

const CHUNK = 64 * 1024;

/** A log of `bytes` bytes of V8 traces of the module whose artifact is `a`. */
function makeLog(fk, a, bytes) {
  const m = a.modules[0];
  const r = rng(0x5eed);
  const lines = [];
  let size = 0;
  let t = 0;
  while (size < bytes) {
    const trace = [
      `2026-01-01T00:00:${String(t++ % 60).padStart(2, '0')}Z worker ${t % 8} request failed`,
      'RuntimeError: unreachable',
    ];
    for (let k = 0; k < 20; k++) {
      const i = Math.floor(r() * m.definedFuncs);
      const loc = a.funcLoc(fk.FuncKey.definedWasmFunction(0, i));
      const off = loc.start + Math.floor(r() * loc.length);
      trace.push(`    at wasm://wasm/000de97e:wasm-function[${m.importedFuncs + i}]:0x${off.toString(16)}`);
    }
    trace.push(
      '    at run (file:///srv/app/worker.mjs:41:22)',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      '    at async handle (file:///srv/app/server.mjs:88:5)',
    );
    const text = trace.join('\n') + '\n';
    lines.push(text);
    size += text.length;
  }
  return lines.join('');
}

export async function group6({ quick, rec }) {
  const fk = await loadFunckey();
  const native = await nativeInfo();
  const wasm = readFileSync(join(ROOT, 'samples/engines/named.wasm'));
  const artifactBytes = fk.buildFromWasm(wasm);
  const backends = native.available ? ['js', 'native'] : ['js'];
  const bytes = quick ? 1 << 20 : 16 << 20;
  const probe = fk.open(artifactBytes, { backend: 'js' });
  const text = makeLog(fk, probe, bytes);
  probe.close();
  const buf = Buffer.from(text, 'latin1');
  const MB = buf.length / 1e6;
  const mbps = (ns) => MB / (ns / 1e9);

  const floorStr = await timeIt(() => do_not_optimize(text.split('\n').length), { quick });
  const floorBuf = await timeIt(
    () => {
      let n = 0;
      for (let p = buf.indexOf(10); p >= 0; p = buf.indexOf(10, p + 1)) n++;
      return do_not_optimize(n);
    },
    { quick },
  );
  const rows = [
    ['floor: split the string into lines', '-', mbps(floorStr.median).toFixed(0), '1.00'],
    ['floor: find every \\n of the bytes', '-', mbps(floorBuf.median).toFixed(0), '1.00'],
  ];
  for (const backend of backends) {
    const a = fk.open(artifactBytes, { backend });
    const str = await timeIt(() => do_not_optimize(fk.symbolicate(text, a)), { quick });
    const stream = await timeIt(
      () => {
        const rw = new fk.TraceRewriter(a);
        let n = 0;
        for (let p = 0; p < buf.length; p += CHUNK) for (const b of rw.push(buf.subarray(p, p + CHUNK))) n += b.length;
        for (const b of rw.end()) n += b.length;
        return do_not_optimize(n);
      },
      { quick },
    );
    rows.push(['symbolicate(string)', backend, mbps(str.median).toFixed(0), fmtRatio(str.median / floorStr.median)]);
    rows.push([
      'TraceRewriter, 64 KiB chunks of bytes',
      backend,
      mbps(stream.median).toFixed(0),
      fmtRatio(stream.median / floorBuf.median),
    ]);
    rec.add({
      group: 6,
      case: 'symbolicate-string',
      backend,
      n: buf.length,
      median_ns: str.median,
      ratio: str.median / floorStr.median,
      baseline: 'floor-split-string',
      mb_per_s: mbps(str.median),
    });
    rec.add({
      group: 6,
      case: 'symbolicate-stream',
      backend,
      n: buf.length,
      median_ns: stream.median,
      ratio: stream.median / floorBuf.median,
      baseline: 'floor-scan-bytes',
      mb_per_s: mbps(stream.median),
    });
    a.close();
  }
  rec.add({
    group: 6,
    case: 'floor-split-string',
    backend: '-',
    n: buf.length,
    median_ns: floorStr.median,
    ratio: 1,
    baseline: 'floor-split-string',
    mb_per_s: mbps(floorStr.median),
  });
  rec.add({
    group: 6,
    case: 'floor-scan-bytes',
    backend: '-',
    n: buf.length,
    median_ns: floorBuf.median,
    ratio: 1,
    baseline: 'floor-scan-bytes',
    mb_per_s: mbps(floorBuf.median),
  });
  printTable(
    `Group 6: symbolication throughput, ${MB.toFixed(1)} MB of V8 traces (20 wasm frames each, ${text.split('\n').length} lines), 12,001-function module`,
    'mitata median of whole passes over the text; MB/s = text bytes / median time; x floor = time over the floor of the same input form',
    ['case', 'backend', 'MB/s', 'x floor'],
    rows,
  );
}
