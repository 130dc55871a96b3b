import { UsageError } from "../../core/index.js";

/**
 * The curated list of small GGUF models `recalpaca llm models pull <name>` downloads, and that every
 * option taking a model path also accepts by name. Each entry pins one file at one hub commit, with the
 * size and SHA-256 (the file's Git LFS object id) the hub serves for it, so a download is checked
 * against values fixed here, not against whatever the hub says today.
 *
 * Where the values come from: each entry's comment names its sources, the hub's own pages for the file
 * ("Git LFS Details: SHA256") or public projects that pin the same revision, size and digest (several
 * agreeing wherever they could be found). `finetunable` follows the native engine's rule (README,
 * "Fine-tuning with LoRA on CPU"): `general.architecture = llama`, F32/F16/BF16/Q8_0 weights, plain RoPE.
 */
export interface RegistryModel {
  /** The name users type (matched case-insensitively), e.g. `smollm2-135m-instruct`. */
  name: string;
  /** One line for `llm models list`. */
  description: string;
  /** Hub repository, `owner/name`. */
  repo: string;
  /** The commit the file is pinned to (40 hex digits). */
  revision: string;
  /** Path of the file in the repository; it is saved under its last path segment. */
  file: string;
  /** Size in bytes. */
  size: number;
  /** SHA-256 of the file (lowercase hex), the hub's LFS object id for it. */
  sha256: string;
  /** Licence id as the hub shows it (`apache-2.0`, `mit`, `llama3.2`). */
  license: string;
  /** `general.architecture` of the GGUF file. */
  architecture: string;
  /** Weight type of the file (`Q8_0`, `F32`, `Q4_K_M`…). */
  quantization: string;
  /** Whether `recalpaca finetune --engine native` can train a LoRA adapter on it. */
  finetunable: boolean;
  /** Whether the file carries `tokenizer.chat_template` (otherwise chat requests use the Alpaca template). */
  chatTemplate: boolean;
  /** Why an entry that looks trainable is not, or another caveat. */
  note?: string;
}

