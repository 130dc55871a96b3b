// The llm module's public surface: backend contract, prompt formats, backends, server, GGUF files, runner.

export * from "./backends/index.js";
export * from "./gguf/index.js";
export * from "./models/index.js";
export * from "./runner/index.js";
export * from "./server/index.js";
export * from "./setup.js";
export * from "./templates.js";
export * from "./types.js";
