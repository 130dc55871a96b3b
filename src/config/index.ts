export {
  experimentSchema,
  dataSectionSchema,
  splitSectionSchema,
  DATASET_NAMES,
  SPLIT_STRATEGIES,
  type ExperimentConfig,
  type DataSection,
  type SplitSection,
} from "./schema.js";
export { loadExperimentFile, validateExperiment, formatZodError } from "./load.js";
