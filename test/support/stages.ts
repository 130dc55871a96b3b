/** The experiment pipeline's stages in run order (DESIGN.md), as the tests and the main-job bench expect them. */
export const PIPELINE_STAGES = [
  "data",
  "split",
  "recsys",
  "candidates",
  "testset",
  "instructions",
  "dataset",
  "finetune",
  "eval",
] as const;
