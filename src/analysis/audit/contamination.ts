import type { Catalog } from "../../data/index.js";
import { squash } from "./checks-lists.js";
import { distinct, mentionCounts } from "./checks-prompt.js";
import type { MentionIndex } from "./mentions.js";
import type {
  AuditTestSet,
  InstructionData,
  InstructionDataFormat,
  RecordRef,
  TrainingRecord,
} from "./types.js";

/**
 * Contamination between instruction (training) data and a test set.
 *
 * Training records are linked to test users:
 * - `user-id`: the record's user (provenance sidecar) is the test record's user, in the same dataset;
 * - `prompt`: the record shares its prompt with the test record (see below);
 * - `history`, only when no user ids are available: every title the training prompt names (at least
 *   `HISTORY_LINK_MIN`; mention search, mentions.ts) is shown by the test record's prompt (its history
 *   or candidates), and by no other test record's (records with the same shown history, one user's
 *   duplicates, may tie). One user's prompts built from one rating history contain each other; but
 *   titles alone identify MovieLens users weakly: on ML-100k, recalpaca's 300-record dataset against
 *   its 200-user test set, another (heavy) user's test prompt showed up to 96% of a training prompt's
 *   titles. So a history link is a probable link, and what it finds is a warning, not a leak.
 *
 * Leaks: a training record linked by user id or prompt whose answer names one of the test user's
 * held-out (truth) items (named in its text, or listed as picked by the provenance sidecar), and a
 * training prompt that is a test prompt (the same text, whitespace aside) or contains a test record's
 * input verbatim (inputs of at least `MIN_SHARED_INPUT` characters); and records whose provenance
 * declares a leak (built with the compat `--seed-leak`: the teacher saw the held-out items, whether or
 * not its answer used them). Training records for test users are reported, not flagged:
 * training and test sharing users is the usual setting of recommendation (the split holds out
 * interactions, not users); what must not be shared is the held-out items and the test prompts.
 */

export const HISTORY_LINK_MIN = 10;
export const MIN_SHARED_INPUT = 40;

export type LinkMethod = "user-id" | "prompt" | "history";

export interface ContaminationSection {
  dataset: { path: string; format: InstructionDataFormat; records: number; withUserIds: number };
  /** Training records linked to a test user, by method, and those linked to none. */
  linked: Record<LinkMethod, number>;
  unlinked: number;
  /** Test records whose user has training records, with those records. */
  testUsers: Array<{ record: RecordRef; by: LinkMethod; training: RecordRef[] }>;
  answersNamingHeldOut: Array<{
    training: RecordRef;
    record: RecordRef;
    by: LinkMethod;
    titles: string[];
    via: Array<"text" | "picked">;
  }>;
  sharedPrompts: Array<{
    training: RecordRef;
    record: RecordRef;
    how: "same prompt" | "contains the test input";
  }>;
  /** Training records whose provenance declares a leak (`--seed-leak`: "teacher-saw-held-out"). */
  declared: Array<{ training: RecordRef; flags: string[] }>;
}

