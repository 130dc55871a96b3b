import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { throwIfInterrupted, UsageError } from "../core/index.js";
import {
  alpacaPrompt,
  createBackend,
  downloadModel,
  ggufSummary,
  isRemoteLlm,
  type LlmRequest,
  listGgufFiles,
  MODEL_REGISTRY,
  modelDownloadDir,
  type PullResult,
  parseLoraArg,
  pullModel,
  registryFileName,
  requireRegistryModel,
  startServer,
} from "../llm/index.js";
import { type CliContext, contextOf, intOption, readFileOption } from "./context.js";
import { withInterrupt } from "./interrupt.js";
import {
  addBulkGenerateOptions,
  type LocalModelFlags,
  localModelSpec,
  readJsonObject,
  requestDefaults,
  runBulkGenerate,
  type SamplingFlags,
} from "./llm-bulk.js";
import { announceDownload, formatBytes, modelStoreOf, resolveModelOption } from "./model-ref.js";
import { info, printResult, progressBar } from "./output.js";

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Options every command that loads a local model shares. */
function addLocalModelFlags(cmd: Command): Command {
  return cmd
    .option("--threads <n>", "CPU threads for a .gguf model (default: all cores, never more)")
    .option(
      "--context-size <n>",
      "context size in tokens for a .gguf model (default: the model's, at most 4096)",
    )
    .option(
      "--parallel <n>",
      "sequences a .gguf model decodes together, requests run at once (default 1: answers exactly as one at a time; llm serve: 4 when their KV cache fits in 1 GiB, else 2 or 1)",
    )
    .option("--gpu", "use a GPU for a .gguf model (default: CPU only)")
    .option(
      "--lora <file[:scale]>",
      "LoRA adapter (GGUF) for a .gguf model, scale default 1; repeatable",
      collect,
    );
}

interface GenerateOptions extends LocalModelFlags, SamplingFlags {
  llm?: string;
  llmModel?: string;
  prompt?: string;
  promptInput?: string;
  system?: string;
  template: string;
  jsonSchema?: string;
  grammar?: string;
  input?: string;
}

function buildRequest(ctx: CliContext, o: GenerateOptions): LlmRequest {
  if (o.prompt === undefined)
    throw new UsageError('llm generate needs --prompt "…" (or --input <requests.jsonl> for bulk)');
  const request: LlmRequest = { ...requestDefaults(ctx, o) };
  if (o.jsonSchema !== undefined) request.jsonSchema = readJsonObject(o.jsonSchema);
  if (o.grammar !== undefined) request.grammar = readFileOption("--grammar", o.grammar);
  return { ...request, ...promptPart(o) };
}

function promptPart(o: GenerateOptions): Pick<LlmRequest, "prompt" | "messages"> {
  const prompt = o.prompt as string;
  switch (o.template) {
    case "raw":
      return { prompt };
    case "alpaca":
      return {
        prompt: alpacaPrompt(
          o.promptInput !== undefined
            ? { instruction: prompt, input: o.promptInput }
            : { instruction: prompt },
        ),
      };
    case "chat":
      return {
        messages: [
          ...(o.system !== undefined ? [{ role: "system" as const, content: o.system }] : []),
          { role: "user", content: prompt },
        ],
      };
    default:
      throw new UsageError(`--template must be alpaca, chat or raw, got "${o.template}"`);
  }
}

