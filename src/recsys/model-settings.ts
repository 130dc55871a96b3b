import { z } from "zod";
import { DataFormatError, UsageError } from "../core/index.js";

/** Flags give every value as a string (`--set dims=32`): a numeric string counts as its number. */
const numeric = (v: unknown): unknown =>
  typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : v;

/** An integer hyperparameter ≥ min (the description completes "must be …" in errors). */
export function intSetting(min: number) {
  return z.preprocess(numeric, z.number().int().min(min)).describe(`an integer ≥ ${min}`);
}

/** A finite number ≥ min. */
export function numberSetting(min: number) {
  return z.preprocess(numeric, z.number().finite().min(min)).describe(`a number ≥ ${min}`);
}

/** One of a few names. */
export function choiceSetting<const T extends readonly [string, ...string[]]>(values: T) {
  const listed = values.map((v) => JSON.stringify(v));
  return z
    .enum(values)
    .describe(`${listed.slice(0, -1).join(", ")}${listed.length > 1 ? " or " : ""}${listed.at(-1)}`);
}

/**
 * One model's hyperparameters: a strict zod object (unknown keys are errors) whose fields carry their
 * defaults, plus an optional `finish` step for values derived after parsing (LightGCN's variant presets).
 */
export interface ModelSettings<C> {
  readonly model: string;
  /** Hyperparameter names in display order. */
  readonly keys: readonly string[];
  /** The config with every default applied. */
  readonly defaults: C;
  /** Validate `raw` and apply defaults; a UsageError names each bad key (unknown keys: the valid ones). */
  resolve(raw: unknown): C;
  /** Validate only the keys given (strings from flags become numbers where numbers are expected). */
  check(raw: Record<string, unknown>): Record<string, unknown>;
  /** Validate a model file's stored config; a DataFormatError names the file and the field. */
  fromFile(raw: unknown, file: string): C;
}

export function modelSettings<S extends z.AnyZodObject, C>(
  model: string,
  shape: S,
  finish: (parsed: z.output<S>) => C,
): ModelSettings<C> {
  const strict = shape.strict();
  const keys = Object.keys(shape.shape);
  const explain = (raw: unknown, issues: z.ZodIssue[]): { field?: string; message: string } => {
    const given = new Map(typeof raw === "object" && raw !== null ? Object.entries(raw) : []);
    const problems: string[] = [];
    let field: string | undefined;
    for (const issue of issues) {
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          field ??= key;
          problems.push(
            `${model} has no setting "${key}"${keys.length ? ` (settings: ${keys.join(", ")})` : " (it has no settings)"}`,
          );
        }
      } else if (issue.path.length === 0) {
        problems.push(`${model}: the settings must be an object of key: value pairs`);
      } else {
        const key = String(issue.path[0]);
        field ??= key;
        const expects = (shape.shape[key] as z.ZodTypeAny | undefined)?.description ?? "valid";
        problems.push(
          `${model}: ${key} must be ${expects}, got ${JSON.stringify(given.get(key)) ?? "nothing"}`,
        );
      }
    }
    return { field, message: problems.join("; ") };
  };
  const parse = (raw: unknown): { ok: true; value: C } | { ok: false; field?: string; message: string } => {
    const r = strict.safeParse(raw ?? {});
    return r.success ? { ok: true, value: finish(r.data) } : { ok: false, ...explain(raw, r.error.issues) };
  };
  const resolve = (raw: unknown): C => {
    const r = parse(raw);
    if (!r.ok) throw new UsageError(r.message);
    return r.value;
  };
  const partial = strict.partial();
  return {
    model,
    keys,
    defaults: resolve({}),
    resolve,
    check(raw) {
      const r = partial.safeParse(raw);
      if (!r.success) throw new UsageError(explain(raw, r.error.issues).message);
      return r.data;
    },
    fromFile(raw, file) {
      const r = parse(raw);
      if (!r.ok) {
        throw new DataFormatError(
          { file, field: r.field === undefined ? "config" : `config.${r.field}` },
          `${r.message} (the model file's stored hyperparameters; retrain the model)`,
        );
      }
      return r.value;
    },
  };
}
