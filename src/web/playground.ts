import { z } from "zod";
import { DEFAULT_SEED } from "../core/index.js";
import { ALPACA_STOP } from "../eval/index.js";
import { alpacaPrompt, type LlmBackend, type LlmRequest, type SamplingOptions } from "../llm/index.js";
import { HttpProblem } from "./http-problem.js";

/** Size limits of a playground request (characters, tokens). */
export const PLAYGROUND_LIMITS = {
  instructionChars: 4000,
  inputChars: 16000,
  maxTokens: 1024,
} as const;

/**
 * POST /api/generate. Every field but `instruction` has a default; unknown fields are refused, so a
 * misspelt control is a 400 naming it rather than a setting silently ignored.
 */
export const GenerateRequestSchema = z
  .object({
    instruction: z.string().min(1).max(PLAYGROUND_LIMITS.instructionChars),
    input: z.string().max(PLAYGROUND_LIMITS.inputChars).default(""),
    /** Decode with the fine-tuned adapter (the run's finetune/adapter.gguf or --lora). */
    adapter: z.boolean().default(false),
    /** 0 = greedy decoding. */
    temperature: z.number().min(0).max(5).default(0),
    topP: z.number().gt(0).max(1).default(1),
    /** 0 = off. */
    topK: z.number().int().min(0).max(1000).default(0),
    /** Over prompt and output tokens; 1 = off. */
    repeatPenalty: z.number().min(0.5).max(3).default(1),
    maxTokens: z.number().int().min(1).max(PLAYGROUND_LIMITS.maxTokens).default(128),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(DEFAULT_SEED),
    stream: z.boolean().default(true),
  })
  .strict();
export type GenerateRequest = z.infer<typeof GenerateRequestSchema>;

/** The models behind the playground: the base model and, when there is an adapter, the tuned one. */
export interface PlaygroundModels {
  base: LlmBackend;
  /** The base model with the fine-tuned LoRA adapter applied. */
  tuned?: LlmBackend;
  /** Where the adapter came from (shown on the page). */
  adapter?: { path: string; scale: number; source: "run" | "--lora" };
}

export interface GenerationOutcome {
  model: string;
  adapter: boolean;
  /** The exact text sent to the model (the Alpaca prompt; the backend adds BOS where the model wants one). */
  prompt: string;
  sampling: Required<SamplingOptions>;
  maxTokens: number;
  text: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: "stop" | "length" | "abort";
  seconds: number;
  /** Generated tokens per second of the whole request (prompt evaluation included). */
  tokensPerSecond: number;
}

/**
 * The playground: an instruction and input rendered with the Alpaca template (the format the test
 * set's prompts and the instruction dataset use), decoded by the base or the tuned model with the
 * sampling settings of the request. Every setting goes into the LlmRequest as it is.
 */
export class Playground {
  constructor(private readonly models: PlaygroundModels) {}

  describe(): { base: string; tuned: string | null; adapter: PlaygroundModels["adapter"] | null } {
    return {
      base: this.models.base.model,
      tuned: this.models.tuned?.model ?? null,
      adapter: this.models.adapter ?? null,
    };
  }

  /** The backend and the exact LlmRequest a playground request becomes. */
  plan(body: GenerateRequest): {
    backend: LlmBackend;
    request: LlmRequest;
    sampling: Required<SamplingOptions>;
  } {
    const backend = body.adapter ? this.models.tuned : this.models.base;
    if (!backend)
      throw new HttpProblem(
        400,
        'field "adapter": this server has no fine-tuned adapter (the run has no finetune/adapter.gguf and no --lora was given)',
        "adapter",
      );
    const sampling: Required<SamplingOptions> = {
      temperature: body.temperature,
      topP: body.topP,
      topK: body.topK,
      repeatPenalty: body.repeatPenalty,
      seed: body.seed,
    };
    const request: LlmRequest = {
      prompt: alpacaPrompt({ instruction: body.instruction, input: body.input }),
      stop: [...ALPACA_STOP],
      maxTokens: body.maxTokens,
      sampling,
    };
    return { backend, request, sampling };
  }

  /** Run one request; `onText` receives the text as it is generated (the result is the same either way). */
  async generate(
    body: GenerateRequest,
    opts: { signal?: AbortSignal; onText?: (chunk: string) => void } = {},
  ): Promise<GenerationOutcome> {
    const { backend, request, sampling } = this.plan(body);
    const started = performance.now();
    const withSignal = opts.signal ? { ...request, signal: opts.signal } : request;
    const result = opts.onText
      ? await backend.stream(withSignal, opts.onText)
      : await backend.generate(withSignal);
    const seconds = (performance.now() - started) / 1000;
    return {
      model: result.model,
      adapter: body.adapter,
      prompt: request.prompt as string,
      sampling,
      maxTokens: body.maxTokens,
      text: result.text,
      promptTokens: result.usage.promptTokens,
      completionTokens: result.usage.completionTokens,
      finishReason: result.finishReason,
      seconds,
      tokensPerSecond: result.usage.completionTokens / Math.max(seconds, 1e-6),
    };
  }
}