async function generate(cmd: Command): Promise<void> {
  const o = cmd.opts<GenerateOptions>();
  if (o.input !== undefined) return runBulkGenerate(cmd);
  const ctx = contextOf(cmd);
  if (!o.llm) throw new UsageError("llm generate needs --llm <path to .gguf | http(s) base URL>");
  if (o.template !== "chat" && o.system !== undefined)
    throw new UsageError("--system applies to --template chat only");
  if (o.template !== "alpaca" && o.promptInput !== undefined)
    throw new UsageError("--prompt-input applies to --template alpaca only");
  const request = buildRequest(ctx, o);
  const local = localModelSpec(o, parseLoraArg); // checked before a model is downloaded
  const backend = await createBackend({
    llm: await resolveModelOption(ctx, o.llm, "--llm"),
    ...(o.llmModel !== undefined ? { llmModel: o.llmModel } : {}),
    ...local,
  });
  try {
    const started = performance.now();
    // Ctrl-C stops the generation at once; what was streamed stays on the screen.
    const result = await withInterrupt(
      async (signal) => {
        const r = await backend.stream({ ...request, signal }, (chunk) => {
          if (!ctx.json) process.stdout.write(chunk);
        });
        throwIfInterrupted(signal, `generation interrupted after ${r.usage.completionTokens} tokens`);
        return r;
      },
      { quiet: ctx.quiet, stopping: "stopping the generation" },
    );
    const seconds = (performance.now() - started) / 1000;
    if (ctx.json) {
      printResult(
        ctx,
        { model: result.model, text: result.text, finishReason: result.finishReason, usage: result.usage },
        () => "",
      );
    } else {
      process.stdout.write("\n");
      info(
        ctx,
        `[${result.model}: ${result.usage.promptTokens} prompt + ${result.usage.completionTokens} generated tokens, ` +
          `${(result.usage.completionTokens / Math.max(seconds, 1e-9)).toFixed(1)} tokens/s, finish: ${result.finishReason}]`,
      );
    }
  } finally {
    await backend.close();
  }
}

interface ServeOptions extends LocalModelFlags {
  gguf?: string;
  port: string;
  host: string;
  queue: string;
  modelName?: string;
}

async function serve(cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const o = cmd.opts<ServeOptions>();
  if (!o.gguf) throw new UsageError("llm serve needs --gguf <model.gguf>");
  if (isRemoteLlm(o.gguf)) throw new UsageError("llm serve serves a local .gguf file, not a URL");
  const port = intOption("--port", o.port, 0) as number;
  const queue = intOption("--queue", o.queue, 0) as number;
  const local = localModelSpec(o, parseLoraArg); // checked before a model is downloaded
  const backend = await createBackend({
    llm: await resolveModelOption(ctx, o.gguf, "--gguf", { url: false }),
    ...(o.modelName !== undefined ? { llmModel: o.modelName } : {}),
    // a server answers several clients at once: sequences by KV-cache size unless --parallel says
    parallel: "auto",
    ...local,
  });
  try {
    // Serving ends with Ctrl-C or SIGTERM: the normal end of this command (exit 0); a second Ctrl-C
    // while it shuts down exits 130 at once.
    await withInterrupt(
      async (signal) => {
        const server = await startServer({ backend, host: o.host, port, queue });
        const loopback = o.host === "127.0.0.1" || o.host === "::1" || o.host === "localhost";
        printResult(
          ctx,
          { url: server.url, model: backend.model },
          () => `serving ${backend.model} at ${server.url}`,
        );
        if (!loopback)
          info(
            ctx,
            `warning: listening on ${o.host}, reachable from other machines; there is no authentication`,
          );
        info(
          ctx,
          "OpenAI-compatible: GET /v1/models, POST /v1/chat/completions, /v1/completions. Ctrl-C stops.",
        );
        await new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => resolve(), { once: true }),
        );
        await server.close();
      },
      { quiet: ctx.quiet, stopping: "stopping the server", sigterm: true, stopIsSuccess: true },
    );
  } finally {
    await backend.close();
  }
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

function modelsDirOf(ctx: CliContext): string {
  if (!ctx.modelsDir)
    throw new UsageError("no models folder: pass --models-dir <dir> or set RECALPACA_MODELS_DIR");
  return ctx.modelsDir;
}

interface ModelRow {
  name: string;
  bytes: number;
  type?: string;
  architecture?: string | null;
  parameters?: number;
  contextLength?: number | null;
  vocabSize?: number | null;
  fileType?: string | null;
  chatTemplate?: boolean;
  error?: string;
}

