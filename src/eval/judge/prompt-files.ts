import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MissingResourceError, UsageError } from "../../core/index.js";

/**
 * The judge's prompts are versioned files, `<name>-v<N>.md` (`rubric-v1.md`, `pairwise-v1.md`), read
 * at run time and shown with the results (name, version, SHA-256, text). They are found beside this
 * module (`./prompts/`), so a compiled build must copy `src/eval/judge/prompts/*.md` next to the
 * compiled `judge` folder; when it did not, the source tree above the build folder is tried too
 * (`dist/src/eval/judge` → `src/eval/judge/prompts`). A folder of one's own (`--judge-prompts`) is
 * read instead when given: the highest version of each prompt in it.
 *
 * Placeholders `{{name}}` are filled by `renderPrompt`; one without a value is an error.
 */

export type JudgePromptName = "rubric" | "pairwise";

export interface JudgePrompt {
  name: JudgePromptName;
  version: number;
  /** The file it was read from. */
  file: string;
  text: string;
  /** SHA-256 of the text, hex. */
  sha256: string;
}

/** Folders the built-in prompts may be in (see the module comment). */
export function builtInPromptDirs(): string[] {
  const here = fileURLToPath(new URL("./prompts/", import.meta.url));
  const fromBuild = fileURLToPath(new URL("../../../../src/eval/judge/prompts/", import.meta.url));
  return [...new Set([here, fromBuild])];
}

function versionsIn(dir: string, name: JudgePromptName): Array<{ version: number; file: string }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => ({ m: new RegExp(`^${name}-v(\\d+)\\.md$`).exec(f), f }))
    .filter((x): x is { m: RegExpExecArray; f: string } => x.m !== null)
    .map(({ m, f }) => ({ version: Number(m[1]), file: join(dir, f) }))
    .sort((a, b) => b.version - a.version);
}

/** The newest version of a prompt in `dir`, or in the built-in folders. */
export function loadJudgePrompt(name: JudgePromptName, dir?: string): JudgePrompt {
  const dirs = dir ? [dir] : builtInPromptDirs();
  for (const d of dirs) {
    const [newest] = versionsIn(d, name);
    if (!newest) continue;
    const text = readFileSync(newest.file, "utf8");
    return {
      name,
      version: newest.version,
      file: newest.file,
      text,
      sha256: createHash("sha256").update(text).digest("hex"),
    };
  }
  throw new MissingResourceError(
    dir
      ? `no judge prompt "${name}-v<N>.md" in ${dir}`
      : `the judge prompt "${name}-v1.md" is missing (looked in ${dirs.join(", ")}); a compiled build must copy src/eval/judge/prompts/*.md next to the compiled judge module`,
  );
}

/** Fill `{{key}}` placeholders. */
export function renderPrompt(prompt: JudgePrompt, values: Record<string, string>): string {
  return prompt.text.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_m, key: string) => {
    const v = values[key];
    if (v === undefined)
      throw new UsageError(
        `judge prompt ${prompt.file} uses {{${key}}}, which has no value (known: ${Object.keys(values).join(", ")})`,
      );
    return v;
  });
}
