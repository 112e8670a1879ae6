# Wasmtime through its Python bindings (pip install wasmtime): `python3 run-wasmtime.py
# <module.wasm>` prints the trap's message, which holds Wasmtime's backtrace.
import sys
import wasmtime

engine = wasmtime.Engine()
store = wasmtime.Store(engine)
module = wasmtime.Module.from_file(engine, sys.argv[1])
tick = wasmtime.Func(store, wasmtime.FuncType([], []), lambda: None)
# gen.mjs's modules import env.tick; others (test/fixtures/dwarf/c-trap.wasm) import nothing.
instance = wasmtime.Instance(store, module, [tick] if module.imports else [])
try:
    instance.exports(store)["run"](store)
except wasmtime.Trap as e:
    print(str(e))
