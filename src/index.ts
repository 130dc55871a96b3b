/**
 * The package's root entry, `import … from "recalpaca"`: the shared primitives every module uses (typed
 * errors with exit codes, the seeded RNG, progress events, folders, atomic writes). Each module of
 * DESIGN.md has its own entry, its `index.ts`: `recalpaca/data`, `recalpaca/recsys`, `recalpaca/llm`,
 * `recalpaca/eval`, … (package.json `exports`).
 */
export * from "./core/index.js";
