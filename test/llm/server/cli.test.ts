import type { ChildProcess } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CliOptions, runCli } from "../../support/cli.js";
import { lacks, modelPath } from "../../support/env.js";

const run = (args: string[], watch?: CliOptions["watch"]) => runCli(args, { env: { CI: undefined }, watch });

/** node-llama-cpp's CUDA or Vulkan builds are installed (RECALPACA_GPU=1 npm ci). */
const GPU_BUILDS = (() => {
  const scope = join(process.cwd(), "node_modules", "@node-llama-cpp");
  return existsSync(scope) && readdirSync(scope).some((n) => /-(cuda|cuda-ext|vulkan)$/.test(n));
})();

let serve: ChildProcess | undefined;
afterAll(() => {
  serve?.kill("SIGKILL");
});

describe.skipIf(lacks("stories260K"))("recalpaca llm serve / generate", () => {
  it("serves a GGUF on a loopback port; generate through the URL equals generate on the file", async () => {
    const gguf = modelPath("stories260K.gguf");
    let proc: ChildProcess | undefined;
    const served = run(
      [
        "--json",
        "llm",
        "serve",
        "--gguf",
        gguf,
        "--port",
        "0",
        "--threads",
        "1",
        "--queue",
        "2",
        "--parallel",
        "2",
      ],
      (child) => {
        proc = serve = child;
      },
    );
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      proc?.stdout?.on("data", (c) => {
        out += c;
        const m = /"url":\s*"([^"]+)"/.exec(out);
        if (m) resolve(m[1] as string);
      });
      served.then((r) => reject(new Error(`serve exited with ${r.code}: ${r.stderr}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const health = (await (await fetch(url.replace(/\/v1$/, "/health"))).json()) as { parallel: number };
    expect(health.parallel).toBe(2);

    const args = ["--prompt", "Once upon a time", "--template", "raw", "--max-tokens", "25"];
    const [viaUrl, local] = await Promise.all([
      run(["--json", "llm", "generate", "--llm", url, ...args]),
      run(["--json", "llm", "generate", "--llm", gguf, "--threads", "1", ...args]),
    ]);
    expect(viaUrl.code, viaUrl.stderr).toBe(0);
    expect(local.code, local.stderr).toBe(0);
    const a = JSON.parse(viaUrl.stdout) as {
      text: string;
      model: string;
      usage: { completionTokens: number };
    };
    const b = JSON.parse(local.stdout) as { text: string; model: string; finishReason: string };
    expect(a.text).toBe(b.text);
    expect(a.text).toMatch(/^, there was a little girl/);
    expect(a.model).toBe("stories260K");
    expect(a.usage.completionTokens).toBe(25);
    expect(b.finishReason).toBe("length");

    proc?.kill("SIGINT");
    expect((await served).code).toBe(0);
    serve = undefined;
  });

  it("streams plain text to the terminal and reports usage on stderr", async () => {
    const r = await run([
      "llm",
      "generate",
      "--llm",
      modelPath("stories260K.gguf"),
      "--threads",
      "1",
      "--prompt",
      "Once upon a time",
      "--template",
      "raw",
      "--max-tokens",
      "10",
      "--stop",
      "Lily",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(", there was a little girl named \n");
    expect(r.stderr).toMatch(/stories260K: 5 prompt \+ \d+ generated tokens, .* finish: stop/);
  });

  it("exits 2 with a clear message on bad options, 4 on a missing model", async () => {
    const [bad, missing, badParallel] = await Promise.all([
      run([
        "llm",
        "generate",
        "--llm",
        modelPath("stories260K.gguf"),
        "--prompt",
        "x",
        "--temperature",
        "-1",
      ]),
      run(["llm", "generate", "--llm", "/nope/model.gguf", "--prompt", "x"]),
      run(["llm", "generate", "--llm", modelPath("stories260K.gguf"), "--prompt", "x", "--parallel", "0"]),
    ]);
    expect(badParallel.code).toBe(2);
    expect(badParallel.stderr).toMatch(/--parallel/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--temperature must be a number/);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/no such file/);
  });

  // Without node-llama-cpp's GPU builds (left out by default) --gpu must fail, not run on the CPU.
  it.skipIf(GPU_BUILDS)(
    "--gpu without a GPU build fails with a clear message instead of using the CPU",
    async () => {
      const r = await run([
        "llm",
        "generate",
        "--llm",
        modelPath("stories260K.gguf"),
        "--prompt",
        "x",
        "--gpu",
      ]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/no GPU backend loaded.*RECALPACA_GPU=1 npm ci/);
      expect(r.stdout).toBe("");
    },
  );
});
