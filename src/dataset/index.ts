export { validateAlpacaFile, type AlpacaRecord, type AlpacaValidation, type AlpacaIssue } from "./alpaca.js";
export { writeAlpacaJson, writeChatJsonl, toChatExample, splitByUser, type ChatExample } from "./exports.js";
export { SOURCE_NOTES, sourceNotesMarkdown } from "./licences.js";
export { datasetStats, writeDatasetStats, summarizeLengths, type DatasetStatsReport, type LengthSummary } from "./stats.js";
