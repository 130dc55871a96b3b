/**
 * Source of the WebAssembly SIMD kernels, as WebAssembly text. The text is generated here (register
 * blocks are unrolled by a loop in this file rather than by hand) and compiled to `kernels.wasm` by
 * `scripts/build-wasm.ts` with the `wabt` npm package; a test checks the committed binary equals a
 * fresh build. Only baseline SIMD (f32x4.mul + f32x4.add; no relaxed SIMD, which Node 20 gates behind
 * a flag) and a shared, imported memory (so worker threads run the same kernels on the same data).
 *
 * Every parallel kernel takes (start, end) first: a range of rows (or elements) it owns outright, so
 * splitting the range between threads never changes a result.
 */

/** Names of the exported functions, in the order worker threads index them. */
export const WASM_FUNCTIONS = [
  "spmm_v16",
  "spmm_v8",
  "spmm_v1",
  "adam",
  "score_v4",
  "bpr_dots",
  "bpr_scatter",
  "bpr_finish",
  "spmm_v4",
  "spmm_list_v16",
  "spmm_list_v4",
  "spmm_mask_v16",
  "spmm_mask_v4",
  "spmm_tile_v16",
] as const;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * y[r, col0 : col0 + 4V] = Σ_e values[e] · x[indices[e], col0 : col0 + 4V] (+ add[r, …]); acc[r, …] += y[r, …]
 * for rows r in [r0, r1). Pointers are byte addresses; `d` is the row stride in floats; add/acc are 0 when absent.
 * Variant "list": the rows are list[r0 .. r1) (an Int32 row-id array, extra last parameter). Variant "mask":
 * columns c with mask[c] = 0 (an Int32 array, extra last parameter) are skipped — for an x whose other rows
 * are zero this gives the same sums as the full product with fewer loads.
 */
