import { DataFormatError, UsageError } from "../core/index.js";
import type { Catalog, Interactions } from "../data/index.js";
import { BPR_MF_SETTINGS, BprMf } from "./bpr-mf.js";
import { ITEMKNN_SETTINGS, ItemKnn } from "./itemknn.js";
import { LIGHTFM_SETTINGS, LightFm } from "./lightfm.js";
import { LIGHTGCN_SETTINGS, LightGCN } from "./lightgcn/index.js";
import {
  type DatasetFingerprint,
  datasetFingerprint,
  type ModelFile,
  readModelFile,
  writeModelFile,
} from "./model-file.js";
import type { ModelSettings } from "./model-settings.js";
import { POPULARITY_SETTINGS, Popularity } from "./popularity.js";
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
  /** The hyperparameters' schema: names, defaults, validation. */
  settings: ModelSettings<object>;
  /** Hyperparameters and their defaults (the config keys `create` accepts). */
  defaults: Record<string, unknown>;
  /** A new model; the config is validated (UsageError naming the key) and completed with defaults. */
  create(config: Record<string, unknown>, ctx: ModelContext): Recommender;
  /** Rebuild a model from a model file's snapshot, validating it (DataFormatError naming `file`). */
  restore(snapshot: ModelSnapshot, ctx: ModelContext, file?: string): Recommender;
}

/** One model's definition with its own config type, erased to a ModelFactory for the registry. */
function define<C extends object>(def: {
  name: string;
  description: string;
  iterative: boolean;
  settings: ModelSettings<C>;
  create(config: C, ctx: ModelContext): Recommender;
  restore(snapshot: ModelSnapshot, file: string, ctx: ModelContext): Recommender;
}): ModelFactory {
  return {
    name: def.name,
    description: def.description,
    iterative: def.iterative,
    settings: def.settings,
    defaults: Object.fromEntries(Object.entries(def.settings.defaults)),
    create: (config, ctx) => def.create(def.settings.resolve(config), ctx),
    restore: (snapshot, ctx, file = "model file") => def.restore(snapshot, file, ctx),
  };
}

const FACTORIES: ModelFactory[] = [
  define({
    name: "popularity",
    description: "most popular items (training interactions per item; ties by lower item id)",
    iterative: false,
    settings: POPULARITY_SETTINGS,
    create: () => new Popularity(),
    restore: (s, file) => Popularity.restore(s, file),
  }),
  define({
    name: "itemknn",
    description: "item-based kNN, cosine similarity with shrinkage",
    iterative: false,
    settings: ITEMKNN_SETTINGS,
    create: (c) => new ItemKnn(c),
    restore: (s, file) => ItemKnn.restore(s, file),
  }),
  define({
    name: "bpr-mf",
    description: "matrix factorisation with BPR loss (SGD)",
    iterative: true,
    settings: BPR_MF_SETTINGS,
    create: (c) => new BprMf(c),
    restore: (s, file) => BprMf.restore(s, file),
  }),
  define({
    name: "lightfm",
    description: "LightFM-style hybrid: user/item feature embeddings, WARP or BPR loss (Adagrad)",
    iterative: true,
    settings: LIGHTFM_SETTINGS,
    create: (c, ctx) => new LightFm(c, ctx.catalog),
    restore: (s, file) => LightFm.restore(s, file),
  }),
  define({
    name: "lightgcn",
    description: "LightGCN (He et al., 2020) with the reference training procedure",
    iterative: true,
    settings: LIGHTGCN_SETTINGS,
    create: (c) => new LightGCN(c),
    restore: (s, file) => LightGCN.restore(s, file),
  }),
];

/** Model names in display order. */
export const MODEL_NAMES: readonly string[] = FACTORIES.map((f) => f.name);

export function modelFactory(name: string): ModelFactory {
  const f = FACTORIES.find((x) => x.name === name);
  if (!f) throw new UsageError(`unknown model "${name}" (expected one of: ${MODEL_NAMES.join(", ")})`);
  return f;
}

/**
 * Check hyperparameter keys and values as given (e.g. `--set key=value` strings, converted to numbers
 * where numbers are expected): a typo is a UsageError naming the valid keys. Returns only the keys given.
 */
export function parseModelConfig(name: string, raw: Record<string, unknown>): Record<string, unknown> {
  return modelFactory(name).settings.check(raw);
}

/**
 * The config a model would apply for `params` (defaults filled in, LightGCN's variant presets
 * applied), after validating it with the model's schema: a UsageError names an unknown key (listing
 * the valid ones) or a bad value. For experiment files and manifests, which record what was applied.
 */
export function resolveRecommenderConfig(
  name: string,
  params: Record<string, unknown> = {},
): Record<string, unknown> {
  return { ...modelFactory(name).settings.resolve(params) };
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
  const name = file.header.model;
  if (!MODEL_NAMES.includes(name)) {
    throw new DataFormatError(
      { file: path, field: "model" },
      `unknown model "${name}" (this recalpaca knows: ${MODEL_NAMES.join(", ")})`,
    );
  }
  const model = modelFactory(name).restore(file.snapshot, ctx, path);
  const indptr = file.snapshot.arrays["train.indptr"];
  const indices = file.snapshot.arrays["train.indices"];
  const trainItems =
    indptr instanceof Int32Array && indices instanceof Int32Array ? { indptr, indices } : null;
  return { model, file, trainItems };
}
