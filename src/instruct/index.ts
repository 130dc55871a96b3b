export { rougeL, rougeLTokens, rougeTokens, lcsLength, type RougeScore } from "./rouge.js";
export { SEED_INSTRUCTIONS, DOMAIN_WORDS, INSTRUCTION_DOMAINS, type InstructionDomain } from "./seed-instructions.js";
export {
  seedPool,
  growPool,
  fewShotPrompt,
  extractProposal,
  rejectReason,
  DEFAULT_FILTER,
  type InstructionPool,
  type PoolEntry,
  type RejectReason,
  type FilterOptions,
  type GrowOptions,
} from "./pool.js";
export { leadingVerbNoun, verbNounStats, type VerbNoun, type VerbNounStats } from "./verb-noun.js";
export { readPoolFile, writePoolFile } from "./pool-file.js";
