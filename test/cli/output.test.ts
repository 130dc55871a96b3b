import { describe, expect, it } from "vitest";
import {
  describeProgress,
  formatDuration,
  formatMetric,
  progressBar,
  progressLine,
  renderProgress,
} from "../../src/cli/output.js";

describe("progress for people", () => {
  it("formats the runner's metrics with units instead of field names", () => {
    const line = describeProgress(
      {
        stage: "runner",
        done: 37,
        total: 200,
        unit: "request",
        metrics: { failed: 0, cached: 5, tokensPerS: 180.5, spentUsd: 0, etaS: 13.47 },
      },
      60_000,
    );
    expect(line).toBe("37/200 requests · 5 cached · 181 tok/s · $0.00 · ETA 13 s");
    expect(line).not.toMatch(/tokensPerS|spentUsd|etaS/);
  });

  it("names failures, small costs, losses and other metrics", () => {
    expect(formatMetric("failed", 2)).toBe("2 failed");
    expect(formatMetric("failed", 0)).toBeNull();
    expect(formatMetric("cached", 0)).toBeNull();
    expect(formatMetric("spentUsd", 0.0012)).toBe("$0.0012");
    expect(formatMetric("spentUsd", 1.5)).toBe("$1.50");
    expect(formatMetric("tokens/s", 95.4)).toBe("95 tok/s");
    expect(formatMetric("loss", 0.123456)).toBe("loss 0.1235");
    expect(formatMetric("valLoss", 2)).toBe("validation loss 2.0000");
    expect(formatMetric("recall@20", 0.33912)).toBe("recall@20 0.3391");
    expect(formatMetric("epochs", 3)).toBe("epochs 3");
  });

  it("extrapolates an ETA when the library gives none, and formats durations", () => {
    const e = { stage: "bpr-mf/train", done: 25, total: 100, unit: "epoch", metrics: { loss: 0.5 } };
    expect(describeProgress(e, 10_000)).toBe("25/100 epochs · loss 0.5000 · ETA 30 s");
    expect(renderProgress(e, 10_000, 8)).toBe(
      "bpr-mf/train [##------] 25/100 epochs · loss 0.5000 · ETA 30 s",
    );
    expect(progressLine(e, 10_000)).toBe(
      "bpr-mf/train: 25/100 epochs (25%) · loss 0.5000 · ETA 30 s · 10 s elapsed",
    );
    expect(formatDuration(13_470)).toBe("13 s");
    expect(formatDuration(125_000)).toBe("2 min 05 s");
    expect(formatDuration(3_720_000)).toBe("1 h 02 min");
    expect(describeProgress({ stage: "download", done: 3 << 20, total: 6 << 20, unit: "bytes" }, 1000)).toBe(
      "3.0 MiB/6.0 MiB · ETA 1 s",
    );
    expect(describeProgress({ stage: "load", done: 1, unit: "record" }, 0)).toBe("1 record");
  });
});

/** A fake stderr, clock and interval timer: the test moves time by hand. */
function harness(isTTY: boolean) {
  const lines: string[] = [];
  let t = 0;
  let tick: (() => void) | undefined;
  let stops = 0;
  const bar = progressBar(
    { quiet: false },
    {
      stream: { isTTY, write: (s: string) => lines.push(s) },
      now: () => t,
      intervalMs: 10_000,
      every: (ms, fn) => {
        expect(ms).toBe(10_000);
        tick = fn;
        return {
          stop: () => {
            stops++;
            tick = undefined;
          },
        };
      },
    },
  );
  return {
    bar,
    lines,
    advance(ms: number) {
      t += ms;
    },
    tick: () => tick?.(),
    get ticking() {
      return tick !== undefined;
    },
    get stops() {
      return stops;
    },
  };
}

const req = (done: number) => ({
  stage: "llm: runner",
  done,
  total: 4,
  unit: "request",
  metrics: { failed: 0, cached: 0, tokensPerS: 12, spentUsd: 0 },
});

describe("progress off a terminal", () => {
  it("prints a plain line when a stage starts, every interval while it runs, and when it ends", () => {
    const h = harness(false);
    h.bar(req(0));
    expect(h.lines).toEqual(["llm: runner: 0/4 requests (0%) · 12 tok/s · $0.00 · 0 s elapsed\n"]);
    h.advance(3_000);
    h.bar(req(1)); // between ticks: nothing printed
    expect(h.lines).toHaveLength(1);
    h.advance(7_000);
    h.tick();
    expect(h.lines[1]).toBe("llm: runner: 1/4 requests (25%) · 12 tok/s · $0.00 · ETA 30 s · 10 s elapsed\n");
    h.advance(10_000);
    h.tick(); // no new event: the same state, later (the work is alive)
    expect(h.lines[2]).toMatch(/^llm: runner: 1\/4 requests \(25%\).* · 20 s elapsed\n$/);
    h.advance(5_000);
    h.bar(req(4));
    expect(h.lines[3]).toBe("llm: runner: 4/4 requests (100%) · 12 tok/s · $0.00 · 25 s elapsed\n");
    expect(h.ticking).toBe(false); // a finished stage prints nothing more
    h.bar.finish();
    expect(h.lines).toHaveLength(4);
    expect(h.lines.join("")).not.toMatch(/\r|\x1b/);
  });

  it("shows the last state of a stage that ended without a final event", () => {
    const h = harness(false);
    h.bar({ stage: "itemknn/fit", done: 10, total: 100, unit: "items" });
    h.bar({ stage: "itemknn/fit", done: 60, total: 100, unit: "items" });
    h.bar({ stage: "next", done: 1 });
    expect(h.lines.map((l) => l.split(" · ")[0])).toEqual([
      "itemknn/fit: 10/100 items (10%)",
      "itemknn/fit: 60/100 items (60%)",
      "next: 1",
    ]);
    h.bar({ stage: "next", done: 2 });
    h.bar.finish();
    expect(h.lines.at(-1)).toMatch(/^next: 2 · /);
    expect(h.ticking).toBe(false);
  });

  it("estimates the ETA from the rate since the stage's first event, never from one event alone", () => {
    const h = harness(false);
    const step = (done: number) => ({ stage: "finetune/train", done, total: 100, unit: "step" });
    h.bar(step(1)); // a stage whose first report comes after its first step
    expect(h.lines[0]).toBe("finetune/train: 1/100 steps (1%) · 0 s elapsed\n");
    h.advance(10_000);
    h.bar(step(3));
    h.tick();
    expect(h.lines[1]).toBe("finetune/train: 3/100 steps (3%) · ETA 8 min 05 s · 10 s elapsed\n");
    h.bar.finish();
  });

  it("--quiet silences it", () => {
    const lines: string[] = [];
    const bar = progressBar(
      { quiet: true },
      { stream: { isTTY: false, write: (s: string) => lines.push(s) }, every: () => ({ stop() {} }) },
    );
    bar(req(0));
    bar(req(4));
    bar.finish();
    expect(lines).toEqual([]);
  });

  it("on a terminal redraws one line instead", () => {
    const h = harness(true);
    h.bar(req(1));
    h.advance(50);
    h.bar(req(2)); // within 100 ms: not redrawn
    h.advance(100);
    h.bar(req(3));
    h.bar.finish();
    expect(h.lines).toHaveLength(3);
    expect(h.lines[0]).toMatch(/^\r\x1b\[2Kllm: runner \[#+-+\] 1\/4 requests · 12 tok\/s · \$0\.00/);
    expect(h.lines[2]).toBe("\n");
    expect(h.ticking).toBe(false);
  });
});
