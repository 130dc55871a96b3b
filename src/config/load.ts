import { existsSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml, YAMLParseError } from "yaml";
import type { ZodError, ZodIssue } from "zod";
import { DataFormatError, MissingResourceError, readInputText, UsageError } from "../core/index.js";
import { type ExperimentConfig, experimentSchema } from "./schema.js";

/** Parse and validate an experiment file (.yaml, .yml or .json). */
export function loadExperimentFile(path: string): ExperimentConfig {
  if (!existsSync(path)) throw new MissingResourceError(`experiment file ${path} not found`);
  const text = readInputText(path, "experiment file");
  let raw: unknown;
  const ext = extname(path).toLowerCase();
  try {
    if (ext === ".json") raw = JSON.parse(text);
    else if (ext === ".yaml" || ext === ".yml") raw = parseYaml(text);
    else throw new UsageError(`${path}: experiment files must end in .yaml, .yml or .json`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const line = err instanceof YAMLParseError ? err.linePos?.[0]?.line : undefined;
    throw new DataFormatError(
      { file: path, line },
      `not valid ${ext === ".json" ? "JSON" : "YAML"}: ${(err as Error).message.split("\n")[0]}`,
    );
  }
  return validateExperiment(raw ?? {}, path);
}

/** Validate an already-parsed experiment object; errors name every bad field and what it allows. */
export function validateExperiment(raw: unknown, source = "experiment"): ExperimentConfig {
  const result = experimentSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new UsageError(`${source}: ${formatZodError(result.error)}`);
}

/** One line per issue: `field a.b: what was expected (got …)`. */
export function formatZodError(error: ZodError): string {
  return error.issues.map(formatIssue).join("; ");
}

function formatIssue(issue: ZodIssue): string {
  const field = issue.path.length ? issue.path.join(".") : "(top level)";
  switch (issue.code) {
    case "invalid_enum_value":
      return `field ${field}: expected one of ${issue.options.map((o) => JSON.stringify(o)).join(", ")}, got ${JSON.stringify(issue.received)}`;
    case "unrecognized_keys": {
      const where = issue.path.length ? `section ${field}` : "top level";
      return `${where}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    }
    case "invalid_type":
      return `field ${field}: expected ${issue.expected}, got ${issue.received}`;
    default:
      return `field ${field}: ${issue.message}`;
  }
}
