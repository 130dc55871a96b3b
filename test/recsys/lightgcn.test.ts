import { describe, expect, it } from "vitest";
import { InterruptedError, Rng } from "../../src/core/index.js";
import { Interactions } from "../../src/data/interactions.js";
import { readSplitDir } from "../../src/data/split-files.js";
import { evaluateModel } from "../../src/recsys/evaluator.js";
import { createKernels, TsKernels, WasmKernels } from "../../src/recsys/kernels/index.js";
import {
  BprSampler,
  buildNormalizedGraph,
  LIGHTGCN_SETTINGS,
  LightGCN,
  LightGCNTrainer,
} from "../../src/recsys/lightgcn/index.js";
import { datasetFingerprint, decodeModelFile, encodeModelFile } from "../../src/recsys/model-file.js";
import { dataPath, lacks } from "../support/env.js";

/** 7 users × 9 items; user 6 has no items, item 8 has no users. Pair (0, 1) appears twice. */
function tiny(): Interactions {
  const pairs: [number, number][] = [
    [0, 0],
    [0, 1],
    [0, 1],
    [0, 4],
    [1, 1],
    [1, 2],
    [2, 0],
    [2, 3],
    [2, 5],
    [2, 7],
    [3, 4],
    [3, 6],
    [4, 2],
    [4, 3],
    [4, 6],
    [4, 7],
    [5, 0],
    [5, 5],
  ];
  return Interactions.from(
    7,
    9,
    pairs.map((p) => p[0]),
    pairs.map((p) => p[1]),
  );
}

/** A random interaction set with a few hundred users, for wasm-vs-reference comparisons. */
function synthetic(nUsers: number, nItems: number, perUser: number, seed: number): Interactions {
  const rng = new Rng(seed, "synthetic");
  const u: number[] = [];
  const i: number[] = [];
  for (let a = 0; a < nUsers; a++) {
    for (const b of rng.sampleIndices(nItems, 1 + rng.int(perUser))) {
      u.push(a);
      i.push(b);
    }
  }
  return Interactions.from(nUsers, nItems, u, i);
}

/**
 * The LightGCN minibatch loss in float64 from first principles: dense A = [[0,R],[Rᵀ,0]], Â = D^-1/2 A D^-1/2,
 * F = mean of Âˡ e0 for l = 0..L, loss = mean softplus(F_u·F_n − F_u·F_p) + decay·½Σ‖e0 rows‖²/B.
 */
function referenceLoss(
  train: Interactions,
  e0: Float64Array,
  d: number,
  layers: number,
  decay: number,
  batch: { u: number[]; p: number[]; n: number[] },
): number {
  const nU = train.nUsers;
  const N = nU + train.nItems;
  const A = Array.from({ length: N }, () => new Float64Array(N));
  for (let k = 0; k < train.length; k++) {
    A[train.users[k]][nU + train.items[k]] = 1;
    A[nU + train.items[k]][train.users[k]] = 1;
  }
  const deg = A.map((row) => row.reduce((s, x) => s + x, 0));
  const dinv = deg.map((x) => (x > 0 ? 1 / Math.sqrt(x) : 0));
  let E = Float64Array.from(e0);
  const sum = Float64Array.from(e0);
  for (let l = 0; l < layers; l++) {
    const next = new Float64Array(N * d);
    for (let r = 0; r < N; r++) {
      for (let c = 0; c < N; c++) {
        if (!A[r][c]) continue;
        const w = dinv[r] * dinv[c];
        for (let j = 0; j < d; j++) next[r * d + j] += w * E[c * d + j];
      }
    }
    E = next;
    for (let x = 0; x < sum.length; x++) sum[x] += E[x];
  }
  const F = sum.map((x) => x / (layers + 1));
  const B = batch.u.length;
  let loss = 0;
  let reg = 0;
  for (let k = 0; k < B; k++) {
    const u = batch.u[k];
    const p = nU + batch.p[k];
    const n = nU + batch.n[k];
    let sp = 0;
    let sn = 0;
    for (let j = 0; j < d; j++) {
      sp += F[u * d + j] * F[p * d + j];
      sn += F[u * d + j] * F[n * d + j];
      reg += e0[u * d + j] ** 2 + e0[p * d + j] ** 2 + e0[n * d + j] ** 2;
    }
    const x = sn - sp;
    loss += Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
  }
  return loss / B + (decay * 0.5 * reg) / B;
}

