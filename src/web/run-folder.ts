import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, extname, isAbsolute, join, relative, sep } from "node:path";
import type { z } from "zod";
import { REPORT_HTML } from "../analysis/index.js";
import { DataFormatError, MissingResourceError } from "../core/index.js";
import { HttpProblem } from "./http-problem.js";

/** Files of a run folder the API serves as they are (charts, reports, JSON), by extension. */
export const SERVED_TYPES: Readonly<Record<string, string>> = {
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".html": "text/html; charset=utf-8",
};

/** Longest relative path accepted in a request. */
export const MAX_RUN_PATH_CHARS = 300;

interface CacheEntry {
  mtimeMs: number;
  size: number;
  value: unknown;
}

/**
 * One run folder (`runs/<name>/`), read-only: its artefacts parsed on first use and again when the
 * file changes (a rerun while the server is up), and the one door to its files, which never opens
 * outside the folder (no `..`, no absolute paths, no hidden work folders, symbolic links resolved
 * before the check).
 */
export class RunFolder {
  /** The folder's real path (symbolic links resolved). */
  readonly dir: string;
  readonly name: string;
  private readonly cache = new Map<string, CacheEntry>();

  private constructor(dir: string) {
    this.dir = dir;
    this.name = basename(dir);
  }

  /** Open a run folder; one that is not there (or is a file) is a MissingResourceError naming it. */
  static open(dir: string): RunFolder {
    if (!existsSync(dir)) throw new MissingResourceError(`run folder ${dir} not found`);
    if (!statSync(dir).isDirectory()) throw new MissingResourceError(`run folder ${dir} is not a folder`);
    return new RunFolder(realpathSync(dir));
  }

  /** Finished stages: sub-folders with a manifest.json, in name order. */
  stages(): string[] {
    return readdirSync(this.dir)
      .filter((n) => !n.startsWith(".") && existsSync(join(this.dir, n, "manifest.json")))
      .sort();
  }

  /** Absolute path of a file of the run when it is there, else null (no request input reaches this). */
  artefact(rel: string): string | null {
    const p = join(this.dir, rel);
    return existsSync(p) && statSync(p).isFile() ? p : null;
  }

  /**
   * The absolute path of `rel`, a file inside the run folder that the API may serve. A malformed path
   * (absolute, `..`, NUL, backslashes, too long) is a 400 naming `field`; anything else that is not a
   * servable file inside the folder (missing, hidden, another type, a link out of it) is a 404.
   */
  resolveRequestPath(rel: string, field = "path"): string {
    if (rel.length === 0 || rel.length > MAX_RUN_PATH_CHARS)
      throw new HttpProblem(400, `${field} must be 1 to ${MAX_RUN_PATH_CHARS} characters`, field);
    if (rel.includes("\0") || rel.includes("\\"))
      throw new HttpProblem(400, `${field} must not contain NUL or backslashes`, field);
    if (isAbsolute(rel) || /^[a-zA-Z]:/.test(rel))
      throw new HttpProblem(400, `${field} must be relative to the run folder`, field);
    const parts = rel.split("/");
    if (parts.some((p) => p === ".." || p === "."))
      throw new HttpProblem(400, `${field} must not contain "." or ".." segments`, field);
    const notFound = () => new HttpProblem(404, `${rel}: no such file in run ${this.name}`, field);
    if (parts.some((p) => p === "" || p.startsWith("."))) throw notFound();
    if (!(extname(rel).toLowerCase() in SERVED_TYPES)) throw notFound();
    let real: string;
    try {
      real = realpathSync(join(this.dir, rel));
    } catch {
      throw notFound();
    }
    const inside = relative(this.dir, real);
    if (inside === "" || inside.startsWith(`..${sep}`) || inside === ".." || isAbsolute(inside))
      throw notFound();
    if (!statSync(real).isFile()) throw notFound();
    return real;
  }

  /** Parse a JSON artefact (null when absent); a broken file is a DataFormatError naming it. */
  json<S extends z.ZodTypeAny>(rel: string, schema: S): z.infer<S> | null {
    return this.cached(rel, (path, text) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw new DataFormatError({ file: path }, `not valid JSON (${(err as Error).message})`);
      }
      return check(schema, value, path, undefined);
    });
  }

  /**
   * Parse a JSONL artefact line by line (null when absent); a broken line is a DataFormatError naming it.
   * With `keep`, lines it turns down are skipped before they are checked.
   */
  jsonLines<S extends z.ZodTypeAny>(
    rel: string,
    schema: S,
    keep?: (value: unknown) => boolean,
  ): Array<z.infer<S>> | null {
    return this.cached(rel, (path, text) => {
      const out: Array<z.infer<S>> = [];
      text.split("\n").forEach((line, i) => {
        if (line.trim() === "") return;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (err) {
          throw new DataFormatError(
            { file: path, line: i + 1 },
            `not valid JSON (${(err as Error).message})`,
          );
        }
        if (!keep || keep(value)) out.push(check(schema, value, path, i + 1));
      });
      return out;
    });
  }

  /** A text artefact (null when absent). */
  text(rel: string): string | null {
    return this.cached(rel, (_path, text) => text);
  }

  /** Every SVG chart of the run (relative paths, stage order), hidden work folders left out. */
  charts(): string[] {
    const out: string[] = [];
    const walk = (relDir: string, depth: number) => {
      for (const entry of readdirSync(join(this.dir, relDir), { withFileTypes: true })) {
        if (entry.name.startsWith(".")) continue;
        const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
        if (entry.isDirectory() && depth < 3) walk(rel, depth + 1);
        else if (entry.isFile() && entry.name.toLowerCase().endsWith(".svg")) out.push(rel);
      }
    };
    walk("", 0);
    return out.sort();
  }

  /** The run's HTML report (relative path) when `recalpaca report` (or `recalpaca run`) has written one. */
  reportHtml(): string | null {
    return this.artefact(REPORT_HTML) !== null ? REPORT_HTML : null;
  }

  private cached<T>(rel: string, parse: (path: string, text: string) => T): T | null {
    const path = this.artefact(rel);
    if (path === null) return null;
    const st = statSync(path);
    const hit = this.cache.get(rel);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.value as T;
    const value = parse(path, readFileSync(path, "utf8"));
    this.cache.set(rel, { mtimeMs: st.mtimeMs, size: st.size, value });
    return value;
  }
}

function check<S extends z.ZodTypeAny>(schema: S, value: unknown, file: string, line: number | undefined) {
  const r = schema.safeParse(value);
  if (r.success) return r.data as z.infer<S>;
  const issue = r.error.issues[0];
  throw new DataFormatError(
    { file, ...(line !== undefined ? { line } : {}), field: issue?.path.join(".") ?? "" },
    issue?.message ?? "unexpected content",
  );
}
