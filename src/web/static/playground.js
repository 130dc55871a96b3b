// Playground: every control becomes a field of POST /api/generate, which puts it into the LlmRequest.
import { api, el, fill, loadInfo, readNdjson, showError } from "/static/common.js";

const $ = (id) => document.getElementById(id);
const SLIDERS = ["temperature", "top-p", "top-k", "repeat-penalty"];
let running = null;

function settings() {
  return {
    instruction: $("instruction").value,
    input: $("input").value,
    temperature: Number($("temperature").value),
    topP: Number($("top-p").value),
    topK: Number($("top-k").value),
    repeatPenalty: Number($("repeat-penalty").value),
    maxTokens: Number($("max-tokens").value),
    seed: Number($("seed").value),
    stream: $("stream").checked,
  };
}

function makePane(variant, title) {
  const output = el("div", { class: "output" });
  const stats = el("div", { class: "stats" }, "waiting…");
  const prompt = el("pre", { class: "prompt" });
  const pane = el(
    "section",
    { class: "panel pane", dataset: { variant, state: "waiting", chunks: "0" } },
    el("h3", {}, title),
    output,
    stats,
    el("details", {}, el("summary", {}, "Prompt sent"), prompt),
  );
  return { pane, output, stats, prompt };
}

function showDone(p, r) {
  p.pane.dataset.state = "done";
  fill(
    p.stats,
    `${r.model} · ${r.promptTokens} prompt tokens · ${r.completionTokens} generated · ` +
      `${r.tokensPerSecond.toFixed(1)} tokens/s · ${r.seconds.toFixed(2)} s · finish: ${r.finishReason}`,
  );
}

/** One generation into pane `p`: streamed (NDJSON events) or as one JSON answer. */
async function generateInto(p, body, signal) {
  p.pane.dataset.state = "running";
  if (!body.stream) {
    const r = await api("/api/generate", { body, signal });
    p.prompt.textContent = r.prompt;
    p.output.textContent = r.text;
    showDone(p, r);
    return;
  }
  const res = await fetch("/api/generate", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/x-ndjson" },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok) {
    const json = await res.json().catch(() => null);
    throw new Error(json?.error?.message ?? `${res.status} ${res.statusText}`);
  }
  p.pane.dataset.state = "streaming";
  let chunks = 0;
  await readNdjson(res, (e) => {
    if (e.event === "start") {
      p.prompt.textContent = e.prompt;
      fill(p.stats, `${e.model} · streaming…`);
    } else if (e.event === "text") {
      chunks++;
      p.pane.dataset.chunks = String(chunks);
      p.output.append(document.createTextNode(e.text));
    } else if (e.event === "done") {
      showDone(p, e);
    } else if (e.event === "error") {
      throw new Error(e.message);
    }
  });
}

async function generate() {
  fill($("message"));
  const base = settings();
  const compare = $("compare").checked;
  const variants = compare
    ? [
        ["base", false, "Base model"],
        ["tuned", true, "Tuned model (adapter)"],
      ]
    : [
        [
          $("adapter").checked ? "tuned" : "base",
          $("adapter").checked,
          $("adapter").checked ? "Tuned model (adapter)" : "Base model",
        ],
      ];
  const panes = variants.map(([v, , title]) => makePane(v, title));
  fill(
    $("panes"),
    panes.map((p) => p.pane),
  );
  const controller = new AbortController();
  running = controller;
  $("generate").disabled = true;
  $("stop").disabled = false;
  try {
    // side by side: both models at once (the server admits a bounded number of generations)
    await Promise.all(
      variants.map(([, adapter], i) =>
        generateInto(panes[i], { ...base, adapter }, controller.signal).catch((err) => {
          panes[i].pane.dataset.state = "error";
          if (err.name !== "AbortError") showError(panes[i].stats, err);
        }),
      ),
    );
  } finally {
    running = null;
    $("generate").disabled = false;
    $("stop").disabled = true;
  }
}

async function prefill() {
  const id = $("record").value;
  if (!id) return;
  try {
    const r = await api(`/api/records/${encodeURIComponent(id)}/prompt`);
    $("instruction").value = r.instruction;
    $("input").value = r.input;
  } catch (err) {
    showError($("message"), err);
  }
}

async function start() {
  for (const id of SLIDERS) {
    const show = () => {
      $(`${id}-value`).textContent = $(id).value;
    };
    $(id).addEventListener("input", show);
    show();
  }
  $("generate").addEventListener("click", () => generate());
  $("stop").addEventListener("click", () => running?.abort());
  $("prefill").addEventListener("click", () => prefill());
  const info = await loadInfo("/playground");
  const pg = info.playground;
  if (!pg) {
    $("generate").disabled = true;
    fill($("models"), "No model loaded: start the server with --llm <model>.");
  } else {
    fill(
      $("models"),
      pg.tuned
        ? `base ${pg.base} · tuned ${pg.tuned} (adapter from ${pg.adapter.source})`
        : `model ${pg.base} · no adapter`,
    );
  }
  if (!pg?.tuned) {
    $("adapter").disabled = true;
    $("compare").disabled = true;
  }
  if (info.run?.hasTestSet) {
    const { records } = await api("/api/records?limit=500");
    fill(
      $("record"),
      records.map((r) => el("option", { value: r.id }, `${r.id} (user ${r.userSourceId})`)),
    );
    $("record").disabled = records.length === 0;
    $("prefill").disabled = records.length === 0;
    const wanted = new URLSearchParams(location.search).get("record");
    if (wanted && records.some((r) => r.id === wanted)) {
      $("record").value = wanted;
      await prefill();
    }
  }
  document.body.dataset.ready = "true";
}

start().catch((err) => showError($("message"), err));
