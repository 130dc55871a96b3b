import { PUBLISHED_K, PUBLISHED_TABLE, WHY_THEY_DIFFER } from "../../reproduce/published.js";
import { type Block, fmt, fmtInterval, type Section } from "../document.js";
import type { RunData } from "../run-data.js";
import { metricLabel } from "./kit.js";

const METRICS = ["precision", "recall", "ndcg"] as const;

/** The published RecAlpaca table beside this run's, and why the two differ. */
export function publishedSection(run: RunData): Section {
  const blocks: Block[] = [
    {
      kind: "table",
      caption: `Published (RecAlpaca paper, ML-100k, K = ${PUBLISHED_K}):`,
      head: ["system", ...METRICS.map((m) => metricLabel(m, PUBLISHED_K)), "source"],
      rows: PUBLISHED_TABLE.map((r) => [r.system, fmt(r.precision), fmt(r.recall), fmt(r.ndcg), r.source]),
    },
  ];
  const r = run.evalReport;
  if (r) {
    const leaky = r.notes.some((n) => n.startsWith("SEED-LEAK"));
    blocks.push({
      kind: "table",
      caption: `This run (${run.testset?.header.dataset ?? "its dataset"}, ${r.testSet.records} records, protocol ${r.protocol}, K = ${r.k}${leaky ? ", a seed-leak test set" : ", leak-free top-1"}); mean [95% interval]:`,
      head: ["system", ...METRICS.map((m) => metricLabel(m, r.k)), "top-1 is a test item"],
      rows: r.systems.map((s) => [
        s.name,
        ...METRICS.map((m) => {
          const v = s.metrics[m];
          return v
            ? fmtInterval({
                mean: v.mean ?? Number.NaN,
                low: v.low ?? Number.NaN,
                high: v.high ?? Number.NaN,
              })
            : "n/a";
        }),
        fmt(s.leakage?.top1IsTest, 3),
      ]),
    });
  }
  blocks.push(
    { kind: "text", text: "Why the numbers differ:" },
    { kind: "list", items: [...WHY_THEY_DIFFER] },
    {
      kind: "text",
      text: "`recalpaca reproduce recalpaca-paper` downloads the published evaluation file and recomputes its row, the same answers without the top-1 credit, and the standard protocol's numbers.",
    },
  );
  return { id: "published", title: "Published RecAlpaca table and ours", blocks };
}
