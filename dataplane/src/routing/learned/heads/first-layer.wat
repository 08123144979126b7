;; The first layer of the neural heads. gather (float32 weights, exact): out[u] += val[q] * w[idx[q] * h + u] for every feature q in
;; order, two hidden units per f64x2 (the same float64 operations, in the same order, as the scalar
;; loop, so results are identical), two features per pass over out. w: float32, row-major, at
;; offset 0; out: float64. h must be even. Compiled to first-layer-wasm.ts by
;; dataplane/scripts/build-first-layer-wasm.js.
(module
  (memory (export "memory") 1)
  (func (export "gather") (param $h i32) (param $n i32) (param $idx i32) (param $val i32) (param $out i32)
    (local $q i32) (local $row0 i32) (local $row1 i32) (local $x0 v128) (local $x1 v128) (local $u i32) (local $o i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $h) (i32.const 2)))
    ;; Pairs of features.
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.ge_u (i32.add (local.get $q) (i32.const 1)) (local.get $n)))
        (local.set $row0 (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $q) (i32.const 2)))) (local.get $rowBytes)))
        (local.set $row1 (i32.mul (i32.load offset=4 (i32.add (local.get $idx) (i32.shl (local.get $q) (i32.const 2)))) (local.get $rowBytes)))
        (local.set $x0 (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $val) (i32.shl (local.get $q) (i32.const 2)))))))
        (local.set $x1 (f64x2.splat (f64.promote_f32 (f32.load offset=4 (i32.add (local.get $val) (i32.shl (local.get $q) (i32.const 2)))))))
        (local.set $u (i32.const 0))
        (block $unitsDone
          (loop $units
            (br_if $unitsDone (i32.ge_u (local.get $u) (local.get $rowBytes)))
            (local.set $o (i32.add (local.get $out) (i32.shl (local.get $u) (i32.const 1))))
            (v128.store (local.get $o)
              (f64x2.add
                (f64x2.add (v128.load (local.get $o))
                  (f64x2.mul (local.get $x0) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $row0) (local.get $u))))))
                (f64x2.mul (local.get $x1) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $row1) (local.get $u)))))))
            (local.set $u (i32.add (local.get $u) (i32.const 8)))
            (br $units)))
        (local.set $q (i32.add (local.get $q) (i32.const 2)))
        (br $pairs)))
    ;; The last feature when their count is odd.
    (if (i32.lt_u (local.get $q) (local.get $n))
      (then
        (local.set $row0 (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $q) (i32.const 2)))) (local.get $rowBytes)))
        (local.set $x0 (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $val) (i32.shl (local.get $q) (i32.const 2)))))))
        (local.set $u (i32.const 0))
        (block $lastDone
          (loop $last
            (br_if $lastDone (i32.ge_u (local.get $u) (local.get $rowBytes)))
            (local.set $o (i32.add (local.get $out) (i32.shl (local.get $u) (i32.const 1))))
            (v128.store (local.get $o)
              (f64x2.add (v128.load (local.get $o))
                (f64x2.mul (local.get $x0) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $row0) (local.get $u)))))))
            (local.set $u (i32.add (local.get $u) (i32.const 8)))
            (br $last))))))
  ;; The quantized first layer: out[u] += (val[q] * scale[idx[q]]) * w8[idx[q] * h + u] in float32,
  ;; feature after feature; w8: int8, row-major, at offset 0 (a row of 64 is one cache line);
  ;; out: float32. h must be a multiple of 16. The scalar loop in first-layer.ts does the same
  ;; float32 operations in the same order.
  (func (export "gather_i8") (param $h i32) (param $n i32) (param $idx i32) (param $val i32) (param $scale i32) (param $out i32)
    (local $q i32) (local $j i32) (local $row i32) (local $x v128) (local $u i32) (local $o i32) (local $w v128) (local $half v128)
    (block $done
      (loop $features
        (br_if $done (i32.ge_u (local.get $q) (local.get $n)))
        (local.set $j (i32.load (i32.add (local.get $idx) (i32.shl (local.get $q) (i32.const 2)))))
        (local.set $row (i32.mul (local.get $j) (local.get $h)))
        (local.set $x (f32x4.splat (f32.mul
          (f32.load (i32.add (local.get $val) (i32.shl (local.get $q) (i32.const 2))))
          (f32.load (i32.add (local.get $scale) (i32.shl (local.get $j) (i32.const 2)))))))
        (local.set $u (i32.const 0))
        (block $unitsDone
          (loop $units
            (br_if $unitsDone (i32.ge_u (local.get $u) (local.get $h)))
            (local.set $w (v128.load (i32.add (local.get $row) (local.get $u))))
            (local.set $o (i32.add (local.get $out) (i32.shl (local.get $u) (i32.const 2))))
            (local.set $half (i16x8.extend_low_i8x16_s (local.get $w)))
            (v128.store offset=0 (local.get $o) (f32x4.add (v128.load offset=0 (local.get $o))
              (f32x4.mul (local.get $x) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $half))))))
            (v128.store offset=16 (local.get $o) (f32x4.add (v128.load offset=16 (local.get $o))
              (f32x4.mul (local.get $x) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $half))))))
            (local.set $half (i16x8.extend_high_i8x16_s (local.get $w)))
            (v128.store offset=32 (local.get $o) (f32x4.add (v128.load offset=32 (local.get $o))
              (f32x4.mul (local.get $x) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $half))))))
            (v128.store offset=48 (local.get $o) (f32x4.add (v128.load offset=48 (local.get $o))
              (f32x4.mul (local.get $x) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $half))))))
            (local.set $u (i32.add (local.get $u) (i32.const 16)))
            (br $units)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $features)))))
