import { readFileSync } from "node:fs";
import { DataFormatError, MissingResourceError } from "../core/index.js";

/**
 * Read ranked candidate lists per dense user from a JSONL file as `recalpaca recsys candidates` writes
 * it (`{"user": 0, "candidates": [{"item": 173, …}, …], …}`, best first). Any recommender's lists work.
 */
export function readCandidateLists(path: string): Map<number, number[]> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new MissingResourceError(`candidates file ${path} cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const out = new Map<number, number[]>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const at = { file: path, line: i + 1 };
    let v: { user?: unknown; candidates?: unknown };
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new DataFormatError(at, `not valid JSON (${(err as Error).message})`);
    }
    if (!Number.isInteger(v.user) || (v.user as number) < 0)
      throw new DataFormatError({ ...at, field: "user" }, "expected a dense user id (integer ≥ 0)");
    if (!Array.isArray(v.candidates))
      throw new DataFormatError({ ...at, field: "candidates" }, 'expected an array of {"item": id}');
    const items = v.candidates.map((c: unknown, j: number) => {
      const item = (c as { item?: unknown } | null)?.item;
      if (!Number.isInteger(item) || (item as number) < 0)
        throw new DataFormatError(
          { ...at, field: `candidates.${j}.item` },
          "expected a dense item id (integer ≥ 0)",
        );
      return item as number;
    });
    if (out.has(v.user as number))
      throw new DataFormatError({ ...at, field: "user" }, `user ${v.user} appears twice`);
    out.set(v.user as number, items);
  });
  return out;
}
