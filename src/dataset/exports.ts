import { AtomicLineWriter, type Rng, writeJsonAtomic } from "../core/index.js";
import type { AlpacaRecord } from "./alpaca.js";

/** Write records in the seed's Alpaca JSON layout: exactly instruction, input, output, in that order. */
export function writeAlpacaJson(path: string, records: readonly AlpacaRecord[]): void {
  writeJsonAtomic(
    path,
    records.map((r) => ({ instruction: r.instruction, input: r.input, output: r.output })),
  );
}

/** One chat-format training example (OpenAI / Together fine-tuning JSONL). */
export interface ChatExample {
  messages: Array<{ role: "system" | "user" | "assistant"; content: string }>;
}

/**
 * Alpaca record → chat messages: the instruction and input become the user turn (separated by a blank
 * line, as the Alpaca template separates them), the output the assistant turn.
 */
export function toChatExample(r: AlpacaRecord, system?: string): ChatExample {
  const user = r.input.trim() ? `${r.instruction}\n\n${r.input}` : r.instruction;
  return {
    messages: [
      ...(system ? [{ role: "system" as const, content: system }] : []),
      { role: "user", content: user },
      { role: "assistant", content: r.output },
    ],
  };
}

export async function writeChatJsonl(
  path: string,
  records: readonly AlpacaRecord[],
  system?: string,
): Promise<void> {
  const w = new AtomicLineWriter(path);
  try {
    for (const r of records) await w.writeLine(JSON.stringify(toChatExample(r, system)));
    await w.commit();
  } catch (err) {
    await w.abort();
    throw err;
  }
}

/**
 * Split records into train and validation with disjoint users: a seeded share of the distinct users
 * (at least one when there are two or more) goes to validation with all their records.
 */
export function splitByUser<T>(
  records: readonly T[],
  userOf: (r: T) => string,
  validationShare: number,
  rng: Rng,
): { train: T[]; validation: T[] } {
  if (!(validationShare >= 0 && validationShare < 1))
    throw new RangeError(`validation share must be in [0, 1), got ${validationShare}`);
  const users = [...new Set(records.map(userOf))].sort();
  const nVal =
    users.length < 2 || validationShare === 0 ? 0 : Math.max(1, Math.round(users.length * validationShare));
  const valUsers = new Set(rng.sampleIndices(users.length, nVal).map((i) => users[i]));
  const train: T[] = [];
  const validation: T[] = [];
  for (const r of records) (valUsers.has(userOf(r)) ? validation : train).push(r);
  return { train, validation };
}
