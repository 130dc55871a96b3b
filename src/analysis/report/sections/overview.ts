import { countBarsSpec } from "../charts.js";
import type { Block, Section } from "../document.js";
import type { RunData } from "../run-data.js";
import { chartBlock, count, keyValueTable, percent } from "./kit.js";

/** The stages that ran, when, how long, their counts and the code that ran them. */
export function overviewSection(run: RunData): Section {
  const stages = Object.values(run.manifests).sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
  const versions = stages[stages.length - 1]?.versions ?? {};
  const git = stages.find((s) => s.git)?.git;
  const blocks: Block[] = [
    {
      kind: "text",
      text: `Run folder ${run.dir}, seed ${run.seed}. Every number below is read from the stages' artefacts in this folder; each stage's manifest.json records its config, input and output hashes.`,
    },
    {
      kind: "table",
      caption: "Stages (in the order they finished):",
      head: ["stage", "finished", "seconds", "counts"],
      rows: stages.map((s) => [
        s.stage,
        s.finishedAt,
        s.seconds.toFixed(1),
        Object.entries(s.counts)
          .map(([k, v]) => `${k}=${v === null ? "n/a" : Number.isInteger(v) ? v : v.toFixed(4)}`)
          .join(" "),
      ]),
    },
    {
      kind: "text",
      text: `recalpaca ${versions.recalpaca ?? "unknown version"}${git ? `, git commit ${git.commit.slice(0, 12)}${git.dirty ? " (with uncommitted changes)" : ""}` : ""}${versions.node ? `, Node ${versions.node}` : ""}.`,
    },
  ];
  if (run.problems.length > 0)
    blocks.push(
      { kind: "text", text: "Artefacts the report could not read (their sections are left out):" },
      { kind: "list", items: run.problems },
    );
  return { id: "run", title: "Run", blocks };
}

/** The ratings, their distribution and how they were split. */
export async function dataSection(run: RunData): Promise<Section | null> {
  const s = run.dataStats;
  const m = run.splitMeta;
  if (!s && !m) return null;
  const blocks: Block[] = [];
  if (s) {
    blocks.push(
      keyValueTable(`Dataset ${s.dataset}:`, [
        ["users", count(s.users)],
        ["items", count(s.items)],
        ["ratings", count(s.ratings)],
        ["density", percent(s.density)],
        ...(s.implicit
          ? ([["implicit interactions (no rating)", count(s.implicit)]] as Array<[string, string]>)
          : []),
        ...quantiles("ratings per user", s.perUser),
        ...quantiles("ratings per item", s.perItem),
      ]),
    );
    const rows = s.histogram.map((h) => ({
      label: h.rating === null ? "none" : String(h.rating),
      count: h.count,
    }));
    if (rows.length > 0)
      blocks.push(
        await chartBlock(
          "ratings",
          "Ratings by value",
          countBarsSpec("Ratings by value", "rating", "ratings", rows),
        ),
      );
  }
  const splitManifest = run.manifests.split;
  if (m || splitManifest) {
    const counts = splitManifest?.counts ?? {};
    const ratio = m?.testRatio ?? m?.ratio;
    blocks.push(
      keyValueTable("Split:", [
        ["strategy", m?.strategy ?? "given folder (split.dir)"],
        ...(ratio !== undefined ? ([["held-out share", percent(ratio)]] as Array<[string, string]>) : []),
        ...(m?.interactions ? ([["interactions", m.interactions]] as Array<[string, string]>) : []),
        ["seed", String(m?.seed ?? splitManifest?.seed ?? run.seed)],
        ["training interactions", count(m?.trainCount ?? counts.train)],
        ["held-out interactions", count(m?.testCount ?? counts.test)],
      ]),
    );
  }
  return { id: "data", title: "Data and split", blocks };
}

function quantiles(what: string, q: Record<string, number | null> | undefined): Array<[string, string]> {
  if (!q) return [];
  const pick = ["min", "median", "mean", "p90", "max"].filter((k) => q[k] !== undefined && q[k] !== null);
  return [[what, pick.map((k) => `${k} ${Number(q[k]).toFixed(k === "mean" ? 1 : 0)}`).join(", ")]];
}
