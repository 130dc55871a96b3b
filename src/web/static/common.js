// Shared helpers of the recalpaca web pages (build-free ES module; no external requests).

/** Create an element: attributes (class, dataset, on* handlers, properties) and children (nodes or text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the children of `node`. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** An error of the JSON API, with the field it names. */
export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field ?? null;
  }
}

/** GET or POST JSON; a refused request throws ApiError with the server's message and field. */
export async function api(path, options = {}) {
  const init = { headers: { accept: "application/json" } };
  if (options.body !== undefined) {
    init.method = "POST";
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  if (options.signal) init.signal = options.signal;
  const res = await fetch(path, init);
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    throw new ApiError(
      res.status,
      json?.error?.message ?? `${res.status} ${res.statusText}`,
      json?.error?.field,
    );
  }
  return json;
}

/** Read an NDJSON response line by line, calling `onEvent` with each parsed object. */
export async function readNdjson(res, onEvent) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) onEvent(JSON.parse(line));
      nl = buffered.indexOf("\n");
    }
  }
  if (buffered.trim()) onEvent(JSON.parse(buffered));
}

/** A number with `digits` decimals, or "–" when missing. */
export function fmt(n, digits = 4) {
  return typeof n === "number" && Number.isFinite(n) ? n.toFixed(digits) : "–";
}

/** The navigation bar; `active` is the current page's path. */
export function renderNav(active, info) {
  const nav = document.getElementById("nav");
  if (!nav) return;
  const link = (href, label) => el("a", { href, class: href === active ? "active" : "" }, label);
  const run = info?.run ? `run ${info.run.name}` : "no run loaded";
  fill(
    nav,
    el("span", { class: "brand" }, "recalpaca"),
    link("/playground", "Playground"),
    link("/explorer", "User explorer"),
    link("/results", "Results"),
    el("span", { class: "run-name" }, run),
  );
}

/** Server facts every page shows (run, models, limits). */
export async function loadInfo(active) {
  const info = await api("/api/info");
  renderNav(active, info);
  return info;
}

/** Show an error message in `node` (an element with class "message"). */
export function showError(node, err) {
  fill(
    node,
    el("div", { class: "message error", role: "alert" }, err instanceof Error ? err.message : String(err)),
  );
}

/** A small label such as "HIT" or "outside candidates". */
export function badge(text, kind) {
  return el("span", { class: `badge ${kind}` }, text);
}

/** A simple table: `columns` are [header, (row) => cell] pairs. */
export function table(columns, rows, attrs = {}) {
  return el(
    "table",
    attrs,
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        columns.map(([h]) => el("th", {}, h)),
      ),
    ),
    el(
      "tbody",
      {},
      rows.map((row) =>
        el(
          "tr",
          {},
          columns.map(([, cell]) => el("td", {}, cell(row))),
        ),
      ),
    ),
  );
}
