import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { z } from "zod";
import { DataFormatError, MissingResourceError, readInputFile, writeFileAtomic } from "../core/index.js";
import type { Interactions } from "../data/index.js";
import type { ModelArray, ModelSnapshot } from "./recommender.js";

/**
 * The recsys model file, format "recalpaca-recsys-model" version 1 (one file, little-endian):
 *
 * ```
 * bytes 0..7    magic "RCPMODL\n"
 * bytes 8..11   uint32 H = byte length of the JSON header
 * bytes 12..    header: UTF-8 JSON (ModelFileHeader), then zero padding to a multiple of 8 bytes
 * then          the blob section: each array's raw little-endian bytes at header.arrays[i].offset
 *               (relative to the section start, 8-byte aligned)
 * ```
 *
 * The header records the model name, its resolved config, JSON training state (epochs done, whether
 * the file is a resumable checkpoint, …), the dataset fingerprint (dataset name, nUsers, nItems,
 * number and SHA-256 of the training interactions) and a SHA-256 of the blob section. Reading checks
 * the magic, format, version and checksum, and — when the caller passes the data it is about to use —
 * that the fingerprint matches, so a model trained on another catalogue or split is a clear error.
 * Writes are atomic: an existing file is replaced only by a complete new one.
 */
export const MODEL_FILE_FORMAT = "recalpaca-recsys-model";
export const MODEL_FILE_VERSION = 1;
const MAGIC = Buffer.from("RCPMODL\n", "latin1");

/** Which data a model was trained on. */
export interface DatasetFingerprint {
  /** Catalogue name ("ml-100k", …) or null for an id-only split. */
  dataset: string | null;
  nUsers: number;
  nItems: number;
  trainCount: number;
  /** "sha256:<hex>" over the training pairs in user-major, item-ascending order plus the sizes. */
  trainHash: string;
}

type DType = "float32" | "float64" | "int32" | "uint32" | "uint8";

export interface ModelFileArrayEntry {
  name: string;
  dtype: DType;
  length: number;
  /** Byte offset within the blob section. */
  offset: number;
}

export interface ModelFileHeader {
  format: typeof MODEL_FILE_FORMAT;
  version: number;
  model: string;
  config: Record<string, unknown>;
  state: Record<string, unknown>;
  nUsers: number;
  nItems: number;
  data: DatasetFingerprint;
  arrays: ModelFileArrayEntry[];
  /** "sha256:<hex>" of the whole blob section. */
  blobHash: string;
}

export interface ModelFile {
  header: ModelFileHeader;
  snapshot: ModelSnapshot;
}

/** The fingerprint of a training set (deterministic: independent of the order interactions were read in). */
export function datasetFingerprint(train: Interactions, dataset: string | null = null): DatasetFingerprint {
  const csr = train.byUser;
  const h = createHash("sha256");
  h.update(`${train.nUsers} ${train.nItems}\n`);
  h.update(new Uint8Array(csr.indptr.buffer, csr.indptr.byteOffset, csr.indptr.byteLength));
  h.update(new Uint8Array(csr.indices.buffer, csr.indices.byteOffset, csr.indices.byteLength));
  return {
    dataset,
    nUsers: train.nUsers,
    nItems: train.nItems,
    trainCount: train.length,
    trainHash: `sha256:${h.digest("hex")}`,
  };
}

function dtypeOf(a: ModelArray): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint32Array) return "uint32";
  if (a instanceof Uint8Array) return "uint8";
  throw new TypeError("model arrays must be Float32/Float64/Int32/Uint32/Uint8 arrays");
}

const CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  uint8: Uint8Array,
};

const pad8 = (n: number) => (n + 7) & ~7;

const count = z.number().int().nonnegative();
/** The header fields a reader relies on (model name and config are checked by the model registry). */
const HeaderShape = z.object({
  model: z.string(),
  config: z.record(z.unknown()),
  state: z.record(z.unknown()),
  nUsers: count,
  nItems: count,
  data: z.object({
    dataset: z.string().nullable(),
    nUsers: count,
    nItems: count,
    trainCount: count,
    trainHash: z.string(),
  }),
  arrays: z.array(z.object({ name: z.string(), dtype: z.string(), length: count, offset: count })),
  blobHash: z.string(),
});

/** Serialise a snapshot (trained on `data`) into the model file bytes. */
export function encodeModelFile(snapshot: ModelSnapshot, data: DatasetFingerprint): Uint8Array {
  if (snapshot.nUsers !== data.nUsers || snapshot.nItems !== data.nItems) {
    throw new Error(
      `model ${snapshot.model} has ${snapshot.nUsers}×${snapshot.nItems} users×items but the data fingerprint ${data.nUsers}×${data.nItems}`,
    );
  }
  const entries: ModelFileArrayEntry[] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(snapshot.arrays)) {
    entries.push({ name, dtype: dtypeOf(a), length: a.length, offset });
    offset = pad8(offset + a.byteLength);
  }
  const blobs = new Uint8Array(offset);
  for (const e of entries) {
    const a = snapshot.arrays[e.name];
    blobs.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), e.offset);
  }
  const header: ModelFileHeader = {
    format: MODEL_FILE_FORMAT,
    version: MODEL_FILE_VERSION,
    model: snapshot.model,
    config: snapshot.config,
    state: snapshot.state,
    nUsers: snapshot.nUsers,
    nItems: snapshot.nItems,
    data,
    arrays: entries,
    blobHash: `sha256:${createHash("sha256").update(blobs).digest("hex")}`,
  };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const blobStart = pad8(12 + json.length);
  const out = new Uint8Array(blobStart + blobs.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(blobs, blobStart);
  return out;
}

