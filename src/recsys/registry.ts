import { UsageError } from "../core/index.js";
import type { Catalog, Interactions } from "../data/index.js";
import { BPR_MF_DEFAULTS, BprMf, type BprMfConfig } from "./bpr-mf.js";
import { ITEMKNN_DEFAULTS, ItemKnn, type ItemKnnConfig } from "./itemknn.js";
import { LIGHTFM_DEFAULTS, LightFm, type LightFmConfig } from "./lightfm.js";
import { LIGHTGCN_DEFAULTS, LightGCN, type LightGCNConfig } from "./lightgcn/index.js";
import {
  type DatasetFingerprint,
  datasetFingerprint,
  type ModelFile,
  readModelFile,
  writeModelFile,
} from "./model-file.js";
import { Popularity } from "./popularity.js";
import type { ModelSnapshot, Recommender } from "./recommender.js";

/** What a model may need besides its hyperparameters: the catalogue (features), or null for id-only splits. */
export interface ModelContext {
  catalog: Catalog | null;
}

/** How to make and restore one kind of model, by name. */
export interface ModelFactory {
  name: string;
  description: string;
  /** Trained epoch by epoch (supports --epochs, --eval-every, --patience, resumable checkpoints). */
  iterative: boolean;
  /** Hyperparameters and their defaults (the config keys `create` accepts). */
  defaults: Record<string, unknown>;
  create(config: Record<string, unknown>, ctx: ModelContext): Recommender;
  restore(snapshot: ModelSnapshot, ctx: ModelContext): Recommender;
}

function restoreLightGCN(s: ModelSnapshot): Recommender {
  // LightGCN lives in ./lightgcn/ (its own module); prefer its own restore when it provides one.
  const withRestore = LightGCN as unknown as { restore?: (s: ModelSnapshot) => Recommender };
  if (typeof withRestore.restore === "function") return withRestore.restore(s);
  const m = new LightGCN(s.config as Partial<LightGCNConfig>);
  const e = s.arrays.embeddings;
  if (!(e instanceof Float32Array))
    throw new UsageError('lightgcn model file has no float32 array "embeddings"');
  m.setEmbeddings(s.nUsers, s.nItems, e);
  return m;
}

const FACTORIES: ModelFactory[] = [
  {
    name: "popularity",
    description: "most popular items (training interactions per item; ties by lower item id)",
    iterative: false,
    defaults: {},
    create: () => new Popularity(),
    restore: (s) => Popularity.restore(s),
  },
  {
    name: "itemknn",
    description: "item-based kNN, cosine similarity with shrinkage",
    iterative: false,
    defaults: { ...ITEMKNN_DEFAULTS },
    create: (c) => new ItemKnn(c as Partial<ItemKnnConfig>),
    restore: (s) => ItemKnn.restore(s),
  },
  {
    name: "bpr-mf",
    description: "matrix factorisation with BPR loss (SGD)",
    iterative: true,
    defaults: { ...BPR_MF_DEFAULTS },
    create: (c) => new BprMf(c as Partial<BprMfConfig>),
    restore: (s) => BprMf.restore(s),
  },
  {
    name: "lightfm",
    description: "LightFM-style hybrid: user/item feature embeddings, WARP or BPR loss (Adagrad)",
    iterative: true,
    defaults: { ...LIGHTFM_DEFAULTS },
    create: (c, ctx) => new LightFm(c as Partial<LightFmConfig>, ctx.catalog),
    restore: (s) => LightFm.restore(s),
  },
  {
    name: "lightgcn",
    description: "LightGCN (He et al., 2020) with the reference training procedure",
    iterative: true,
    defaults: { ...LIGHTGCN_DEFAULTS },
    create: (c) => new LightGCN(c as Partial<LightGCNConfig>),
    restore: (s) => restoreLightGCN(s),
  },
];

/** Model names in display order. */
export const MODEL_NAMES: readonly string[] = FACTORIES.map((f) => f.name);

export function modelFactory(name: string): ModelFactory {
  const f = FACTORIES.find((x) => x.name === name);
  if (!f) throw new UsageError(`unknown model "${name}" (expected one of: ${MODEL_NAMES.join(", ")})`);
  return f;
}

/**
 * Check hyperparameter keys against a model's defaults (a typo is a usage error naming the valid keys)
 * and convert string values to the default's type.
 */
export function parseModelConfig(
  name: string,
  raw: Record<string, string | number>,
): Record<string, unknown> {
  const f = modelFactory(name);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in f.defaults)) {
      const known = Object.keys(f.defaults);
      throw new UsageError(
        `${name} has no setting "${key}"${known.length ? ` (settings: ${known.join(", ")})` : " (it has no settings)"}`,
      );
    }
    const def = f.defaults[key];
    if (typeof def === "number") {
      const n = typeof value === "number" ? value : Number(value);
      if (typeof value === "string" && (value.trim() === "" || !Number.isFinite(n)))
        throw new UsageError(`${name}: ${key} must be a number, got "${value}"`);
      out[key] = n;
    } else {
      out[key] = String(value);
    }
  }
  return out;
}

/** Create an untrained model by name. */
export function createModel(
  name: string,
  config: Record<string, unknown> = {},
  ctx: ModelContext = { catalog: null },
): Recommender {
  return modelFactory(name).create(config, ctx);
}

/** The users' training items as stored beside every model (CSR over users, items ascending). */
export interface TrainItems {
  indptr: Int32Array;
  indices: Int32Array;
}

/**
 * Save a trained (or checkpointed) model. Besides the model's own arrays the file stores the training
 * items of every user ("train.indptr", "train.indices"), so `recsys recommend` can exclude them
 * without the split, and the fingerprint of `train` with the dataset name (null for id-only splits).
 */
export function saveModel(
  path: string,
  model: Recommender,
  train: Interactions,
  dataset: string | null,
): void {
  if (!model.snapshot) throw new UsageError(`${model.name} cannot be saved (it has no snapshot support yet)`);
  const snap = model.snapshot();
  const csr = train.byUser;
  const arrays = { ...snap.arrays, "train.indptr": csr.indptr, "train.indices": csr.indices };
  writeModelFile(path, { ...snap, arrays }, datasetFingerprint(train, dataset));
}

/**
 * Load a model file and rebuild the model. With `expect`, a file trained on other data is a clear
 * DataFormatError (see readModelFile).
 */
export function loadModel(
  path: string,
  expect?: DatasetFingerprint,
  ctx: ModelContext = { catalog: null },
  opts: { checkTrain?: boolean } = {},
): { model: Recommender; file: ModelFile; trainItems: TrainItems | null } {
  const file = readModelFile(path, expect, opts);
  const model = modelFactory(file.header.model).restore(file.snapshot, ctx);
  const indptr = file.snapshot.arrays["train.indptr"];
  const indices = file.snapshot.arrays["train.indices"];
  const trainItems =
    indptr instanceof Int32Array && indices instanceof Int32Array ? { indptr, indices } : null;
  return { model, file, trainItems };
}
