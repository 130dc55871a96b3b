import type {
  CeilingSection,
  DuplicatesSection,
  HistoryInCandidatesSection,
  PositionsSection,
} from "./checks-lists.js";
import type { Top1Section, TruthInHistorySection, TruthInPromptSection } from "./checks-prompt.js";
import type { ContaminationSection } from "./contamination.js";
import type { AuditTestSet, Finding, RecordRef } from "./types.js";

/** The checks' sections of a report, from which the findings are summarised. */
export interface AuditSections {
  top1: Top1Section;
  truthInHistory: TruthInHistorySection;
  truthInPrompt: TruthInPromptSection;
  positions: PositionsSection;
  historyInCandidates: HistoryInCandidatesSection;
  ceiling: CeilingSection;
  duplicates: DuplicatesSection;
  /** Only with instruction data. */
  contamination: ContaminationSection | null;
}

const ids = (refs: readonly RecordRef[]) => refs.map((r) => r.id);
const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
const p = (x: number) => (x < 1e-4 ? x.toExponential(1) : x.toPrecision(2));

/** The report's summary rows: one finding per problem found, with its severity and records. */
export function findingsOf(ts: AuditTestSet, s: AuditSections): Finding[] {
  const out: Finding[] = [];
  const n = ts.records.length;
  const t = s.top1;
  if (t.withTop1 > 0 && (t.leak || t.truthTop1 > 0)) {
    const why = [
      ...(t.declared ? ["the file declares its top-1 was taken from the test answers"] : []),
      t.byRate
        ? `rate ${fmt(t.rate, 2)} ≥ ${t.threshold}; p = ${p(t.againstHalf?.pValue ?? 1)} against a first pick right half of the time`
        : `rate ${fmt(t.rate, 2)}${t.declared ? "" : ": the recommender's own hits, not a leak"}`,
    ].join("; ");
    out.push({
      check: "top1",
      severity: t.leak ? "leak" : "info",
      count: t.truthTop1,
      summary: `the prompted top-1 is a truth item in ${t.truthTop1} of ${t.withTop1} records (${why})`,
      records: t.records.map((x) => x.record.id),
    });
  }
  if (s.truthInHistory.records > 0)
    out.push({
      check: "truthInHistory",
      severity: "leak",
      count: s.truthInHistory.records,
      summary: `${s.truthInHistory.items} truth items appear in the prompt's own history, in ${s.truthInHistory.records} of ${s.truthInHistory.checked} records`,
      records: s.truthInHistory.list.map((x) => x.record.id),
    });
  if (s.truthInPrompt.records > 0)
    out.push({
      check: "truthInPrompt",
      severity: "leak",
      count: s.truthInPrompt.records,
      summary: `${s.truthInPrompt.items} truth items are named in the prompt text beyond its lists (hints), in ${s.truthInPrompt.records} of ${s.truthInPrompt.checked} records`,
      records: s.truthInPrompt.list.map((x) => x.record.id),
    });
  for (const g of s.positions.groups)
    for (const f of g.flagged)
      out.push({
        check: "positions",
        severity: "warning",
        count: f.count,
        summary: `position ${f.position} of ${g.length} holds a truth item ${f.count} times, ${fmt(f.expected, 1)} expected by chance (exact binomial p = ${p(f.pValue)}, ×${g.length} positions = ${p(f.adjusted)})`,
        records: ids(f.records),
      });
  if (s.historyInCandidates.records > 0)
    out.push({
      check: "historyInCandidates",
      severity: "warning",
      count: s.historyInCandidates.records,
      summary: `${s.historyInCandidates.records} of ${s.historyInCandidates.checked} candidate lists contain ${s.historyInCandidates.items} items from the user's own history`,
      records: s.historyInCandidates.list.map((x) => x.record.id),
    });
  const c = s.ceiling;
  if (c.records > 0) {
    const k = Object.keys(c.maxPrecision);
    out.push({
      check: "ceiling",
      severity: "info",
      count: c.noTruthInCandidates.length,
      summary: `${c.outside} of ${c.truths} truth items are not in their candidate list (${c.noTruthInCandidates.length} records have none in it): no re-ranker exceeds ${k.map((x) => `P@${x} ${fmt(c.maxPrecision[x])}`).join(", ")}; ${k.map((x) => `Recall@${x} ${fmt(c.maxRecall[x])}`).join(", ")}`,
      records: ids(c.noTruthInCandidates),
    });
  }
  const d = s.duplicates;
  if (d.users.length > 0) {
    const recs = d.users.flatMap((g) => g.records);
    out.push({
      check: "duplicateUsers",
      severity: "warning",
      count: recs.length,
      summary: `${d.users.length} user${d.users.length === 1 ? " has" : "s have"} more than one record (${recs.length} records; ${d.users[0].by === "user-id" ? "same user id" : "same shown history"})`,
      records: ids(recs),
    });
  }
  for (const [check, groups, what] of [
    ["duplicatePrompts", d.prompts, "share their prompt text"],
    ["duplicateRecords", d.records, "are identical (prompt, truth and candidates)"],
  ] as const) {
    if (groups.length === 0) continue;
    const recs = groups.flat();
    out.push({
      check,
      severity: "warning",
      count: recs.length,
      summary: `${recs.length} records in ${groups.length} groups ${what}`,
      records: ids(recs),
    });
  }
  if (d.emptyTruth.length > 0)
    out.push({
      check: "emptyTruth",
      severity: "warning",
      count: d.emptyTruth.length,
      summary: `${d.emptyTruth.length} of ${n} records have no truth item (every metric is 0 or undefined there)`,
      records: ids(d.emptyTruth),
    });
  const k = s.contamination;
  if (k) {
    const recordsOf = (l: ReadonlyArray<{ record: RecordRef }>) => [...new Set(l.map((x) => x.record.id))];
    const sure = k.answersNamingHeldOut.filter((x) => x.by !== "history");
    const probable = k.answersNamingHeldOut.filter((x) => x.by === "history");
    if (sure.length > 0)
      out.push({
        check: "answersNamingHeldOut",
        severity: "leak",
        count: sure.length,
        summary: `${sure.length} training answers name a test user's held-out items (${recordsOf(sure).length} test records; linked by ${[...new Set(sure.map((x) => x.by))].join(", ")})`,
        records: recordsOf(sure),
      });
    if (probable.length > 0)
      out.push({
        check: "answersNamingHeldOutProbable",
        severity: "warning",
        count: probable.length,
        summary: `${probable.length} training answers name held-out items of the test user whose history their prompt shows (${recordsOf(probable).length} test records; a probable link: the data names no users)`,
        records: recordsOf(probable),
      });
    if (k.sharedPrompts.length > 0)
      out.push({
        check: "sharedPrompts",
        severity: "leak",
        count: k.sharedPrompts.length,
        summary: `${k.sharedPrompts.length} training prompts repeat a test prompt verbatim (${recordsOf(k.sharedPrompts).length} test records)`,
        records: recordsOf(k.sharedPrompts),
      });
    if (k.declared.length > 0) {
      const flags = [...new Set(k.declared.flatMap((x) => x.flags))].join(", ");
      out.push({
        check: "declaredTrainingLeaks",
        severity: "leak",
        count: k.declared.length,
        summary: `${k.declared.length} training records are flagged by their own provenance (${flags})`,
        records: k.declared.map((x) => x.training.id),
      });
    }
    if (k.testUsers.length > 0) {
      const linked = k.linked["user-id"] + k.linked.prompt + k.linked.history;
      out.push({
        check: "trainingRecordsForTestUsers",
        severity: "info",
        count: k.testUsers.length,
        summary: `${linked} of ${k.dataset.records} training records belong to ${k.testUsers.length} test records' users (linked by ${Object.entries(
          k.linked,
        )
          .filter(([, v]) => v > 0)
          .map(([m, v]) => `${m}: ${v}`)
          .join(", ")}); shared users are normal, shared held-out items are not`,
        records: recordsOf(k.testUsers),
      });
    }
  }
  return out;
}
