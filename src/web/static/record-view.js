// Renders one test record as the explorer shows it (used by the explorer and the results drill-down).
import { badge, el, fmt, table } from "/static/common.js";

const itemList = (items, empty) =>
  items.length
    ? el(
        "ol",
        {},
        items.map((i) => el("li", {}, i.title)),
      )
    : el("p", { class: "message note" }, empty);

function pickItem(p) {
  return el(
    "li",
    { class: "pick", dataset: { hit: String(p.hit) } },
    el("span", { class: "pick-title" }, p.title),
    p.catalogTitle && p.catalogTitle !== p.title
      ? el("span", { class: "reason" }, `→ ${p.catalogTitle}`)
      : null,
    p.hit ? badge("HIT", "hit") : null,
    p.items.length === 0 ? badge("unresolved", "outside") : null,
    p.outsideCandidates ? badge("outside candidates", "outside") : null,
    p.seen ? badge("already seen", "seen") : null,
    p.duplicate ? badge("duplicate", "outside") : null,
    p.top1 ? badge("top-1", "info") : null,
    p.reason ? el("span", { class: "reason" }, p.reason) : null,
  );
}

function systemCard(s) {
  const metrics = Object.entries(s.metrics)
    .map(([k, v]) => `${k} ${fmt(v, 3)}`)
    .join(" · ");
  return el(
    "div",
    { class: "system-card", dataset: { system: s.system, hits: String(s.hits) } },
    el("h3", {}, s.system, badge(`${s.hits} hit${s.hits === 1 ? "" : "s"}`, s.hits > 0 ? "hit" : "info")),
    s.picks.length
      ? el("ol", {}, s.picks.map(pickItem))
      : el("p", { class: "message note" }, "no picks parsed"),
    s.unresolved.length ? el("p", { class: "reason" }, `unresolved: ${s.unresolved.join("; ")}`) : null,
    metrics ? el("div", { class: "stats" }, metrics) : null,
    s.text !== null
      ? el("details", {}, el("summary", {}, "Answer as written"), el("pre", { class: "prompt" }, s.text))
      : null,
  );
}

/** The whole record: history, held-out items, candidates with scores, each system's picks. */
export function recordView(v) {
  const candidates = table(
    [
      ["#", (c) => c.position],
      [
        "title",
        (c) => [c.title, c.heldOut ? badge("held out", "hit") : null, c.top1 ? badge("top-1", "info") : null],
      ],
      ["rec. rank", (c) => c.rank ?? "–"],
      ["score", (c) => fmt(c.score, 4)],
      ["picked by", (c) => c.pickedBy.join(", ")],
    ],
    v.candidates,
    { class: "candidates" },
  );
  return el(
    "div",
    { class: "record-view", dataset: { record: v.id } },
    el("h2", {}, `Record ${v.id} · user ${v.userSourceId}`),
    el(
      "div",
      { class: "row" },
      el(
        "section",
        { class: "panel grow" },
        el("h3", {}, "History shown in the prompt"),
        el(
          "p",
          { class: "stats" },
          v.trainingInteractions !== null ? `${v.trainingInteractions} training interactions in all` : "",
        ),
        el("h3", {}, "Liked"),
        itemList(v.history.liked, "none"),
        el("h3", {}, "Disliked"),
        itemList(v.history.disliked, "none"),
      ),
      el(
        "section",
        { class: "panel grow held-out" },
        el("h3", {}, "Held-out items (the answers)"),
        el(
          "ul",
          {},
          v.heldOut.map((h) =>
            el(
              "li",
              { dataset: { hitBy: h.hitBy.join(",") } },
              h.title,
              h.hitBy.length
                ? badge(`found by ${h.hitBy.join(", ")}`, "hit")
                : badge("found by none", "info"),
            ),
          ),
        ),
        v.top1 ? el("p", { class: "stats" }, `prompted top-1: ${v.top1.title}`) : null,
      ),
    ),
    el(
      "section",
      { class: "panel" },
      el("h3", {}, `Candidates (${v.candidates.length}, prompt order)`),
      candidates,
    ),
    el("h3", {}, "Each system's picks"),
    el("div", { class: "systems" }, v.systems.map(systemCard)),
    v.prompt
      ? el(
          "details",
          { class: "panel" },
          el("summary", {}, "The record's prompt"),
          el("pre", { class: "prompt" }, `${v.prompt.instruction}\n\n${v.prompt.input}`),
          el("a", { href: `/playground?record=${encodeURIComponent(v.id)}` }, "Open in the playground"),
        )
      : null,
  );
}
