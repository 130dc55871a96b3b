import { execFileSync } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { GitState } from "./manifest.js";

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

let git: { state: GitState | undefined } | undefined;

/**
 * The git commit recalpaca's own code runs from, with whether tracked files differ from it; undefined
 * when the code is not a git checkout of its own (an installed package, a tarball) or git is missing.
 * Asked once per process.
 */
export function gitState(): GitState | undefined {
  git ??= { state: gitStateOf(fileURLToPath(new URL("../../", import.meta.url))) };
  return git.state;
}

/** The git state of the checkout whose top folder is `root`; undefined when `root` is not one. */
export function gitStateOf(root: string): GitState | undefined {
  const run = (args: string[]) =>
    execFileSync("git", ["-C", root, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 5000,
    }).trim();
  try {
    // Only the code's own checkout: a package installed inside some other repository is not one.
    if (realpathSync(run(["rev-parse", "--show-toplevel"])) !== realpathSync(root)) return undefined;
    const commit = run(["rev-parse", "HEAD"]);
    if (!/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
    return { commit, dirty: run(["status", "--porcelain", "--untracked-files=no"]).length > 0 };
  } catch {
    return undefined;
  }
}
