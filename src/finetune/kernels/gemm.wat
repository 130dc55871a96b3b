;; WebAssembly SIMD GEMM kernels for the native fine-tuning engine (f32x4 mul + add only: relaxed-SIMD
;; FMA needs a flag on Node 20). All pointers are byte offsets into the shared memory; matrices are
;; row-major float32. Each call computes output rows [i0, i1), so worker threads split M between them.
;; Regenerate gemm.wasm with: node scripts/build-finetune-wasm.mjs
(module
  (import "env" "memory" (memory 1 65536 shared))

  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  (func $put (param $c i32) (param $v f32) (param $acc i32)
    (if (local.get $acc) (then (local.set $v (f32.add (local.get $v) (f32.load (local.get $c))))))
    (f32.store (local.get $c) (local.get $v)))

  ;; dot product of two float32 rows of $nb bytes ($nb % 16 == 0)
  (func $dot (param $a i32) (param $b i32) (param $nb i32) (result f32)
    (local $s v128) (local $end i32)
    (local.set $end (i32.add (local.get $a) (local.get $nb)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $s (f32x4.add (local.get $s) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $l)))
    (call $hsum (local.get $s)))

  ;; C[M×N] (+)= A[M×K] · B[N×K]ᵀ for rows [i0, i1) and columns [j0, j1); requires K % 4 == 0 and
  ;; j1 − j0 % 4 == 0 unless j1 == N (so threads can split either rows or columns). With $lower, only
  ;; C[i][j] for j ≤ i is needed (causal attention scores): each row tile stops after its last row's
  ;; column (rounded up to 4), and elements above the diagonal are left unspecified.
  ;; Blocks of 2 rows × 4 columns (8 accumulators) over 64-row tiles, so the 4 B rows stay in L1 and the
  ;; A tile in L2.
  (func (export "nt") (param $C i32) (param $A i32) (param $B i32) (param $M i32) (param $N i32) (param $K i32)
        (param $acc i32) (param $i0 i32) (param $i1 i32) (param $j0 i32) (param $j1 i32) (param $lower i32)
    (local $kb i32) (local $it i32) (local $itEnd i32) (local $i i32) (local $j i32) (local $k i32) (local $jj i32)
    (local $a0 i32) (local $a1 i32) (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32) (local $c i32)
    (local $jEnd i32) (local $va0 v128) (local $va1 v128) (local $vb v128) (local $t v128) (local $u v128)
    (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128)
    (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
    (local.set $kb (i32.shl (local.get $K) (i32.const 2)))
    (local.set $it (local.get $i0))
    (block $tilesDone
      (loop $tiles
        (br_if $tilesDone (i32.ge_u (local.get $it) (local.get $i1)))
        (local.set $itEnd (select (i32.add (local.get $it) (i32.const 64)) (local.get $i1)
                                  (i32.lt_u (i32.add (local.get $it) (i32.const 64)) (local.get $i1))))
        (local.set $jEnd (local.get $j1))
        (if (local.get $lower)
          (then
            (local.set $k (i32.and (i32.add (local.get $itEnd) (i32.const 3)) (i32.const -4)))
            (if (i32.lt_u (local.get $k) (local.get $jEnd)) (then (local.set $jEnd (local.get $k))))))
        (local.set $j (local.get $j0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $jEnd)))
            (local.set $b0 (i32.add (local.get $B) (i32.mul (local.get $j) (local.get $kb))))
            (local.set $b1 (i32.add (local.get $b0) (local.get $kb)))
            (local.set $b2 (i32.add (local.get $b1) (local.get $kb)))
            (local.set $b3 (i32.add (local.get $b2) (local.get $kb)))
            (local.set $i (local.get $it))
            (block $rowsDone
              (loop $rows
                (br_if $rowsDone (i32.gt_u (i32.add (local.get $i) (i32.const 2)) (local.get $itEnd)))
                (local.set $a0 (i32.add (local.get $A) (i32.mul (local.get $i) (local.get $kb))))
                (local.set $a1 (i32.add (local.get $a0) (local.get $kb)))
                (local.set $s00 (v128.const i32x4 0 0 0 0)) (local.set $s01 (v128.const i32x4 0 0 0 0))
                (local.set $s02 (v128.const i32x4 0 0 0 0)) (local.set $s03 (v128.const i32x4 0 0 0 0))
                (local.set $s10 (v128.const i32x4 0 0 0 0)) (local.set $s11 (v128.const i32x4 0 0 0 0))
                (local.set $s12 (v128.const i32x4 0 0 0 0)) (local.set $s13 (v128.const i32x4 0 0 0 0))
                (local.set $k (i32.const 0))
                (block $kDone
                  (loop $kl
                    (br_if $kDone (i32.ge_u (local.get $k) (local.get $kb)))
                    (local.set $va0 (v128.load (i32.add (local.get $a0) (local.get $k))))
                    (local.set $va1 (v128.load (i32.add (local.get $a1) (local.get $k))))
                    (local.set $vb (v128.load (i32.add (local.get $b0) (local.get $k))))
                    (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $va0) (local.get $vb))))
                    (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $va1) (local.get $vb))))
                    (local.set $vb (v128.load (i32.add (local.get $b1) (local.get $k))))
                    (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $va0) (local.get $vb))))
                    (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $va1) (local.get $vb))))
                    (local.set $vb (v128.load (i32.add (local.get $b2) (local.get $k))))
                    (local.set $s02 (f32x4.add (local.get $s02) (f32x4.mul (local.get $va0) (local.get $vb))))
                    (local.set $s12 (f32x4.add (local.get $s12) (f32x4.mul (local.get $va1) (local.get $vb))))
                    (local.set $vb (v128.load (i32.add (local.get $b3) (local.get $k))))
                    (local.set $s03 (f32x4.add (local.get $s03) (f32x4.mul (local.get $va0) (local.get $vb))))
                    (local.set $s13 (f32x4.add (local.get $s13) (f32x4.mul (local.get $va1) (local.get $vb))))
                    (local.set $k (i32.add (local.get $k) (i32.const 16)))
                    (br $kl)))
                ;; four horizontal sums at once, each ((l0 + l1) + (l2 + l3)) like $hsum
                (local.set $c (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $j)) (i32.const 2))))
                (local.set $t (f32x4.add
                  (i8x16.shuffle 0 1 2 3 16 17 18 19 8 9 10 11 24 25 26 27 (local.get $s00) (local.get $s01))
                  (i8x16.shuffle 4 5 6 7 20 21 22 23 12 13 14 15 28 29 30 31 (local.get $s00) (local.get $s01))))
                (local.set $u (f32x4.add
                  (i8x16.shuffle 0 1 2 3 16 17 18 19 8 9 10 11 24 25 26 27 (local.get $s02) (local.get $s03))
                  (i8x16.shuffle 4 5 6 7 20 21 22 23 12 13 14 15 28 29 30 31 (local.get $s02) (local.get $s03))))
                (local.set $t (f32x4.add
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t) (local.get $u))
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t) (local.get $u))))
                (if (local.get $acc) (then (local.set $t (f32x4.add (local.get $t) (v128.load (local.get $c))))))
                (v128.store (local.get $c) (local.get $t))
                (local.set $c (i32.add (local.get $c) (i32.shl (local.get $N) (i32.const 2))))
                (local.set $t (f32x4.add
                  (i8x16.shuffle 0 1 2 3 16 17 18 19 8 9 10 11 24 25 26 27 (local.get $s10) (local.get $s11))
                  (i8x16.shuffle 4 5 6 7 20 21 22 23 12 13 14 15 28 29 30 31 (local.get $s10) (local.get $s11))))
                (local.set $u (f32x4.add
                  (i8x16.shuffle 0 1 2 3 16 17 18 19 8 9 10 11 24 25 26 27 (local.get $s12) (local.get $s13))
                  (i8x16.shuffle 4 5 6 7 20 21 22 23 12 13 14 15 28 29 30 31 (local.get $s12) (local.get $s13))))
                (local.set $t (f32x4.add
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t) (local.get $u))
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t) (local.get $u))))
                (if (local.get $acc) (then (local.set $t (f32x4.add (local.get $t) (v128.load (local.get $c))))))
                (v128.store (local.get $c) (local.get $t))
                (local.set $i (i32.add (local.get $i) (i32.const 2)))
                (br $rows)))
            ;; an odd last row of the tile
            (if (i32.lt_u (local.get $i) (local.get $itEnd))
              (then
                (local.set $a0 (i32.add (local.get $A) (i32.mul (local.get $i) (local.get $kb))))
                (local.set $jj (i32.const 0))
                (block $oddDone
                  (loop $odd
                    (br_if $oddDone (i32.ge_u (local.get $jj) (i32.const 4)))
                    (call $put
                      (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (i32.add (local.get $j) (local.get $jj))) (i32.const 2)))
                      (call $dot (local.get $a0) (i32.add (local.get $b0) (i32.mul (local.get $jj) (local.get $kb))) (local.get $kb))
                      (local.get $acc))
                    (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
                    (br $odd)))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $cols)))
        ;; last (j1 − j0) % 4 columns, one dot product each
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $j) (local.get $jEnd)))
            (local.set $i (local.get $it))
            (block $tiDone
              (loop $ti
                (br_if $tiDone (i32.ge_u (local.get $i) (local.get $itEnd)))
                (call $put
                  (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $j)) (i32.const 2)))
                  (call $dot (i32.add (local.get $A) (i32.mul (local.get $i) (local.get $kb)))
                             (i32.add (local.get $B) (i32.mul (local.get $j) (local.get $kb))) (local.get $kb))
                  (local.get $acc))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $ti)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $tail)))
        (local.set $it (local.get $itEnd))
        (br $tiles))))

  ;; one row i, columns [j, j+16) of the nns product
  (func $nns1x16 (param $C i32) (param $A i32) (param $B i32) (param $N i32) (param $K i32) (param $acc i32)
                 (param $i i32) (param $j i32) (param $sai i32) (param $as i32)
    (local $c i32) (local $ap i32) (local $bp i32) (local $k i32) (local $nb i32) (local $av v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $nb (i32.shl (local.get $N) (i32.const 2)))
    (local.set $c (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $j)) (i32.const 2))))
    (if (local.get $acc)
      (then
        (local.set $c0 (v128.load (local.get $c)))
        (local.set $c1 (v128.load offset=16 (local.get $c)))
        (local.set $c2 (v128.load offset=32 (local.get $c)))
        (local.set $c3 (v128.load offset=48 (local.get $c)))))
    (local.set $ap (i32.add (local.get $A) (i32.shl (i32.mul (local.get $i) (local.get $sai)) (i32.const 2))))
    (local.set $bp (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 2))))
    (block $kDone
      (loop $kl
        (br_if $kDone (i32.ge_u (local.get $k) (local.get $K)))
        (local.set $av (f32x4.splat (f32.load (local.get $ap))))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $av) (v128.load (local.get $bp)))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $av) (v128.load offset=16 (local.get $bp)))))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $av) (v128.load offset=32 (local.get $bp)))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $av) (v128.load offset=48 (local.get $bp)))))
        (local.set $ap (i32.add (local.get $ap) (local.get $as)))
        (local.set $bp (i32.add (local.get $bp) (local.get $nb)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $kl)))
    (v128.store (local.get $c) (local.get $c0))
    (v128.store offset=16 (local.get $c) (local.get $c1))
    (v128.store offset=32 (local.get $c) (local.get $c2))
    (v128.store offset=48 (local.get $c) (local.get $c3)))

  ;; rows i and i+1, columns [j, j+16): each B vector loaded once feeds two rows
  (func $nns2x16 (param $C i32) (param $A i32) (param $B i32) (param $N i32) (param $K i32) (param $acc i32)
                 (param $i i32) (param $j i32) (param $sai i32) (param $as i32)
    (local $c i32) (local $d i32) (local $ap i32) (local $aq i32) (local $bp i32) (local $k i32) (local $nb i32)
    (local $av v128) (local $aw v128) (local $vb v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128)
    (local.set $nb (i32.shl (local.get $N) (i32.const 2)))
    (local.set $c (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $j)) (i32.const 2))))
    (local.set $d (i32.add (local.get $c) (local.get $nb)))
    (if (local.get $acc)
      (then
        (local.set $c0 (v128.load (local.get $c)))
        (local.set $c1 (v128.load offset=16 (local.get $c)))
        (local.set $c2 (v128.load offset=32 (local.get $c)))
        (local.set $c3 (v128.load offset=48 (local.get $c)))
        (local.set $d0 (v128.load (local.get $d)))
        (local.set $d1 (v128.load offset=16 (local.get $d)))
        (local.set $d2 (v128.load offset=32 (local.get $d)))
        (local.set $d3 (v128.load offset=48 (local.get $d)))))
    (local.set $ap (i32.add (local.get $A) (i32.shl (i32.mul (local.get $i) (local.get $sai)) (i32.const 2))))
    (local.set $aq (i32.add (local.get $ap) (i32.shl (local.get $sai) (i32.const 2))))
    (local.set $bp (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 2))))
    (block $kDone
      (loop $kl
        (br_if $kDone (i32.ge_u (local.get $k) (local.get $K)))
        (local.set $av (f32x4.splat (f32.load (local.get $ap))))
        (local.set $aw (f32x4.splat (f32.load (local.get $aq))))
        (local.set $vb (v128.load (local.get $bp)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $av) (local.get $vb))))
        (local.set $d0 (f32x4.add (local.get $d0) (f32x4.mul (local.get $aw) (local.get $vb))))
        (local.set $vb (v128.load offset=16 (local.get $bp)))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $av) (local.get $vb))))
        (local.set $d1 (f32x4.add (local.get $d1) (f32x4.mul (local.get $aw) (local.get $vb))))
        (local.set $vb (v128.load offset=32 (local.get $bp)))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $av) (local.get $vb))))
        (local.set $d2 (f32x4.add (local.get $d2) (f32x4.mul (local.get $aw) (local.get $vb))))
        (local.set $vb (v128.load offset=48 (local.get $bp)))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $av) (local.get $vb))))
        (local.set $d3 (f32x4.add (local.get $d3) (f32x4.mul (local.get $aw) (local.get $vb))))
        (local.set $ap (i32.add (local.get $ap) (local.get $as)))
        (local.set $aq (i32.add (local.get $aq) (local.get $as)))
        (local.set $bp (i32.add (local.get $bp) (local.get $nb)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $kl)))
    (v128.store (local.get $c) (local.get $c0))
    (v128.store offset=16 (local.get $c) (local.get $c1))
    (v128.store offset=32 (local.get $c) (local.get $c2))
    (v128.store offset=48 (local.get $c) (local.get $c3))
    (v128.store (local.get $d) (local.get $d0))
    (v128.store offset=16 (local.get $d) (local.get $d1))
    (v128.store offset=32 (local.get $d) (local.get $d2))
    (v128.store offset=48 (local.get $d) (local.get $d3)))

  ;; One block of k for nns: C (+)= Â[:, 0..K) · B[0..K)[:] over rows [i0, i1), columns [j0, j1).
  ;; 16 output columns (4 vectors) per pass over k, 32-row tiles so the K×16 B panel is reused from L1.
  (func $nnsBlock (param $C i32) (param $A i32) (param $B i32) (param $N i32) (param $K i32)
        (param $acc i32) (param $i0 i32) (param $i1 i32) (param $sai i32) (param $sak i32) (param $j0 i32) (param $j1 i32)
    (local $nb i32) (local $it i32) (local $itEnd i32) (local $i i32) (local $j i32) (local $k i32)
    (local $ap i32) (local $as i32) (local $bp i32) (local $c i32)
    (local $av v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $nb (i32.shl (local.get $N) (i32.const 2)))
    (local.set $as (i32.shl (local.get $sak) (i32.const 2)))
    (local.set $it (local.get $i0))
    (block $tilesDone
      (loop $tiles
        (br_if $tilesDone (i32.ge_u (local.get $it) (local.get $i1)))
        (local.set $itEnd (select (i32.add (local.get $it) (i32.const 32)) (local.get $i1)
                                  (i32.lt_u (i32.add (local.get $it) (i32.const 32)) (local.get $i1))))
        (local.set $j (local.get $j0))
        (block $wideDone
          (loop $wide
            (br_if $wideDone (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $j1)))
            (local.set $i (local.get $it))
            (block $pairsDone
              (loop $pairs
                (br_if $pairsDone (i32.gt_u (i32.add (local.get $i) (i32.const 2)) (local.get $itEnd)))
                (call $nns2x16 (local.get $C) (local.get $A) (local.get $B) (local.get $N) (local.get $K) (local.get $acc)
                               (local.get $i) (local.get $j) (local.get $sai) (local.get $as))
                (local.set $i (i32.add (local.get $i) (i32.const 2)))
                (br $pairs)))
            (if (i32.lt_u (local.get $i) (local.get $itEnd))
              (then
                (call $nns1x16 (local.get $C) (local.get $A) (local.get $B) (local.get $N) (local.get $K) (local.get $acc)
                               (local.get $i) (local.get $j) (local.get $sai) (local.get $as))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $wide)))
        ;; remaining columns, 4 at a time
        (block $narrowDone
          (loop $narrow
            (br_if $narrowDone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $j1)))
            (local.set $i (local.get $it))
            (block $nrDone
              (loop $nr
                (br_if $nrDone (i32.ge_u (local.get $i) (local.get $itEnd)))
                (local.set $c (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $j)) (i32.const 2))))
                (local.set $c0 (if (result v128) (local.get $acc) (then (v128.load (local.get $c))) (else (v128.const i32x4 0 0 0 0))))
                (local.set $ap (i32.add (local.get $A) (i32.shl (i32.mul (local.get $i) (local.get $sai)) (i32.const 2))))
                (local.set $bp (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $k (i32.const 0))
                (block $nkDone
                  (loop $nk
                    (br_if $nkDone (i32.ge_u (local.get $k) (local.get $K)))
                    (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (f32x4.splat (f32.load (local.get $ap))) (v128.load (local.get $bp)))))
                    (local.set $ap (i32.add (local.get $ap) (local.get $as)))
                    (local.set $bp (i32.add (local.get $bp) (local.get $nb)))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $nk)))
                (v128.store (local.get $c) (local.get $c0))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $nr)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $narrow)))
        (local.set $it (local.get $itEnd))
        (br $tiles))))
  ;; C[M×N] (+)= Â · B[K×N] for rows [i0, i1) and columns [j0, j1), where Â[i][k] = A[i·sai + k·sak]
  ;; (element strides), so nn is (sai = K, sak = 1) and tn (Aᵀ) is (sai = 1, sak = M). Requires N, j0 and
  ;; j1 % 4 == 0. k runs in blocks of 64 so a block's B rows stay in cache while every row of C passes
  ;; over them (a large K, like the vocabulary, no longer streams B from memory per row pair); partial sums
  ;; go through C as float32, so the result is the same as one pass over k.
  ;; $tri 1: Â is lower triangular (Â[i][k] = 0 for k > i), so a block of k skips rows i < kb;
  ;; $tri 2: Â is upper triangular (Â[i][k] = 0 for k < i), so once C holds values (acc, or after the
  ;; first block) a block skips rows i ≥ kb + kk. Skipped terms are exact zeros, so results are the same.
  (func (export "nns") (param $C i32) (param $A i32) (param $B i32) (param $M i32) (param $N i32) (param $K i32)
        (param $acc i32) (param $i0 i32) (param $i1 i32) (param $sai i32) (param $sak i32) (param $j0 i32) (param $j1 i32)
        (param $tri i32)
    (local $kb i32) (local $kk i32) (local $r0 i32) (local $r1 i32)
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $kb) (local.get $K)))
        (local.set $kk (i32.sub (local.get $K) (local.get $kb)))
        (if (i32.gt_u (local.get $kk) (i32.const 64)) (then (local.set $kk (i32.const 64))))
        (local.set $r0 (local.get $i0))
        (local.set $r1 (local.get $i1))
        (if (i32.and (i32.eq (local.get $tri) (i32.const 1)) (i32.gt_u (local.get $kb) (local.get $r0)))
          (then (local.set $r0 (local.get $kb))))
        (if (i32.and (i32.eq (local.get $tri) (i32.const 2))
                     (i32.and (i32.or (local.get $acc) (i32.ne (local.get $kb) (i32.const 0)))
                              (i32.lt_u (i32.add (local.get $kb) (local.get $kk)) (local.get $r1))))
          (then (local.set $r1 (i32.add (local.get $kb) (local.get $kk)))))
        (if (i32.lt_u (local.get $r0) (local.get $r1)) (then
        (call $nnsBlock (local.get $C)
          (i32.add (local.get $A) (i32.shl (i32.mul (local.get $kb) (local.get $sak)) (i32.const 2)))
          (i32.add (local.get $B) (i32.shl (i32.mul (local.get $kb) (local.get $N)) (i32.const 2)))
          (local.get $N) (local.get $kk)
          (i32.or (local.get $acc) (i32.ne (local.get $kb) (i32.const 0)))
          (local.get $r0) (local.get $r1) (local.get $sai) (local.get $sak) (local.get $j0) (local.get $j1))))
        (local.set $kb (i32.add (local.get $kb) (i32.const 64)))
        (br $blocks))))
)
