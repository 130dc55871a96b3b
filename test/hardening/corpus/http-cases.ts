/**
 * The malformed-request corpus of `llm serve`: one row per defect, each sent over HTTP to a running
 * server. The answer must be the HTTP status named here with OpenAI's error JSON, its message matching
 * `fragment` and, where a field is at fault, `param` naming it.
 */
export interface HttpCase {
  id: string;
  defect: string;
  method?: "GET" | "POST" | "PUT";
  /** Below /v1. */
  path: string;
  /** Sent as is (a string) or as JSON. */
  body?: string | Record<string, unknown>;
  status: number;
  fragment: RegExp;
  param?: string;
}

const user = [{ role: "user", content: "Hi" }];

export const HTTP_CASES: HttpCase[] = [
  {
    id: "json-truncated",
    defect: "a body cut short",
    path: "/chat/completions",
    body: '{"messages": [',
    status: 400,
    fragment: /^request body is not valid JSON/,
  },
  {
    id: "body-empty",
    defect: "no body",
    path: "/chat/completions",
    body: "",
    status: 400,
    fragment: /body is empty/,
  },
  {
    id: "messages-missing",
    defect: "no messages",
    path: "/chat/completions",
    body: { model: "x" },
    status: 400,
    fragment: /^messages: Required/,
    param: "messages",
  },
  {
    id: "messages-empty",
    defect: "an empty message list",
    path: "/chat/completions",
    body: { messages: [] },
    status: 400,
    fragment: /messages must hold at least one message/,
    param: "messages",
  },
  {
    id: "role-unknown",
    defect: 'role "robot"',
    path: "/chat/completions",
    body: { messages: [{ role: "robot", content: "x" }] },
    status: 400,
    fragment: /^messages\.0\.role: Invalid enum value/,
    param: "messages.0.role",
  },
  {
    id: "content-image",
    defect: "an image content part",
    path: "/chat/completions",
    body: { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] },
    status: 400,
    fragment: /^messages\.0\.content/,
    param: "messages.0.content",
  },
  {
    id: "temperature-text",
    defect: 'temperature "hot"',
    path: "/chat/completions",
    body: { messages: user, temperature: "hot" },
    status: 400,
    fragment: /^temperature: Expected number, received string/,
    param: "temperature",
  },
  {
    id: "n-two",
    defect: "n = 2",
    path: "/chat/completions",
    body: { messages: user, n: 2 },
    status: 400,
    fragment: /only n = 1 is supported/,
    param: "n",
  },
  {
    id: "frequency-penalty",
    defect: "frequency_penalty 0.5",
    path: "/chat/completions",
    body: { messages: user, frequency_penalty: 0.5 },
    status: 400,
    fragment: /frequency_penalty is not supported/,
    param: "frequency_penalty",
  },
  {
    id: "stream-invalid",
    defect: "a streamed request with a bad field (an error, not an event stream)",
    path: "/chat/completions",
    body: { messages: user, stream: true, max_tokens: -1 },
    status: 400,
    fragment: /^max_tokens: Number must be greater than or equal to 1/,
    param: "max_tokens",
  },
  {
    id: "prompt-list",
    defect: "two prompts in one request",
    path: "/completions",
    body: { prompt: ["a", "b"] },
    status: 400,
    fragment: /only one prompt per request is supported/,
    param: "prompt",
  },
  {
    id: "stop-number",
    defect: "a stop list holding a number",
    path: "/completions",
    body: { prompt: "a", stop: [1] },
    status: 400,
    fragment: /^stop: /,
    param: "stop",
  },
  {
    id: "schema-not-object",
    defect: "response_format.json_schema.schema a number",
    path: "/completions",
    body: { prompt: "a", response_format: { type: "json_schema", json_schema: { schema: 5 } } },
    status: 400,
    fragment: /^response_format\.json_schema\.schema: /,
    param: "response_format.json_schema.schema",
  },
  {
    id: "prompt-too-long",
    defect: "a prompt longer than the context",
    path: "/completions",
    body: { prompt: "Once upon a time there was a dog. ".repeat(200), max_tokens: 4 },
    status: 400,
    fragment: /^prompt has \d+ tokens; the context holds 256 \(raise --context-size or shorten the prompt\)/,
  },
  {
    id: "grammar-broken",
    defect: "a GBNF grammar that does not parse",
    path: "/completions",
    body: { prompt: "a", grammar: "root ::= (((" },
    status: 400,
    fragment: /GBNF grammar rejected/,
  },
  {
    id: "body-too-large",
    defect: "a 9 MiB body",
    path: "/completions",
    body: JSON.stringify({ prompt: "a".repeat(9 * 1024 * 1024) }),
    status: 413,
    fragment: /request body exceeds 8388608 bytes/,
  },
  {
    id: "get-completions",
    defect: "GET on a POST route",
    method: "GET",
    path: "/completions",
    status: 405,
    fragment: /use POST/,
  },
  {
    id: "post-models",
    defect: "POST on the model list",
    method: "POST",
    path: "/models",
    body: {},
    status: 405,
    fragment: /use GET/,
  },
  {
    id: "no-route",
    defect: "an unknown route",
    path: "/embeddings",
    body: {},
    status: 404,
    fragment: /no route POST \/v1\/embeddings/,
  },
];