describe("LightGCN config", () => {
  it("defaults are the reference hyperparameters; the seed variant is 4 layers, batch 1024; explicit values win", () => {
    const c = LIGHTGCN_SETTINGS.resolve({});
    expect([c.dims, c.layers, c.lr, c.decay, c.batchSize, c.initStd]).toEqual([64, 3, 1e-3, 1e-4, 2048, 0.1]);
    const s = LIGHTGCN_SETTINGS.resolve({ variant: "seed" });
    expect([s.layers, s.batchSize]).toEqual([4, 1024]);
    expect(LIGHTGCN_SETTINGS.resolve({ variant: "seed", layers: 2 }).layers).toBe(2);
    expect(() => LIGHTGCN_SETTINGS.resolve({ layers: -1 })).toThrow(/layers/);
    expect(() => LIGHTGCN_SETTINGS.resolve({ variant: "x" as "seed" })).toThrow(/variant/);
  });
});

describe("normalised graph", () => {
  it("is D^-1/2 A D^-1/2 over distinct training pairs, symmetric, with empty rows for isolated nodes", () => {
    const train = tiny();
    const g = buildNormalizedGraph(train, new TsKernels());
    expect(g.nNodes).toBe(16);
    expect(g.nnz).toBe(2 * 17); // 18 pairs, one repeated
    expect(Array.from(g.degree.subarray(0, 7))).toEqual([3, 2, 4, 2, 4, 2, 0]);
    const { indptr, indices, values } = g.matrix;
    const at = (r: number, c: number) => {
      for (let e = indptr[r]; e < indptr[r + 1]; e++) if (indices[e] === c) return values[e];
      return 0;
    };
    // user 0 (degree 3) – item 1 (degree 2: users 0, 1)
    expect(at(0, 7 + 1)).toBeCloseTo(1 / Math.sqrt(3 * 2), 7);
    for (let r = 0; r < 16; r++) for (let c = 0; c < 16; c++) expect(at(r, c)).toBe(at(c, r));
    expect(indptr[7] - indptr[6]).toBe(0); // user 6
    expect(indptr[16] - indptr[15]).toBe(0); // item 8
  });
});

describe("BPR sampler", () => {
  it("draws users with items uniformly, their positives, and negatives outside their training items", () => {
    const train = tiny();
    const s = new BprSampler(train);
    expect(s.nSamples).toBe(18);
    const n = 60000;
    const u = new Int32Array(n);
    const p = new Int32Array(n);
    const q = new Int32Array(n);
    s.sample(new Rng(1, "t"), u, p, q, n);
    const userCount = new Array(7).fill(0);
    const negCount = new Array(9).fill(0);
    for (let k = 0; k < n; k++) {
      userCount[u[k]]++;
      expect(s.isPositive(u[k], p[k])).toBe(true);
      expect(s.isPositive(u[k], q[k])).toBe(false);
      if (u[k] === 0) negCount[q[k]]++;
    }
    expect(userCount[6]).toBe(0);
    for (let a = 0; a < 6; a++) expect(userCount[a] / n).toBeCloseTo(1 / 6, 1);
    // user 0's negatives are uniform over the 6 items it has not seen (item 8 included)
    const zero = userCount[0];
    for (const i of [2, 3, 5, 6, 7, 8]) expect(negCount[i] / zero).toBeCloseTo(1 / 6, 1);
    for (const i of [0, 1, 4]) expect(negCount[i]).toBe(0);
  });
});

describe("LightGCN gradient", () => {
  for (const backend of ["ts", "wasm"] as const) {
    it(`matches central finite differences of a float64 reference loss (${backend} kernels)`, () => {
      const train = tiny();
      const d = 4;
      const layers = 2;
      const decay = 0.05;
      const config = LIGHTGCN_SETTINGS.resolve({
        dims: d,
        layers,
        decay,
        batchSize: 6,
        initStd: 0.5,
        backend,
        threads: 2,
      });
      const kernels = createKernels(backend, 2);
      try {
        const t = new LightGCNTrainer(train, config, kernels, 11);
        // Includes a repeated user, a repeated row, and the isolated item 8 as a negative.
        const batch = { u: [0, 2, 2, 4, 5, 0], p: [1, 3, 7, 6, 0, 4], n: [8, 1, 4, 0, 7, 2] };
        const e0 = Float64Array.from(t.e0);
        const loss = t.computeGradient(
          Int32Array.from(batch.u),
          Int32Array.from(batch.p),
          Int32Array.from(batch.n),
          6,
        );
        expect(loss).toBeCloseTo(referenceLoss(train, e0, d, layers, decay, batch), 6);
        const grad = t.gradient;
        const h = 1e-6;
        let maxErr = 0;
        let maxGrad = 0;
        for (let x = 0; x < e0.length; x++) {
          const plus = Float64Array.from(e0);
          plus[x] += h;
          const minus = Float64Array.from(e0);
          minus[x] -= h;
          const fd =
            (referenceLoss(train, plus, d, layers, decay, batch) -
              referenceLoss(train, minus, d, layers, decay, batch)) /
            (2 * h);
          maxErr = Math.max(maxErr, Math.abs(fd - grad[x]));
          maxGrad = Math.max(maxGrad, Math.abs(fd));
        }
        expect(maxGrad).toBeGreaterThan(0.01);
        expect(maxErr).toBeLessThan(2e-6);
        // Rows of user 6 (no items, not in the batch) get no gradient.
        for (let j = 0; j < d; j++) expect(grad[6 * d + j]).toBe(0);
      } finally {
        kernels.dispose();
      }
    });
  }
});

