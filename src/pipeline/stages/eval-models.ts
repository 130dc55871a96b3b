import { basename, join } from "node:path";
import type { EvalSection } from "../../config/index.js";
import { UsageError } from "../../core/index.js";
import { llmTarget, parseSystemSpec, type SystemDeps } from "../../eval/index.js";
import type { GenerationCache, OpenedLlm, OpenLlmOptions } from "../../llm/index.js";
import { ADAPTER_FILE, readFinetuneSummary } from "./finetune-stage.js";
import type { PipelineEnv } from "./load-data.js";

/** The models the eval stage's LLM systems run on, opened once for all of them. */
export interface EvalModels {
  deps: Pick<SystemDeps, "backend" | "tuning">;
  /** The generation cache every LLM system shares (in the stage's work folder). */
  cache: GenerationCache | undefined;
  concurrency: number | undefined;
  close(): Promise<void>;
}

/**
 * Open what the system specs need: the `eval.llm` model (llm, chatrec), and for `llm:base` / `llm:tuned`
 * the run's fine-tuning base model twice, without and with its LoRA adapter (llama.cpp's `loras`), with
 * the same context and threads. The tuned model's name carries the adapter's checksum, so its answers
 * never share cache entries with another adapter's. When `eval.llm` is the base model's file, the base
 * model serves both.
 */
export async function openEvalModels(
  e: EvalSection,
  env: PipelineEnv,
  specs: readonly string[],
  dirs: { workDir: string; finetuneDir: string },
  seed: number,
): Promise<EvalModels> {
  const targets = new Set(specs.map((s) => llmTarget(parseSystemSpec(s === "recsys" ? "recsys:model" : s))));
  const { openLlm, resolveModelRef } = await import("../../llm/index.js");
  const opened: OpenedLlm[] = [];
  const close = async () => {
    for (const o of opened.reverse()) await o.close();
  };
  // One cache for every model (the first opened owns it); the others open none.
  const open = async (o: OpenLlmOptions): Promise<OpenedLlm> => {
    const m = await openLlm({
      ...o,
      ...(e.threads ? { threads: e.threads } : {}),
      ...(e.contextSize ? { contextSize: e.contextSize } : {}),
      ...(e.parallel ? { parallel: e.parallel } : {}),
      cache: opened.length === 0 ? join(dirs.workDir, ".cache.sqlite") : false,
      seed,
    });
    opened.push(m);
    return m;
  };
  try {
    const deps: EvalModels["deps"] = {};
    let baseFile: string | undefined;
    if (targets.has("base") || targets.has("tuned")) {
      const summary = readFinetuneSummary(dirs.finetuneDir);
      if (!summary.configured)
        throw new UsageError(`llm:base and llm:tuned need a fine-tuned model: ${summary.reason}`);
      baseFile = await resolveModelRef(summary.base, {
        ...env,
        option: "experiment field finetune.base",
        allowUrl: false,
      });
      const base = await open({ llm: baseFile });
      const tuned = await open({
        llm: baseFile,
        llmModel: `${basename(baseFile).replace(/\.gguf$/i, "")}+lora-${summary.adapterSha256.slice(0, 12)}`,
        loras: [{ path: join(dirs.finetuneDir, ADAPTER_FILE), scale: 1 }],
      });
      deps.tuning = { base: base.backend, tuned: tuned.backend, format: summary.template };
    }
    if (targets.has("eval") && e.llm) {
      const file = await resolveModelRef(e.llm, { ...env, option: "experiment field eval.llm" });
      const same = file === baseFile && !e.llmModel && deps.tuning;
      deps.backend = same
        ? deps.tuning?.base
        : (await open({ llm: file, ...(e.llmModel ? { llmModel: e.llmModel } : {}) })).backend;
    }
    const first = opened[0];
    return { deps, cache: first?.cache, concurrency: first?.runner.concurrency, close };
  } catch (err) {
    await close();
    throw err;
  }
}
