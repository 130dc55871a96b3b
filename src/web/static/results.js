// Results: the run's eval tables and charts (report.json), its other charts, the HTML report's
// sections when `recalpaca report` has written one, and a per-record drill-down.
import { barChart } from "/static/charts.js";
import { api, el, fill, fmt, loadInfo, showError, table } from "/static/common.js";
import { recordView } from "/static/record-view.js";

const $ = (id) => document.getElementById(id);
const KNOWN = new Set([
  "protocol",
  "k",
  "candidatesOnly",
  "testSet",
  "metricNames",
  "systems",
  "paired",
  "notes",
]);
const SHORT = { precision: "P", recall: "R", ndcg: "NDCG", hit: "HitRate", mrr: "MRR", map: "MAP" };

const label = (m, k) => `${SHORT[m] ?? m}${k ? `@${k}` : ""}`;
const interval = (v) =>
  v && typeof v.mean === "number" ? `${fmt(v.mean)} [${fmt(v.low)}, ${fmt(v.high)}]` : "–";

function metricsTable(report, key) {
  const metrics = report.metricNames;
  const rows = report.systems.filter((s) => s[key]);
  if (!rows.length) return null;
  return table(
    [["system", (s) => s.name], ...metrics.map((m) => [label(m, report.k), (s) => interval(s[key][m])])],
    rows,
    { class: "metrics" },
  );
}

function objectTable(rows, key) {
  const withKey = rows.filter((s) => s[key] && typeof s[key] === "object");
  if (!withKey.length) return null;
  const cols = [...new Set(withKey.flatMap((s) => Object.keys(s[key])))];
  return table(
    [
      ["system", (s) => s.name],
      ...cols.map((c) => [
        c,
        (s) => (typeof s[key][c] === "number" ? fmt(s[key][c], 3) : String(s[key][c] ?? "–")),
      ]),
    ],
    withKey,
  );
}

/** Paired tests of one metric; besides the difference and its interval, every other number the report gives (p-values, corrected p-values) gets a column. */
function pairedTable(report, metric) {
  const rows = (report.paired ?? []).filter((p) => p.metric === metric);
  const fields = (p) => ({ ...p, ...(p.result ?? {}) });
  const shown = new Set(["a", "b", "metric", "result", "meanDiff", "low", "high", "n"]);
  const extra = [...new Set(rows.flatMap((p) => Object.keys(fields(p))))].filter(
    (k) => !shown.has(k) && rows.some((p) => typeof fields(p)[k] === "number"),
  );
  return table(
    [
      ["a", (p) => p.a],
      ["b", (p) => p.b],
      ["a − b", (p) => interval({ mean: fields(p).meanDiff, low: fields(p).low, high: fields(p).high })],
      ...extra.map((k) => [k, (p) => fmt(fields(p)[k], 3)]),
    ],
    rows,
  );
}

/** A report section this page has no special view for (e.g. a position-bias table): shown as it comes. */
function genericSection(key, value) {
  let body;
  if (
    Array.isArray(value) &&
    value.length &&
    value.every((v) => v && typeof v === "object" && !Array.isArray(v))
  ) {
    const cols = [...new Set(value.flatMap((v) => Object.keys(v)))];
    body = table(
      cols.map((c) => [
        c,
        (row) =>
          typeof row[c] === "number"
            ? fmt(row[c], 4)
            : typeof row[c] === "object"
              ? JSON.stringify(row[c])
              : String(row[c] ?? ""),
      ]),
      value,
    );
  } else {
    body = el("pre", { class: "prompt" }, JSON.stringify(value, null, 2));
  }
  return el("section", { class: "panel", dataset: { section: key } }, el("h2", {}, key), body);
}

function renderTables(report) {
  const bars = barChart(
    report.systems.filter((s) => s.metrics).map((s) => ({ name: s.name, values: s.metrics })),
    ["precision", "recall", "ndcg"].filter((m) => report.metricNames.includes(m)),
    Object.fromEntries(report.metricNames.map((m) => [m, label(m, report.k)])),
  );
  const metricSelect = el(
    "select",
    { id: "paired-metric" },
    report.metricNames.map((m) => el("option", { value: m }, label(m, report.k))),
  );
  const paired = el("div", {}, pairedTable(report, report.metricNames[0]));
  metricSelect.addEventListener("change", () => fill(paired, pairedTable(report, metricSelect.value)));
  fill(
    $("tables"),
    el(
      "section",
      { class: "panel", id: "metrics" },
      el("h2", {}, `Metrics at K = ${report.k} (mean [95% interval])`),
      el("div", { style: "overflow-x: auto" }, bars),
      metricsTable(report, "metrics"),
    ),
    report.systems.some((s) => s.metricsWithoutTop1)
      ? el(
          "section",
          { class: "panel" },
          el("h2", {}, "Without the prompted top-1 item"),
          metricsTable(report, "metricsWithoutTop1"),
        )
      : null,
    el("section", { class: "panel" }, el("h2", {}, "Error rates"), objectTable(report.systems, "errors")),
    el(
      "section",
      { class: "panel" },
      el("h2", {}, "Leakage (prompted top-1)"),
      objectTable(report.systems, "leakage"),
    ),
    report.paired?.length
      ? el(
          "section",
          { class: "panel" },
          el("h2", {}, "Paired tests"),
          el("label", { for: "paired-metric" }, "Metric"),
          metricSelect,
          paired,
        )
      : null,
  );
  fill(
    $("extra"),
    Object.entries(report)
      .filter(([k]) => !KNOWN.has(k))
      .map(([k, v]) => genericSection(k, v)),
  );
}