async function listModels(cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const dir = modelsDirOf(ctx);
  const rows: ModelRow[] = listGgufFiles(dir).map((f) => {
    try {
      const s = ggufSummary(f.path);
      return {
        name: f.name,
        bytes: f.bytes,
        type: s.type,
        architecture: s.architecture ?? null,
        parameters: s.parameterCount,
        contextLength: s.contextLength ?? null,
        vocabSize: s.vocabSize ?? null,
        fileType: s.fileType?.name ?? null,
        chatTemplate: s.hasChatTemplate,
      };
    } catch (err) {
      return { name: f.name, bytes: f.bytes, error: (err as Error).message };
    }
  });
  printResult(ctx, { modelsDir: dir, models: rows }, () => {
    if (rows.length === 0) return `no .gguf files in ${dir}`;
    const lines = [`${dir}:`];
    for (const r of rows) {
      if (r.error === undefined) {
        lines.push(
          `  ${r.name}  ${formatBytes(r.bytes)}  ${r.type === "model" ? "" : `${r.type} `}${r.architecture ?? "?"}` +
            `  ${formatCount(r.parameters ?? 0)} params  ctx ${r.contextLength ?? "?"}  vocab ${r.vocabSize ?? "?"}` +
            `  ${r.fileType ?? ""}${r.chatTemplate ? "  chat template" : ""}`,
        );
      } else {
        lines.push(`  ${r.name}  ${formatBytes(r.bytes)}  unreadable: ${r.error}`);
      }
    }
    return lines.join("\n");
  });
}

async function downloadCommand(url: string, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const o = cmd.opts<{ sha256?: string; name?: string; force?: boolean }>();
  const bar = progressBar(ctx);
  try {
    const dir = modelsDirOf(ctx);
    const r = await withInterrupt(
      (signal) =>
        downloadModel(url, dir, {
          ...(o.sha256 !== undefined ? { sha256: o.sha256 } : {}),
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(o.force ? { force: true } : {}),
          onProgress: bar,
          signal,
        }),
      { quiet: ctx.quiet, stopping: "stopping the download (nothing is kept)" },
    );
    bar.finish();
    printResult(ctx, r, () =>
      r.skipped
        ? `${r.path} is already there (sha256 ${r.sha256})`
        : `saved ${r.path} (${formatBytes(r.bytes)}, sha256 ${r.sha256}${o.sha256 ? ", checksum verified" : ""})`,
    );
  } finally {
    bar.finish();
  }
}

/** `llm models list`: the registry, with which entries are in the download folder. */
async function registryList(cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const dir = modelDownloadDir(modelStoreOf(ctx));
  const rows = MODEL_REGISTRY.map((e) => {
    const path = join(dir, registryFileName(e));
    const downloaded = existsSync(path) && statSync(path).size === e.size;
    return { ...e, downloaded, ...(downloaded ? { path } : {}) };
  });
  printResult(ctx, { downloadDir: dir, models: rows }, () =>
    [
      `models recalpaca can download (into ${dir}; \`llm models pull <name>\`, or name one in any model option):`,
      ...rows.map(
        (r) =>
          `  ${r.downloaded ? "✓" : " "} ${r.name.padEnd(22)} ${formatBytes(r.size).padStart(10)}  ${r.quantization.padEnd(6)} ` +
          `${r.architecture.padEnd(6)} ${r.license.padEnd(10)} ${r.finetunable ? "fine-tunable" : "inference  "}  ` +
          `${r.chatTemplate ? "chat template" : "no chat template"}`,
      ),
      "✓ = downloaded. Details with --json (repository, file, pinned revision, SHA-256, notes).",
    ].join("\n"),
  );
}