export const MODEL_REGISTRY: readonly RegistryModel[] = [
  {
    // revision, size and digest pinned alike by several public projects (model catalogues, CI fixtures)
    name: "smollm2-135m-instruct",
    description:
      "SmolLM2 135M Instruct, Q8_0: the smallest useful instruct model; fine-tunable on a laptop CPU",
    repo: "unsloth/SmolLM2-135M-Instruct-GGUF",
    revision: "9e6855bc4be717fca1ef21360a1db4b29d5c559a",
    file: "SmolLM2-135M-Instruct-Q8_0.gguf",
    size: 144_811_072,
    sha256: "c4a3dd037301b6ecea31d6da37f5cd793ead920dd5ddfe6d589294628d6ce66a",
    license: "apache-2.0",
    architecture: "llama",
    quantization: "Q8_0",
    finetunable: true,
    chatTemplate: true,
  },
  {
    // digest on the hub's page for the file; revision (the repository's head) and size pinned alike by several projects
    name: "smollm2-360m-instruct",
    description: "SmolLM2 360M Instruct, Q8_0 (the official HuggingFaceTB GGUF)",
    repo: "HuggingFaceTB/SmolLM2-360M-Instruct-GGUF",
    revision: "593b5a2e04c8f3e4ee880263f93e0bd2901ad47f",
    file: "smollm2-360m-instruct-q8_0.gguf",
    size: 386_404_992,
    sha256: "48ab3034d0dd401fbc721eb1df3217902fee7dab9078992d66431f09b7750201",
    license: "apache-2.0",
    architecture: "llama",
    quantization: "Q8_0",
    finetunable: true,
    chatTemplate: true,
  },
  {
    // revision, size and digest pinned alike by several public projects
    name: "qwen2.5-0.5b-instruct",
    description: "Qwen2.5 0.5B Instruct, Q4_K_M (the official Qwen GGUF): inference only",
    repo: "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
    revision: "9217f5db79a29953eb74d5343926648285ec7e67",
    file: "qwen2.5-0.5b-instruct-q4_k_m.gguf",
    size: 491_400_032,
    sha256: "74a4da8c9fdbcd15bd1f6d01d621410d31c6fc00986f5eb687824e7b93d7a9db",
    license: "apache-2.0",
    architecture: "qwen2",
    quantization: "Q4_K_M",
    finetunable: false,
    chatTemplate: true,
    note: "qwen2 architecture and Q4_K weights: the native engine trains llama models only",
  },
  {
    // revision, size and digest pinned alike by several projects; chat template seen in a llama.cpp load log
    name: "tinyllama-1.1b-chat",
    description: "TinyLlama 1.1B Chat v1.0, Q4_K_M (TheBloke's GGUF): inference only",
    repo: "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF",
    revision: "52e7645ba7c309695bec7ac98f4f005b139cf465",
    file: "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf",
    size: 668_788_096,
    sha256: "9fecc3b3cd76bba89d504f29b616eedf7da85b96540e490ca5824d3f7d2776a0",
    license: "apache-2.0",
    architecture: "llama",
    quantization: "Q4_K_M",
    finetunable: false,
    chatTemplate: true,
    note: "Q4_K weights: the native engine needs F32, F16, BF16 or Q8_0",
  },
  {
    // revision pinned by many projects; this file's size and digest at it agree across four public sources
    name: "llama-3.2-1b-instruct",
    description: "Llama 3.2 1B Instruct, Q8_0 (bartowski's GGUF; Llama 3.2 Community License)",
    repo: "bartowski/Llama-3.2-1B-Instruct-GGUF",
    revision: "067b946cf014b7c697f3654f621d577a3e3afd1c",
    file: "Llama-3.2-1B-Instruct-Q8_0.gguf",
    size: 1_321_083_008,
    sha256: "432f310a77f4650a88d0fd59ecdd7cebed8d684bafea53cbff0473542964f0c3",
    license: "llama3.2",
    architecture: "llama",
    quantization: "Q8_0",
    finetunable: false,
    chatTemplate: true,
    note: "Llama 3 RoPE frequency scaling (rope_freqs), which the native engine does not implement",
  },
  {
    // Nix pins of this URL; size and digest equal the shared test copy (../shared/models/README.md)
    name: "stories260k",
    description:
      "stories260K (llama2.c TinyStories, F32, 1.2 MB): the tiny test model; writes stories, follows no instructions",
    repo: "ggml-org/models-moved",
    revision: "499bc8821c6b12b4e53c5bffcb21ec206f212d81",
    file: "tinyllamas/stories260K.gguf",
    size: 1_185_376,
    sha256: "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d",
    license: "mit",
    architecture: "llama",
    quantization: "F32",
    finetunable: true,
    chatTemplate: false,
  },
  {
    // Nix pin of this URL (sha256-ZpZ/vs5t…, the digest below) and a document listing its size
    name: "stories15m",
    description: "stories15M (llama2.c TinyStories, Q4_0, 19 MB): a larger story model for plumbing tests",
    repo: "ggml-org/models-moved",
    revision: "499bc8821c6b12b4e53c5bffcb21ec206f212d81",
    file: "tinyllamas/stories15M-q4_0.gguf",
    size: 19_077_344,
    sha256: "66967fbece6dbe97886593fdbb73589584927e29119ec31f08090732d1861739",
    license: "mit",
    architecture: "llama",
    quantization: "Q4_0",
    finetunable: false,
    chatTemplate: false,
    note: "Q4_0 weights: the native engine needs F32, F16, BF16 or Q8_0",
  },
];

/** The entry `name` names, or a usage error (exit 2) listing the known names. */
export function requireRegistryModel(
  name: string,
  registry: readonly RegistryModel[] = MODEL_REGISTRY,
): RegistryModel {
  const entry = findRegistryModel(name, registry);
  if (!entry) throw new UsageError(`unknown model "${name}"; ${knownModels(registry)}`);
  return entry;
}

/** "known models: a, b, c (…)", for messages. */
export function knownModels(registry: readonly RegistryModel[] = MODEL_REGISTRY): string {
  return `known models: ${registry.map((e) => e.name).join(", ")} (\`recalpaca llm models list\`)`;
}

/** The name a registry file is saved under: the last segment of its path in the repository. */
export function registryFileName(entry: RegistryModel): string {
  return entry.file.slice(entry.file.lastIndexOf("/") + 1);
}

/**
 * The entry `ref` names: its name (any case), or the file name it is saved under, so
 * `--llm stories260K.gguf` finds the registry's stories260K when no such file is on disk yet.
 */
export function findRegistryModel(
  ref: string,
  registry: readonly RegistryModel[] = MODEL_REGISTRY,
): RegistryModel | undefined {
  const key = ref.toLowerCase();
  return (
    registry.find((e) => e.name.toLowerCase() === key) ??
    registry.find((e) => registryFileName(e).toLowerCase() === key)
  );
}
