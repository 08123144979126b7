;; The first layer of the neural heads: out[u] += val[q] * w[idx[q] * h + u] for every feature q in
;; order, two hidden units per f64x2 lane pair (the same float64 operations, in the same order, as
;; the scalar loop, so results are identical). w: float32, row-major, at offset 0; out: float64.
;; h must be even. Compiled to first-layer-wasm.ts by dataplane/scripts/build-first-layer-wasm.js.
(module
  (memory (export "memory") 1)
  (func (export "gather") (param $h i32) (param $n i32) (param $idx i32) (param $val i32) (param $out i32)
    (local $q i32) (local $row i32) (local $x v128) (local $u i32) (local $o i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $h) (i32.const 2)))
    (block $done
      (loop $features
        (br_if $done (i32.ge_u (local.get $q) (local.get $n)))
        (local.set $row (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $q) (i32.const 2)))) (local.get $rowBytes)))
        (local.set $x (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $val) (i32.shl (local.get $q) (i32.const 2)))))))
        (local.set $u (i32.const 0))
        (block $rowDone
          (loop $units
            (br_if $rowDone (i32.ge_u (local.get $u) (local.get $rowBytes)))
            (local.set $o (i32.add (local.get $out) (i32.shl (local.get $u) (i32.const 1))))
            (v128.store (local.get $o)
              (f64x2.add (v128.load (local.get $o))
                (f64x2.mul (local.get $x) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $row) (local.get $u)))))))
            (local.set $u (i32.add (local.get $u) (i32.const 8)))
            (br $units)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $features)))))
