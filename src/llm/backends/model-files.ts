import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { MissingResourceError } from "../../core/index.js";

export interface ModelFileEntry {
  name: string;
  path: string;
  bytes: number;
}

/** The .gguf files directly in `dir`, sorted by name (an absent folder is an error naming it). */
export function listGgufFiles(dir: string): ModelFileEntry[] {
  if (!existsSync(dir))
    throw new MissingResourceError(
      `models folder ${dir} does not exist (set --models-dir or RECALPACA_MODELS_DIR)`,
    );
  return readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith(".gguf") && !f.startsWith("."))
    .sort()
    .map((name) => {
      const path = join(dir, name);
      return { name, path, bytes: statSync(path).size };
    })
    .filter((e) => statSync(e.path).isFile());
}
