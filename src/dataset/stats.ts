import { join } from "node:path";
import { histogramSpec, pieSpec, renderChart } from "../charts/index.js";
import { writeFileAtomic, writeJsonAtomic } from "../core/index.js";
import { verbNounStats } from "../instruct/index.js";
import { type CountTokens, estimateTokens } from "../prompts/index.js";
import type { AlpacaRecord } from "./alpaca.js";

export interface LengthSummary {
  min: number;
  median: number;
  mean: number;
  p90: number;
  max: number;
}

export interface DatasetStatsReport {
  records: number;
  /** Records per subset (from the provenance sidecar; "unknown" without one). */
  subsets: Record<string, number>;
  /** The 6 most frequent leading verbs of the instructions, with shares of all records. */
  topVerbs: Array<{ verb: string; count: number; share: number }>;
  distinctInstructions: number;
  chars: Record<"instruction" | "input" | "output", LengthSummary>;
  tokens: Record<"instruction" | "input" | "output", LengthSummary>;
  /** How tokens were counted: a model's tokenizer, or the documented estimate. */
  tokenCounter: string;
}

const FIELDS = ["instruction", "input", "output"] as const;

/** Statistics of an instruction dataset: subset counts, leading verbs, length distributions. */
export function datasetStats(
  records: readonly AlpacaRecord[],
  subsets: readonly (string | undefined)[] = [],
  countTokens: CountTokens = estimateTokens,
  tokenCounter = "estimate (src/prompts estimateTokens)",
): {
  report: DatasetStatsReport;
  lengths: Record<"chars" | "tokens", Record<(typeof FIELDS)[number], number[]>>;
} {
  const subsetCounts: Record<string, number> = {};
  records.forEach((_, i) => {
    const s = subsets[i] ?? "unknown";
    subsetCounts[s] = (subsetCounts[s] ?? 0) + 1;
  });
  // Leading verbs are tagged once per distinct instruction, then weighted by how often it occurs.
  const instructionCounts = new Map<string, number>();
  for (const r of records)
    instructionCounts.set(r.instruction, (instructionCounts.get(r.instruction) ?? 0) + 1);
  const verbCounts = new Map<string, number>();
  for (const [text, n] of instructionCounts) {
    const v = verbNounStats([text]).verbs[0]?.verb;
    if (v) verbCounts.set(v, (verbCounts.get(v) ?? 0) + n);
  }
  const topVerbs = [...verbCounts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 6)
    .map(([verb, count]) => ({ verb, count, share: count / Math.max(1, records.length) }));
  const lengths = {
    chars: { instruction: [] as number[], input: [] as number[], output: [] as number[] },
    tokens: { instruction: [] as number[], input: [] as number[], output: [] as number[] },
  };
  const tokenCache = new Map<string, number>();
  const tokensOf = (s: string) => {
    let n = tokenCache.get(s);
    if (n === undefined) {
      n = s.length ? countTokens(s) : 0;
      tokenCache.set(s, n);
    }
    return n;
  };
  for (const r of records) {
    for (const f of FIELDS) {
      lengths.chars[f].push(r[f].length);
      lengths.tokens[f].push(tokensOf(r[f]));
    }
  }
  const summarize = (xs: number[]) => summarizeLengths(xs);
  const report: DatasetStatsReport = {
    records: records.length,
    subsets: subsetCounts,
    topVerbs,
    distinctInstructions: instructionCounts.size,
    chars: {
      instruction: summarize(lengths.chars.instruction),
      input: summarize(lengths.chars.input),
      output: summarize(lengths.chars.output),
    },
    tokens: {
      instruction: summarize(lengths.tokens.instruction),
      input: summarize(lengths.tokens.input),
      output: summarize(lengths.tokens.output),
    },
    tokenCounter,
  };
  return { report, lengths };
}

export function summarizeLengths(xs: number[]): LengthSummary {
  if (xs.length === 0) return { min: 0, median: 0, mean: 0, p90: 0, max: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  const m = s.length >> 1;
  const median = s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  return {
    min: s[0],
    median,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p90: q(0.9),
    max: s[s.length - 1],
  };
}

/**
 * Write `stats.json` and the charts (verbs pie; instruction/input/output length histograms in
 * characters and tokens), each as SVG and PNG, into `dir`. Returns the files written.
 */
export async function writeDatasetStats(
  dir: string,
  stats: ReturnType<typeof datasetStats>,
): Promise<string[]> {
  const files: string[] = [];
  const out = (name: string, data: string | Uint8Array) => {
    writeFileAtomic(join(dir, name), data);
    files.push(name);
  };
  writeJsonAtomic(join(dir, "stats.json"), stats.report);
  files.push("stats.json");
  const charts: Array<[string, Parameters<typeof renderChart>[0]]> = [
    [
      "verbs",
      pieSpec(
        "Most frequent leading verbs",
        stats.report.topVerbs.map((v) => ({ label: v.verb, count: v.count })),
      ),
    ],
  ];
  for (const f of FIELDS) {
    charts.push([`${f}-chars`, histogramSpec(`${f} length`, "characters", stats.lengths.chars[f])]);
    charts.push([`${f}-tokens`, histogramSpec(`${f} length`, "tokens", stats.lengths.tokens[f])]);
  }
  for (const [name, spec] of charts) {
    const { svg, png } = await renderChart(spec);
    out(`${name}.svg`, svg);
    out(`${name}.png`, png);
  }
  return files;
}
