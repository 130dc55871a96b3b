import { DataFormatError } from "../../core/index.js";

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
