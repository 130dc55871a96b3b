import { afterAll, describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.js";
import { WasmGemm } from "../../src/finetune/kernels/wasm-runtime.js";

// The WebAssembly elementwise kernels (float32 SIMD exp) against the model's Math.exp reference loops,
// and 1 thread against 2 (each row is computed by one thread with the same code: identical bits).
const one = new WasmGemm(1);
const two = new WasmGemm(2);
afterAll(async () => {
  await one.dispose();
  await two.dispose();
});

function filled(g: WasmGemm, src: ArrayLike<number>): Float32Array {
  const a = g.scratch.alloc(src.length);
  a.set(src);
  return a;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function normals(n: number, s: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * s);
}

describe("WebAssembly elementwise kernels", () => {
  it("SwiGLU forward and backward match the reference, identically on 1 and 2 threads", () => {
    const rng = new Rng(3, "test/swiglu");
    const [T, W] = [67, 388]; // rows·width above the threading threshold, width not a multiple of 16
    const g = normals(T * W, 4, rng);
    const u = normals(T * W, 1, rng);
    const da = normals(T * W, 1, rng);
    const out: Float32Array[][] = [];
    for (const k of [one, two]) {
      k.scratch.reset();
      const [a, sg, gw, uw, daw] = [
        k.scratch.alloc(T * W),
        k.scratch.alloc(T * W),
        filled(k, g),
        filled(k, u),
        filled(k, da),
      ];
      expect(k.swiglu(a, sg, gw, uw, T, W)).toBe(true);
      const [dg, du] = [k.scratch.alloc(T * W), k.scratch.alloc(T * W)];
      expect(k.swigluBack(dg, du, daw, gw, uw, sg, T, W)).toBe(true);
      out.push([a, sg, dg, du].map((x) => Float32Array.from(x)));
    }
    const ra = new Float64Array(T * W);
    const rs = new Float64Array(T * W);
    const rdg = new Float64Array(T * W);
    const rdu = new Float64Array(T * W);
    for (let i = 0; i < T * W; i++) {
      const e = 1 + Math.exp(-g[i]);
      ra[i] = (g[i] / e) * u[i];
      rs[i] = 1 / e;
      rdu[i] = da[i] * g[i] * rs[i];
      rdg[i] = da[i] * u[i] * rs[i] * (1 + g[i] * (1 - rs[i]));
    }
    expect(maxAbs(out[0][0], ra)).toBeLessThan(4e-6);
    expect(maxAbs(out[0][1], rs)).toBeLessThan(1e-6);
    expect(maxAbs(out[0][2], rdg)).toBeLessThan(4e-6);
    expect(maxAbs(out[0][3], rdu)).toBeLessThan(4e-6);
    for (let j = 0; j < 4; j++) expect(out[1][j]).toEqual(out[0][j]);
  });

  it("causal softmax and its backward match the reference, identically on 1 and 2 threads", () => {
    const rng = new Rng(4, "test/softmax");
    const T = 131;
    const scale = 0.125;
    const S = normals(T * T, 20, rng);
    const dPin = normals(T * T, 1, rng);
    const out: Float32Array[][] = [];
    for (const k of [one, two]) {
      k.scratch.reset();
      const P = filled(k, S);
      expect(k.softmaxCausal(P, T, scale)).toBe(true);
      const dP = filled(k, dPin);
      expect(k.softmaxCausalBack(dP, P, T, scale)).toBe(true);
      out.push([Float32Array.from(P), Float32Array.from(dP)]);
    }
    const rP = new Float64Array(T * T);
    const rdS = new Float64Array(T * T);
    for (let t = 0; t < T; t++) {
      const o = t * T;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j <= t; j++) max = Math.max(max, S[o + j]);
      let z = 0;
      for (let j = 0; j <= t; j++) z += Math.exp((S[o + j] - max) * scale);
      for (let j = 0; j <= t; j++) rP[o + j] = Math.exp((S[o + j] - max) * scale) / z;
      let dot = 0;
      for (let j = 0; j <= t; j++) dot += dPin[o + j] * out[0][0][o + j];
      for (let j = 0; j <= t; j++) rdS[o + j] = out[0][0][o + j] * (dPin[o + j] - dot) * scale;
    }
    expect(maxAbs(out[0][0], rP)).toBeLessThan(1e-6);
    expect(maxAbs(out[0][1], rdS)).toBeLessThan(1e-5);
    for (let t = 0; t < T; t++)
      for (let j = t + 1; j < T; j++) {
        expect(out[0][0][t * T + j]).toBe(0);
        expect(out[0][1][t * T + j]).toBe(0);
      }
    expect(out[1][0]).toEqual(out[0][0]);
    expect(out[1][1]).toEqual(out[0][1]);
  });

  it("output softmax rows return max and Σexp and scale the gradient, identically on 1 and 2 threads", () => {
    const rng = new Rng(5, "test/logits");
    const [n, V] = [9, 4099];
    const L = normals(n * V, 5, rng);
    const weight = 0.03;
    const res: Array<{ e: Float32Array; stats: Float64Array }> = [];
    for (const k of [one, two]) {
      k.scratch.reset();
      const Lw = filled(k, L);
      const stats = k.softmaxRows(Lw, n, V, weight);
      if (!stats) throw new Error("softmaxRows declined scratch arrays");
      res.push({ e: Float32Array.from(Lw), stats });
    }
    for (let i = 0; i < n; i++) {
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < V; j++) max = Math.max(max, L[i * V + j]);
      let z = 0;
      for (let j = 0; j < V; j++) z += Math.exp(L[i * V + j] - max);
      expect(res[0].stats[2 * i]).toBe(max);
      expect(Math.abs(res[0].stats[2 * i + 1] - z) / z).toBeLessThan(1e-6);
      for (let j = 0; j < V; j++) {
        const ref = (Math.exp(L[i * V + j] - max) * weight) / z;
        expect(Math.abs(res[0].e[i * V + j] - ref)).toBeLessThanOrEqual(4e-6 * ref);
      }
    }
    expect(res[1].e).toEqual(res[0].e);
    expect(Array.from(res[1].stats)).toEqual(Array.from(res[0].stats));
  });

  it("RMSNorm, dropout and strided copies match the reference", () => {
    const rng = new Rng(6, "test/rms");
    const [T, d] = [70, 576];
    const x = normals(T * d, 1, rng);
    const gain = normals(d, 1, rng);
    const dy = normals(T * d, 1, rng);
    const mask = Uint8Array.from({ length: T * d }, () => (rng.next() < 0.1 ? 0 : 1));
    for (const k of [one, two]) {
      k.scratch.reset();
      const [xw, gw, dyw, out, r, dx] = [
        filled(k, x),
        filled(k, gain),
        filled(k, dy),
        k.scratch.alloc(T * d),
        k.scratch.alloc(T),
        k.scratch.alloc(T * d),
      ];
      expect(k.rmsnorm(out, xw, gw, r, T, d, 1e-5)).toBe(true);
      expect(k.rmsnormBack(dx, xw, gw, r, dyw, T, d)).toBe(true);
      let worst = 0;
      let worstBack = 0;
      for (let t = 0; t < T; t++) {
        let ss = 0;
        for (let i = 0; i < d; i++) ss += x[t * d + i] ** 2;
        const inv = 1 / Math.sqrt(ss / d + 1e-5);
        let dot = 0;
        for (let i = 0; i < d; i++) dot += dy[t * d + i] * gain[i] * x[t * d + i];
        const c = (inv ** 3 * dot) / d;
        for (let i = 0; i < d; i++) {
          worst = Math.max(worst, Math.abs(out[t * d + i] - x[t * d + i] * inv * gain[i]));
          const ref = inv * gain[i] * dy[t * d + i] - c * x[t * d + i];
          worstBack = Math.max(worstBack, Math.abs(dx[t * d + i] - ref));
        }
      }
      expect(worst).toBeLessThan(1e-5);
      expect(worstBack).toBeLessThan(1e-5);
      const f = k.scratch.alloc(Math.ceil(mask.length / 4));
      const mw = new Uint8Array(f.buffer, f.byteOffset, mask.length);
      mw.set(mask);
      const keep = 1 / 0.9;
      const y = k.scratch.alloc(T * d);
      expect(k.dropout(y, xw, mw, T, d, keep, false)).toBe(true);
      for (let i = 0; i < T * d; i++) expect(Math.abs(y[i] - (mask[i] ? x[i] * keep : 0))).toBeLessThan(1e-6);
      expect(k.dropout(y, xw, mw, T, d, keep, true)).toBe(true);
      for (let i = 0; i < T * d; i++)
        expect(Math.abs(y[i] - (mask[i] ? 2 * x[i] * keep : 0))).toBeLessThan(1e-5);
      // head 2 of 9 (width 64) out of a [T][576] matrix, then added back
      const h = k.scratch.alloc(T * 64);
      expect(k.copyRows(h, 0, 64, xw, 128, d, T, 64, false)).toBe(true);
      for (let t = 0; t < T; t++) for (let i = 0; i < 64; i++) expect(h[t * 64 + i]).toBe(x[t * d + 128 + i]);
      expect(k.copyRows(xw, 128, d, h, 0, 64, T, 64, true)).toBe(true);
      for (let t = 0; t < T; t++) expect(xw[t * d + 130]).toBe(Math.fround(2 * x[t * d + 130]));
    }
  });

  it("decline arrays outside their memory (the model then runs its reference loops)", () => {
    const a = new Float32Array(64);
    expect(one.swiglu(a, undefined, a, a, 4, 16)).toBe(false);
    expect(one.softmaxCausal(a, 8, 1)).toBe(false);
    expect(one.softmaxRows(a, 4, 16, 1)).toBeUndefined();
  });
});