export function checkContamination(
  ts: AuditTestSet,
  data: InstructionData,
  index: MentionIndex<string>,
  catalog: Catalog | null,
): ContaminationSection {
  const recs = ts.records;
  const byUser = new Map<string, number[]>();
  recs.forEach((r, i) => {
    if (r.user === null) return;
    const l = byUser.get(r.user) ?? [];
    l.push(i);
    byUser.set(r.user, l);
  });
  const byPrompt = new Map<string, number[]>();
  recs.forEach((r, i) => {
    if (r.prompt === null) return;
    const k = squash(r.prompt);
    byPrompt.set(k, [...(byPrompt.get(k) ?? []), i]);
  });
  const inputs = recs.map((r) =>
    [...new Set(r.inputs.map(squash))].filter((s) => s.length >= MIN_SHARED_INPUT),
  );
  // Inverted index for history links: item identity → test records whose prompt shows it.
  const shownBy = new Map<string, number[]>();
  recs.forEach((r, i) => {
    const shown = new Set([...(r.history ?? []), ...(r.candidates ?? [])].map((x) => x.key));
    for (const k of shown) shownBy.set(k, [...(shownBy.get(k) ?? []), i]);
  });
  const historyKey = recs.map((r) => [...new Set((r.history ?? []).map((x) => x.key))].sort().join("\u0000"));
  const truthKeys = recs.map((r) => new Map(distinct(r.truth).map((t) => [t.key, t.title])));

  const out: ContaminationSection = {
    dataset: {
      path: data.path,
      format: data.format,
      records: data.records.length,
      withUserIds: data.records.filter((t) => t.user !== null).length,
    },
    linked: { "user-id": 0, prompt: 0, history: 0 },
    unlinked: 0,
    testUsers: [],
    answersNamingHeldOut: [],
    sharedPrompts: [],
    declared: data.records
      .filter((t) => t.declaredLeaks.length > 0)
      .map((t) => ({ training: t.ref, flags: t.declaredLeaks })),
  };
  const perTest = new Map<number, { by: LinkMethod; training: RecordRef[] }>();
  const sameDataset = (t: TrainingRecord) =>
    t.dataset === null || ts.dataset === null || t.dataset === ts.dataset;

  for (const t of data.records) {
    const tp = squash(t.prompt);
    const shared: Array<{ i: number; how: "same prompt" | "contains the test input" }> = [];
    for (const i of byPrompt.get(tp) ?? []) shared.push({ i, how: "same prompt" });
    inputs.forEach((forms, i) => {
      if (!shared.some((s) => s.i === i) && forms.some((f) => tp.includes(f)))
        shared.push({ i, how: "contains the test input" });
    });
    for (const s of shared) out.sharedPrompts.push({ training: t.ref, record: recs[s.i].ref, how: s.how });

    let by: LinkMethod | null = null;
    let linked: number[] = [];
    if (t.user !== null && byUser.size > 0) {
      if (sameDataset(t)) linked = byUser.get(t.user) ?? [];
      by = "user-id";
    } else if (shared.length > 0) {
      linked = shared.map((s) => s.i);
      by = "prompt";
    } else if (t.user === null || byUser.size === 0) {
      linked = historyLinks(index, t.prompt, shownBy, historyKey);
      by = "history";
    }
    if (linked.length === 0 || by === null) {
      out.unlinked++;
      continue;
    }
    out.linked[by]++;
    const named = mentionCounts(index, t.answer);
    const picked = new Set(
      catalog && t.picked && t.dataset === catalog.dataset
        ? t.picked.filter((id) => id >= 0 && id < catalog.nItems).map((id) => catalog.items[id].key)
        : [],
    );
    for (const i of linked) {
      const entry = perTest.get(i) ?? { by, training: [] };
      entry.training.push(t.ref);
      perTest.set(i, entry);
      const titles: string[] = [];
      const via = new Set<"text" | "picked">();
      for (const [key, title] of truthKeys[i]) {
        const inText = named.has(key);
        const inPicked = picked.has(key);
        if (!inText && !inPicked) continue;
        titles.push(title);
        if (inText) via.add("text");
        if (inPicked) via.add("picked");
      }
      if (titles.length > 0)
        out.answersNamingHeldOut.push({ training: t.ref, record: recs[i].ref, by, titles, via: [...via] });
    }
  }
  out.testUsers = [...perTest]
    .sort((a, b) => a[0] - b[0])
    .map(([i, e]) => ({ record: recs[i].ref, by: e.by, training: e.training }));
  return out;
}

/** The test records whose prompts show every title the training prompt names (see the module comment). */
function historyLinks(
  index: MentionIndex<string>,
  prompt: string,
  shownBy: Map<string, number[]>,
  historyKey: readonly string[],
): number[] {
  const named = new Set<string>();
  for (const m of index.find(prompt)) for (const id of m.ids) named.add(id);
  if (named.size < HISTORY_LINK_MIN) return [];
  const overlap = new Map<number, number>();
  for (const k of named) for (const i of shownBy.get(k) ?? []) overlap.set(i, (overlap.get(i) ?? 0) + 1);
  const full = [...overlap].filter(([, v]) => v === named.size).map(([i]) => i);
  return full.length > 0 && full.every((i) => historyKey[i] === historyKey[full[0]]) ? full : [];
}
