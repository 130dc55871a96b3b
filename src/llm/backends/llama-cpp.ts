import { existsSync } from "node:fs";
import { basename } from "node:path";
import type {
  EvaluationPriority,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
  SequenceEvaluateOptions,
  Token,
} from "node-llama-cpp";
import {
  DataFormatError,
  DEFAULT_SEED,
  LlmRequestError,
  MissingResourceError,
  UsageError,
} from "../../core/index.js";
import { ggufSummary } from "../gguf/index.js";
import type {
  LlmRequest,
  LlmResult,
  LocalLlmBackend,
  LoraAdapterRef,
  NextTokenProbabilities,
  SamplingOptions,
} from "../types.js";
import { BatchCoordinator, rankPriority } from "./batch-coordinator.js";
import { renderChat } from "./chat-template.js";
import {
  chosenInSlot,
  type DistinctChoiceSpec,
  distinctChoiceSpec,
  slotGrammar,
  uniqueItemsViolation,
  withoutUniqueItems,
} from "./distinct-choice.js";
import { defaultParallel, kvCacheBytesPerToken } from "./kv-cache.js";
import { type NodeLlamaCpp, nodeLlamaCpp, resolveThreads, sharedLlama } from "./llama-instance.js";
import { checkRequest } from "./request-checks.js";
import { SlotPool } from "./slot-pool.js";
import { StopStringFilter } from "./stop-strings.js";

/** The GGUF header of `path` says it is a `kind` (general.type, "model" when absent). */
function checkGgufKind(path: string, kind: "model" | "adapter"): void {
  const type = ggufSummary(path).type; // DataFormatError for a file that is not GGUF
  if (kind === "model" && type === "adapter")
    throw new DataFormatError(
      { file: path, field: "general.type" },
      "this GGUF is a LoRA adapter, not a model (pass it with --lora beside its base model)",
    );
  if (kind === "adapter" && type !== "adapter")
    throw new DataFormatError(
      { file: path, field: "general.type" },
      `this GGUF is a ${type}, not a LoRA adapter (general.type "adapter")`,
    );
}

export interface LlamaCppBackendOptions {
  /** The GGUF model file. */
  modelPath: string;
  /** Name reported in results and cache keys (default: file name without .gguf, plus the adapters). */
  modelName?: string;
  /** CPU threads for evaluation (default: all cores; never more than the cores there are). */
  threads?: number;
  /** Context size in tokens of each sequence (default: the model's training context, at most 4096). */
  contextSize?: number;
  /**
   * Sequences decoded together (`--parallel`): up to this many requests run at once, each on its own
   * context sequence, and llama.cpp evaluates their next tokens in one batch. Each sequence has its own
   * `contextSize` cells of KV cache, so the cache grows linearly with it. Default 1: every answer is
   * exactly what one-at-a-time decoding gives (a token decoded beside others can differ in the last bits
   * of its logits; README "Parallel decoding"). `"auto"`: 4 when four sequences' caches fit in 1 GiB,
   * else 2, else 1 (`defaultParallel`), what `llm serve` uses.
   */
  parallel?: number | "auto";
  /** Opt in to a GPU (default: CPU only). */
  gpu?: boolean;
  /** LoRA adapters (GGUF) with their scales, applied to every request. */
  loras?: readonly LoraAdapterRef[];
  /**
   * llama.cpp's flash attention (default: off on CPU, where it measured 2–4× slower prompt evaluation
   * on stories260K; the library's "auto" with a GPU).
   */
  flashAttention?: boolean;
}

/** What one decoding run accumulates. */
interface DecodeState {
  /** Every token in the sequence: prompt, then generated. */
  all: Token[];
  generated: Token[];
  /** Distinct tokens seen (for the repetition penalty, HF-style: prompt and output). */
  seen: Set<Token>;
  text: string;
  undecoded: Token[];
}

type DecodeEnd = "eog" | "stop" | "length" | "abort";

