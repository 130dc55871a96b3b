import type { AuditReport } from "./audit.js";
import type { RecordRef } from "./types.js";

/**
 * The audit report as Markdown: the verdict, one table row per finding, then each check with its
 * counts and up to `examples` named records (record id and the line it starts on). `recalpaca audit`
 * prints it; the pipeline appends it to `results.md`.
 */

const ref = (r: RecordRef) => (r.line !== null ? `${r.id} (line ${r.line})` : r.id);

function examples<T>(list: readonly T[], n: number, show: (x: T) => string): string {
  if (list.length === 0) return "none";
  const shown = list.slice(0, n).map(show).join("; ");
  return list.length > n ? `${shown}; … and ${list.length - n} more` : shown;
}

const quote = (titles: readonly string[]) => titles.map((t) => `"${t}"`).join(", ");
const num = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");

export function auditMarkdown(
  report: AuditReport,
  opts: { examples?: number; heading?: string } = {},
): string {
  const n = opts.examples ?? 5;
  const ts = report.testSet;
  const lines: string[] = [];
  lines.push(`${opts.heading ?? "##"} Audit of ${ts.path}`);
  lines.push("");
  const titles = ts.catalog
    ? `titles matched with the ${ts.catalog} catalogue`
    : "titles compared by their comparison key (no catalogue)";
  lines.push(`${ts.format}, ${ts.records} records; ${titles}.`);
  lines.push("");
  lines.push(
    report.verdict === "leak"
      ? `**LEAK**: ${report.leaks} leak finding(s), ${report.warnings} warning(s).`
      : `**No leak found**; ${report.warnings} warning(s).`,
  );
  lines.push("");
  if (report.findings.length > 0) {
    lines.push("| severity | check | records | finding |", "|---|---|---|---|");
    for (const f of report.findings)
      lines.push(`| ${f.severity} | ${f.check} | ${f.count} | ${f.summary.replace(/\|/g, "\\|")} |`);
    lines.push("");
  }
  const t = report.top1;
  const bullets: string[] = [];
  if (t.withTop1 > 0) {
    bullets.push(
      `top-1 is a truth item: ${t.truthTop1} of ${t.withTop1} records (rate ${num(t.rate)}; ${t.outsideCandidates} top-1s are not in their own candidate list${
        t.chance ? `; a random candidate is a truth item at rate ${num(t.chance.rate)}` : ""
      }): ${examples(t.records, n, (x) => `${ref(x.record)} "${x.top1}"`)}`,
    );
  } else bullets.push("top-1: the prompts name none");
  bullets.push(
    `truth in the prompt's history: ${report.truthInHistory.records} of ${report.truthInHistory.checked} records: ${examples(
      report.truthInHistory.list,
      n,
      (x) => `${ref(x.record)} ${quote(x.titles)}`,
    )}`,
  );
  bullets.push(
    `truth named in the prompt text beyond its lists: ${report.truthInPrompt.records} of ${report.truthInPrompt.checked} records: ${examples(
      report.truthInPrompt.list,
      n,
      (x) =>
        `${ref(x.record)} ${x.mentions.map((m) => `"${m.title}" named ${m.named}× (lists account for ${m.listed})`).join(", ")}`,
    )}`,
  );
  for (const g of report.positions.groups) {
    const flagged = g.flagged.map(
      (f) => `position ${f.position}: ${f.count} (p×n = ${f.adjusted.toPrecision(2)})`,
    );
    bullets.push(
      `truth positions in lists of ${g.length} (${g.records} records, ${g.truths} truth entries, ${num(g.expected, 1)} expected per position): ${g.counts.join(" ")}${
        flagged.length > 0 ? `; above chance: ${flagged.join(", ")}` : "; no position above chance"
      }`,
    );
  }
  const h = report.historyInCandidates;
  bullets.push(
    `candidates from the user's own history: ${h.records} of ${h.checked} lists (${h.items} items): ${examples(
      h.list,
      n,
      (x) => `${ref(x.record)} ${quote(x.titles)}`,
    )}`,
  );
  const c = report.ceiling;
  if (c.records > 0) {
    const ks = Object.keys(c.maxPrecision);
    bullets.push(
      `truth outside the candidate list: ${c.outside} of ${c.truths} (${c.inCandidates} inside); max ${ks
        .map((k) => `P@${k} ${num(c.maxPrecision[k])} / Recall@${k} ${num(c.maxRecall[k])}`)
        .join(", ")}; records with no truth in their list: ${examples(c.noTruthInCandidates, n, ref)}`,
    );
  } else bullets.push("candidate lists: none in the file (no re-ranking ceiling)");
  const d = report.duplicates;
  bullets.push(
    `duplicated users: ${examples(d.users, n, (g) => `${g.user}: ${g.records.map((r) => r.id).join(", ")}`)}`,
    `duplicated prompts: ${examples(d.prompts, n, (g) => g.map((r) => r.id).join(" = "))}`,
    `identical records: ${examples(d.records, n, (g) => g.map((r) => r.id).join(" = "))}`,
    `records without truth: ${examples(d.emptyTruth, n, ref)}`,
  );
  const k = report.contamination;
  if (k) {
    const linked = Object.entries(k.linked)
      .map(([m, v]) => `${m} ${v}`)
      .join(", ");
    bullets.push(
      `instruction data ${k.dataset.path} (${k.dataset.format}, ${k.dataset.records} records, ${k.dataset.withUserIds} with user ids): linked to test users by ${linked}; unlinked ${k.unlinked}`,
      `training answers naming a test user's held-out items: ${k.answersNamingHeldOut.length}: ${examples(
        k.answersNamingHeldOut,
        n,
        (x) =>
          `training ${ref(x.training)} → test ${x.record.id} ${quote(x.titles)} (${x.via.join("+")}, linked by ${x.by})`,
      )}`,
      `training prompts repeating a test prompt: ${k.sharedPrompts.length}: ${examples(
        k.sharedPrompts,
        n,
        (x) => `training ${ref(x.training)} → test ${x.record.id} (${x.how})`,
      )}`,
      `training records whose provenance declares a leak: ${k.declared.length}: ${examples(
        k.declared,
        n,
        (x) => `${ref(x.training)} (${x.flags.join(", ")})`,
      )}`,
      `test records whose user has training records: ${k.testUsers.length}: ${examples(
        k.testUsers,
        n,
        (x) => `${x.record.id} (${x.training.length} records)`,
      )}`,
    );
  }
  lines.push(...bullets.map((b) => `- ${b}`));
  return lines.join("\n");
}
