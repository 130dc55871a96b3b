import { UsageError } from "../../core/index.js";

/**
 * "k distinct values from this list" as a JSON schema: an array of string enums with `uniqueItems`,
 * optionally as the only property of an object. llama.cpp's JSON-schema grammars cannot express
 * distinctness, so the llama-cpp backend decodes these schemas slot by slot (see `slotGrammar`).
 */
export interface DistinctChoiceSpec {
  candidates: string[];
  minItems: number;
  maxItems: number;
  /** Set when the array is the single property of an object: `{"<key>": [...]}`. */
  key?: string;
}

/** Build the schema for "pick `count` distinct candidates" (optionally wrapped as `{key: [...]}`). */
export function distinctChoiceSchema(
  candidates: readonly string[],
  count: number,
  key?: string,
): Record<string, unknown> {
  const array = {
    type: "array",
    items: { type: "string", enum: [...new Set(candidates)] },
    minItems: count,
    maxItems: count,
    uniqueItems: true,
  };
  if (key === undefined) return array;
  return { type: "object", properties: { [key]: array }, required: [key], additionalProperties: false };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function arraySpec(schema: Record<string, unknown>): Omit<DistinctChoiceSpec, "key"> | undefined {
  if (schema.type !== "array" || schema.uniqueItems !== true || !isRecord(schema.items)) return undefined;
  const values = schema.items.enum;
  if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === "string"))
    return undefined;
  const candidates = [...new Set(values as string[])];
  const minItems = typeof schema.minItems === "number" ? schema.minItems : 0;
  const maxItems = Math.min(
    typeof schema.maxItems === "number" ? schema.maxItems : candidates.length,
    candidates.length,
  );
  if (minItems > candidates.length) {
    throw new UsageError(
      `JSON schema asks for at least ${minItems} distinct values but lists only ${candidates.length}`,
    );
  }
  if (minItems > maxItems)
    throw new UsageError(`JSON schema has minItems ${minItems} > maxItems ${maxItems}`);
  return { candidates, minItems, maxItems };
}

/** Recognise the distinct-choice shapes; anything else returns undefined. */
export function distinctChoiceSpec(schema: Record<string, unknown>): DistinctChoiceSpec | undefined {
  const direct = arraySpec(schema);
  if (direct) return direct;
  if (schema.type !== "object" || !isRecord(schema.properties)) return undefined;
  const keys = Object.keys(schema.properties);
  if (keys.length !== 1) return undefined;
  const key = keys[0] as string;
  const inner = schema.properties[key];
  if (!isRecord(inner)) return undefined;
  const spec = arraySpec(inner);
  return spec ? { ...spec, key } : undefined;
}

/** A GBNF string literal for `text`. */
export function gbnfLiteral(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t")}"`;
}

/** The fixed text around the items: `[` … `]`, or `{"key": [` … `]}`. */
export function distinctChoiceFrame(spec: DistinctChoiceSpec): {
  open: string;
  close: string;
  separator: string;
} {
  return spec.key === undefined
    ? { open: "[", close: "]", separator: ", " }
    : { open: `{${JSON.stringify(spec.key)}: [`, close: "]}", separator: ", " };
}

/**
 * Grammar for slot `slot` (0-based) given the candidates not chosen yet: the slot either adds one more
 * JSON string from `remaining` (after the opening bracket or a separator) or closes the array, where the
 * item counts allow it. Once the slot's text is complete llama.cpp only allows end-of-generation, so the
 * backend knows exactly where each item ends and builds the next slot's grammar without the chosen item.
 * Every item is thus distinct by construction; nothing is validated or resampled afterwards.
 */
export function slotGrammar(spec: DistinctChoiceSpec, slot: number, remaining: readonly string[]): string {
  const { open, close, separator } = distinctChoiceFrame(spec);
  const lead = slot === 0 ? open : separator;
  const canAdd = slot < spec.maxItems && remaining.length > 0;
  const canClose = slot >= spec.minItems;
  const alternatives: string[] = [];
  if (canAdd) alternatives.push(`${gbnfLiteral(lead)} item`);
  if (canClose) alternatives.push(gbnfLiteral(slot === 0 ? open + close : close));
  if (alternatives.length === 0) throw new UsageError("no candidate left for a required item");
  const lines = [`root ::= ${alternatives.join(" | ")}`];
  if (canAdd) lines.push(`item ::= ${remaining.map((c) => gbnfLiteral(JSON.stringify(c))).join(" | ")}`);
  return lines.join("\n");
}

/** Which candidate a slot's text added (or undefined when the slot closed the array). */
export function chosenInSlot(
  spec: DistinctChoiceSpec,
  slot: number,
  text: string,
  remaining: readonly string[],
): string | undefined {
  const { open, separator } = distinctChoiceFrame(spec);
  const lead = slot === 0 ? open : separator;
  if (!text.startsWith(lead)) return undefined;
  const item = text.slice(lead.length);
  return remaining.find((c) => JSON.stringify(c) === item);
}

/** Strip `uniqueItems` (which llama.cpp's JSON-schema grammar ignores or rejects) from a schema copy. */
export function withoutUniqueItems(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutUniqueItems);
  if (!isRecord(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) if (k !== "uniqueItems") out[k] = withoutUniqueItems(v);
  return out;
}

/** Path of the first array that breaks a `uniqueItems: true` in the schema, or undefined when all hold. */
export function uniqueItemsViolation(schema: unknown, value: unknown, path = "$"): string | undefined {
  if (!isRecord(schema)) return undefined;
  if (Array.isArray(value)) {
    if (schema.uniqueItems === true) {
      const seen = new Set<string>();
      for (const v of value) {
        const k = JSON.stringify(v);
        if (seen.has(k)) return `${path} repeats ${k}`;
        seen.add(k);
      }
    }
    if (isRecord(schema.items)) {
      for (let i = 0; i < value.length; i++) {
        const r = uniqueItemsViolation(schema.items, value[i], `${path}[${i}]`);
        if (r) return r;
      }
    }
    return undefined;
  }
  if (isRecord(value) && isRecord(schema.properties)) {
    for (const [k, sub] of Object.entries(schema.properties)) {
      if (k in value) {
        const r = uniqueItemsViolation(sub, value[k], `${path}.${k}`);
        if (r) return r;
      }
    }
  }
  return undefined;
}
