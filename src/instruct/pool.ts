import { type Rng, throwIfInterrupted } from "../core/index.js";
import { rougeLTokens, rougeTokens } from "./rouge.js";
import { DOMAIN_WORDS, type InstructionDomain, SEED_INSTRUCTIONS } from "./seed-instructions.js";

/** One pool entry with where it came from. */
export interface PoolEntry {
  id: number;
  text: string;
  /** 0 for hand-written seeds, else the growth round that added it. */
  round: number;
  source: "seed" | "generated";
  /** Model that proposed it (generated entries). */
  model?: string;
  /** Ids of the pool entries shown in the few-shot prompt that produced it. */
  parents?: number[];
}

export interface InstructionPool {
  format: "recalpaca-instruction-pool";
  version: 1;
  domain: InstructionDomain;
  entries: PoolEntry[];
  /** Proposals that were rejected, with the rule that rejected them (kept for auditing). */
  rejected: Array<{ round: number; text: string; reason: RejectReason; detail?: string }>;
}

export type RejectReason =
  | "empty"
  | "too-short"
  | "too-long"
  | "run-on"
  | "off-domain"
  | "too-similar"
  | "bad-start";

/** Self-Instruct's filters (Wang et al., 2023), with our domain check added. */
export interface FilterOptions {
  /** Keep a proposal only if its ROUGE-L F1 against every pool entry is ≤ this. */
  maxRougeL: number;
  /** Fewer words than this is too short (Self-Instruct: ≤ 3 words rejected). */
  minWords: number;
  /** More words than this is too long (Self-Instruct: > 150). */
  maxWords: number;
}

export const DEFAULT_FILTER: FilterOptions = { maxRougeL: 0.7, minWords: 4, maxWords: 150 };

export function seedPool(domain: InstructionDomain): InstructionPool {
  return {
    format: "recalpaca-instruction-pool",
    version: 1,
    domain,
    entries: SEED_INSTRUCTIONS[domain].map((text, id) => ({ id, text, round: 0, source: "seed" as const })),
    rejected: [],
  };
}

/** The 6-shot prompt of the seed's pool growth: `Instruction-1 -> …` … `Instruction-7 -> `. */
export function fewShotPrompt(examples: readonly string[]): string {
  const lines = examples.map((t, i) => `Instruction-${i + 1} -> ${t}`);
  return `${lines.join("\n")}\nInstruction-${examples.length + 1} -> `;
}

/**
 * Cut a model reply down to the single instruction it proposes: the first line, with any
 * `Instruction-N ->` label removed. Returns the text and whether the reply went on with more
 * instructions (a run-on).
 */
export function extractProposal(reply: string): { text: string; runOn: boolean } {
  const cleaned = reply.replace(/<\/s>/g, "").replace(/^\s*Instruction-\d+\s*->\s*/i, "");
  const lines = cleaned.split(/\r?\n/).map((l) => l.trim());
  const first = lines.find((l) => l.length > 0) ?? "";
  const rest = lines.slice(lines.indexOf(first) + 1).join("\n");
  const inlineMore = /Instruction-\d+\s*->/i.test(first);
  const text = first.split(/\s*Instruction-\d+\s*->/i)[0].trim();
  const runOn = inlineMore || /Instruction-\d+\s*->/i.test(rest) || /^\s*\d+[.)]\s/m.test(rest);
  return { text, runOn };
}

/** Apply the filters to one proposal against the current pool; null = keep. */
export function rejectReason(
  text: string,
  runOn: boolean,
  pool: InstructionPool,
  opts: FilterOptions = DEFAULT_FILTER,
  poolTokens: string[][] = pool.entries.map((e) => rougeTokens(e.text)),
): { reason: RejectReason; detail?: string } | null {
  if (text.length === 0) return { reason: "empty" };
  if (runOn) return { reason: "run-on" };
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  if (words.length < opts.minWords) return { reason: "too-short", detail: `${words.length} words` };
  if (words.length > opts.maxWords) return { reason: "too-long", detail: `${words.length} words` };
  if (!/^[A-Za-z]/.test(text)) return { reason: "bad-start" };
  const tokens = rougeTokens(text);
  if (!DOMAIN_WORDS[pool.domain].some((w) => tokens.includes(w))) return { reason: "off-domain" };
  let worst = 0;
  let worstId = -1;
  for (let i = 0; i < poolTokens.length; i++) {
    const f = rougeLTokens(poolTokens[i], tokens).f1;
    if (f > worst) {
      worst = f;
      worstId = pool.entries[i].id;
    }
  }
  if (worst > opts.maxRougeL)
    return { reason: "too-similar", detail: `ROUGE-L ${worst.toFixed(3)} vs entry ${worstId}` };
  return null;
}

/** Self-Instruct growth as the seed ran it: 6 examples per prompt, temperature 0.7, 96 tokens per proposal. */
export const GROW_DEFAULTS = { shots: 6, temperature: 0.7, maxTokens: 96 } as const;

export interface GrowOptions {
  rounds: number;
  /** Examples shown per prompt (the seed used 6). */
  shots?: number;
  /** Generates the model's reply to a prompt (wire an LlmBackend or the generation runner here). */
  generate: (prompt: string, round: number) => Promise<string>;
  /** Recorded as each new entry's provenance. */
  model: string;
  rng: Rng;
  filter?: FilterOptions;
  onRound?: (round: number, kept: boolean, reason?: RejectReason) => void;
  /** Abort = InterruptedError before the next round (nothing is returned half-grown). */
  signal?: AbortSignal;
}

/**
 * Grow a pool Self-Instruct style: each round samples `shots` entries (seeded), asks for one more,
 * and keeps the proposal only if it passes every filter. Returns a new pool; the input is not changed.
 * An abort ends it with InterruptedError (see `signal`).
 */
export async function growPool(pool: InstructionPool, opts: GrowOptions): Promise<InstructionPool> {
  const shots = opts.shots ?? GROW_DEFAULTS.shots;
  const out: InstructionPool = { ...pool, entries: [...pool.entries], rejected: [...pool.rejected] };
  const poolTokens = out.entries.map((e) => rougeTokens(e.text));
  const firstRound = Math.max(0, ...out.entries.map((e) => e.round), ...out.rejected.map((r) => r.round)) + 1;
  for (let r = firstRound; r < firstRound + opts.rounds; r++) {
    throwIfInterrupted(
      opts.signal,
      `instruction growth interrupted before round ${r}; nothing was written (with a generation cache, the same command replays the rounds done)`,
    );
    const k = Math.min(shots, out.entries.length);
    const picks = opts.rng.sampleIndices(out.entries.length, k).map((i) => out.entries[i]);
    const reply = await opts.generate(fewShotPrompt(picks.map((p) => p.text)), r);
    const { text, runOn } = extractProposal(reply);
    const rejected = rejectReason(text, runOn, out, opts.filter ?? DEFAULT_FILTER, poolTokens);
    if (rejected) {
      out.rejected.push({ round: r, text: text || reply.slice(0, 200), ...rejected });
      opts.onRound?.(r, false, rejected.reason);
      continue;
    }
    out.entries.push({
      id: out.entries.length,
      text,
      round: r,
      source: "generated",
      model: opts.model,
      parents: picks.map((p) => p.id),
    });
    poolTokens.push(rougeTokens(text));
    opts.onRound?.(r, true);
  }
  return out;
}