/** Write a model file atomically (temp file + rename: a failed write leaves any old file intact). */
export function writeModelFile(path: string, snapshot: ModelSnapshot, data: DatasetFingerprint): void {
  writeFileAtomic(path, encodeModelFile(snapshot, data));
}

/** Parse model file bytes; `file` names the file in error messages. */
export function decodeModelFile(bytes: Uint8Array, file = "model file"): ModelFile {
  const bad = (problem: string) => new DataFormatError({ file }, problem);
  if (bytes.length < 12 || !Buffer.from(bytes.subarray(0, 8)).equals(MAGIC)) {
    throw bad(
      `not a recalpaca recsys model file (expected it to start with "RCPMODL"; write one with \`recalpaca recsys train\`)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hLen = view.getUint32(8, true);
  if (12 + hLen > bytes.length) throw bad("truncated: the header is cut off");
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes.subarray(12, 12 + hLen)).toString("utf8"));
  } catch (err) {
    throw bad(`header is not valid JSON (${(err as Error).message})`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw bad("header is not a JSON object");
  const header = raw as ModelFileHeader;
  if (header.format !== MODEL_FILE_FORMAT)
    throw bad(`format "${header.format}" is not "${MODEL_FILE_FORMAT}"`);
  if (header.version !== MODEL_FILE_VERSION) {
    throw bad(
      `model file version ${header.version} is not supported (this recalpaca reads version ${MODEL_FILE_VERSION}); retrain the model with this version`,
    );
  }
  const shape = HeaderShape.safeParse(header);
  if (!shape.success) {
    const issue = shape.error.issues[0];
    throw new DataFormatError(
      { file, field: issue.path.join(".") },
      `${issue.message} (the header is damaged; retrain the model with \`recalpaca recsys train\`)`,
    );
  }
  const blobStart = pad8(12 + hLen);
  const blobs = bytes.subarray(blobStart);
  const hash = `sha256:${createHash("sha256").update(blobs).digest("hex")}`;
  if (hash !== header.blobHash)
    throw bad("corrupt: the checksum of the parameter data does not match the header");
  const arrays: Record<string, ModelArray> = {};
  for (const e of header.arrays) {
    const Ctor = CTORS[e.dtype];
    if (!Ctor) throw bad(`array "${e.name}" has unknown dtype "${e.dtype}"`);
    const byteLength = e.length * Ctor.BYTES_PER_ELEMENT;
    if (e.offset + byteLength > blobs.length)
      throw bad(`truncated: array "${e.name}" runs past the end of the file`);
    // Copy into a fresh, aligned buffer (the models mutate their parameters when training resumes).
    const buf = new ArrayBuffer(byteLength);
    new Uint8Array(buf).set(blobs.subarray(e.offset, e.offset + byteLength));
    arrays[e.name] = new Ctor(buf);
  }
  return {
    header,
    snapshot: {
      model: header.model,
      config: header.config,
      nUsers: header.nUsers,
      nItems: header.nItems,
      arrays,
      state: header.state,
    },
  };
}

/**
 * Read a model file. With `expect` (the fingerprint of the data about to be used), a model trained on
 * another dataset, catalogue size or training set is a DataFormatError saying what differs. Pass
 * `{ checkTrain: false }` to accept a different training set of the same catalogue (sizes and dataset
 * name must still match).
 */
export function readModelFile(
  path: string,
  expect?: DatasetFingerprint,
  opts: { checkTrain?: boolean } = {},
): ModelFile {
  if (!existsSync(path))
    throw new MissingResourceError(
      `model file ${path} not found (train one with \`recalpaca recsys train\`)`,
    );
  const mf = decodeModelFile(readInputFile(path, "model file"), path);
  if (expect) checkFingerprint(mf.header.data, expect, path, opts.checkTrain ?? true);
  return mf;
}

function describe(d: DatasetFingerprint): string {
  return `${d.dataset ?? "an id-only split"} (${d.nUsers} users × ${d.nItems} items, ${d.trainCount} training interactions)`;
}

/** Throw a DataFormatError when a model's fingerprint does not match the data it is used with. */
export function checkFingerprint(
  got: DatasetFingerprint,
  want: DatasetFingerprint,
  file: string,
  checkTrain = true,
): void {
  const differs =
    got.nUsers !== want.nUsers ||
    got.nItems !== want.nItems ||
    (got.dataset !== null && want.dataset !== null && got.dataset !== want.dataset) ||
    (checkTrain && got.trainHash !== want.trainHash);
  if (differs) {
    throw new DataFormatError(
      { file },
      `this model was trained on ${describe(got)}, but the data given is ${describe(want)}${
        got.nUsers === want.nUsers && got.nItems === want.nItems && got.trainHash !== want.trainHash
          ? " with a different training set"
          : ""
      }: use the split the model was trained on, or retrain it`,
    );
  }
}
