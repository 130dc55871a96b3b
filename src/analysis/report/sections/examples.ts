import { Rng } from "../../../core/index.js";
import { type Block, type CellValue, cell, fmt, type Mark, type Section } from "../document.js";
import type { RunData } from "../run-data.js";
import type { Detail, ExampleRecord } from "../run-files.js";

/** How many records the report shows whole. */
export const EXAMPLE_RECORDS = 3;
/** History items listed per list (the rest counted). */
const HISTORY_SHOWN = 15;
/** Characters of a text answer shown. */
const ANSWER_CHARS = 1200;

/** The record's profile sentence, as its prompt states it ("User profile: …"), if it does. */
function profileOf(r: ExampleRecord): string | null {
  const m = /user profile:\s*([^\n]+)/i.exec(r.prompt?.input ?? "");
  return m ? (m[1] as string).trim() : null;
}

function historyLine(label: string, items: ReadonlyArray<{ title: string; rating?: number }>): string {
  const shown = items
    .slice(0, HISTORY_SHOWN)
    .map((h) => (h.rating !== undefined ? `${h.title} (${h.rating})` : h.title));
  const more = items.length > HISTORY_SHOWN ? `, … and ${items.length - HISTORY_SHOWN} more` : "";
  return `${label} (${items.length}): ${shown.join(", ") || "none"}${more}`;
}

function slotMarks(s: Detail["slots"][number]): Mark[] {
  const marks: Mark[] = [];
  if (s.hit) marks.push("hit");
  if (s.top1) marks.push("top1");
  if (s.method === null) marks.push("unresolved");
  else {
    if (s.inHistory === true) marks.push("history");
    if (s.inCandidates === false) marks.push("outside");
  }
  if (s.duplicate) marks.push("duplicate");
  return marks;
}

/** One record: profile, history, candidates (truth marked), every system's picks (hits and errors marked). */
function recordBlocks(run: RunData, r: ExampleRecord, k: number): Block[] {
  const truth = new Set(r.testGT.map((g) => g.item));
  const blocks: Block[] = [{ kind: "heading", text: `Record ${r.id} (user ${r.userSourceId})` }];
  const profile = profileOf(r);
  const history = r.history ?? { liked: [], disliked: [] };
  blocks.push({
    kind: "list",
    items: [
      ...(profile ? [`Profile: ${profile}`] : []),
      historyLine("Liked in the history", history.liked),
      historyLine("Disliked in the history", history.disliked),
      `Held-out liked items (the truth, ${r.testGT.length}): ${r.testGT.map((g) => g.title).join(", ")}`,
      ...(r.top1 ? [cell(`Prompted top-1: ${r.top1.title}`, truth.has(r.top1.item) ? ["test"] : [])] : []),
    ],
  });
  blocks.push({
    kind: "table",
    caption: "Candidates in prompt order:",
    head: ["#", "candidate"],
    rows: r.candidates.map((c, i) => {
      const marks: Mark[] = [];
      if (truth.has(c.item)) marks.push("test");
      if (r.top1 && c.item === r.top1.item) marks.push("top1");
      return [String(i + 1), cell(c.title, marks)];
    }),
  });
  const bySystem = new Map(run.details.filter((d) => d.record === r.id).map((d) => [d.system, d]));
  const systems = (run.evalReport?.systems ?? []).map((s) => s.name).filter((n) => bySystem.has(n));
  if (systems.length > 0) {
    blocks.push({
      kind: "table",
      caption: `Each system's first ${k} picks:`,
      head: ["system", ...Array.from({ length: k }, (_, i) => String(i + 1)), "hits", `P@${k}`],
      rows: systems.map((name) => {
        const d = bySystem.get(name) as Detail;
        const slots: CellValue[] = Array.from({ length: k }, (_, i) => {
          const s = d.slots[i];
          return s ? cell(s.title, slotMarks(s)) : "—";
        });
        const hits = d.slots.filter((s) => s.hit).length;
        return [name, ...slots, String(hits), fmt(d.metrics?.precision, 2)];
      }),
    });
  }
  const texts = run.outputs.get(r.id) ?? {};
  const textSystems = (run.evalReport?.systems ?? []).filter(
    (s) => s.source === "field" && texts[s.name] !== undefined,
  );
  for (const s of textSystems) {
    const t = texts[s.name] as string;
    blocks.push(
      {
        kind: "text",
        text: `${s.name} answered${t.length > ANSWER_CHARS ? ` (first ${ANSWER_CHARS} of ${t.length} characters)` : ""}:`,
      },
      { kind: "code", text: t.length > ANSWER_CHARS ? `${t.slice(0, ANSWER_CHARS)}…` : t || "(no answer)" },
    );
  }
  if (r.prompt)
    blocks.push({ kind: "text", text: "The prompt's input:" }, { kind: "code", text: r.prompt.input.trim() });
  return blocks;
}

/** A few whole records (seeded choice), so a reader sees what the numbers count. */
export function examplesSection(run: RunData): Section | null {
  const records = run.testset?.records ?? [];
  if (records.length === 0) return null;
  const n = Math.min(EXAMPLE_RECORDS, records.length);
  const picked = new Rng(run.seed, "report/examples")
    .sampleIndices(records.length, n)
    .sort((a, b) => a - b)
    .map((i) => records[i] as ExampleRecord);
  const k = run.evalReport?.k ?? 5;
  return {
    id: "examples",
    title: "Example records",
    blocks: [
      {
        kind: "text",
        text: `${n} of the ${records.length} test records (a seeded choice), with every system's picks.`,
      },
      { kind: "legend" },
      ...picked.flatMap((r) => recordBlocks(run, r, k)),
    ],
  };
}