/** A request's prompt tokens and where its output ends (stop strings, and stop tokens of a chat template). */
interface DecodeInput {
  tokens: Token[];
  stops: string[];
  stopTokens: Set<Token>;
}

/** Greatest number of bytes a UTF-8 character spans: byte-fallback tokens are held back at most that long. */
const MAX_UTF8_BYTES = 4;

/** Most sequences one context may have (llama.cpp's own limit is 256; beyond a few dozen nothing is gained on a CPU). */
export const MAX_PARALLEL = 64;

/** Tokens per llama.cpp batch (node-llama-cpp's default for a context of at least 512 tokens). */
const DEFAULT_BATCH_SIZE = 512;

/**
 * LlmBackend on an embedded llama.cpp (node-llama-cpp 3.21) with a GGUF model. One context with
 * `parallel` sequences: each request takes a free sequence (or waits for one, in arrival order), whose
 * history is cleared first, so a result depends only on its request (no KV-cache reuse between
 * requests); node-llama-cpp's batch dispatcher evaluates the busy sequences' tokens together in one
 * llama.cpp batch. Each request has its own sampler (its seed), grammar state, stop strings, token limit
 * and abort signal; LoRA adapters belong to the context and so apply to every sequence.
 */
export class LlamaCppBackend implements LocalLlmBackend {
  readonly kind = "llama-cpp";
  readonly model: string;
  readonly threads: number;
  readonly loras: readonly LoraAdapterRef[];
  /** Sequences decoded together: the most requests that run at once. */
  readonly parallel: number;
  private readonly sequences: SlotPool<LlamaContextSequence>;
  /** Each sequence's place in the context (its evaluations carry it for the batch plan: `rankPriority`). */
  private readonly ranks: Map<LlamaContextSequence, number>;
  private closed = false;

  private constructor(
    private readonly nlc: NodeLlamaCpp,
    private readonly llama: Llama,
    private readonly llamaModel: LlamaModel,
    private readonly context: LlamaContext,
    private readonly batching: BatchCoordinator,
    readonly modelPath: string,
    options: { modelName: string; threads: number; loras: readonly LoraAdapterRef[] },
  ) {
    this.model = options.modelName;
    this.threads = options.threads;
    this.loras = options.loras;
    this.parallel = context.totalSequences;
    const sequences = Array.from({ length: context.totalSequences }, () => context.getSequence());
    this.ranks = new Map(sequences.map((seq, rank) => [seq, rank]));
    this.sequences = new SlotPool(sequences);
  }

