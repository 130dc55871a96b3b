import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { MissingResourceError, UsageError } from "../core/index.js";
import type { LlmBackend, LoraAdapterRef } from "../llm/index.js";
import { readManifest } from "../pipeline/index.js";
import {
  LOOPBACK_HOSTS,
  Playground,
  type PlaygroundModels,
  RUN_FILES,
  RunFolder,
  startWebServer,
} from "../web/index.js";
import { contextOf, intOption } from "./context.js";
import { withInterrupt } from "./interrupt.js";
import { resolveModelOption } from "./model-ref.js";
import { info, printResult } from "./output.js";

interface WebOptions {
  run?: string;
  runsDir: string;
  llm?: string;
  llmModel?: string;
  lora?: string;
  adapter: boolean;
  port: string;
  host: string;
  maxGenerations: string;
  threads?: string;
  contextSize?: string;
  gpu?: boolean;
}

/** `--run` names a folder, or a run under `--runs-dir`. */
function runFolderOf(o: WebOptions): RunFolder | null {
  if (o.run === undefined) return null;
  const dir = existsSync(o.run) ? resolve(o.run) : resolve(o.runsDir, o.run);
  if (!existsSync(dir))
    throw new MissingResourceError(
      `--run ${o.run}: run folder ${dir} not found (see \`recalpaca runs list\`)`,
    );
  return RunFolder.open(dir);
}

/** The model the run's eval stage used (`eval.llm`), when it used one. */
function runEvalLlm(run: RunFolder | null): string | undefined {
  if (!run) return undefined;
  const config = readManifest(join(run.dir, "eval"))?.config as { llm?: unknown } | undefined;
  const llm = config?.llm;
  return typeof llm === "string" && llm.length > 0 ? llm : undefined;
}

async function web(cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const o = cmd.opts<WebOptions>();
  // everything that can be wrong is checked before a model is loaded
  const port = intOption("--port", o.port, 0) as number;
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  const maxGenerations = intOption("--max-generations", o.maxGenerations, 1) as number;
  const threads = intOption("--threads", o.threads, 1);
  const contextSize = intOption("--context-size", o.contextSize, 16);
  const run = runFolderOf(o);
  const llmRef = o.llm ?? runEvalLlm(run);
  const llm = await import("../llm/index.js");
  let adapter: PlaygroundModels["adapter"];
  if (o.lora !== undefined) {
    if (!o.adapter) throw new UsageError("--lora and --no-adapter contradict each other");
    const ref: LoraAdapterRef = llm.parseLoraArg(o.lora);
    if (!existsSync(ref.path)) throw new MissingResourceError(`--lora ${ref.path}: no such file`);
    adapter = { path: resolve(ref.path), scale: ref.scale, source: "--lora" };
  } else if (o.adapter && run?.artefact(RUN_FILES.adapter)) {
    adapter = { path: run.artefact(RUN_FILES.adapter) as string, scale: 1, source: "run" };
  }
  if (adapter && llmRef === undefined)
    throw new UsageError("an adapter needs its base model: pass --llm <model>");
  const modelPath = llmRef !== undefined ? await resolveModelOption(ctx, llmRef, "--llm") : undefined;
  if (adapter && modelPath !== undefined && llm.isRemoteLlm(modelPath)) {
    if (adapter.source === "--lora")
      throw new UsageError("--lora applies to a local .gguf model; a remote server loads its own adapters");
    info(
      ctx,
      `the run's adapter ${adapter.path} applies to a local .gguf model; the remote model is used without it`,
    );
    adapter = undefined;
  }

  const backends: LlmBackend[] = [];
  try {
    let playground: Playground | null = null;
    if (modelPath !== undefined) {
      const spec = {
        llm: modelPath,
        ...(o.llmModel !== undefined ? { llmModel: o.llmModel } : {}),
        ...(threads !== undefined ? { threads } : {}),
        ...(contextSize !== undefined ? { contextSize } : {}),
        ...(o.gpu ? { gpu: true } : {}),
      };
      const base = await llm.createBackend(spec);
      backends.push(base);
      let tuned: LlmBackend | undefined;
      if (adapter) {
        tuned = await llm.createBackend({ ...spec, loras: [{ path: adapter.path, scale: adapter.scale }] });
        backends.push(tuned);
      }
      playground = new Playground({ base, ...(tuned ? { tuned } : {}), ...(adapter ? { adapter } : {}) });
    }
    await withInterrupt(
      async (signal) => {
        const server = await startWebServer({ run, playground, host: o.host, port, maxGenerations });
        printResult(
          ctx,
          {
            url: server.url,
            run: run?.dir ?? null,
            model: playground?.describe() ?? null,
          },
          () =>
            [
              `recalpaca web at ${server.url}`,
              `  run: ${run ? run.dir : "none (--run runs/<name> for the explorer and results)"}`,
              `  playground: ${playground ? describeModels(playground) : "no model (--llm <model>)"}`,
            ].join("\n"),
        );
        if (!LOOPBACK_HOSTS.includes(o.host))
          info(
            ctx,
            `warning: listening on ${o.host}, reachable from other machines; there is no authentication`,
          );
        info(ctx, "Ctrl-C stops.");
        await new Promise<void>((done) => signal.addEventListener("abort", () => done(), { once: true }));
        await server.close();
      },
      { quiet: ctx.quiet, stopping: "stopping the server", sigterm: true, stopIsSuccess: true },
    );
  } finally {
    for (const b of backends) await b.close();
  }
}

function describeModels(p: Playground): string {
  const d = p.describe();
  return d.tuned
    ? `${d.base}, tuned ${d.tuned} (adapter ${d.adapter?.path}, from ${d.adapter?.source})`
    : d.base;
}

export function register(program: Command): void {
  program
    .command("web")
    .description(
      "web app over one run: playground (base and tuned side by side), user explorer, results (loopback only by default)",
    )
    .option("--run <dir|name>", "the run folder (or a run's name under --runs-dir) to explore")
    .option("--runs-dir <dir>", "folder holding run folders", "runs")
    .option(
      "--llm <model>",
      "the playground's model: a .gguf file, a model name or an http(s) URL (default: the run's eval.llm)",
    )
    .option("--llm-model <name>", "model name on a remote server (default: the first it lists)")
    .option(
      "--lora <file[:scale]>",
      "the tuned model's LoRA adapter (default: the run's finetune/adapter.gguf)",
    )
    .option("--no-adapter", "no tuned model, even when the run has an adapter")
    .option("--port <n>", "TCP port (0 = any free one)", "8090")
    .option("--host <address>", "interface to bind", "127.0.0.1")
    .option("--max-generations <n>", "generations at once (running or waiting); more get HTTP 429", "4")
    .option("--threads <n>", "CPU threads for a .gguf model (default: all cores, never more)")
    .option(
      "--context-size <n>",
      "context size in tokens for a .gguf model (default: the model's, at most 4096)",
    )
    .option("--gpu", "use a GPU for a .gguf model (default: CPU only)")
    .action(async (_opts: unknown, cmd: Command) => web(cmd));
}
