export { formatZodError, loadExperimentFile, validateExperiment } from "./load.js";
export { type NamedPath, requireFile, requireFolder } from "./paths.js";
export {
  type CandidatesSection,
  candidatesSectionSchema,
  DATASET_NAMES,
  type DataSection,
  dataSectionSchema,
  type EvalSection,
  type ExperimentConfig,
  evalSectionSchema,
  experimentSchema,
  type FinetuneSection,
  finetuneSectionSchema,
  type InstructionsSection,
  instructionsSectionSchema,
  type RecsysSection,
  recsysSectionSchema,
  SPLIT_STRATEGIES,
  type SplitSection,
  splitSectionSchema,
  type TestsetSection,
  testsetSectionSchema,
} from "./schema.js";
