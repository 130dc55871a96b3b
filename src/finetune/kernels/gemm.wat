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

  ;; ---- elementwise kernels (exp-heavy loops of the model), rows [i0, i1), dispatched by $ew ----------
  ;; exp of 4 floats (Cephes expf: x = n·ln2 + r, degree-6 polynomial in r, scaled by 2^n through the
  ;; exponent bits); inputs are clamped to [−87, 88], relative error ≈ 1 ulp of float32.
  (func $expv (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.max (f32x4.min (local.get $x) (v128.const f32x4 88 88 88 88))
                             (v128.const f32x4 -87 -87 -87 -87)))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x)
                                            (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $x)
                                        (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
                             (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $r)) (local.get $r)) (local.get $r))
                             (v128.const f32x4 1 1 1 1)))
    (f32x4.mul (local.get $p)
               (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (v128.const i32x4 127 127 127 127))
                          (i32.const 23))))

  (func $exps (param $x f32) (result f32)
    (f32x4.extract_lane 0 (call $expv (f32x4.splat (local.get $x)))))

  ;; SwiGLU over rows of width N: a = g·σ(g)·u and, when $sg ≠ 0, sg = σ(g).
  (func $swiglu (param $a i32) (param $sg i32) (param $g i32) (param $u i32) (param $N i32) (param $i0 i32) (param $i1 i32)
    (local $o i32) (local $end i32) (local $vend i32) (local $gv v128) (local $s v128) (local $gs f32) (local $ss f32)
    (local.set $o (i32.shl (i32.mul (local.get $i0) (local.get $N)) (i32.const 2)))
    (local.set $end (i32.shl (i32.mul (local.get $i1) (local.get $N)) (i32.const 2)))
    (local.set $vend (i32.sub (local.get $end) (i32.const 12)))
    (block $vd
      (loop $v
        (br_if $vd (i32.ge_s (local.get $o) (local.get $vend)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $o))))
        (local.set $s (f32x4.div (v128.const f32x4 1 1 1 1)
                                 (f32x4.add (v128.const f32x4 1 1 1 1) (call $expv (f32x4.neg (local.get $gv))))))
        (v128.store (i32.add (local.get $a) (local.get $o))
                    (f32x4.mul (f32x4.mul (local.get $gv) (local.get $s)) (v128.load (i32.add (local.get $u) (local.get $o)))))
        (if (local.get $sg) (then (v128.store (i32.add (local.get $sg) (local.get $o)) (local.get $s))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $v)))
    (block $sd
      (loop $sl
        (br_if $sd (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $o))))
        (local.set $ss (f32.div (f32.const 1) (f32.add (f32.const 1) (call $exps (f32.neg (local.get $gs))))))
        (f32.store (i32.add (local.get $a) (local.get $o))
                   (f32.mul (f32.mul (local.get $gs) (local.get $ss)) (f32.load (i32.add (local.get $u) (local.get $o)))))
        (if (local.get $sg) (then (f32.store (i32.add (local.get $sg) (local.get $o)) (local.get $ss))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $sl))))

  ;; In place over rows [i0, i1) of width N starting at $p, elements [0, len) of each row (len = N, or
  ;; t + 1 when $causal): e = exp((x − max)·scale), then e / Σe unless $stats ≠ 0; with $stats, row i's
  ;; max (f64) and Σe (f64) go to stats[2i], stats[2i + 1] and e is multiplied by $w / Σe when $w ≠ 0.
  ;; Elements of a causal row past t are set to 0.
  (func $softmax (param $p i32) (param $N i32) (param $scale f32) (param $causal i32) (param $stats i32) (param $w f32)
                 (param $i0 i32) (param $i1 i32)
    (local $i i32) (local $row i32) (local $len i32) (local $j i32) (local $vmax v128) (local $max f32)
    (local $ms v128) (local $e v128) (local $z2 v128) (local $z f64) (local $es f32) (local $f v128) (local $fs f32)
    (local.set $i (local.get $i0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $i1)))
        (local.set $row (i32.add (local.get $p) (i32.shl (i32.mul (local.get $i) (local.get $N)) (i32.const 2))))
        (local.set $len (select (i32.add (local.get $i) (i32.const 1)) (local.get $N) (local.get $causal)))
        ;; max
        (local.set $vmax (v128.const f32x4 -inf -inf -inf -inf))
        (local.set $j (i32.const 0))
        (block $md (loop $ml
          (br_if $md (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $len)))
          (local.set $vmax (f32x4.max (local.get $vmax) (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $ml)))
        (local.set $max (f32.max (f32.max (f32x4.extract_lane 0 (local.get $vmax)) (f32x4.extract_lane 1 (local.get $vmax)))
                                 (f32.max (f32x4.extract_lane 2 (local.get $vmax)) (f32x4.extract_lane 3 (local.get $vmax)))))
        (block $mtd (loop $mt
          (br_if $mtd (i32.ge_u (local.get $j) (local.get $len)))
          (local.set $max (f32.max (local.get $max) (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $mt)))
        ;; exp and sum (float64 lanes)
        (local.set $ms (f32x4.splat (local.get $max)))
        (local.set $z2 (v128.const f64x2 0 0))
        (local.set $j (i32.const 0))
        (block $ed (loop $el
          (br_if $ed (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $len)))
          (local.set $e (call $expv (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
                                                          (local.get $ms))
                                               (f32x4.splat (local.get $scale)))))
          (v128.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))) (local.get $e))
          (local.set $z2 (f64x2.add (local.get $z2)
                                    (f64x2.add (f64x2.promote_low_f32x4 (local.get $e))
                                               (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                                                                           (local.get $e) (local.get $e))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $el)))
        (local.set $z (f64.add (f64x2.extract_lane 0 (local.get $z2)) (f64x2.extract_lane 1 (local.get $z2))))
        (block $etd (loop $et
          (br_if $etd (i32.ge_u (local.get $j) (local.get $len)))
          (local.set $es (call $exps (f32.mul (f32.sub (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
                                                       (local.get $max))
                                              (local.get $scale))))
          (f32.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))) (local.get $es))
          (local.set $z (f64.add (local.get $z) (f64.promote_f32 (local.get $es))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $et)))
        (if (local.get $stats)
          (then
            (f64.store (i32.add (local.get $stats) (i32.shl (local.get $i) (i32.const 4))) (f64.promote_f32 (local.get $max)))
            (f64.store (i32.add (local.get $stats) (i32.add (i32.shl (local.get $i) (i32.const 4)) (i32.const 8))) (local.get $z))
            (local.set $fs (f32.demote_f64 (f64.div (f64.promote_f32 (local.get $w)) (local.get $z)))))
          (else (local.set $fs (f32.demote_f64 (f64.div (f64.const 1) (local.get $z))))))
        (if (i32.or (i32.eqz (local.get $stats)) (f32.ne (local.get $w) (f32.const 0)))
          (then
            (local.set $f (f32x4.splat (local.get $fs)))
            (local.set $j (i32.const 0))
            (block $sd (loop $sl
              (br_if $sd (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $len)))
              (v128.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))
                          (f32x4.mul (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))) (local.get $f)))
              (local.set $j (i32.add (local.get $j) (i32.const 4)))
              (br $sl)))
            (block $std (loop $st
              (br_if $std (i32.ge_u (local.get $j) (local.get $len)))
              (f32.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))
                         (f32.mul (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))) (local.get $fs)))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $st)))))
        (block $zd (loop $zl
          (br_if $zd (i32.ge_u (local.get $j) (local.get $N)))
          (f32.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))) (f32.const 0))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $zl)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; Causal softmax backward in place over rows [i0, i1) of dP[T×T] with P[T×T]:
  ;; dS[t][j] = P[t][j]·(dP[t][j] − Σ_j dP[t][j]·P[t][j])·scale for j ≤ t, 0 beyond.
  (func $softmaxBack (param $dp i32) (param $p i32) (param $T i32) (param $scale f32) (param $i0 i32) (param $i1 i32)
    (local $i i32) (local $o i32) (local $len i32) (local $j i32) (local $acc v128) (local $dot f32) (local $vd v128)
    (local $vs v128) (local $a i32)
    (local.set $vs (f32x4.splat (local.get $scale)))
    (local.set $i (local.get $i0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $i1)))
        (local.set $o (i32.shl (i32.mul (local.get $i) (local.get $T)) (i32.const 2)))
        (local.set $len (i32.add (local.get $i) (i32.const 1)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $dd (loop $dl
          (br_if $dd (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $len)))
          (local.set $a (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $dp) (local.get $a)))
                                                                 (v128.load (i32.add (local.get $p) (local.get $a))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $dl)))
        (local.set $dot (call $hsum (local.get $acc)))
        (block $td (loop $tl
          (br_if $td (i32.ge_u (local.get $j) (local.get $len)))
          (local.set $a (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $dot (f32.add (local.get $dot) (f32.mul (f32.load (i32.add (local.get $dp) (local.get $a)))
                                                             (f32.load (i32.add (local.get $p) (local.get $a))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $tl)))
        (local.set $vd (f32x4.splat (local.get $dot)))
        (local.set $j (i32.const 0))
        (block $sd (loop $sl
          (br_if $sd (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $len)))
          (local.set $a (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))
          (v128.store (i32.add (local.get $dp) (local.get $a))
                      (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $a)))
                                            (f32x4.sub (v128.load (i32.add (local.get $dp) (local.get $a))) (local.get $vd)))
                                 (local.get $vs)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $sl)))
        (block $std (loop $stl
          (br_if $std (i32.ge_u (local.get $j) (local.get $len)))
          (local.set $a (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))
          (f32.store (i32.add (local.get $dp) (local.get $a))
                     (f32.mul (f32.mul (f32.load (i32.add (local.get $p) (local.get $a)))
                                       (f32.sub (f32.load (i32.add (local.get $dp) (local.get $a))) (local.get $dot)))
                              (local.get $scale)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $stl)))
        (block $zd (loop $zl
          (br_if $zd (i32.ge_u (local.get $j) (local.get $T)))
          (f32.store (i32.add (local.get $dp) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))) (f32.const 0))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $zl)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; SwiGLU backward over rows [i0, i1) of width N: du = da·g·s, dg = da·u·s·(1 + g·(1 − s)), s = σ(g).
  (func $swigluBack (param $dg i32) (param $du i32) (param $da i32) (param $g i32) (param $u i32) (param $s i32)
                    (param $N i32) (param $i0 i32) (param $i1 i32)
    (local $o i32) (local $end i32) (local $vend i32) (local $vda v128) (local $vg v128) (local $vs v128)
    (local $fa f32) (local $fg f32) (local $fs f32)
    (local.set $o (i32.shl (i32.mul (local.get $i0) (local.get $N)) (i32.const 2)))
    (local.set $end (i32.shl (i32.mul (local.get $i1) (local.get $N)) (i32.const 2)))
    (local.set $vend (i32.sub (local.get $end) (i32.const 12)))
    (block $vd
      (loop $v
        (br_if $vd (i32.ge_s (local.get $o) (local.get $vend)))
        (local.set $vda (v128.load (i32.add (local.get $da) (local.get $o))))
        (local.set $vg (v128.load (i32.add (local.get $g) (local.get $o))))
        (local.set $vs (v128.load (i32.add (local.get $s) (local.get $o))))
        (v128.store (i32.add (local.get $du) (local.get $o))
                    (f32x4.mul (f32x4.mul (local.get $vda) (local.get $vg)) (local.get $vs)))
        (v128.store (i32.add (local.get $dg) (local.get $o))
                    (f32x4.mul (f32x4.mul (f32x4.mul (local.get $vda) (v128.load (i32.add (local.get $u) (local.get $o))))
                                          (local.get $vs))
                               (f32x4.add (v128.const f32x4 1 1 1 1)
                                          (f32x4.mul (local.get $vg) (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $vs))))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $v)))
    (block $sd
      (loop $sl
        (br_if $sd (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $fa (f32.load (i32.add (local.get $da) (local.get $o))))
        (local.set $fg (f32.load (i32.add (local.get $g) (local.get $o))))
        (local.set $fs (f32.load (i32.add (local.get $s) (local.get $o))))
        (f32.store (i32.add (local.get $du) (local.get $o)) (f32.mul (f32.mul (local.get $fa) (local.get $fg)) (local.get $fs)))
        (f32.store (i32.add (local.get $dg) (local.get $o))
                   (f32.mul (f32.mul (f32.mul (local.get $fa) (f32.load (i32.add (local.get $u) (local.get $o)))) (local.get $fs))
                            (f32.add (f32.const 1) (f32.mul (local.get $fg) (f32.sub (f32.const 1) (local.get $fs))))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $sl))))

  ;; RMSNorm over rows [i0, i1) of width N: r[t] = 1/√(mean x² + eps), out = x·r·g.
  (func $rmsnorm (param $out i32) (param $x i32) (param $g i32) (param $r i32) (param $N i32) (param $eps f32)
                 (param $i0 i32) (param $i1 i32)
    (local $i i32) (local $o i32) (local $j i32) (local $acc v128) (local $inv f32) (local $vi v128) (local $nb i32)
    (local.set $nb (i32.shl (local.get $N) (i32.const 2)))
    (local.set $i (local.get $i0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $i1)))
        (local.set $o (i32.mul (local.get $i) (local.get $nb)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $sd (loop $sl
          (br_if $sd (i32.ge_u (local.get $j) (local.get $nb)))
          (local.set $vi (v128.load (i32.add (local.get $x) (i32.add (local.get $o) (local.get $j)))))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $vi) (local.get $vi))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $sl)))
        (local.set $inv (f32.div (f32.const 1)
                                 (f32.sqrt (f32.add (f32.div (call $hsum (local.get $acc)) (f32.convert_i32_u (local.get $N)))
                                                    (local.get $eps)))))
        (f32.store (i32.add (local.get $r) (i32.shl (local.get $i) (i32.const 2))) (local.get $inv))
        (local.set $vi (f32x4.splat (local.get $inv)))
        (local.set $j (i32.const 0))
        (block $wd (loop $wl
          (br_if $wd (i32.ge_u (local.get $j) (local.get $nb)))
          (v128.store (i32.add (local.get $out) (i32.add (local.get $o) (local.get $j)))
                      (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $x) (i32.add (local.get $o) (local.get $j))))
                                            (local.get $vi))
                                 (v128.load (i32.add (local.get $g) (local.get $j)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $wl)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; RMSNorm backward over rows [i0, i1) of width N: dx += r·g·dy − (r³·Σ dy·g·x / N)·x.
  (func $rmsnormBack (param $dx i32) (param $x i32) (param $g i32) (param $r i32) (param $N i32) (param $dy i32)
                     (param $i0 i32) (param $i1 i32)
    (local $i i32) (local $o i32) (local $j i32) (local $acc v128) (local $rt f32) (local $c f32) (local $vr v128)
    (local $vc v128) (local $nb i32) (local $a i32)
    (local.set $nb (i32.shl (local.get $N) (i32.const 2)))
    (local.set $i (local.get $i0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $i1)))
        (local.set $o (i32.mul (local.get $i) (local.get $nb)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $sd (loop $sl
          (br_if $sd (i32.ge_u (local.get $j) (local.get $nb)))
          (local.set $a (i32.add (local.get $o) (local.get $j)))
          (local.set $acc (f32x4.add (local.get $acc)
                                     (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $a)))
                                                           (v128.load (i32.add (local.get $g) (local.get $j))))
                                                (v128.load (i32.add (local.get $x) (local.get $a))))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $sl)))
        (local.set $rt (f32.load (i32.add (local.get $r) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $c (f32.div (f32.mul (f32.mul (f32.mul (local.get $rt) (local.get $rt)) (local.get $rt)) (call $hsum (local.get $acc)))
                               (f32.convert_i32_u (local.get $N))))
        (local.set $vr (f32x4.splat (local.get $rt)))
        (local.set $vc (f32x4.splat (local.get $c)))
        (local.set $j (i32.const 0))
        (block $wd (loop $wl
          (br_if $wd (i32.ge_u (local.get $j) (local.get $nb)))
          (local.set $a (i32.add (local.get $o) (local.get $j)))
          (v128.store (i32.add (local.get $dx) (local.get $a))
                      (f32x4.add (v128.load (i32.add (local.get $dx) (local.get $a)))
                                 (f32x4.sub (f32x4.mul (f32x4.mul (local.get $vr) (v128.load (i32.add (local.get $g) (local.get $j))))
                                                       (v128.load (i32.add (local.get $dy) (local.get $a))))
                                            (f32x4.mul (local.get $vc) (v128.load (i32.add (local.get $x) (local.get $a)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $wl)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; Dropout over rows [i0, i1) of width N (N % 4 == 0) with a byte mask m: with $add 0, y = x·m·keep;
  ;; with $add 1, y += x·m·keep.
  (func $dropout (param $y i32) (param $x i32) (param $m i32) (param $N i32) (param $keep f32) (param $add i32)
                 (param $i0 i32) (param $i1 i32)
    (local $e i32) (local $end i32) (local $v v128) (local $vk v128)
    (local.set $vk (f32x4.splat (local.get $keep)))
    (local.set $e (i32.mul (local.get $i0) (local.get $N)))
    (local.set $end (i32.mul (local.get $i1) (local.get $N)))
    (block $d
      (loop $l
        (br_if $d (i32.ge_u (local.get $e) (local.get $end)))
        (local.set $v (f32x4.mul (v128.load (i32.add (local.get $x) (i32.shl (local.get $e) (i32.const 2))))
                                 (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
                                              (v128.load32_zero (i32.add (local.get $m) (local.get $e))))))
                                            (local.get $vk))))
        (if (local.get $add)
          (then (local.set $v (f32x4.add (local.get $v) (v128.load (i32.add (local.get $y) (i32.shl (local.get $e) (i32.const 2))))))))
        (v128.store (i32.add (local.get $y) (i32.shl (local.get $e) (i32.const 2))) (local.get $v))
        (local.set $e (i32.add (local.get $e) (i32.const 4)))
        (br $l))))

  ;; Strided rows [i0, i1): y[t·sy + j] = x[t·sx + j] ($add 0) or += ($add 1) for j < N (strides in floats).
  (func $copyRows (param $y i32) (param $x i32) (param $N i32) (param $sy i32) (param $sx i32) (param $add i32)
                  (param $i0 i32) (param $i1 i32)
    (local $i i32) (local $py i32) (local $px i32) (local $j i32) (local $nb i32) (local $v v128) (local $f f32)
    (local.set $nb (i32.shl (local.get $N) (i32.const 2)))
    (local.set $i (local.get $i0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $i1)))
        (local.set $py (i32.add (local.get $y) (i32.shl (i32.mul (local.get $i) (local.get $sy)) (i32.const 2))))
        (local.set $px (i32.add (local.get $x) (i32.shl (i32.mul (local.get $i) (local.get $sx)) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $vd (loop $vl
          (br_if $vd (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $nb)))
          (local.set $v (v128.load (i32.add (local.get $px) (local.get $j))))
          (if (local.get $add) (then (local.set $v (f32x4.add (local.get $v) (v128.load (i32.add (local.get $py) (local.get $j)))))))
          (v128.store (i32.add (local.get $py) (local.get $j)) (local.get $v))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $vl)))
        (block $sd (loop $sl
          (br_if $sd (i32.ge_u (local.get $j) (local.get $nb)))
          (local.set $f (f32.load (i32.add (local.get $px) (local.get $j))))
          (if (local.get $add) (then (local.set $f (f32.add (local.get $f) (f32.load (i32.add (local.get $py) (local.get $j)))))))
          (f32.store (i32.add (local.get $py) (local.get $j)) (local.get $f))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $sl)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; Elementwise job for rows [i0, i1), same argument words as the GEMM jobs (floats as their bits):
  ;; op 2 SwiGLU (C = a, A = sg or 0, B = g, M = u, N = width); op 3 causal softmax (C = P, N = T,
  ;; K = scale bits); op 4 softmax rows with stats (C = logits, N = width, K = weight bits, A = stats);
  ;; op 5 causal softmax backward (C = dP, A = P, N = T, K = scale bits); op 6 SwiGLU backward (C = dg,
  ;; A = du, B = da, M = g, N = width, K = u, $sg = σ(g); the job's sai word carries $sg); op 7 RMSNorm
  ;; (C = out, A = x, B = gain, M = r, N = width, K = eps bits); op 8 RMSNorm backward (C = dx, A = x,
  ;; B = gain, M = r, N = width, K = dy); op 9 / 10 dropout (C = y, A = x, B = mask, N = width,
  ;; K = keep bits; 10 adds to y); op 11 / 12 strided copy / add (C = y, A = x, N = width, K = y's row
  ;; stride, M = x's row stride).
  (func (export "ew") (param $op i32) (param $C i32) (param $A i32) (param $B i32) (param $M i32) (param $N i32)
        (param $K i32) (param $i0 i32) (param $i1 i32) (param $sg i32)
    (if (i32.ge_u (local.get $op) (i32.const 11))
      (then (call $copyRows (local.get $C) (local.get $A) (local.get $N) (local.get $K) (local.get $M)
                            (i32.eq (local.get $op) (i32.const 12)) (local.get $i0) (local.get $i1))
            (return)))
    (if (i32.eq (local.get $op) (i32.const 7))
      (then (call $rmsnorm (local.get $C) (local.get $A) (local.get $B) (local.get $M) (local.get $N)
                           (f32.reinterpret_i32 (local.get $K)) (local.get $i0) (local.get $i1))))
    (if (i32.eq (local.get $op) (i32.const 8))
      (then (call $rmsnormBack (local.get $C) (local.get $A) (local.get $B) (local.get $M) (local.get $N) (local.get $K)
                               (local.get $i0) (local.get $i1))))
    (if (i32.ge_u (local.get $op) (i32.const 9))
      (then (call $dropout (local.get $C) (local.get $A) (local.get $B) (local.get $N) (f32.reinterpret_i32 (local.get $K))
                           (i32.eq (local.get $op) (i32.const 10)) (local.get $i0) (local.get $i1))))
    (if (i32.eq (local.get $op) (i32.const 5))
      (then (call $softmaxBack (local.get $C) (local.get $A) (local.get $N) (f32.reinterpret_i32 (local.get $K))
                               (local.get $i0) (local.get $i1))))
    (if (i32.eq (local.get $op) (i32.const 6))
      (then (call $swigluBack (local.get $C) (local.get $A) (local.get $B) (local.get $M) (local.get $K) (local.get $sg)
                              (local.get $N) (local.get $i0) (local.get $i1))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then (call $swiglu (local.get $C) (local.get $A) (local.get $B) (local.get $M) (local.get $N) (local.get $i0) (local.get $i1))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then (call $softmax (local.get $C) (local.get $N) (f32.reinterpret_i32 (local.get $K)) (i32.const 1) (i32.const 0)
                           (f32.const 0) (local.get $i0) (local.get $i1))))
    (if (i32.eq (local.get $op) (i32.const 4))
      (then (call $softmax (local.get $C) (local.get $N) (f32.const 1) (i32.const 0) (local.get $A)
                           (f32.reinterpret_i32 (local.get $K)) (local.get $i0) (local.get $i1)))))
)
