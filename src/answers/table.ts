import type { Alternative, Attempt, Entry } from "./attempt.js";
import { readEntry, stripLabel } from "./entry.js";

/**
 * Markdown tables: a header row, a separator row (`|---|:-:|`), then one row per pick; outer pipes
 * optional. CSV too: a header line naming a title column ("rank,title,year"), then rows with as many
 * comma-separated fields (double quotes around a field that holds commas). Any column may hold the title, so every column that is not only numbers or ranks is an
 * alternative; a column whose header names titles ("Title", "Movie", "Film", "Recommendation") comes
 * first. A reader with the record's candidates picks the column that names them (src/answers/read.ts).
 */

const SEPARATOR_CELL = /^:?-{2,}:?$/;
const TITLE_HEADER = /title|movie|film|name|recommend|pick|show|book|anime|item/i;

function cells(line: string): string[] | null {
  const s = line.trim();
  if (!s.includes("|")) return null;
  const inner = s.replace(/^\|/, "").replace(/\|$/, "");
  const parts = inner.split("|").map((c) => c.trim());
  return parts.length >= 2 ? parts : null;
}

interface Table {
  header: string[];
  rows: Array<{ cells: string[]; start: number; end: number }>;
}

function tables(text: string): Table[] {
  const lines = text.split("\n");
  const offsets: number[] = [];
  let o = 0;
  for (const l of lines) {
    offsets.push(o);
    o += l.length + 1;
  }
  const out: Table[] = [];
  for (let i = 1; i < lines.length; i++) {
    const sep = cells(lines[i]);
    if (!sep?.every((c) => SEPARATOR_CELL.test(c.replace(/\s/g, "")))) continue;
    const header = cells(lines[i - 1]);
    if (!header) continue;
    const rows: Table["rows"] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const c = cells(lines[j]);
      if (!c) break;
      rows.push({ cells: c, start: offsets[j], end: offsets[j] + lines[j].length });
    }
    if (rows.length > 0) out.push({ header, rows });
    i = j;
  }
  return out;
}

/** Fields of one CSV line (double quotes around a field that holds commas; "" is a quote). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field.trim() === "") quoted = true;
    else if (c === ",") {
      out.push(field.trim());
      field = "";
    } else field += c;
  }
  out.push(field.trim());
  return out;
}

function csvTables(text: string): Table[] {
  const lines = text.split("\n");
  const out: Table[] = [];
  let offset = 0;
  const offsets = lines.map((l) => {
    const o = offset;
    offset += l.length + 1;
    return o;
  });
  for (let i = 0; i < lines.length; i++) {
    const header = csvFields(lines[i].trim().replace(/^`+|`+$/g, ""));
    if (
      header.length < 2 ||
      !header.some((h) => TITLE_HEADER.test(h)) ||
      !header.every((h) => /^[\p{L}\s_#.]{1,30}$/u.test(h))
    )
      continue;
    const rows: Table["rows"] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const f = csvFields(lines[j].trim());
      if (f.length !== header.length || lines[j].trim() === "") break;
      rows.push({ cells: f, start: offsets[j], end: offsets[j] + lines[j].length });
    }
    if (rows.length > 0) out.push({ header, rows });
    i = j - 1;
  }
  return out;
}

const onlyNumbers = (s: string) =>
  /^[\s\d.,/#%*()+\-–—:]*(?:st|nd|rd|th)?[\s.]*$/i.test(s) || /^[A-Za-z]$/.test(s);

export function tableAttempt(text: string): Attempt {
  const markdown = tables(text);
  const found = markdown.length > 0 ? markdown : csvTables(text);
  if (found.length === 0) return { shape: "table", strength: "strong", alternatives: [] };
  const width = Math.max(...found.map((t) => t.header.length));
  const alternatives: Array<Alternative & { titleHeader: boolean }> = [];
  for (let col = 0; col < width; col++) {
    const entries: Entry[] = [];
    let textCells = 0;
    found.forEach((t, block) => {
      for (const r of t.rows) {
        const cell = (r.cells[col] ?? "").trim();
        if (cell === "" || onlyNumbers(cell)) continue;
        textCells++;
        const readings = readEntry(stripLabel(cell));
        // the row's other text cells are the reason
        const reason = r.cells.filter((c, k) => k !== col && c.trim() !== "" && !onlyNumbers(c)).join(" — ");
        if (readings.length > 0) entries.push({ readings, block, start: r.start, end: r.end, reason });
      }
    });
    if (textCells === 0) continue;
    const header = found[0].header[col] ?? "";
    alternatives.push({
      label: `column ${header || col + 1}`,
      entries,
      titleHeader: TITLE_HEADER.test(header),
    });
  }
  // Stable: title-like headers first, then left to right.
  alternatives.sort((a, b) => Number(b.titleHeader) - Number(a.titleHeader));
  return {
    shape: "table",
    strength: "strong",
    alternatives: alternatives.map(({ label, entries }) => ({ label, entries })),
  };
}
