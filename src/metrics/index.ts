/** Pure ranking metrics, bootstrap confidence intervals and paired tests (DESIGN.md "metrics"). */

export {
  type BinomialAlternative,
  type BinomialTestResult,
  binomialPmf,
  binomialTest,
  lnFactorial,
} from "./binomial.js";
export {
  type BootstrapOptions,
  bootstrapCI,
  type ConfidenceInterval,
  type PairedTestResult,
  pairedTest,
} from "./bootstrap.js";
export { holmAdjust } from "./holm.js";
export {
  type HitList,
  hitRateAtK,
  hitsAtK,
  idealDcg,
  mapAtK,
  meanOf,
  mrrAtK,
  ndcgAtK,
  precisionAtK,
  RANKING_METRICS,
  type RankingMetric,
  rankingMetricsAtK,
  recallAtK,
} from "./ranking.js";
