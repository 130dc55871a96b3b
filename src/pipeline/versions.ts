import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** Versions recorded in every manifest: recalpaca itself, Node, and the packages results depend on. */
export function packageVersions(): Record<string, string> {
  const own = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  const out: Record<string, string> = { recalpaca: own.version, node: process.version };
  for (const dep of ["node-llama-cpp", "openai", "better-sqlite3", "vega-lite"]) {
    try {
      out[dep] = (require(`${dep}/package.json`) as { version: string }).version;
    } catch {
      // packages that restrict their exports map cannot be read this way; they are then not recorded
    }
  }
  return out;
}