function spmm(v: number, variant: "" | "list" | "mask" | "tile" = ""): string {
  const name = variant ? `spmm_${variant}_v${v}` : `spmm_v${v}`;
  const extra =
    variant === "list"
      ? " (param $list i32)"
      : variant === "mask"
        ? " (param $mask i32)"
        : variant === "tile"
          ? " (param $end i32) (param $mode i32)"
          : "";
  const tile = variant === "tile";
  const rowOf =
    variant === "list"
      ? "(local.set $row (i32.load (i32.add (local.get $list) (i32.shl (local.get $r) (i32.const 2)))))"
      : "(local.set $row (local.get $r))";
  const skip =
    variant === "mask"
      ? `(local.set $c (i32.load (i32.add (local.get $indices) (local.get $e))))
            (if (i32.eqz (i32.load (i32.add (local.get $mask) (i32.shl (local.get $c) (i32.const 2)))))
              (then (local.set $e (i32.add (local.get $e) (i32.const 4))) (br $edges)))`
      : "";
  const accs = range(v)
    .map((k) => `(local $a${k} v128)`)
    .join(" ");
  const zero = range(v)
    .map((k) => `(local.set $a${k} (v128.const i32x4 0 0 0 0))`)
    .join("\n        ");
  const loadAdd = range(v)
    .map((k) => `(local.set $a${k} (v128.load offset=${16 * k} (i32.add (local.get $add) (local.get $ro))))`)
    .join("\n          ");
  const fma = range(v)
    .map(
      (k) =>
        `(local.set $a${k} (f32x4.add (local.get $a${k}) (f32x4.mul (local.get $w) (v128.load offset=${16 * k} (local.get $p)))))`,
    )
    .join("\n          ");
  const store = range(v)
    .map((k) => `(v128.store offset=${16 * k} (local.get $q) (local.get $a${k}))`)
    .join("\n        ");
  const storeAcc = range(v)
    .map(
      (k) =>
        `(v128.store offset=${16 * k} (local.get $q) (f32x4.add (v128.load offset=${16 * k} (local.get $q)) (local.get $a${k})))`,
    )
    .join("\n          ");
  const loadY = range(v)
    .map((k) => `(local.set $a${k} (v128.load offset=${16 * k} (i32.add (local.get $y) (local.get $ro))))`)
    .join("\n          ");
  const addOrZero = `(if (local.get $add)
          (then
          ${loadAdd})
          (else
        ${zero}))`;
  // Tiles: this pass covers entries begin[row] .. end[row] of each row (one block of columns); the first
  // pass (mode & 1) starts from add or zero, later ones from the partial sums in y; the last (mode & 2)
  // updates acc. Rows without entries in a middle pass are skipped.
  const init = tile
    ? `(if (i32.and (local.get $mode) (i32.const 1))
          (then ${addOrZero})
          (else
          ${loadY}))`
    : addOrZero;
  const edgeRange = tile
    ? `(local.set $e (i32.shl (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $row) (i32.const 2)))) (i32.const 2)))
        (local.set $eEnd (i32.shl (i32.load (i32.add (local.get $end) (i32.shl (local.get $row) (i32.const 2)))) (i32.const 2)))
        (if (i32.and (i32.eqz (local.get $mode)) (i32.eq (local.get $e) (local.get $eEnd)))
          (then (local.set $r (i32.add (local.get $r) (i32.const 1))) (br $rows)))`
    : `(local.set $e (i32.shl (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $row) (i32.const 2)))) (i32.const 2)))
        (local.set $eEnd (i32.shl (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $row) (i32.const 2)))) (i32.const 2)))`;
  return `
  (func $${name} (export "${name}")
    (param $r0 i32) (param $r1 i32) (param $indptr i32) (param $indices i32) (param $values i32)
    (param $x i32) (param $y i32) (param $add i32) (param $acc i32) (param $d i32) (param $col0 i32)${extra}
    (local $r i32) (local $row i32) (local $c i32) (local $e i32) (local $eEnd i32) (local $stride i32) (local $xo i32) (local $ro i32)
    (local $p i32) (local $q i32) (local $w v128) ${accs}
    (local.set $stride (i32.shl (local.get $d) (i32.const 2)))
    (local.set $xo (i32.add (local.get $x) (i32.shl (local.get $col0) (i32.const 2))))
    (local.set $r (local.get $r0))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $r1)))
        ${rowOf}
        (local.set $ro (i32.add (i32.mul (local.get $row) (local.get $stride)) (i32.shl (local.get $col0) (i32.const 2))))
        ${edgeRange}
        ${init}
        (block $edone
          (loop $edges
            (br_if $edone (i32.ge_u (local.get $e) (local.get $eEnd)))
            ${skip}
            (local.set $w (v128.load32_splat (i32.add (local.get $values) (local.get $e))))
            (local.set $p (i32.add (local.get $xo)
              (i32.mul (i32.load (i32.add (local.get $indices) (local.get $e))) (local.get $stride))))
          ${fma}
            (local.set $e (i32.add (local.get $e) (i32.const 4)))
            (br $edges)))
        (local.set $q (i32.add (local.get $y) (local.get $ro)))
        ${store}
        (if ${tile ? "(i32.and (i32.ne (local.get $acc) (i32.const 0)) (i32.ne (i32.and (local.get $mode) (i32.const 2)) (i32.const 0)))" : "(local.get $acc)"}
          (then
          (local.set $q (i32.add (local.get $acc) (local.get $ro)))
          ${storeAcc}))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
  )`;
}

/**
 * PyTorch Adam on floats [i0, i1) (i1 − i0 a multiple of 4), rounding to f32 after every operation as
 * PyTorch's single-tensor implementation does: m ← b1·m + c1·g; v ← b2·v + c2·(g·g);
 * p ← p − stepSize · (m / (√v / bc2Sqrt + eps)).
 */
