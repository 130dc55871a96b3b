import { AtomicLineWriter, DataFormatError, readInputText } from "../core/index.js";
import type { SourceId } from "../data/index.js";

/**
 * One line of the provenance sidecar (`provenance.jsonl`), in the order of the records in the Alpaca
 * files. Item and user ids are the catalogue's dense ids (as in split files and candidate files), with
 * the user's source id beside them.
 */
export interface ProvenanceRecord {
  id: string;
  dataset: string;
  subset: string;
  user: number;
  userSourceId: SourceId;
  sample: number;
  template: string;
  /** "offline-knowledge" or the LLM ("llama-cpp:stories260K", "openai-compatible:gpt-4o-mini"). */
  teacher: string;
  /** Recommender that produced the candidates (e.g. "itemknn"). */
  recommender: string;
  /** The candidates, best first by the recommender; `candidatesShown` says whether the prompt lists them. */
  candidates: number[];
  candidatesShown: boolean;
  picked: number[];
  /** Shown history. */
  liked: number[];
  disliked: number[];
  validation: { valid: boolean; attempts: number; problems: string[] };
  /** Compat flags that touched the record ("teacher-saw-held-out"); empty when clean. */
  leaks: string[];
  /** "train" or "validation" (users are disjoint between the two). */
  split: "train" | "validation";
}

export async function writeProvenanceJsonl(
  path: string,
  records: readonly ProvenanceRecord[],
): Promise<void> {
  const w = new AtomicLineWriter(path);
  try {
    for (const r of records) await w.writeLine(JSON.stringify(r));
    await w.commit();
  } catch (err) {
    await w.abort();
    throw err;
  }
}

/** Read a provenance sidecar; every line must be a JSON object with at least `subset`. */
export function readProvenanceJsonl(path: string): ProvenanceRecord[] {
  const out: ProvenanceRecord[] = [];
  readInputText(path, "provenance file")
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (err) {
        throw new DataFormatError({ file: path, line: i + 1 }, `not valid JSON (${(err as Error).message})`);
      }
      if (v === null || typeof v !== "object" || typeof (v as { subset?: unknown }).subset !== "string")
        throw new DataFormatError(
          { file: path, line: i + 1, field: "subset" },
          "expected a provenance object with a string subset",
        );
      out.push(v as ProvenanceRecord);
    });
  return out;
}
