/** The web app (DESIGN.md `web/`): playground, user explorer and results pages over one JSON API. */
export { type Asset, loadAssets, staticDir } from "./assets.js";
export {
  type CandidateRow,
  type ItemRef,
  listUsers,
  type Pick,
  recordPrompt,
  type SystemAnswer,
  USER_PAGE_LIMIT,
  type UserSummary,
  type UserView,
  userView,
} from "./explorer.js";
export { ConcurrencyGate } from "./gate.js";
export { HttpProblem, type ProblemStatus } from "./http-problem.js";
export {
  type GenerateRequest,
  GenerateRequestSchema,
  type GenerationOutcome,
  PLAYGROUND_LIMITS,
  Playground,
  type PlaygroundModels,
} from "./playground.js";
export { type ChartRef, type RecordMetrics, type ResultsView, resultsView } from "./results.js";
export { RUN_FILES } from "./run-artefacts.js";
export { MAX_RUN_PATH_CHARS, RunFolder, SERVED_TYPES } from "./run-folder.js";
export {
  createWebApp,
  LOOPBACK_HOSTS,
  type RunningWebServer,
  startWebServer,
  type WebAppOptions,
  type WebServerOptions,
} from "./server.js";