  static async load(options: LlamaCppBackendOptions): Promise<LlamaCppBackend> {
    const { modelPath } = options;
    if (!existsSync(modelPath)) throw new MissingResourceError(`model file ${modelPath} does not exist`);
    const loras = (options.loras ?? []).map((l) => ({ path: l.path, scale: l.scale }));
    for (const l of loras) {
      if (!existsSync(l.path)) throw new MissingResourceError(`LoRA adapter ${l.path} does not exist`);
      if (!Number.isFinite(l.scale)) throw new UsageError(`LoRA scale for ${l.path} must be a number`);
    }
    // Read the headers first: a file that is not GGUF, or a model where an adapter belongs (and the
    // reverse), is bad input (exit 3) naming the file, as everywhere else GGUF files are read.
    checkGgufKind(modelPath, "model");
    for (const l of loras) checkGgufKind(l.path, "adapter");
    const threads = resolveThreads(options.threads);
    if (
      options.parallel !== undefined &&
      options.parallel !== "auto" &&
      !(Number.isInteger(options.parallel) && options.parallel >= 1 && options.parallel <= MAX_PARALLEL)
    ) {
      throw new UsageError(
        `--parallel must be an integer from 1 to ${MAX_PARALLEL} (sequences decoded together), got ${options.parallel}`,
      );
    }
    const llama = await sharedLlama(Boolean(options.gpu));
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath, gpuLayers: options.gpu ? "auto" : 0 });
    } catch (err) {
      throw new LlmRequestError(`cannot load ${modelPath} as a GGUF model: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const contextSize = options.contextSize ?? Math.min(model.trainContextSize || 4096, 4096);
    const parallel =
      options.parallel === "auto"
        ? defaultParallel(
            kvCacheBytesPerToken(model.fileInfo.metadata as Record<string, unknown>),
            contextSize,
          )
        : (options.parallel ?? 1);
    const batching = new BatchCoordinator();
    let context: LlamaContext;
    try {
      context = await model.createContext({
        contextSize,
        threads,
        sequences: parallel,
        // The batch size of a lone sequence (node-llama-cpp's default for one), whatever `parallel` is:
        // a prompt is then cut into the same chunks (see BatchCoordinator).
        batchSize: Math.min(contextSize, DEFAULT_BATCH_SIZE),
        batching: { itemPrioritizationStrategy: batching.strategy },
        flashAttention: options.flashAttention ?? (options.gpu ? "auto" : false),
        ...(loras.length > 0
          ? { lora: { adapters: loras.map((l) => ({ filePath: l.path, scale: l.scale })) } }
          : {}),
      });
    } catch (err) {
      await model.dispose();
      throw new LlmRequestError(
        `cannot create a ${contextSize}-token context${parallel > 1 ? ` × ${parallel} sequences` : ""} for ${modelPath}${loras.length ? " with its LoRA adapters" : ""}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const base = basename(modelPath).replace(/\.gguf$/i, "");
    const modelName =
      options.modelName ??
      [base, ...loras.map((l) => `${basename(l.path).replace(/\.gguf$/i, "")}@${l.scale}`)].join("+");
    return new LlamaCppBackend(await nodeLlamaCpp(), llama, model, context, batching, modelPath, {
      modelName,
      threads,
      loras,
    });
  }

  /** Context size of each sequence, in tokens. */
  get contextSize(): number {
    return this.context.contextSize;
  }

  get vocabularySize(): number {
    return this.llamaModel.fileInfo.metadata.tokenizer.ggml.tokens.length;
  }

  /** The GGUF's `tokenizer.chat_template`, when it has one. */
  get chatTemplate(): string | undefined {
    const t = this.llamaModel.fileInfo.metadata.tokenizer.chat_template;
    return typeof t === "string" && t.trim() !== "" ? t : undefined;
  }

  tokenize(text: string, options?: { special?: boolean }): number[] {
    return this.llamaModel.tokenize(text, options?.special ?? false);
  }

  detokenize(tokens: readonly number[], options?: { special?: boolean }): string {
    return this.llamaModel.detokenize(tokens as Token[], options?.special ?? false);
  }

  /**
   * BOS (when the model's metadata asks for it) + the tokenised prompt, with SentencePiece's leading
   * space kept — what llama.cpp's own server and Hugging Face tokenizers produce. Fine-tuning must train
   * on exactly these ids.
   */
  promptTokens(prompt: string): number[] {
    const tokens = this.llamaModel.tokenize(prompt, false);
    const bos = this.llamaModel.tokens.bos;
    return this.llamaModel.tokens.shouldPrependBosToken && bos !== null ? [bos, ...tokens] : tokens;
  }

  async generate(request: LlmRequest): Promise<LlmResult> {
    return this.stream(request, () => {});
  }

  async stream(request: LlmRequest, onText: (chunk: string) => void): Promise<LlmResult> {
    checkRequest(request);
    if (this.closed) throw new LlmRequestError(`backend for ${this.model} is closed`);
    const input = this.inputFor(request);
    const room = this.contextSize - input.tokens.length;
    if (room <= 0) {
      throw new LlmRequestError(
        `prompt has ${input.tokens.length} tokens; the context holds ${this.contextSize} (raise --context-size or shorten the prompt)`,
        { status: 400 },
      );
    }
    const r = await this.withSequence(request.signal, (seq) => this.run(seq, input, room, request, onText));
    return (
      r ?? {
        text: "",
        usage: { promptTokens: input.tokens.length, completionTokens: 0 },
        finishReason: "abort",
        model: this.model,
        tokens: [],
      }
    );
  }

  async nextTokenProbabilities(input: string | readonly number[]): Promise<NextTokenProbabilities> {
    const tokens = (typeof input === "string" ? this.promptTokens(input) : [...input]) as Token[];
    if (tokens.length === 0) throw new UsageError("nextTokenProbabilities needs at least one input token");
    if (tokens.length >= this.contextSize) {
      throw new LlmRequestError(`input has ${tokens.length} tokens; the context holds ${this.contextSize}`, {
        status: 400,
      });
    }
    const result = await this.withSequence(undefined, async (seq) => {
      await this.batching.exclusive(() => seq.clearHistory());
      const last = tokens.length - 1;
      // The default sampler settings (temperature 0) leave the raw softmax of the logits.
      const out = await seq.controlledEvaluate(
        tokens.map((t, i) => (i === last ? [t, { generateNext: { probabilities: true } }] : t)),
        { evaluationPriority: this.priorityOf(seq) },
      );
      const map = out[last]?.next.probabilities;
      if (!map) throw new LlmRequestError("llama.cpp returned no probabilities");
      const probabilities = new Float32Array(this.vocabularySize);
      for (const [token, p] of map) if (token < probabilities.length) probabilities[token] = p;
      return { inputTokens: tokens.slice(), probabilities };
    });
    if (!result) throw new LlmRequestError("llama.cpp returned no probabilities");
    return result;
  }

  /** Refuse new requests, let those already made (running or waiting for a sequence) finish, then free the model. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sequences.idle();
    await this.context.dispose();
    await this.llamaModel.dispose();
  }

  private priorityOf(seq: LlamaContextSequence): EvaluationPriority {
    return rankPriority(this.ranks.get(seq) ?? 0);
  }

  /**
   * Run `fn` on a free sequence, waiting in arrival order while all are busy; `undefined` when `signal`
   * aborts before a sequence is free. The sequence goes back to the pool however `fn` ends.
   */
  private async withSequence<T>(
    signal: AbortSignal | undefined,
    fn: (seq: LlamaContextSequence) => Promise<T>,
  ): Promise<T | undefined> {
    if (this.closed) throw new LlmRequestError(`backend for ${this.model} is closed`);
    return this.sequences.use(signal, fn);
  }

  private inputFor(request: LlmRequest): DecodeInput {
    const userStops = request.stop ?? [];
    if (request.prompt !== undefined) {
      return {
        tokens: this.promptTokens(request.prompt) as Token[],
        stops: [...userStops],
        stopTokens: new Set(),
      };
    }
    const rendered = renderChat(
      this.nlc,
      request.messages ?? [],
      this.chatTemplate,
      this.llamaModel.tokenizer,
    );
    if (rendered.kind === "text") {
      return {
        tokens: this.promptTokens(rendered.text) as Token[],
        stops: [...rendered.stop, ...userStops],
        stopTokens: new Set(),
      };
    }
    const m = this.llamaModel;
    let tokens = rendered.text.tokenize(m.tokenizer);
    const bos = m.tokens.bos;
    if (m.tokens.shouldPrependBosToken && bos !== null && tokens[0] !== bos) tokens = [bos, ...tokens];
    const stops = [...userStops];
    const stopTokens = new Set<Token>();
    for (const trigger of rendered.stop) {
      const ids = trigger.tokenize(m.tokenizer, "trimLeadingSpace");
      if (ids.length === 1 && m.isSpecialToken(ids[0])) stopTokens.add(ids[0] as Token);
      else {
        const text = m.detokenize(ids, false);
        if (text.length > 0) stops.push(text);
      }
    }
    return { tokens, stops, stopTokens };
  }

  private async run(
    seq: LlamaContextSequence,
    { tokens, stops, stopTokens }: DecodeInput,
    room: number,
    request: LlmRequest,
    onText: (chunk: string) => void,
  ): Promise<LlmResult> {
    const limit = Math.min(request.maxTokens ?? room, room);
    await this.batching.exclusive(() => seq.clearHistory());
    const state: DecodeState = {
      all: [...tokens],
      generated: [],
      seen: new Set(tokens),
      text: "",
      undecoded: [],
    };
    const emit = (s: string) => {
      if (s.length === 0) return;
      state.text += s;
      onText(s);
    };
    let end: DecodeEnd;
    const schema = request.jsonSchema;
    const spec = schema ? distinctChoiceSpec(schema) : undefined;
    if (spec) {
      end = await this.decodeDistinct(seq, state, tokens, spec, limit, request, emit);
    } else {
      let grammar: LlamaGrammar | undefined;
      try {
        if (schema)
          grammar = await this.llama.createGrammarForJsonSchema(withoutUniqueItems(schema) as never);
        else if (request.grammar) grammar = await this.llama.createGrammar({ grammar: request.grammar });
      } catch (err) {
        throw new UsageError(
          `${schema ? "JSON schema" : "GBNF grammar"} rejected by llama.cpp: ${(err as Error).message}`,
        );
      }
      // Stop strings would cut structured output short, so they apply to free text only; a grammar brings
      // its own (node-llama-cpp's JSON-schema grammars stop at four newlines and trim trailing whitespace).
      const filter = grammar
        ? new StopStringFilter(grammarStops(this.nlc, grammar), {
            trimTrailingWhitespace: grammar.trimWhitespaceSuffix,
          })
        : new StopStringFilter(stops);
      end = await this.decode(seq, state, tokens, { grammar, limit, stopTokens, filter, request, emit });
      emit(filter.flush());
      if (schema && end === "eog") {
        const violation = uniqueItemsViolation(schema, safeJson(state.text));
        if (violation)
          throw new LlmRequestError(`model output breaks the schema's uniqueItems: ${violation}`);
      }
    }
    return {
      text: state.text,
      usage: { promptTokens: tokens.length, completionTokens: state.generated.length },
      finishReason: end === "length" ? "length" : end === "abort" ? "abort" : "stop",
      model: this.model,
      tokens: state.generated.slice(),
    };
  }

  /**
   * "k distinct values from a list": one grammar per item slot, each listing only the candidates not
   * chosen yet (distinct-choice.ts). A slot ends when its grammar is complete and llama.cpp samples
   * end-of-generation; the last token is then re-evaluated under the next slot's grammar.
   */
  private async decodeDistinct(
    seq: LlamaContextSequence,
    state: DecodeState,
    prompt: Token[],
    spec: DistinctChoiceSpec,
    limit: number,
    request: LlmRequest,
    emit: (s: string) => void,
  ): Promise<DecodeEnd> {
    let remaining = spec.candidates.slice();
    let input = prompt;
    for (let slot = 0; ; slot++) {
      const grammar = await this.llama.createGrammar({ grammar: slotGrammar(spec, slot, remaining) });
      const before = state.text.length;
      const filter = new StopStringFilter([]);
      const end = await this.decode(seq, state, input, {
        grammar,
        limit,
        stopTokens: new Set(),
        filter,
        request,
        emit,
      });
      emit(filter.flush());
      if (end !== "eog") return end;
      const chosen = chosenInSlot(spec, slot, state.text.slice(before), remaining);
      if (chosen === undefined) return "eog";
      remaining = remaining.filter((c) => c !== chosen);
      // The slot's last token is in the KV cache; take it out and feed it again to sample the next slot.
      const last = state.all[state.all.length - 1] as Token;
      const at = seq.nextTokenIndex;
      await this.batching.exclusive(() => seq.eraseContextTokenRanges([{ start: at - 1, end: at }]));
      input = [last];
    }
  }

  private async decode(
    seq: LlamaContextSequence,
    state: DecodeState,
    input: Token[],
    o: {
      grammar: LlamaGrammar | undefined;
      limit: number;
      stopTokens: Set<Token>;
      filter: StopStringFilter;
      request: LlmRequest;
      emit: (s: string) => void;
    },
  ): Promise<DecodeEnd> {
    if (state.generated.length >= o.limit) return "length";
    const m = this.llamaModel;
    const signal = o.request.signal;
    if (signal?.aborted) return "abort";
    const grammarEvaluationState = o.grammar
      ? new this.nlc.LlamaGrammarEvaluationState({ model: m, grammar: o.grammar })
      : undefined;
    const options: SequenceEvaluateOptions = {
      ...samplerSettings(o.request.sampling),
      evaluationPriority: this.priorityOf(seq),
      ...(grammarEvaluationState ? { grammarEvaluationState } : {}),
      yieldEogToken: true,
    };
    const penalty = o.request.sampling?.repeatPenalty;
    if (penalty !== undefined && penalty !== 1) {
      options.repeatPenalty = {
        punishTokens: () => [...state.seen],
        maxPunishTokens: Math.max(64, this.contextSize),
        penalty,
      };
    }
    const flushUndecoded = () => {
      if (state.undecoded.length === 0) return;
      const ctx = state.all.slice(
        Math.max(0, state.all.length - state.undecoded.length - 8),
        state.all.length - state.undecoded.length,
      );
      const piece = m.detokenize(state.undecoded, false, ctx);
      state.undecoded = [];
      o.emit(o.filter.push(piece));
    };
    // Iterated by hand so that, between two tokens, the sequence can wait while another one is reset
    // (BatchCoordinator.between); the batch dispatcher counts it as busy meanwhile (enter/leave).
    const tokens = seq.evaluate(input, options);
    this.batching.enter();
    try {
      for (let first = true; ; first = false) {
        if (!first) await this.batching.between();
        const step = await tokens.next();
        if (step.done) break;
        const token = step.value;
        if (signal?.aborted) {
          flushUndecoded();
          return "abort";
        }
        if (m.isEogToken(token) || o.stopTokens.has(token)) {
          flushUndecoded();
          return "eog";
        }
        state.generated.push(token);
        state.all.push(token);
        state.seen.add(token);
        state.undecoded.push(token);
        const ctx = state.all.slice(
          Math.max(0, state.all.length - state.undecoded.length - 8),
          state.all.length - state.undecoded.length,
        );
        const piece = m.detokenize(state.undecoded, false, ctx);
        const full = state.generated.length >= o.limit;
        // Byte-fallback tokens: wait for the rest of a UTF-8 character before decoding it.
        if (!full && piece.endsWith("\uFFFD") && state.undecoded.length < MAX_UTF8_BYTES) continue;
        state.undecoded = [];
        o.emit(o.filter.push(piece));
        if (o.filter.stopped) return "stop";
        if (full) return "length";
      }
    } finally {
      this.batching.leave();
      await tokens.return(undefined);
    }
    flushUndecoded();
    return "eog";
  }
}

/**
 * Sampling settings as llama.cpp takes them, so each means what it says: temperature 0 (the default) is
 * greedy; top-k off (0) and top-p off (1) unless given — node-llama-cpp would otherwise apply 40 / 0.95;
 * a fixed seed (the project default) unless given — node-llama-cpp would otherwise use the clock.
 */
export function samplerSettings(
  s: SamplingOptions | undefined,
): Pick<SequenceEvaluateOptions, "temperature" | "topK" | "topP" | "seed" | "minP"> {
  return {
    temperature: s?.temperature ?? 0,
    topK: s?.topK ?? 0,
    topP: s?.topP ?? 1,
    minP: 0,
    // llama.cpp takes an unsigned 32-bit seed (node-llama-cpp clamps negatives to 0): wrap instead.
    seed: (((s?.seed ?? DEFAULT_SEED) % 2 ** 32) + 2 ** 32) % 2 ** 32,
  };
}

function grammarStops(nlc: NodeLlamaCpp, grammar: LlamaGrammar): string[] {
  return grammar.stopGenerationTriggers.flatMap((t) =>
    typeof t === "string"
      ? [t]
      : nlc.isLlamaText(t)
        ? [t.toString()]
        : [t.filter((v): v is string => typeof v === "string").join("")],
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
