export {
  DEFAULT_FILTER,
  extractProposal,
  type FilterOptions,
  fewShotPrompt,
  GROW_DEFAULTS,
  type GrowOptions,
  growPool,
  type InstructionPool,
  type PoolEntry,
  type RejectReason,
  rejectReason,
  seedPool,
} from "./pool.js";
export { readPoolFile, writePoolFile } from "./pool-file.js";
export { lcsLength, type RougeScore, rougeL, rougeLTokens, rougeTokens } from "./rouge.js";
export { growThroughRunner, type RunnerProposerOptions, runnerProposer } from "./runner-proposer.js";
export {
  DOMAIN_WORDS,
  INSTRUCTION_DOMAINS,
  type InstructionDomain,
  SEED_INSTRUCTIONS,
} from "./seed-instructions.js";
export { leadingVerbNoun, type VerbNoun, type VerbNounStats, verbNounStats } from "./verb-noun.js";
