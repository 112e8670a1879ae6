# How Wasmtime prints function names: `python3 run-wasmtime-names.py <module.wasm>` calls the
# module's exports run0, run1, ... (scripts/capture-demangled.mjs builds it: each export is a
# chain of calls that ends in a trap) and prints, for every function in index order, the
# name Wasmtime's backtrace gives it (what follows `<unknown>!`), one a line.
import sys
import wasmtime

engine = wasmtime.Engine()
store = wasmtime.Store(engine)
module = wasmtime.Module.from_file(engine, sys.argv[1])
exports = wasmtime.Instance(store, module, []).exports(store)
out = []
i = 0
while True:
    run = exports.get("run%d" % i)
    if run is None:
        break
    try:
        run(store)
        sys.exit("run%d did not trap" % i)
    except wasmtime.Trap as e:
        frames = [l.split(" - <unknown>!", 1)[1] for l in str(e).split("\n") if " - <unknown>!" in l]
        out += reversed(frames)  # innermost first in the trace; the chain's order here
    i += 1
sys.stdout.buffer.write(("\n".join(out) + "\n").encode("utf-8"))
