;; FastCDC cut search over the gear hash, in WebAssembly: the rolling hash is
;; a serial dependency chain, and wasm runs it about 3x faster than JS here.
;; The memory is imported (shared, so the hashing thread reads the same bytes);
;; bytes 0..1023 hold the gear table (256 x i32, little-endian), data follows. Compiled into gear-wasm.ts by
;; scripts/build-gear-wasm.mjs; a test checks that the two agree.
(module
  (import "env" "memory" (memory 1 65536 shared))
  ;; Scans from $from: before $normal a cut needs ($h & $hard) == 0, from there
  ;; to $last ($h & $easy) == 0. Returns the index after the cut byte, or -1.
  (func (export "cut") (param $from i32) (param $normal i32) (param $last i32) (param $hard i32) (param $easy i32) (result i32)
    (local $h i32) (local $i i32)
    (local.set $i (local.get $from))
    (block $hardDone
      (loop $hardLoop
        (br_if $hardDone (i32.ge_u (local.get $i) (local.get $normal)))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
                               (i32.load (i32.shl (i32.load8_u (local.get $i)) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (if (i32.eqz (i32.and (local.get $h) (local.get $hard))) (then (return (local.get $i))))
        (br $hardLoop)))
    (block $easyDone
      (loop $easyLoop
        (br_if $easyDone (i32.ge_u (local.get $i) (local.get $last)))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
                               (i32.load (i32.shl (i32.load8_u (local.get $i)) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (if (i32.eqz (i32.and (local.get $h) (local.get $easy))) (then (return (local.get $i))))
        (br $easyLoop)))
    (i32.const -1))
)
