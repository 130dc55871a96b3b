import { z } from "zod";
import { formatZodError } from "../config/index.js";
import { DataFormatError, readInputText, writeJsonAtomic } from "../core/index.js";
import type { InstructionPool } from "./pool.js";

const poolSchema = z
  .object({
    format: z.literal("recalpaca-instruction-pool"),
    version: z.literal(1),
    domain: z.enum(["movies", "books", "anime"]),
    entries: z.array(
      z.object({
        id: z.number().int().nonnegative(),
        text: z.string().min(1),
        round: z.number().int().nonnegative(),
        source: z.enum(["seed", "generated"]),
        model: z.string().optional(),
        parents: z.array(z.number().int()).optional(),
      }),
    ),
    rejected: z.array(
      z.object({
        round: z.number().int(),
        text: z.string(),
        reason: z.enum([
          "empty",
          "too-short",
          "too-long",
          "run-on",
          "off-domain",
          "too-similar",
          "bad-start",
        ]),
        detail: z.string().optional(),
      }),
    ),
  })
  .strict();

export function readPoolFile(path: string): InstructionPool {
  let raw: unknown;
  const text = readInputText(path, "instruction pool");
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DataFormatError({ file: path }, `not a JSON instruction pool (${(err as Error).message})`);
  }
  const parsed = poolSchema.safeParse(raw);
  if (!parsed.success) throw new DataFormatError({ file: path }, formatZodError(parsed.error));
  // Entries are referred to by id (`parents`), so an id may name one entry only.
  const seen = new Set<number>();
  parsed.data.entries.forEach((e, i) => {
    if (seen.has(e.id))
      throw new DataFormatError(
        { file: path, field: `entries[${i}].id` },
        `id ${e.id} is used by an earlier entry (expected unique entry ids)`,
      );
    seen.add(e.id);
  });
  return parsed.data;
}

export function writePoolFile(path: string, pool: InstructionPool): void {
  writeJsonAtomic(path, pool);
}
