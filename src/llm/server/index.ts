export {
  chatCompletionBody as chatCompletionBodySchema,
  chatRequest as chatRequestFromBody,
  completionBody as completionBodySchema,
  completionRequest as completionRequestFromBody,
} from "./schemas.js";
export { type RunningServer, type ServerOptions, startServer } from "./server.js";
