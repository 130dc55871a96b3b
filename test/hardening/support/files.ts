import { appendFileSync, cpSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

/** Every file under `root` (recursively) as relative path → "size:mtime", to compare before and after a run. */
export function fileTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out.set(relative(root, p), `${s.size}:${s.mtimeMs}`);
      }
    }
  };
  walk(root);
  return out;
}

/** Paths in `after` that are new or changed since `before`. */
export function changedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after].filter(([p, v]) => before.get(p) !== v).map(([p]) => p);
}

/** Every file under `root` with its bytes (for scanning artefacts). */
export function filesWithBytes(root: string): Array<{ path: string; bytes: Buffer }> {
  return [...fileTree(root).keys()].map((p) => ({ path: join(root, p), bytes: readFileSync(join(root, p)) }));
}

export function copyTree(src: string, dst: string): void {
  cpSync(src, dst, { recursive: true });
}

/** Rewrite a JSON file through `edit` (which may mutate its argument or return a replacement). */
// biome-ignore lint/suspicious/noExplicitAny: the edits reach into arbitrary JSON documents
export function editJson(path: string, edit: (v: any) => unknown): void {
  const v = JSON.parse(readFileSync(path, "utf8"));
  const next = edit(v);
  writeFileSync(path, JSON.stringify(next === undefined ? v : next));
}

export function appendText(path: string, text: string): void {
  appendFileSync(path, text);
}

/** Replace the first match of `from` in a text file. */
export function replaceText(path: string, from: string | RegExp, to: string): void {
  const text = readFileSync(path, "utf8");
  const next = text.replace(from, to);
  if (next === text) throw new Error(`${path}: nothing matched ${String(from)}`);
  writeFileSync(path, next);
}
