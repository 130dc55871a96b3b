import type { z } from "zod";

/** HTTP statuses the web API answers with on purpose. */
export type ProblemStatus = 400 | 404 | 405 | 413 | 429 | 500 | 503;

/**
 * A request the API refuses, answered as `{"error": {"message", "field"}}` with `status`. `field` names
 * the request field at fault (a JSON body key such as "temperature", a query or path parameter such as
 * "path" or "id", or "body" for the body as a whole), so a client can point at the control to fix.
 */
export class HttpProblem extends Error {
  constructor(
    readonly status: ProblemStatus,
    message: string,
    readonly field: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpProblem";
  }
}

/** The JSON body of a refused request. */
export function problemBody(p: HttpProblem): { error: { message: string; field: string | null } } {
  return { error: { message: p.message, field: p.field } };
}

/** The first zod issue as a 400 naming its field (`fallbackField` when the issue is about the value as a whole). */
export function zodProblem(err: z.ZodError, fallbackField: string): HttpProblem {
  const issue = err.issues[0];
  if (!issue) return new HttpProblem(400, "invalid request", fallbackField);
  let field = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    field = field ? `${field}.${key}` : key;
    return new HttpProblem(400, `field "${field}": unknown field (not one this endpoint takes)`, field);
  }
  if (field === "") field = fallbackField;
  return new HttpProblem(400, `field "${field}": ${issue.message}`, field);
}

/** Parse `value` with `schema`, or throw a 400 naming the first offending field. */
export function parseOr400<S extends z.ZodTypeAny>(
  schema: S,
  value: unknown,
  fallbackField: string,
): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw zodProblem(r.error, fallbackField);
  return r.data;
}
