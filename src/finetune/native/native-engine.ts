import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  DataFormatError,
  InterruptedError,
  type ProgressCallback,
  Rng,
  requireIntAtLeast,
  throwIfInterrupted,
  UsageError,
  writeJsonAtomic,
} from "../../core/index.js";
import { DEQUANTISABLE_TYPES, type GgufFile, readGgufFile, writeLoraAdapter } from "../../llm/index.js";
import { type EncodedData, type EncodedExample, encodeExamples } from "../data/encode.js";
import { type Example, readExamples } from "../data/examples.js";
import { holdOut } from "../data/hold-out.js";
import type {
  ExportResult,
  FineTuneConfig,
  FineTuneEngine,
  ModelBackend,
  ModelBackendFactory,
  PreparedInfo,
  StepRecord,
  TrainableLoraModel,
  TrainResult,
} from "../engine.js";
import { createKernelRuntime } from "../kernels/index.js";
import { type LlamaConfig, llamaConfigOf } from "../model/llama-config.js";
import { LlamaLoraModel } from "../model/llama-lora-model.js";
import { checkTargets, loadLlamaWeights } from "../model/llama-weights.js";
import { LoraParams } from "../model/lora-params.js";
import { type AdamWSettings, adamwUpdate, learningRateAt } from "./adamw.js";
import {
  type AdamState,
  CHECKPOINT_FILE,
  type CheckpointMeta,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.js";
import { loadLlamaTokenizer } from "./llama-tokenizer.js";

interface Prepared {
  file: GgufFile;
  cfg: LlamaConfig;
  backend: ModelBackend;
  model: TrainableLoraModel;
  lora: LoraParams;
  adam: AdamState;
  train: EncodedData;
  val: EncodedExample[];
  info: PreparedInfo;
  runKey: string;
  dataHash: string;
  adamw: AdamWSettings;
  evalEvery: number;
  state: CheckpointMeta;
  trainTimeMs: number;
}

export function validateConfig(c: FineTuneConfig): void {
  requireIntAtLeast("--rank", c.r, 1);
  requireIntAtLeast("--epochs", c.epochs, 1);
  requireIntAtLeast("--batch", c.batch, 1);
  requireIntAtLeast("--micro-batch", c.microBatch, 1);
  requireIntAtLeast("--threads", c.threads, 1);
  requireIntAtLeast("--checkpoint-every", c.checkpointEvery, 0);
  requireIntAtLeast("warmup steps", c.warmupSteps, 0);
  if (c.batch % c.microBatch !== 0)
    throw new UsageError(`--batch (${c.batch}) must be a multiple of --micro-batch (${c.microBatch})`);
  if (!(c.alpha > 0)) throw new UsageError(`--alpha must be > 0, got ${c.alpha}`);
  if (!(c.dropout >= 0 && c.dropout < 1))
    throw new UsageError(`--dropout must be in [0, 1), got ${c.dropout}`);
  if (!(c.lr > 0)) throw new UsageError(`--lr must be > 0, got ${c.lr}`);
  if (c.cutoff !== undefined) requireIntAtLeast("--cutoff", c.cutoff, 2);
  if (c.evalEvery !== undefined) requireIntAtLeast("eval interval", c.evalEvery, 1);
  checkTargets(c.targets);
  if (!c.val && !(c.valFraction > 0 && c.valFraction < 1))
    throw new UsageError(`validation fraction must be in (0, 1), got ${c.valFraction}`);
}

/** The `native` engine's model: LlamaLoraModel on the WebAssembly SIMD (or TypeScript) kernels. */
const wasmModelBackend: ModelBackendFactory = {
  engine: "native",
  validate(c) {
    if (c.kernels !== undefined && c.kernels !== "wasm" && c.kernels !== "ts")
      throw new UsageError(`--kernels ${c.kernels} is not available in the native engine (wasm or ts)`);
    if (c.compute !== "f32") throw new UsageError("--compute bf16 needs the ggml engine (--engine ggml)");
    if (c.gpu) throw new UsageError("--gpu needs the ggml engine (--engine ggml)");
  },
  async create({ file, cfg, lora, config: c }) {
    for (const t of file.tensors) {
      const needed =
        t.name.startsWith("blk.") ||
        ["token_embd.weight", "output.weight", "output_norm.weight"].includes(t.name);
      if (needed && !DEQUANTISABLE_TYPES.includes(t.type.name)) {
        throw new DataFormatError(
          { file: c.base, field: t.name },
          `weights of type ${t.type.name} are not supported by the native engine (supported: ${DEQUANTISABLE_TYPES.join(", ")}); use an F16, BF16 or Q8_0 GGUF, or the ggml engine`,
        );
      }
    }
    const kernels = c.kernels === "ts" ? "ts" : "wasm";
    const runtime = await createKernelRuntime(kernels, c.threads);
    const weights = loadLlamaWeights(file, cfg, runtime.alloc);
    const model = new LlamaLoraModel(cfg, weights, lora, runtime.kern, Float32Array, c.seed, {
      scratch: runtime.scratch,
    });
    return {
      model,
      device:
        kernels === "wasm" ? `WebAssembly SIMD, ${c.threads} thread(s)` : "TypeScript reference kernels",
      dispose: () => runtime.dispose(),
    };
  },
};

function sha256(...parts: Array<string | Uint8Array>): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

/**
 * The training loop every engine shares: LoRA on a llama-architecture GGUF model, with the model from a
 * ModelBackendFactory (default: the `native` engine, forward/backward in TypeScript with WebAssembly SIMD
 * GEMM kernels on worker threads; the `ggml` engine passes its own). Deterministic for a given config and
 * seed: data order per epoch and dropout masks per (step, example) come from named sub-seeds, so a resumed
 * run repeats an uninterrupted one bit for bit.
 */
export class NativeFineTuneEngine implements FineTuneEngine {
  readonly name: string;
  private p: Prepared | undefined;
  private result: TrainResult | undefined;

  constructor(
    readonly config: FineTuneConfig,
    private readonly backendFactory: ModelBackendFactory = wasmModelBackend,
  ) {
    validateConfig(config);
    backendFactory.validate(config);
    this.name = backendFactory.engine;
  }

  get device(): string {
    return this.p?.backend.device ?? "";
  }

  async prepare(): Promise<PreparedInfo> {
    const c = this.config;
    const file = readGgufFile(c.base);
    const cfg = llamaConfigOf(file);
    const trainRaw = readExamples(c.data);
    let trainEx: Example[] = trainRaw;
    let valEx: Example[];
    if (c.val) {
      valEx = readExamples(c.val);
    } else {
      ({ train: trainEx, validation: valEx } = holdOut(trainRaw, c.valFraction, c.seed, c.data));
    }
    const contextLength =
      typeof file.metadata["llama.context_length"] === "number"
        ? (file.metadata["llama.context_length"] as number)
        : undefined;
    const tokenizer = await loadLlamaTokenizer(c.base);
    let train: EncodedData;
    let val: EncodedData;
    try {
      // One cutoff for both sets: the longest example of either, unless given.
      const probe = encodeExamples([...trainEx, ...valEx], tokenizer, c.cutoff, contextLength, c.template);
      train = encodeExamples(trainEx, tokenizer, probe.cutoff, contextLength, c.template);
      val = encodeExamples(valEx, tokenizer, probe.cutoff, contextLength, c.template);
    } finally {
      await tokenizer.dispose();
    }
    const warnings: string[] = [];
    if (train.truncated > 0) {
      warnings.push(
        `cutoff ${train.cutoff} truncates ${train.truncated} of ${train.examples.length} training examples, losing ${train.lostResponseTokens} of ${train.totalResponseTokens} response tokens (longest example: ${train.longest} tokens)`,
      );
    }
    const lora = new LoraParams(
      cfg,
      { r: c.r, alpha: c.alpha, dropout: c.dropout, targets: c.targets },
      Float32Array,
    );
    lora.initialise(new Rng(c.seed, "finetune/lora-init"));
    const backend = await this.backendFactory.create({ file, cfg, lora, config: c });
    const model = backend.model;
    const adam: AdamState = {
      mA: lora.pairs.map((p) => new Float32Array(p.a.length)),
      vA: lora.pairs.map((p) => new Float32Array(p.a.length)),
      mB: lora.pairs.map((p) => new Float32Array(p.b.length)),
      vB: lora.pairs.map((p) => new Float32Array(p.b.length)),
    };
    const stepsPerEpoch = Math.ceil(train.examples.length / c.batch);
    const totalSteps = stepsPerEpoch * c.epochs;
    const dataHash = sha256(readFileSync(c.data), c.val ? readFileSync(c.val) : "");
    const {
      threads: _t,
      kernels: _k,
      gpu: _g,
      checkpointEvery: _ce,
      resume: _r,
      maxSteps: _m,
      outDir: _o,
      ...keyed
    } = c;
    const runKey = sha256(
      JSON.stringify(keyed),
      dataHash,
      String(file.fileSize),
      JSON.stringify(file.metadata["general.name"] ?? ""),
    );
    const info: PreparedInfo = {
      trainExamples: train.examples.length,
      valExamples: val.examples.length,
      cutoff: train.cutoff,
      truncatedExamples: train.truncated,
      lostResponseTokens: train.lostResponseTokens,
      trainResponseTokens: train.totalResponseTokens - train.lostResponseTokens,
      stepsPerEpoch,
      totalSteps,
      loraParameters: lora.parameterCount,
      warnings,
    };
    let state: CheckpointMeta = {
      runKey,
      completedSteps: 0,
      steps: [],
      evals: [],
      bestValLoss: null,
      evalsWithoutImprovement: 0,
      trainSeconds: 0,
      trainTokens: 0,
    };
    if (c.resume) state = loadCheckpoint(this.checkpointPath, runKey, lora, adam);
    this.p = {
      file,
      cfg,
      backend,
      model,
      lora,
      adam,
      train,
      val: val.examples,
      info,
      runKey,
      dataHash,
      adamw: {
        lr: c.lr,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weightDecay: c.weightDecay,
        warmupSteps: c.warmupSteps,
        totalSteps,
      },
      evalEvery: c.evalEvery ?? Math.max(1, Math.round(totalSteps / 10)),
      state,
      trainTimeMs: 0,
    };
    return info;
  }

  get checkpointPath(): string {
    return join(this.config.outDir, CHECKPOINT_FILE);
  }

  private prepared(): Prepared {
    if (!this.p) throw new Error("call prepare() first");
    return this.p;
  }

  /** Mean cross-entropy per response token over the validation set (no dropout). */
  validationLoss(): number {
    const p = this.prepared();
    let sum = 0;
    let count = 0;
    for (const ex of p.val) {
      const r = p.model.loss(ex);
      sum += r.sum;
      count += r.count;
    }
    return sum / Math.max(1, count);
  }

  private epochOrder(epoch: number): number[] {
    const n = this.prepared().train.examples.length;
    return new Rng(this.config.seed, `finetune/order/${epoch}`).shuffle(
      Array.from({ length: n }, (_, i) => i),
    );
  }

  async train(onProgress?: ProgressCallback, signal?: AbortSignal): Promise<TrainResult> {
    const p = this.prepared();
    const c = this.config;
    const s = p.state;
    const resumedFromStep = s.completedSteps;
    const total = p.info.totalSteps;
    const stopAt = c.maxSteps !== undefined ? Math.min(total, s.completedSteps + c.maxSteps) : total;
    let stoppedEarly = false;
    let orderEpoch = -1;
    let order: number[] = [];
    const started = performance.now();
    let sessionTokens = 0;
    const checkpoint = () => {
      s.trainSeconds += (performance.now() - lastMark) / 1000;
      lastMark = performance.now();
      saveCheckpoint(this.checkpointPath, p.lora, p.adam, s);
      // said after the file is in place: a process killed from here on resumes from this step
      onProgress?.({ stage: "finetune/checkpoint", done: s.completedSteps, total, unit: "step" });
    };
    let lastMark = started;
    while (s.completedSteps < stopAt) {
      const step = s.completedSteps;
      const epoch = Math.floor(step / p.info.stepsPerEpoch);
      if (epoch !== orderEpoch) {
        order = this.epochOrder(epoch);
        orderEpoch = epoch;
      }
      const within = step % p.info.stepsPerEpoch;
      const batch = order.slice(within * c.batch, (within + 1) * c.batch).map((i) => p.train.examples[i]);
      const targets = batch.reduce((a, ex) => a + ex.responseTokens, 0);
      const tokens = batch.reduce((a, ex) => a + ex.tokens.length, 0);
      const t0 = performance.now();
      p.lora.zeroGrad();
      p.model.training = true;
      let lossSum = 0;
      for (let i = 0; i < batch.length; i++) {
        if (signal?.aborted) {
          checkpoint();
          throw new InterruptedError(
            `fine-tuning interrupted at step ${step}; checkpoint saved to ${this.checkpointPath} (continue with --resume)`,
          );
        }
        p.model.dropoutKey = `${step}/${i}`;
        lossSum += p.model.forwardBackward(batch[i], 1 / targets).sum;
        // let signal handlers run between sequences
        if (signal) await new Promise<void>((r) => setImmediate(r));
      }
      p.model.training = false;
      const lr = learningRateAt(p.adamw, step);
      p.lora.pairs.forEach((pair, i) => {
        adamwUpdate(pair.a, pair.gradA, p.adam.mA[i], p.adam.vA[i], p.adamw, lr, step + 1);
        adamwUpdate(pair.b, pair.gradB, p.adam.mB[i], p.adam.vB[i], p.adamw, lr, step + 1);
      });
      const seconds = (performance.now() - t0) / 1000;
      const rec: StepRecord = { step: step + 1, epoch, lr, loss: lossSum / targets, tokens, seconds };
      s.steps.push(rec);
      s.completedSteps = step + 1;
      s.trainTokens += tokens;
      sessionTokens += tokens;
      const metrics: Record<string, number> = {
        loss: rec.loss,
        "tokens/s": Math.round(sessionTokens / ((performance.now() - started) / 1000)),
      };
      if (s.completedSteps % p.evalEvery === 0 || s.completedSteps === total) {
        const valLoss = this.validationLoss();
        s.evals.push({ step: s.completedSteps, valLoss });
        metrics.valLoss = valLoss;
        if (s.bestValLoss === null || valLoss < s.bestValLoss) {
          s.bestValLoss = valLoss;
          s.evalsWithoutImprovement = 0;
        } else {
          s.evalsWithoutImprovement++;
          if (c.earlyStoppingPatience !== undefined && s.evalsWithoutImprovement >= c.earlyStoppingPatience)
            stoppedEarly = true;
        }
      }
      onProgress?.({ stage: "finetune/train", done: s.completedSteps, total, unit: "step", metrics });
      if (c.checkpointEvery > 0 && s.completedSteps % c.checkpointEvery === 0) checkpoint();
      if (stoppedEarly) break;
    }
    checkpoint();
    // Stopped during the last steps: the checkpoint holds everything, but the command was interrupted.
    throwIfInterrupted(
      signal,
      `fine-tuning interrupted at step ${s.completedSteps}; checkpoint saved to ${this.checkpointPath} (continue with --resume)`,
    );
    const sessionSeconds = (performance.now() - started) / 1000;
    this.result = {
      completedSteps: s.completedSteps,
      totalSteps: total,
      steps: s.steps,
      evals: s.evals,
      stoppedEarly,
      resumedFromStep,
      tokensPerSecond: sessionTokens / Math.max(1e-9, sessionSeconds),
    };
    return this.result;
  }

  /** Write adapter.gguf (llama.cpp LoRA format) and report.json into outDir. */
  async export(): Promise<ExportResult> {
    const p = this.prepared();
    const c = this.config;
    const adapterPath = join(c.outDir, "adapter.gguf");
    writeLoraAdapter(adapterPath, {
      baseArchitecture: "llama",
      alpha: c.alpha,
      tensors: p.lora.pairs.map((pair) => ({
        baseName: pair.baseName,
        a: pair.a as Float32Array,
        b: pair.b as Float32Array,
        nIn: pair.nIn,
        nOut: pair.nOut,
        r: c.r,
      })),
      metadata: [
        { key: "general.name", type: "string", value: "recalpaca LoRA" },
        { key: "training.steps", type: "u32", value: p.state.completedSteps },
        { key: "training.data_sha256", type: "string", value: p.dataHash },
      ],
    });
    const reportPath = join(c.outDir, "report.json");
    const { base, data, val, ...hyper } = c;
    writeJsonAtomic(reportPath, {
      engine: this.name,
      device: p.backend.device,
      base,
      data,
      val: val ?? null,
      config: hyper,
      model: p.cfg,
      dataSha256: p.dataHash,
      prepared: p.info,
      completedSteps: p.state.completedSteps,
      steps: p.state.steps,
      evals: p.state.evals,
      bestValLoss: p.state.bestValLoss,
      stoppedEarly: this.result?.stoppedEarly ?? false,
      timings: {
        trainSeconds: p.state.trainSeconds,
        trainTokens: p.state.trainTokens,
        tokensPerSecond: p.state.trainTokens / Math.max(1e-9, p.state.trainSeconds),
      },
      adapter: adapterPath,
    });
    return { adapterPath, reportPath };
  }

  async dispose(): Promise<void> {
    await this.p?.backend.dispose();
  }
}
