import { readFileSync } from "node:fs";
import { DataFormatError, MissingResourceError } from "../../core/index.js";

/** The file's text; a missing or unreadable file is a MissingResourceError (exit 4). */
export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new MissingResourceError(`${what} ${path} cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** JSON.parse with the line of the syntax error in the message. */
export function parseJsonText(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const at = /position (\d+)/.exec(msg);
    const line = at ? text.slice(0, Number(at[1])).split("\n").length : undefined;
    throw new DataFormatError({ file: path, line }, `not valid JSON (${msg})`);
  }
}
