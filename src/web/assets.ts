import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MissingResourceError } from "../core/index.js";

/** Content types of the page files (HTML, build-free JS modules, CSS). */
const ASSET_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

export interface Asset {
  type: string;
  body: Uint8Array;
}

/** The page files every server must find (a missing one means a broken install). */
const REQUIRED_ASSETS = ["playground.html", "explorer.html", "results.html", "app.css", "common.js"];

/**
 * Where the page files are: `static/` beside this module (the sources, run through tsx; or a build that
 * copies `src/web/static` next to the compiled file), else `src/web/static` under the package root
 * (the folder holding recalpaca's package.json), so the compiled CLI in `dist/` finds them too.
 */
export function staticDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const tried = [join(here, "static")];
  for (let dir = here; ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && isRecalpacaPackage(pkg)) {
      tried.push(join(dir, "src", "web", "static"));
      break;
    }
    if (dirname(dir) === dir) break;
  }
  const found = tried.find((d) => existsSync(join(d, "playground.html")));
  if (!found)
    throw new MissingResourceError(
      `the web pages are not installed: looked for playground.html in ${tried.join(", ")}`,
    );
  return found;
}

function isRecalpacaPackage(path: string): boolean {
  try {
    return (JSON.parse(readFileSync(path, "utf8")) as { name?: unknown }).name === "recalpaca";
  } catch {
    return false;
  }
}

/**
 * Every page file, read once into memory and served by name only: a request names a file of this
 * fixed set, never a path, so nothing outside the folder can be reached through it.
 */
export function loadAssets(dir = staticDir()): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = ASSET_TYPES[extname(name).toLowerCase()];
    const path = join(dir, name);
    if (!type || !statSync(path).isFile()) continue;
    out.set(name, { type, body: readFileSync(path) });
  }
  const missing = REQUIRED_ASSETS.filter((n) => !out.has(n));
  if (missing.length > 0)
    throw new MissingResourceError(`the web pages in ${dir} are incomplete: ${missing.join(", ")} missing`);
  return out;
}
