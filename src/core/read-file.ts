import { readFileSync } from "node:fs";
import { MissingResourceError } from "./errors.js";

/**
 * The bytes of an input file. One that cannot be read (missing, a folder, no permission) is a
 * MissingResourceError (exit 4) naming what it was for and the path; a file that is there but has the
 * wrong content is the reader's DataFormatError (exit 3).
 */
export function readInputFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new MissingResourceError(`${what} ${path} cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** `readInputFile` as UTF-8 text. */
export function readInputText(path: string, what: string): string {
  return readInputFile(path, what).toString("utf8");
}
