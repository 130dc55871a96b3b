import { describe, expect, it } from "vitest";
import { InterruptedError } from "../../src/core/index.js";
import { Interactions } from "../../src/data/index.js";
import { BprMf, LightFm, runTrainingLoop, TrainingDivergedError } from "../../src/recsys/index.js";

/** A small synthetic implicit dataset: 40 users, 30 items, users like items in their own block. */
function blocks(): Interactions {
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < 40; u++) {
    for (let i = 0; i < 30; i++) {
      if (i % 3 === u % 3 && (u + i) % 4 !== 0) {
        users.push(u);
        items.push(i);
      }
    }
  }
  return Interactions.from(40, 30, users, items);
}

describe("runTrainingLoop", () => {
  it("reports progress with loss and latest validation metrics, validating every evalEvery epochs", async () => {
    const events: Array<Record<string, number> | undefined> = [];
    const s = await runTrainingLoop({
      stage: "t",
      epochs: 5,
      fit: { evalEvery: 2, onProgress: (e) => events.push(e.metrics) },
      runEpoch: (e) => 1 / (e + 1),
      validate: () => ({ "recall@20": 0.5 }),
    });
    expect(s.epochsDone).toBe(5);
    expect(s.stoppedBy).toBe("epochs");
    expect(s.history.map((h) => h.validation !== undefined)).toEqual([false, true, false, true, true]);
    expect(events[0]).toEqual({ loss: 1 });
    expect(events[2]).toEqual({ loss: 1 / 3, "recall@20": 0.5 });
  });

  it("stops after `patience` validations without improvement and restores the best parameters", async () => {
    const vals = [0.1, 0.3, 0.2, 0.25, 0.29, 0.5];
    let restored = false;
    let kept = 0;
    const s = await runTrainingLoop({
      stage: "t",
      epochs: 6,
      fit: { evalEvery: 1, patience: 3 },
      runEpoch: () => 1,
      validate: () => ({ "recall@20": vals.shift() as number }),
      keepBest: () => kept++,
      restoreBest: () => {
        restored = true;
      },
    });
    expect(s.stoppedBy).toBe("patience");
    expect(s.epochsDone).toBe(5);
    expect(s.best?.epoch).toBe(2);
    expect(kept).toBe(2);
    expect(restored).toBe(true);
  });

  it("a NaN loss is an error naming the epoch, and nothing is checkpointed after it", async () => {
    const checkpoints: number[] = [];
    const run = runTrainingLoop({
      stage: "m/train",
      epochs: 10,
      fit: { checkpointEvery: 1, onCheckpoint: (n) => checkpoints.push(n) },
      runEpoch: (e) => (e === 3 ? Number.NaN : 1),
    });
    await expect(run).rejects.toThrow(TrainingDivergedError);
    await expect(
      runTrainingLoop({ stage: "m/train", epochs: 10, fit: {}, runEpoch: (e) => (e === 3 ? Number.NaN : 1) }),
    ).rejects.toThrow(/m\/train: the loss became NaN in epoch 4/);
    expect(checkpoints).toEqual([1, 2, 3]);
  });

  it("an abort stops between epochs, checkpoints, then throws InterruptedError (no half-trained result)", async () => {
    const ac = new AbortController();
    const checkpoints: number[] = [];
    const run = runTrainingLoop({
      stage: "t",
      epochs: 10,
      fit: { signal: ac.signal, onCheckpoint: (n) => checkpoints.push(n) },
      runEpoch: (e) => {
        if (e === 2) ac.abort();
        return 1;
      },
    });
    await expect(run).rejects.toThrow(InterruptedError);
    await expect(run).rejects.toThrow("t: training interrupted after epoch 3");
    expect(checkpoints).toEqual([3]);
  });
});

describe("iterative models: deterministic, resumable", () => {
  const train = blocks();

  it("BPR-MF: same seed → same parameters; an interrupted and resumed run equals an uninterrupted one", async () => {
    const a = new BprMf({ epochs: 6, dims: 8 });
    await a.fit(train, { seed: 11 });
    const b = new BprMf({ epochs: 6, dims: 8 });
    await b.fit(train, { seed: 11 });
    expect(Array.from(b.P)).toEqual(Array.from(a.P));

    const ac = new AbortController();
    const c = new BprMf({ epochs: 6, dims: 8 });
    let snap: ReturnType<BprMf["snapshot"]> | undefined;
    await expect(
      c.fit(train, {
        seed: 11,
        signal: ac.signal,
        onProgress: (e) => {
          if (e.done === 2) ac.abort();
        },
        onCheckpoint: () => {
          snap = structuredClone(c.snapshot());
        },
      }),
    ).rejects.toThrow(InterruptedError);
    expect(c.epochsDone).toBe(2);
    const resumed = BprMf.restore(snap as ReturnType<BprMf["snapshot"]>);
    await resumed.fit(train, { seed: 11 });
    expect(resumed.epochsDone).toBe(6);
    expect(Array.from(resumed.P)).toEqual(Array.from(a.P));
    expect(Array.from(resumed.bias)).toEqual(Array.from(a.bias));
    await expect(
      BprMf.restore(snap as ReturnType<BprMf["snapshot"]>).fit(train, { seed: 12 }),
    ).rejects.toThrow(/--seed 11/);
  });

  it("BPR-MF: a learning rate that blows up is reported with its epoch", async () => {
    const m = new BprMf({ epochs: 50, dims: 8, lr: 1e30 });
    await expect(m.fit(train, { seed: 1 })).rejects.toThrow(
      /bpr-mf\/train: the loss became (NaN|Infinity) in epoch \d+/,
    );
  });

  it("LightFM (WARP and BPR): resumed equals uninterrupted, scores identical after restore", async () => {
    for (const loss of ["warp", "bpr"] as const) {
      const a = new LightFm({ epochs: 4, dims: 8, loss });
      await a.fit(train, { seed: 5 });
      const half = new LightFm({ epochs: 2, dims: 8, loss });
      await half.fit(train, { seed: 5 });
      const snap = structuredClone(half.snapshot());
      snap.config.epochs = 4;
      const resumed = LightFm.restore(snap);
      await resumed.fit(train, { seed: 5 });
      const sa = new Float32Array(30);
      const sb = new Float32Array(30);
      a.scoreUser(7, sa);
      resumed.scoreUser(7, sb);
      expect(Array.from(sb)).toEqual(Array.from(sa));
    }
  });
});
