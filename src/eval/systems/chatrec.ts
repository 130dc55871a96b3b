import { thresholdsFor } from "../../data/index.js";
import type { LlmRequest } from "../../llm/index.js";
import { type LlmSystemOptions, llmSystem } from "./llm.js";
import type { EvalSystem, RunRecord, SystemContext } from "./types.js";

/**
 * A CHAT-REC-style zero-shot prompt (Gao et al. 2023, "Chat-REC": the user's profile and rated
 * history and a recommender's candidate set turned into one chat request that asks the LLM to rerank
 * the candidates). The wording is ours; the structure follows the paper's prompt constructor: profile,
 * history with ratings, candidates, the task and the answer format. It never mentions the top-1.
 */

/** Liked and disliked items shown, each: the last this many of the record's history lists. */
export const CHATREC_HISTORY_LIMIT = 20;

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

/** The CHAT-REC-style request for one record. */
export function chatRecRequest(r: RunRecord, ctx: SystemContext): LlmRequest {
  const d = DOMAIN[ctx.catalog.dataset] ?? { plural: "items", verb: "used" };
  const max = thresholdsFor(ctx.catalog.dataset)?.scale[1];
  // The most recent liked and disliked items (the lists are in time order), as CHAT-REC shows a
  // bounded slice of the history.
  const limit = CHATREC_HISTORY_LIMIT;
  const history = [...(r.history?.liked ?? []).slice(-limit), ...(r.history?.disliked ?? []).slice(-limit)];
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

export function chatRecSystem(opts: Omit<LlmSystemOptions, "request" | "withTop1">): EvalSystem {
  return llmSystem({
    ...opts,
    request: chatRecRequest,
    description:
      opts.description ??
      `CHAT-REC-style zero-shot prompt (profile, rated history, candidates) to ${opts.backend.kind} ${opts.backend.model}`,
  });
}
