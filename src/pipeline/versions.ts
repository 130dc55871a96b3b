import { readFileSync } from "node:fs";

function versionOf(packageJson: URL): string | undefined {
  try {
    return (JSON.parse(readFileSync(packageJson, "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** Versions recorded in every manifest: recalpaca itself, Node, and the packages results depend on. */
export function packageVersions(): Record<string, string> {
  const root = new URL("../../", import.meta.url);
  const out: Record<string, string> = {
    recalpaca: versionOf(new URL("package.json", root)) ?? "unknown",
    node: process.version,
  };
  for (const dep of ["node-llama-cpp", "openai", "better-sqlite3", "vega-lite", "@resvg/resvg-js"]) {
    const v = versionOf(new URL(`node_modules/${dep}/package.json`, root));
    if (v) out[dep] = v;
  }
  return out;
}
