import { createHash } from "node:crypto";
import type { LlmRequest } from "../types.js";

/**
 * JSON with object keys sorted and `undefined` members dropped, so two requests that mean the same
 * thing serialise to the same bytes whatever order their fields were written in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value))
      throw new TypeError(`cannot hash non-finite number ${value}`);
    return JSON.stringify(value) ?? "null";
  }
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== "function")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** The request without its abort signal: everything that determines the answer. */
export function requestForKey(request: LlmRequest): Omit<LlmRequest, "signal"> {
  const { signal: _signal, ...rest } = request;
  return rest;
}

/**
 * Cache key of a request: hex SHA-256 of the canonical JSON of (backend kind, model, full request
 * minus the signal). Sampling settings, seed, max tokens, stop strings and schemas are all part of it.
 */
export function requestKey(backendKind: string, model: string, request: LlmRequest): string {
  const payload = canonicalJson({ v: 1, backend: backendKind, model, request: requestForKey(request) });
  return createHash("sha256").update(payload).digest("hex");
}