describe("LightGCN training", () => {
  it("the WebAssembly path equals the TypeScript reference bit for bit, for 1, 2 and 3 threads", async () => {
    const train = synthetic(300, 200, 30, 1);
    const base = { epochs: 2, batchSize: 512 };
    const ref = new LightGCN({ ...base, backend: "ts" });
    await ref.fit(train, { seed: 5 });
    const want = Buffer.from(ref.refreshEmbeddings().buffer);
    for (const threads of [1, 2, 3]) {
      const m = new LightGCN({ ...base, backend: "wasm", threads });
      await m.fit(train, { seed: 5 });
      expect(Buffer.from(m.refreshEmbeddings().buffer).equals(want)).toBe(true);
      expect(m.lastTraining?.lastLoss).toBe(ref.lastTraining?.lastLoss);
      m.dispose();
    }
    // The cache-blocked SpMM (forced here with 1 KiB column blocks) gives the same bits too.
    const blocked = new WasmKernels(2, 1);
    try {
      const t = new LightGCNTrainer(train, LIGHTGCN_SETTINGS.resolve(base), blocked, 5);
      t.runEpoch();
      t.runEpoch();
      expect(Buffer.from(t.finalEmbeddings().buffer).equals(want)).toBe(true);
    } finally {
      blocked.dispose();
    }
    ref.dispose();
  });

  it("a run resumed from a model file equals an uninterrupted one", async () => {
    const train = synthetic(120, 80, 15, 2);
    const full = new LightGCN({ epochs: 4, batchSize: 256, threads: 2 });
    await full.fit(train, { seed: 9 });
    const half = new LightGCN({ epochs: 2, batchSize: 256, threads: 2 });
    await half.fit(train, { seed: 9 });
    const bytes = encodeModelFile(half.snapshot(), datasetFingerprint(train));
    half.dispose();
    const snap = decodeModelFile(bytes).snapshot;
    snap.config.epochs = 4;
    const resumed = LightGCN.restore(snap);
    expect(resumed.epochsDone).toBe(2);
    await resumed.fit(train, { seed: 9 });
    expect(resumed.epochsDone).toBe(4);
    expect(Array.from(resumed.refreshEmbeddings())).toEqual(Array.from(full.refreshEmbeddings()));
    // Scoring works from the final embeddings alone, after dispose.
    const a = new Float32Array(80);
    const b = new Float32Array(80);
    full.scoreUser(3, a);
    full.dispose();
    full.scoreUser(3, b);
    expect(Array.from(b)).toEqual(Array.from(a));
    resumed.dispose();
  });

  it("stops at an aborted signal with a consistent, resumable state", async () => {
    const train = synthetic(50, 40, 10, 3);
    const m = new LightGCN({ epochs: 50, batchSize: 64, threads: 1 });
    const ac = new AbortController();
    let checkpointed = -1;
    await expect(
      m.fit(train, {
        seed: 1,
        signal: ac.signal,
        onProgress: (e) => {
          if (e.done === 3) ac.abort();
        },
        onCheckpoint: (n) => {
          checkpointed = n;
        },
      }),
    ).rejects.toThrow(InterruptedError);
    expect(m.epochsDone).toBe(3);
    expect(checkpointed).toBe(3);
    expect(m.snapshot().state.resumable).toBe(true);
    m.dispose();
  });
});

describe.skipIf(lacks("split-ml-100k"))("LightGCN on the shared ML-100k split", () => {
  it("reaches the reference trajectory after 20 epochs (reference Recall@20 0.2432; seeds 0.2432–0.2543)", async () => {
    const split = readSplitDir(dataPath("splits", "ml-100k"));
    const m = new LightGCN({ epochs: 20 });
    await m.fit(split.train, { seed: 2020 });
    const r = evaluateModel(m, split.train, split.test, { ks: [20] });
    m.dispose();
    expect(r.users.length).toBe(943);
    expect(r.metrics["recall@20"]).toBeGreaterThanOrEqual(0.23);
    expect(r.metrics["recall@20"]).toBeLessThanOrEqual(0.27);
    expect(r.metrics["ndcg@20"]).toBeGreaterThan(0.27);
  });
});
