import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Catalog } from "../../../src/data/index.js";
import type { EvalRecord, TestSet } from "../../../src/eval/index.js";

/**
 * The answer corpus (README in this folder): hand-written answers in many styles, each with the
 * items it intends to pick, in rank order, against a real candidate list (a fixture record's, or one
 * of contexts.json's lists of ML-100k items).
 */

export interface CorpusEntry {
  id: string;
  /** File name without extension. */
  style: string;
  record: EvalRecord;
  text: string;
  /** Intended picks in rank order: the items each pick names (a shared title has several). */
  intended: number[][];
}

interface Context {
  candidates: number[];
  history: number[];
}

const DIR = import.meta.dirname;
const HEADER = /^%%% (\S+) \| (fixture \d+|custom \w+) \| (.+)$/;

function customRecord(name: string, ctx: Context, catalog: Catalog): EvalRecord {
  const ref = (sourceId: number) => {
    const id = catalog.itemId(sourceId);
    if (id === undefined) throw new Error(`contexts.json ${name}: no ML-100k item ${sourceId}`);
    return { title: catalog.items[id].title, items: [id] };
  };
  return {
    id: `custom-${name}`,
    index: -1,
    userSourceId: null,
    testGT: [],
    candidates: ctx.candidates.map(ref),
    top1: null,
    history: ctx.history.map(ref),
    outputs: {},
  };
}

/** Read every style file; `fixture` is the 40-record sample read with the ML-100k catalogue. */
export function loadCorpus(catalog: Catalog, fixture: TestSet): CorpusEntry[] {
  const contexts = JSON.parse(readFileSync(join(DIR, "contexts.json"), "utf8")) as Record<string, Context>;
  const custom = new Map(
    Object.entries(contexts).map(([name, ctx]) => [name, customRecord(name, ctx, catalog)]),
  );
  const entries: CorpusEntry[] = [];
  const ids = new Set<string>();
  for (const file of readdirSync(DIR)
    .filter((f) => f.endsWith(".txt"))
    .sort()) {
    const style = basename(file, ".txt");
    const lines = readFileSync(join(DIR, file), "utf8").split("\n");
    let current: { id: string; record: EvalRecord; intended: number[][]; body: string[] } | null = null;
    const flush = () => {
      if (!current) return;
      const text = current.body.join("\n").replace(/\n+$/, "");
      entries.push({ id: current.id, style, record: current.record, text, intended: current.intended });
    };
    lines.forEach((line, n) => {
      if (!line.startsWith("%%% ")) {
        if (!current && line.trim() !== "") throw new Error(`${file}:${n + 1}: text before the first header`);
        current?.body.push(line);
        return;
      }
      flush();
      const m = HEADER.exec(line);
      if (!m) throw new Error(`${file}:${n + 1}: bad header "${line}"`);
      const [, id, where, picks] = m;
      if (ids.has(id)) throw new Error(`${file}:${n + 1}: id ${id} used twice`);
      ids.add(id);
      const [kind, arg] = where.split(" ");
      const record = kind === "fixture" ? fixture.records[Number(arg)] : custom.get(arg);
      if (!record) throw new Error(`${file}:${n + 1}: no ${where}`);
      const intended =
        picks.trim() === "none"
          ? []
          : picks
              .trim()
              .split(/\s+/)
              .map((p) => {
                const c = /^c(\d+)$/.exec(p);
                if (c) {
                  const ref = record.candidates?.[Number(c[1]) - 1];
                  if (!ref || ref.items.length === 0)
                    throw new Error(`${file}:${n + 1}: ${where} has no mapped candidate ${p}`);
                  return ref.items;
                }
                const s = /^#(\d+)$/.exec(p);
                const id = s ? catalog.itemId(Number(s[1])) : undefined;
                if (id === undefined) throw new Error(`${file}:${n + 1}: bad pick "${p}"`);
                return [id];
              });
      current = { id, record, intended, body: [] };
    });
    flush();
  }
  return entries;
}

export interface CorpusScore {
  intended: number;
  /** Intended picks read at their rank (the read slot names one of the pick's items). */
  correct: number;
  /** Read slots holding an item when the answer intends no pick at that rank (junk read as picks). */
  extra: number;
  byStyle: Map<string, { intended: number; correct: number; answers: number }>;
  /** Answers with at least one pick misread: id → [intended, read] item lists. */
  misses: Array<{ id: string; intended: number[][]; read: number[][] }>;
}

/** Score a reader: `read` returns the items of each slot, in answer order. */
export function scoreCorpus(
  entries: readonly CorpusEntry[],
  read: (e: CorpusEntry) => number[][],
): CorpusScore {
  const out: CorpusScore = { intended: 0, correct: 0, extra: 0, byStyle: new Map(), misses: [] };
  for (const e of entries) {
    const got = read(e);
    let ok = 0;
    e.intended.forEach((items, i) => {
      if ((got[i] ?? []).some((x) => items.includes(x))) ok++;
    });
    for (let i = e.intended.length; i < got.length; i++)
      if (got[i].length > 0 && e.intended.length === 0) out.extra++;
    out.intended += e.intended.length;
    out.correct += ok;
    const s = out.byStyle.get(e.style) ?? { intended: 0, correct: 0, answers: 0 };
    s.intended += e.intended.length;
    s.correct += ok;
    s.answers++;
    out.byStyle.set(e.style, s);
    if (ok < e.intended.length) out.misses.push({ id: e.id, intended: e.intended, read: got });
  }
  return out;
}