/** `llm models pull <name>`: download a registry model (verified, resumable, recorded in the lock file). */
async function pullCommand(name: string, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const entry = requireRegistryModel(name);
  const store = modelStoreOf(ctx);
  const target = join(modelDownloadDir(store), registryFileName(entry));
  if (!existsSync(target)) announceDownload(ctx, entry, target);
  const bar = progressBar(ctx);
  let r: PullResult;
  try {
    r = await withInterrupt((signal) => pullModel(entry, { ...store, onProgress: bar, signal }));
  } finally {
    bar.finish();
  }
  printResult(ctx, r, () =>
    r.downloaded
      ? `saved ${r.path} (${formatBytes(r.bytes)}, sha256 ${r.sha256} verified${r.resumedFrom > 0 ? `, resumed at byte ${r.resumedFrom}` : ""})`
      : `${r.path} is already there (sha256 ${r.sha256})`,
  );
}

export function register(program: Command): void {
  const group = program.command("llm").description("language models: generate, serve, models");

  const gen = group
    .command("generate")
    .description("generate text with a .gguf model or an OpenAI-compatible server, streamed to the terminal")
    .option(
      "--llm <model>",
      "a .gguf file, a model name (`llm models list`) or an http(s) base URL of an OpenAI-compatible server",
    )
    .option("--llm-model <name>", "model name on a remote server (default: the first it lists)")
    .option("--prompt <text>", "the prompt (with --template alpaca: the instruction)")
    .option(
      "--template <kind>",
      "alpaca (SEED.md §3), chat (the model's chat template, else Alpaca) or raw",
      "chat",
    )
    .option("--prompt-input <text>", "--template alpaca: the input field")
    .option("--system <text>", "--template chat: a system message")
    .option("--temperature <t>", "0 = greedy (the default)")
    .option("--top-p <p>", "nucleus sampling, (0, 1] (default off)")
    .option("--top-k <k>", "top-k sampling, 0 = off (the default)")
    .option("--repeat-penalty <r>", "repetition penalty over prompt and output tokens, 1 = off (the default)")
    .option("--max-tokens <n>", "most tokens to generate (default: until the context is full)")
    .option("--stop <text>", "stop string (not included in the output); repeatable", collect)
    .option("--json-schema <file|json>", "constrain the output to a JSON schema")
    .option(
      "--grammar <file>",
      "constrain the output to a GBNF grammar (.gguf models and llama.cpp-style servers)",
    );
  addLocalModelFlags(gen);
  addBulkGenerateOptions(gen);
  gen.action(async (_opts: unknown, cmd: Command) => generate(cmd));

  const srv = group
    .command("serve")
    .description("serve a .gguf model over an OpenAI-compatible HTTP API (loopback only by default)")
    .option("--gguf <file>", "the model: a .gguf file or a model name (`llm models list`)")
    .option("--port <n>", "TCP port (0 = any free one)", "8080")
    .option("--host <address>", "interface to bind", "127.0.0.1")
    .option("--queue <n>", "requests that may wait while --parallel run; more get HTTP 429", "8")
    .option("--model-name <name>", "model id to report (default: the file name and adapters)");
  addLocalModelFlags(srv);
  srv.action(async (_opts: unknown, cmd: Command) => serve(cmd));

  const models = group
    .command("models")
    .description(
      "list the .gguf files in --models-dir with their metadata; `models list` shows the models recalpaca can download",
    )
    .action(async (_opts: unknown, cmd: Command) => listModels(cmd));
  models
    .command("list")
    .description(
      "the curated small models (name, size, licence, architecture, fine-tunable, chat template, downloaded)",
    )
    .action(async (_opts: unknown, cmd: Command) => registryList(cmd));
  models
    .command("pull <name>")
    .description(
      "download a curated model into --models-dir (else <cache-dir>/models): resumable, SHA-256 checked, recorded in recalpaca-models.lock.json",
    )
    .action(async (name: string, _opts: unknown, cmd: Command) => pullCommand(name, cmd));
  models
    .command("download <url>")
    .description("download a .gguf file into --models-dir (progress, checksum, atomic)")
    .option("--sha256 <hex>", "expected SHA-256; a mismatch discards the download")
    .option("--name <file>", "file name to save as (default: from the URL)")
    .option("--force", "replace an existing file")
    .action(async (url: string, _opts: unknown, cmd: Command) => downloadCommand(url, cmd));
}
