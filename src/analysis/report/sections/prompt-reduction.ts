import { reductionCharts, reductionSummary, reductionTable } from "../../prompt-reduction/output.js";
import type { Block, Section } from "../document.js";
import type { RunData } from "../run-data.js";
import { chartBlock } from "./kit.js";

/** The prompt-reduction studies run on this run (`recalpaca analyze prompt-reduction`), when there are any. */
export async function promptReductionSection(run: RunData): Promise<Section | null> {
  if (run.promptReduction.length === 0) return null;
  const blocks: Block[] = [];
  for (const [i, r] of run.promptReduction.entries()) {
    blocks.push({ kind: "heading", text: `${r.system}${r.rule === "first" ? " (first-share rule)" : ""}` });
    blocks.push({ kind: "text", text: reductionSummary(r) });
    for (const c of reductionCharts(r))
      blocks.push(await chartBlock(`reduction-${i}-${c.id}`, c.title, c.spec));
    const t = reductionTable(r);
    blocks.push({ kind: "table", head: t.head, rows: t.rows });
  }
  return { id: "prompt-reduction", title: "Prompt reduction", blocks };
}
