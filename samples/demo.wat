;; The demo module of `funckey demo`: a small "order pricing" program whose deep call chain
;; ends in a division by zero. It imports three host functions, so a function's index
;; (which counts imports, as V8's wasm-function[N] does) differs from its defined index.
;; Built with names (samples/build.sh); the demo strips the name section from a copy.
(module
  (import "host" "log" (func $host_log (param i32)))
  (import "host" "now" (func $host_now (result i32)))
  (import "host" "report" (func $host_report (param i32 i32)))

  (memory (export "memory") 1)
  ;; Four orders of (quantity, unit price) pairs; the last one has quantity 0.
  (data (i32.const 0) "\03\00\00\00\0a\00\00\00\02\00\00\00\07\00\00\00\05\00\00\00\01\00\00\00\00\00\00\00\09\00\00\00")

  ;; Average price per unit of one order: total / quantity. Traps when quantity is 0.
  (func $unit_average (param $total i32) (param $quantity i32) (result i32)
    (i32.div_s (local.get $total) (local.get $quantity)))

  (func $order_total (param $quantity i32) (param $price i32) (result i32)
    (i32.mul (local.get $quantity) (local.get $price)))

  (func $price_order (param $addr i32) (result i32)
    (local $quantity i32)
    (local $price i32)
    (local.set $quantity (i32.load (local.get $addr)))
    (local.set $price (i32.load offset=4 (local.get $addr)))
    (call $unit_average
      (call $order_total (local.get $quantity) (local.get $price))
      (local.get $quantity)))

  (func $apply_discount (param $addr i32) (result i32)
    (i32.sub (call $price_order (local.get $addr)) (i32.const 1)))

  (func $process_order (param $index i32) (result i32)
    (local $price i32)
    (local.set $price (call $apply_discount (i32.mul (local.get $index) (i32.const 8))))
    (call $host_report (local.get $index) (local.get $price))
    (local.get $price))

  (func $process_batch (param $count i32) (result i32)
    (local $i i32)
    (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $sum (i32.add (local.get $sum) (call $process_order (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))

  (func $run_pipeline (param $count i32) (result i32)
    (drop (call $host_now))
    (call $host_log (local.get $count))
    (call $process_batch (local.get $count)))

  ;; Prices the four orders; the fourth has quantity 0 and traps in $unit_average.
  (func $main (export "main") (result i32)
    (call $run_pipeline (i32.const 4)))
)
