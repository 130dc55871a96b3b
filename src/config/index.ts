export {
  experimentSchema,
  dataSectionSchema,
  splitSectionSchema,
  recsysSectionSchema,
  candidatesSectionSchema,
  DATASET_NAMES,
  SPLIT_STRATEGIES,
  type ExperimentConfig,
  type DataSection,
  type SplitSection,
  type RecsysSection,
  type CandidatesSection,
} from "./schema.js";
export { loadExperimentFile, validateExperiment, formatZodError } from "./load.js";
