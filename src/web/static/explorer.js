// User explorer: the test set's users, and for one user what each system picked and why.
import { api, el, fill, loadInfo, showError, table } from "/static/common.js";
import { recordView } from "/static/record-view.js";

const $ = (id) => document.getElementById(id);
let records = [];
let selected = null;

function renderList() {
  const focus = $("focus").value;
  const rows = table(
    [
      ["record", (r) => r.id],
      ["user", (r) => String(r.userSourceId)],
      ["held out", (r) => r.heldOut],
      ["hits", (r) => (focus in r.hits ? r.hits[focus] : "–")],
    ],
    records,
  );
  rows.querySelectorAll("tbody tr").forEach((tr, i) => {
    const id = records[i].id;
    tr.classList.add("clickable");
    tr.dataset.record = id;
    if (id === selected) tr.classList.add("selected");
    tr.addEventListener("click", () => select(id));
  });
  fill($("users"), rows);
}

async function select(id) {
  selected = id;
  renderList();
  history.replaceState(null, "", `?record=${encodeURIComponent(id)}`);
  try {
    const view = await api(`/api/records/${encodeURIComponent(id)}`);
    fill($("detail"), recordView(view));
    $("detail").dataset.record = id;
  } catch (err) {
    showError($("detail"), err);
  }
}

async function search() {
  const q = $("search").value.trim();
  records = (await api(`/api/records${q ? `?q=${encodeURIComponent(q)}` : ""}`)).records;
  renderList();
}

async function start() {
  const info = await loadInfo("/explorer");
  if (!info.run) {
    fill(
      $("detail"),
      el("p", { class: "message note" }, "No run loaded: start the server with --run runs/<name>."),
    );
    document.body.dataset.ready = "true";
    return;
  }
  records = (await api("/api/records")).records;
  const systems = [...new Set(records.flatMap((r) => Object.keys(r.hits)))];
  fill(
    $("focus"),
    systems.map((s) => el("option", { value: s }, s)),
  );
  const llm = systems.find((s) => s.startsWith("llm"));
  if (llm) $("focus").value = llm;
  $("focus").addEventListener("change", renderList);
  $("search").addEventListener("input", () => search().catch((err) => showError($("message"), err)));
  renderList();
  const wanted = new URLSearchParams(location.search).get("record");
  const first = wanted && records.some((r) => r.id === wanted) ? wanted : records[0]?.id;
  if (first) await select(first);
  document.body.dataset.ready = "true";
}

start().catch((err) => showError($("message"), err));