/** The sections of the run's HTML report, each in its own shadow root (its styles stay inside). */
async function embedReport(path) {
  const res = await fetch(`/api/run/file?path=${encodeURIComponent(path)}`);
  if (!res.ok) throw new Error(`the run's report ${path}: ${res.status}`);
  const doc = new DOMParser().parseFromString(await res.text(), "text/html");
  for (const s of doc.querySelectorAll("script")) s.remove();
  const styles = [...doc.querySelectorAll("style")].map((s) => s.textContent).join("\n");
  const sections = [...doc.querySelectorAll("body > section, main > section, section[id]")].filter(
    (s, _i, all) => !all.some((o) => o !== s && o.contains(s)),
  );
  const host = el("div", {});
  fill(
    $("report-sections"),
    el("details", { class: "panel", open: true }, el("summary", {}, `The run's report (${path})`), host),
  );
  for (const section of sections) {
    const box = el("div", { class: "embedded-report", dataset: { section: section.id || "" } });
    const root = box.attachShadow({ mode: "open" });
    root.append(el("style", {}, styles), document.importNode(section, true));
    host.append(box);
  }
}

function renderCharts(charts) {
  if (!charts.length) return;
  fill(
    $("charts"),
    el(
      "section",
      { class: "panel" },
      el("h2", {}, "Charts of the run"),
      el(
        "div",
        { class: "charts" },
        charts.map((c) =>
          el(
            "figure",
            {},
            el("img", {
              src: `/api/run/file?path=${encodeURIComponent(c.path)}`,
              alt: c.title,
            }),
            el("figcaption", {}, `${c.stage}: ${c.title}`),
          ),
        ),
      ),
    ),
  );
}

function renderDrilldown(view) {
  if (!view.records.length) return;
  const metric = el(
    "select",
    { id: "drill-metric" },
    view.metricNames.map((m) => el("option", { value: m }, m)),
  );
  const tableBox = el("div", { style: "overflow-x: auto" });
  const detail = el("div", { id: "drill-record" });
  const draw = () => {
    const t = table(
      [
        ["record", (r) => r.id],
        ["user", (r) => (r.user === null ? "–" : String(r.user))],
        ...view.systems.map((s) => [s, (r) => fmt(r.metrics[s]?.[metric.value], 3)]),
      ],
      view.records,
      { class: "drill" },
    );
    t.querySelectorAll("tbody tr").forEach((tr, i) => {
      const id = view.records[i].id;
      tr.classList.add("clickable");
      tr.dataset.record = id;
      tr.addEventListener("click", async () => {
        try {
          fill(detail, recordView(await api(`/api/records/${encodeURIComponent(id)}`)));
          detail.scrollIntoView({ block: "start" });
        } catch (err) {
          showError(detail, err);
        }
      });
    });
    fill(tableBox, t);
  };
  metric.addEventListener("change", draw);
  draw();
  fill(
    $("drilldown"),
    el(
      "section",
      { class: "panel" },
      el("h2", {}, "Per record"),
      el("label", { for: "drill-metric" }, "Metric"),
      metric,
      tableBox,
      detail,
    ),
  );
}

async function start() {
  const info = await loadInfo("/results");
  if (!info.run) {
    fill(
      $("summary"),
      el("p", { class: "message note" }, "No run loaded: start the server with --run runs/<name>."),
    );
    document.body.dataset.ready = "true";
    return;
  }
  const view = await api("/api/results");
  const r = view.report;
  fill(
    $("summary"),
    el(
      "section",
      { class: "panel" },
      el("h2", {}, `Run ${view.run}`),
      el("p", {}, `Stages: ${info.run.stages.join(", ") || "none"}`),
      r
        ? el(
            "p",
            {},
            `Protocol ${r.protocol} · K = ${r.k} · ${r.testSet?.records ?? "?"} test records (${r.testSet?.dataset ?? ""})`,
          )
        : el("p", { class: "message note" }, "This run has no evaluation yet (eval/report.json)."),
      r?.notes?.length
        ? el(
            "details",
            {},
            el("summary", {}, "Notes"),
            el(
              "ul",
              {},
              r.notes.map((n) => el("li", {}, n)),
            ),
          )
        : null,
    ),
  );
  if (view.reportHtml)
    await embedReport(view.reportHtml).catch((err) => showError($("report-sections"), err));
  if (r) renderTables(r);
  renderCharts(view.charts);
  renderDrilldown(view);
  if (view.resultsMarkdown)
    fill(
      $("markdown"),
      el(
        "details",
        { class: "panel" },
        el("summary", {}, "results.md"),
        el("pre", { class: "prompt" }, view.resultsMarkdown),
      ),
    );
  document.body.dataset.ready = "true";
}

start().catch((err) => showError($("message"), err));
