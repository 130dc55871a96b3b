import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode, MissingResourceError, UsageError } from "../../../src/core/index.js";
import {
  findRegistryModel,
  locateModelRef,
  MODEL_REGISTRY,
  type ModelRefOptions,
  type RegistryModel,
  registryFileName,
  resolveModelRef,
} from "../../../src/llm/models/index.js";
import { lacks, MODELS_DIR, modelPath } from "../../support/env.js";
import { type FakeHub, startFakeHub } from "./fake-hub.js";

const ENTRY: RegistryModel = {
  name: "Test-Stories",
  description: "stories260K served by the fake hub",
  repo: "test-org/tiny-models",
  revision: "e".repeat(40),
  file: "tinyllamas/stories260K.gguf",
  size: 1_185_376,
  sha256: "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d",
  license: "mit",
  architecture: "llama",
  quantization: "F32",
  finetunable: true,
  chatTemplate: false,
};
const OTHER: RegistryModel = { ...ENTRY, name: "other-model", file: "other.gguf" };

const thrown = (f: () => unknown): Error => {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error("did not throw");
};

describe("the shipped registry", () => {
  it("pins every file to a commit with a size and a SHA-256, under unique names and file names", () => {
    for (const e of MODEL_REGISTRY) {
      expect(e.revision, e.name).toMatch(/^[0-9a-f]{40}$/);
      expect(e.sha256, e.name).toMatch(/^[0-9a-f]{64}$/);
      expect(Number.isSafeInteger(e.size) && e.size > 0, e.name).toBe(true);
      expect(e.file, e.name).toMatch(/\.gguf$/);
      expect(e.repo, e.name).toMatch(/^[\w.-]+\/[\w.-]+$/);
      // the native engine's rule (README): llama architecture with F32/F16/BF16/Q8_0 weights
      if (e.finetunable) {
        expect(e.architecture).toBe("llama");
        expect(["F32", "F16", "BF16", "Q8_0"]).toContain(e.quantization);
      }
    }
    const names = MODEL_REGISTRY.map((e) => e.name.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
    const files = MODEL_REGISTRY.map((e) => registryFileName(e).toLowerCase());
    expect(new Set(files).size).toBe(files.length);
  });

  it("has the test model with the digest of the shared copy", () => {
    const e = findRegistryModel("stories260K.gguf");
    expect(e?.name).toBe("stories260k");
    expect(e?.sha256).toBe("270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d");
    expect(e?.size).toBe(1_185_376);
  });
});

describe("locateModelRef / resolveModelRef", () => {
  let root: string;
  let opts: ModelRefOptions;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "models-resolve-"));
    opts = { modelsDir: join(root, "models"), cacheDir: join(root, "cache"), registry: [ENTRY, OTHER] };
    mkdirSync(join(root, "models"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("passes URLs through, unless the option takes local files only", () => {
    expect(locateModelRef("http://127.0.0.1:8080/v1", opts)).toEqual({
      kind: "url",
      url: "http://127.0.0.1:8080/v1",
    });
    const err = thrown(() => locateModelRef("https://x/v1", { ...opts, option: "--base", allowUrl: false }));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe("--base takes a local .gguf file or a model name, not a URL (https://x/v1)");
  });

  it("an unknown name exits 2 listing the known ones; a missing .gguf file exits 4", () => {
    const unknown = thrown(() => locateModelRef("smollm9", opts));
    expect(unknown).toBeInstanceOf(UsageError);
    expect((unknown as UsageError).exitCode).toBe(ExitCode.usage);
    expect(unknown.message).toBe(
      "--llm smollm9: not a file and not a known model; known models: Test-Stories, other-model (`recalpaca llm models list`)",
    );
    const missing = thrown(() => locateModelRef("nothing-here.gguf", { ...opts, option: "--gguf" }));
    expect(missing).toBeInstanceOf(MissingResourceError);
    expect((missing as MissingResourceError).exitCode).toBe(ExitCode.missing);
    expect(missing.message).toContain(
      `--gguf nothing-here.gguf: no such file (looked in the current folder and ${join(root, "models")})`,
    );
    expect(missing.message).toContain("known models: Test-Stories, other-model");
    expect(thrown(() => locateModelRef("sub/dir/x.gguf", opts))).toBeInstanceOf(MissingResourceError);
    expect(thrown(() => locateModelRef(root, opts)).message).toMatch(/is a folder, not a model file/);
  });

  it("finds registry models by name (any case) or by their file name, where they would be downloaded", () => {
    for (const ref of ["test-stories", "TEST-STORIES", "stories260K.gguf"]) {
      expect(locateModelRef(ref, opts)).toEqual({
        kind: "registry",
        entry: ENTRY,
        path: join(root, "models", "stories260K.gguf"),
        present: false,
      });
    }
    const noModelsDir = locateModelRef("test-stories", { ...opts, modelsDir: undefined });
    expect(noModelsDir).toMatchObject({ path: join(root, "cache", "models", "stories260K.gguf") });
  });
});

describe.skipIf(lacks("stories260K", "llama-2-tiny-random"))("resolveModelRef with the shared models", () => {
  let root: string;
  let opts: ModelRefOptions;
  let hub: FakeHub;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "models-resolve-"));
    opts = { modelsDir: join(root, "models"), cacheDir: join(root, "cache"), registry: [ENTRY, OTHER] };
    mkdirSync(join(root, "models"));
    hub = await startFakeHub([
      {
        repo: ENTRY.repo,
        revision: ENTRY.revision,
        path: ENTRY.file,
        bytes: readFileSync(modelPath("stories260K.gguf")),
      },
    ]);
  });
  afterAll(async () => {
    await hub.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("a bare file name is looked up in --models-dir when it is not a path that exists", async () => {
    const shared = { ...opts, modelsDir: MODELS_DIR };
    expect(locateModelRef("llama-2-tiny-random.gguf", shared)).toEqual({
      kind: "file",
      path: join(MODELS_DIR as string, "llama-2-tiny-random.gguf"),
    });
    // a file on disk wins over the registry entry saved under the same name
    expect(await resolveModelRef("stories260K.gguf", shared)).toBe(modelPath("stories260K.gguf"));
    expect(hub.log).toEqual([]);
  });

  it("a registry name is downloaded on first use, then found without the network", async () => {
    const o = { ...opts, endpoint: hub.endpoint };
    const path = await resolveModelRef("test-stories", o);
    expect(path).toBe(join(root, "models", "stories260K.gguf"));
    expect(hub.log.map((l) => l.server)).toEqual(["hub", "cdn"]);
    hub.log.length = 0;
    expect(locateModelRef("Test-Stories", o)).toMatchObject({ kind: "registry", present: true });
    expect(await resolveModelRef("test-stories", o)).toBe(path);
    expect(hub.log).toEqual([]);
    // and its file name now names the file itself
    expect(locateModelRef("stories260K.gguf", o)).toEqual({ kind: "file", path });
  });

  it("an existing path is used as it is", async () => {
    const copy = join(root, "copy.gguf");
    copyFileSync(modelPath("stories260K.gguf"), copy);
    expect(await resolveModelRef(copy, opts)).toBe(copy);
  });
});
