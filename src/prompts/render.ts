import { UsageError } from "../core/index.js";
import { alpacaPrompt } from "../llm/index.js";
import { clean, cleanAnime, cleanBookCrossing, cleanMl1m } from "./clean-templates.js";
import {
  recalpacaAnime,
  recalpacaBookCrossing,
  recalpacaMl1m,
  recalpacaMl1mPlain,
  recalpacaMl100k,
} from "./compat-templates.js";
import type { PromptInputs, PromptTemplate, RenderedPrompt, RenderOptions } from "./types.js";

const REGISTRY = new Map<string, PromptTemplate>(
  [
    recalpacaMl100k,
    recalpacaMl1m,
    recalpacaMl1mPlain,
    recalpacaBookCrossing,
    recalpacaAnime,
    clean,
    cleanMl1m,
    cleanBookCrossing,
    cleanAnime,
  ].map((t) => [t.name, t]),
);

/** All template names, compat first. */
export function templateNames(): string[] {
  return [...REGISTRY.keys()];
}

/** The template of that name; a `UsageError` listing the known names otherwise. */
export function getTemplate(name: string): PromptTemplate {
  const t = REGISTRY.get(name);
  if (!t) throw new UsageError(`unknown prompt template "${name}"; known: ${templateNames().join(", ")}`);
  return t;
}

/**
 * Renders a prompt from its inputs alone (pure: same inputs, same text). `template` is a template or
 * its registry name.
 */
export function renderPrompt(
  template: PromptTemplate | string,
  inputs: PromptInputs,
  options: RenderOptions = {},
): RenderedPrompt {
  const t = typeof template === "string" ? getTemplate(template) : template;
  const instruction = options.instruction ?? t.defaultInstruction;
  const input = t.renderInput(inputs, options);
  return { template: t.name, instruction, input, text: alpacaPrompt({ instruction, input }) };
}
