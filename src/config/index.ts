export { formatZodError, loadExperimentFile, validateExperiment } from "./load.js";
export {
  type CandidatesSection,
  candidatesSectionSchema,
  DATASET_NAMES,
  type DataSection,
  dataSectionSchema,
  type ExperimentConfig,
  experimentSchema,
  type RecsysSection,
  recsysSectionSchema,
  SPLIT_STRATEGIES,
  type SplitSection,
  splitSectionSchema,
} from "./schema.js";