const adam = `
  (func $adam (export "adam")
    (param $i0 i32) (param $i1 i32) (param $p i32) (param $g i32) (param $m i32) (param $v i32)
    (param $b1 f32) (param $b2 f32) (param $c1 f32) (param $c2 f32) (param $step f32) (param $bc2 f32) (param $eps f32)
    (local $o i32) (local $end i32) (local $gv v128) (local $mv v128) (local $vv v128)
    (local $B1 v128) (local $B2 v128) (local $C1 v128) (local $C2 v128) (local $S v128) (local $BC2 v128) (local $E v128)
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $C1 (f32x4.splat (local.get $c1)))
    (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $S (f32x4.splat (local.get $step)))
    (local.set $BC2 (f32x4.splat (local.get $bc2)))
    (local.set $E (f32x4.splat (local.get $eps)))
    (local.set $o (i32.shl (local.get $i0) (i32.const 2)))
    (local.set $end (i32.shl (local.get $i1) (i32.const 2)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $o))))
        (local.set $mv (f32x4.add (f32x4.mul (local.get $B1) (v128.load (i32.add (local.get $m) (local.get $o))))
                                  (f32x4.mul (local.get $C1) (local.get $gv))))
        (local.set $vv (f32x4.add (f32x4.mul (local.get $B2) (v128.load (i32.add (local.get $v) (local.get $o))))
                                  (f32x4.mul (local.get $C2) (f32x4.mul (local.get $gv) (local.get $gv)))))
        (v128.store (i32.add (local.get $m) (local.get $o)) (local.get $mv))
        (v128.store (i32.add (local.get $v) (local.get $o)) (local.get $vv))
        (v128.store (i32.add (local.get $p) (local.get $o))
          (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o)))
            (f32x4.mul (local.get $S)
              (f32x4.div (local.get $mv)
                (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vv)) (local.get $BC2)) (local.get $E))))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $l)))
  )`;

/**
 * Dense scores for rows [r0, r1) of a row list: out[r, c] = Σ_k a[rows[r], k] · bT[k, c], with bT the
 * column matrix transposed (d × nColsPad, nColsPad a multiple of 16) and out rows nColsPad apart.
 * Register block: one row × 16 columns (4 vectors), broadcasting a[row, k].
 */
const score = `
  (func $score_v4 (export "score_v4")
    (param $r0 i32) (param $r1 i32) (param $rows i32) (param $a i32) (param $bT i32) (param $out i32)
    (param $nColsPad i32) (param $d i32)
    (local $r i32) (local $c i32) (local $k i32) (local $arow i32) (local $bp i32) (local $cstride i32)
    (local $s v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $q i32)
    (local.set $cstride (i32.shl (local.get $nColsPad) (i32.const 2)))
    (local.set $r (local.get $r0))
    (block $rdone
      (loop $rl
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $r1)))
        (local.set $arow (i32.add (local.get $a)
          (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $r) (i32.const 2))))
                   (i32.shl (local.get $d) (i32.const 2)))))
        (local.set $q (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $cstride))))
        (local.set $c (i32.const 0))
        (block $cdone
          (loop $cl
            (br_if $cdone (i32.ge_u (local.get $c) (local.get $cstride)))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $bp (i32.add (local.get $bT) (local.get $c)))
            (local.set $k (i32.const 0))
            (block $kdone
              (loop $kl
                (br_if $kdone (i32.ge_u (local.get $k) (local.get $d)))
                (local.set $s (v128.load32_splat (i32.add (local.get $arow) (i32.shl (local.get $k) (i32.const 2)))))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
                (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
                (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $bp)))))
                (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $bp)))))
                (local.set $bp (i32.add (local.get $bp) (local.get $cstride)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $kl)))
            (v128.store offset=0 (i32.add (local.get $q) (local.get $c)) (local.get $a0))
            (v128.store offset=16 (i32.add (local.get $q) (local.get $c)) (local.get $a1))
            (v128.store offset=32 (i32.add (local.get $q) (local.get $c)) (local.get $a2))
            (v128.store offset=48 (i32.add (local.get $q) (local.get $c)) (local.get $a3))
            (local.set $c (i32.add (local.get $c) (i32.const 64)))
            (br $cl)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rl)))
  )`;

/** Horizontal sum of an f32x4 as (l0 + l1) + (l2 + l3). */
const hsum = (v: string) =>
  `(f32.add (f32.add (f32x4.extract_lane 0 ${v}) (f32x4.extract_lane 1 ${v})) (f32.add (f32x4.extract_lane 2 ${v}) (f32x4.extract_lane 3 ${v})))`;

/** Loads the three node ids of sample $k from the triples array into byte offsets $u $p $n (row × d × 4). */
const loadTriple = `
        (local.set $t (i32.add (local.get $trip) (i32.mul (local.get $k) (i32.const 12))))
        (local.set $u (i32.mul (i32.load offset=0 (local.get $t)) (local.get $stride)))
        (local.set $p (i32.mul (i32.load offset=4 (local.get $t)) (local.get $stride)))
        (local.set $n (i32.mul (i32.load offset=8 (local.get $t)) (local.get $stride)))`;

