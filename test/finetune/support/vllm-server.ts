import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

/**
 * A local stand-in for `vllm serve <base> --enable-lora --max-lora-rank R --lora-modules name=path`
 * (vLLM docs, features/lora.md): at start it checks each adapter folder as vLLM does before serving it
 * (adapter_config.json and adapter_model.safetensors present, r ≤ max-lora-rank, bias "none", no
 * modules_to_save, LoRA weights of supported llama modules); GET /v1/models lists the base model and every
 * LoRA module (parent = the base, root = the adapter's path); POST /v1/completions and
 * /v1/chat/completions are routed by `model` — the base answers like an untuned model, each adapter with
 * the first five candidates of the prompt, an unknown name gets vLLM's 404 error.
 */
export interface VllmServer {
  url: string;
  /** `model` of every completion request, in order. */
  requests: string[];
  close(): Promise<void>;
}

const SUPPORTED = new Set(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]);

function checkAdapter(name: string, path: string, maxLoraRank: number): void {
  for (const f of ["adapter_config.json", "adapter_model.safetensors"])
    if (!existsSync(join(path, f))) throw new Error(`LoRA module ${name}: ${f} not found in ${path}`);
  const config = JSON.parse(readFileSync(join(path, "adapter_config.json"), "utf8"));
  if (config.r > maxLoraRank)
    throw new Error(`LoRA rank ${config.r} is greater than max_lora_rank ${maxLoraRank}`);
  if (config.bias !== "none") throw new Error("Adapter bias cannot be used without bias_enabled");
  if (config.modules_to_save) throw new Error("modules_to_save is not supported");
  for (const m of [config.target_modules].flat())
    if (!SUPPORTED.has(m)) throw new Error(`target module ${m} is not supported`);
  const buf = readFileSync(join(path, "adapter_model.safetensors"));
  const header = JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString("utf8"));
  for (const key of Object.keys(header).filter((k) => k !== "__metadata__"))
    if (!/^base_model\.model\.model\.layers\.\d+\.(self_attn|mlp)\.[a-z_]+\.lora_[AB]\.weight$/.test(key))
      throw new Error(`unexpected tensor ${key} in ${name}`);
}

export async function startVllmServer(options: {
  base: string;
  loraModules: Record<string, string>;
  maxLoraRank?: number;
}): Promise<VllmServer> {
  for (const [name, path] of Object.entries(options.loraModules))
    checkAdapter(name, path, options.maxLoraRank ?? 16);
  const requests: string[] = [];
  const created = 1_750_000_000;
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const card = (id: string, root: string, parent: string | null) => ({
    id,
    object: "model",
    created,
    owned_by: "vllm",
    root,
    parent,
    max_model_len: 4096,
    permission: [{ id: `modelperm-${id}`, object: "model_permission", allow_sampling: true }],
  });
  const answer = (model: string, prompt: string): string => {
    if (!(model in options.loraModules)) return " Once upon a time there was a little dog.";
    const section = prompt.split(/Candidate movies[^\n]*\n/)[1] ?? "";
    const titles = [...section.matchAll(/^\d+\. (Movie \d+ \(\d{4}\))$/gm)].map((x) => x[1]).slice(0, 5);
    return titles.map((t, i) => `${i + 1}. ${t} - fits the user's taste.`).join("\n");
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method === "GET" && path === "/v1/models")
      return json(res, 200, {
        object: "list",
        data: [
          card(options.base, options.base, null),
          ...Object.entries(options.loraModules).map(([name, p]) => card(name, p, options.base)),
        ],
      });
    if (req.method === "POST" && (path === "/v1/completions" || path === "/v1/chat/completions")) {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      requests.push(body.model);
      if (body.model !== options.base && !(body.model in options.loraModules))
        return json(res, 404, {
          object: "error",
          message: `The model \`${body.model}\` does not exist.`,
          type: "NotFoundError",
          param: null,
          code: 404,
        });
      const prompt =
        path === "/v1/completions"
          ? body.prompt
          : body.messages.map((m: { content: string }) => m.content).join("\n");
      const text = answer(body.model, prompt);
      const usage = { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 };
      if (path === "/v1/completions")
        return json(res, 200, {
          id: `cmpl-${requests.length}`,
          object: "text_completion",
          created,
          model: body.model,
          choices: [{ index: 0, text, finish_reason: "stop", logprobs: null }],
          usage,
        });
      return json(res, 200, {
        id: `chatcmpl-${requests.length}`,
        object: "chat.completion",
        created,
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
        usage,
      });
    }
    return json(res, 404, {
      object: "error",
      message: `Not Found: ${path}`,
      type: "NotFoundError",
      code: 404,
    });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => json(res, 500, { object: "error", message: String(err) }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
