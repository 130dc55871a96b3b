import { thresholdsFor } from "../../data/index.js";
import { alpacaPrompt, type LlmRequest } from "../../llm/index.js";
import { type BuiltRequest, type LlmSystemOptions, llmSystem, type RequestLimits } from "./llm.js";
import type { EvalSystem, RunRecord, SystemContext } from "./types.js";

/**
 * A CHAT-REC-style zero-shot prompt (Gao et al. 2023, "Chat-REC": the user's profile and rated
 * history and a recommender's candidate set turned into one chat request that asks the LLM to rerank
 * the candidates). The wording is ours; the structure follows the paper's prompt constructor: profile,
 * history with ratings, candidates, the task and the answer format. It never mentions the top-1.
 */

/** Liked and disliked items shown, each: the last this many of the record's history lists. */
const CHATREC_HISTORY_LIMIT = 20;

const DOMAIN: Record<string, { plural: string; verb: string }> = {
  "ml-100k": { plural: "movies", verb: "watched" },
  "ml-1m": { plural: "movies", verb: "watched" },
  "book-crossing": { plural: "books", verb: "read" },
  anime: { plural: "anime titles", verb: "watched" },
};

function profileLine(ctx: SystemContext, r: RunRecord): string | null {
  const u = ctx.catalog.users[r.user];
  if (!u) return null;
  const parts: string[] = [];
  if (u.age !== null) parts.push(`age ${u.age}`);
  if (u.gender) parts.push(`gender ${u.gender === "M" ? "male" : u.gender === "F" ? "female" : u.gender}`);
  if (u.occupation) parts.push(`occupation ${u.occupation}`);
  return parts.length > 0 ? parts.join(", ") : null;
}

function withYear(ctx: SystemContext, item: number, title: string): string {
  const y = ctx.catalog.items[item]?.year;
  return y ? `${title} (${y})` : title;
}

/**
 * The CHAT-REC-style request for one record, showing at most `limit` liked and `limit` disliked items
 * (the most recent ones: the lists are in time order, and CHAT-REC shows a bounded slice of the history).
 */
export function chatRecRequest(r: RunRecord, ctx: SystemContext, limit = CHATREC_HISTORY_LIMIT): LlmRequest {
  const d = DOMAIN[ctx.catalog.dataset] ?? { plural: "items", verb: "used" };
  const max = thresholdsFor(ctx.catalog.dataset)?.scale[1];
  const last = <T>(list: readonly T[]) => (limit > 0 ? list.slice(-limit) : []); // slice(-0) would keep all
  const history = [...last(r.history?.liked ?? []), ...last(r.history?.disliked ?? [])];
  const lines: string[] = [];
  const profile = profileLine(ctx, r);
  if (profile) lines.push(`User profile: ${profile}.`);
  if (history.length > 0) {
    lines.push(
      `The user has ${d.verb} these ${d.plural} and rated them${max ? ` (out of ${max})` : ""}:`,
      ...history.map(
        (h) => `- ${withYear(ctx, h.item, h.title)}${h.rating !== undefined ? `: ${h.rating}` : ""}`,
      ),
    );
  }
  lines.push(
    "",
    `Candidate ${d.plural} from a recommender system:`,
    ...r.candidates.map((c) => `- ${withYear(ctx, c.item, c.title)}`),
    "",
    `Rank the candidates by how likely the user is to enjoy them and answer with the top ${ctx.k} as a numbered list, best first, one per line ("1. Title (Year)"), choosing only from the candidates.`,
  );
  return {
    messages: [
      { role: "system", content: `You are a recommender system that ranks ${d.plural} for a user.` },
      { role: "user", content: lines.join("\n") },
    ],
  };
}

/** Tokens of a chat request as the prompt budget counts them (its Alpaca rendering, see `recordRequest`). */
function chatTokens(request: LlmRequest, limits: RequestLimits): number {
  const [system, user] = (request.messages ?? []).map((m) => m.content);
  return limits.countTokens(alpacaPrompt({ instruction: system ?? "", input: user ?? "" }));
}

/**
 * The request, fitted to `limits` by showing fewer history items: the largest per-list limit (at most
 * CHATREC_HISTORY_LIMIT) whose request fits, oldest items left out first.
 */
export function chatRecBuiltRequest(r: RunRecord, ctx: SystemContext, limits?: RequestLimits): BuiltRequest {
  const full = chatRecRequest(r, ctx);
  if (!limits || chatTokens(full, limits) <= limits.maxPromptTokens) return { request: full };
  let lo = 0;
  let hi = CHATREC_HISTORY_LIMIT - 1;
  // largest limit in [0, hi] that fits (0 when none does)
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (chatTokens(chatRecRequest(r, ctx, mid), limits) <= limits.maxPromptTokens) lo = mid;
    else hi = mid - 1;
  }
  const request = chatRecRequest(r, ctx, lo);
  const shown = (n: number) => Math.min(n, CHATREC_HISTORY_LIMIT) - Math.min(n, lo);
  return {
    request,
    dropped: {
      liked: shown(r.history?.liked.length ?? 0),
      disliked: shown(r.history?.disliked.length ?? 0),
    },
    fits: chatTokens(request, limits) <= limits.maxPromptTokens,
  };
}

export function chatRecSystem(opts: Omit<LlmSystemOptions, "request" | "withTop1">): EvalSystem {
  return llmSystem({
    ...opts,
    request: chatRecBuiltRequest,
    description:
      opts.description ??
      `CHAT-REC-style zero-shot prompt (profile, rated history, candidates) to ${opts.backend.kind} ${opts.backend.model}`,
  });
}