/**
 * BPR minibatch helpers. Samples are (u, p, n) node-id triples. bpr_dots: out[3k] = sum_u·sum_p,
 * out[3k+1] = sum_u·sum_n, out[3k+2] = ‖e0_u‖² + ‖e0_p‖² + ‖e0_n‖² (4 lanes, then (l0+l1)+(l2+l3)).
 * bpr_scatter: grad_u += c_k (sum_n − sum_p), grad_p −= c_k sum_u, grad_n += c_k sum_u, in sample order.
 * bpr_finish: zero the grad rows of the batch, and h_row += r · e0_row for u, p, n of every sample, in order.
 */
const bpr = `
  (func $bpr_dots (export "bpr_dots")
    (param $k0 i32) (param $k1 i32) (param $trip i32) (param $sum i32) (param $e0 i32) (param $out i32) (param $d i32)
    (local $k i32) (local $t i32) (local $u i32) (local $p i32) (local $n i32) (local $j i32) (local $stride i32)
    (local $a v128) (local $x v128) (local $ap v128) (local $an v128) (local $ar v128)
    (local.set $stride (i32.shl (local.get $d) (i32.const 2)))
    (local.set $k (local.get $k0))
    (block $done
      (loop $samples
        (br_if $done (i32.ge_u (local.get $k) (local.get $k1)))${loadTriple}
        (local.set $ap (v128.const i32x4 0 0 0 0))
        (local.set $an (v128.const i32x4 0 0 0 0))
        (local.set $ar (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $cols
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $stride)))
            (local.set $a (v128.load (i32.add (local.get $sum) (i32.add (local.get $u) (local.get $j)))))
            (local.set $ap (f32x4.add (local.get $ap) (f32x4.mul (local.get $a) (v128.load (i32.add (local.get $sum) (i32.add (local.get $p) (local.get $j)))))))
            (local.set $an (f32x4.add (local.get $an) (f32x4.mul (local.get $a) (v128.load (i32.add (local.get $sum) (i32.add (local.get $n) (local.get $j)))))))
            (local.set $x (v128.load (i32.add (local.get $e0) (i32.add (local.get $u) (local.get $j)))))
            (local.set $ar (f32x4.add (local.get $ar) (f32x4.mul (local.get $x) (local.get $x))))
            (local.set $x (v128.load (i32.add (local.get $e0) (i32.add (local.get $p) (local.get $j)))))
            (local.set $ar (f32x4.add (local.get $ar) (f32x4.mul (local.get $x) (local.get $x))))
            (local.set $x (v128.load (i32.add (local.get $e0) (i32.add (local.get $n) (local.get $j)))))
            (local.set $ar (f32x4.add (local.get $ar) (f32x4.mul (local.get $x) (local.get $x))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cols)))
        (local.set $t (i32.add (local.get $out) (i32.mul (local.get $k) (i32.const 12))))
        (f32.store offset=0 (local.get $t) ${hsum("(local.get $ap)")})
        (f32.store offset=4 (local.get $t) ${hsum("(local.get $an)")})
        (f32.store offset=8 (local.get $t) ${hsum("(local.get $ar)")})
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $samples)))
  )

  (func $bpr_scatter (export "bpr_scatter")
    (param $k0 i32) (param $k1 i32) (param $trip i32) (param $coef i32) (param $sum i32) (param $grad i32) (param $d i32)
    (local $k i32) (local $t i32) (local $u i32) (local $p i32) (local $n i32) (local $j i32) (local $stride i32)
    (local $c v128) (local $fu v128) (local $q i32)
    (local.set $stride (i32.shl (local.get $d) (i32.const 2)))
    (local.set $k (local.get $k0))
    (block $done
      (loop $samples
        (br_if $done (i32.ge_u (local.get $k) (local.get $k1)))${loadTriple}
        (local.set $c (v128.load32_splat (i32.add (local.get $coef) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $cols
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $stride)))
            (local.set $fu (v128.load (i32.add (local.get $sum) (i32.add (local.get $u) (local.get $j)))))
            (local.set $q (i32.add (local.get $grad) (i32.add (local.get $u) (local.get $j))))
            (v128.store (local.get $q) (f32x4.add (v128.load (local.get $q)) (f32x4.mul (local.get $c)
              (f32x4.sub (v128.load (i32.add (local.get $sum) (i32.add (local.get $n) (local.get $j))))
                         (v128.load (i32.add (local.get $sum) (i32.add (local.get $p) (local.get $j))))))))
            (local.set $q (i32.add (local.get $grad) (i32.add (local.get $p) (local.get $j))))
            (v128.store (local.get $q) (f32x4.sub (v128.load (local.get $q)) (f32x4.mul (local.get $c) (local.get $fu))))
            (local.set $q (i32.add (local.get $grad) (i32.add (local.get $n) (local.get $j))))
            (v128.store (local.get $q) (f32x4.add (v128.load (local.get $q)) (f32x4.mul (local.get $c) (local.get $fu))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cols)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $samples)))
  )

  (func $bpr_finish (export "bpr_finish")
    (param $k0 i32) (param $k1 i32) (param $trip i32) (param $e0 i32) (param $h i32) (param $grad i32) (param $r f32) (param $d i32)
    (local $k i32) (local $t i32) (local $u i32) (local $p i32) (local $n i32) (local $j i32) (local $stride i32)
    (local $rv v128) (local $q i32) (local $zero v128)
    (local.set $stride (i32.shl (local.get $d) (i32.const 2)))
    (local.set $rv (f32x4.splat (local.get $r)))
    (local.set $k (local.get $k0))
    (block $done
      (loop $samples
        (br_if $done (i32.ge_u (local.get $k) (local.get $k1)))${loadTriple}
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $cols
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $stride)))
            (v128.store (i32.add (local.get $grad) (i32.add (local.get $u) (local.get $j))) (local.get $zero))
            (v128.store (i32.add (local.get $grad) (i32.add (local.get $p) (local.get $j))) (local.get $zero))
            (v128.store (i32.add (local.get $grad) (i32.add (local.get $n) (local.get $j))) (local.get $zero))
            (local.set $q (i32.add (local.get $u) (local.get $j)))
            (v128.store (i32.add (local.get $h) (local.get $q)) (f32x4.add (v128.load (i32.add (local.get $h) (local.get $q)))
              (f32x4.mul (local.get $rv) (v128.load (i32.add (local.get $e0) (local.get $q))))))
            (local.set $q (i32.add (local.get $p) (local.get $j)))
            (v128.store (i32.add (local.get $h) (local.get $q)) (f32x4.add (v128.load (i32.add (local.get $h) (local.get $q)))
              (f32x4.mul (local.get $rv) (v128.load (i32.add (local.get $e0) (local.get $q))))))
            (local.set $q (i32.add (local.get $n) (local.get $j)))
            (v128.store (i32.add (local.get $h) (local.get $q)) (f32x4.add (v128.load (i32.add (local.get $h) (local.get $q)))
              (f32x4.mul (local.get $rv) (v128.load (i32.add (local.get $e0) (local.get $q))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cols)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $samples)))
  )`;

/** The whole module's text. The memory is imported, shared, with a 4 GiB maximum (address space only). */
export function kernelsWat(): string {
  return `;; Generated by src/recsys/kernels/wat.ts — do not edit; run \`npx tsx scripts/build-wasm.ts\`.
(module
  (import "env" "memory" (memory 1 65536 shared))
${spmm(16)}
${spmm(8)}
${spmm(4)}
${spmm(1)}
${spmm(16, "list")}
${spmm(4, "list")}
${spmm(16, "mask")}
${spmm(4, "mask")}
${spmm(16, "tile")}
${adam}
${score}
${bpr}
)
`;
}

/** Compile the text with wabt (a devDependency: only the build script and its test call this). */
export async function compileKernelsWat(): Promise<Uint8Array> {
  const { default: wabtInit } = await import("wabt");
  const wabt = await wabtInit();
  const features = { simd: true, threads: true };
  const mod = wabt.parseWat("kernels.wat", kernelsWat(), features);
  try {
    // wabt's typings omit validate's feature argument; without it, shared memory is rejected.
    (mod.validate as (f: typeof features) => void)(features);
    return mod.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    mod.destroy();
  }
}
