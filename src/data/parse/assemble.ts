import { Interactions } from "../interactions.js";
import type { LineIssues } from "./issues.js";
import { firstRecords, type NumericRecords } from "./numeric-records.js";

/**
 * Records whose ids are already dense (numeric or string source ids mapped by `mapToDense` or a
 * loader): the same columns as the parser's source-id records.
 */
export type DenseRecords = NumericRecords;

/**
 * Build Interactions from dense records, rejecting duplicate (user, item) pairs: the later line is the
 * bad one (strict: DataFormatError naming both lines; lenient: skipped). O(n): a stable counting sort
 * by user, then one stamp per item.
 */
export function assembleInteractions(
  nUsers: number,
  nItems: number,
  r: DenseRecords,
  issues: LineIssues,
  describe: (user: number, item: number) => string,
): Interactions {
  const n = r.length;
  const start = new Int32Array(nUsers + 1);
  for (let k = 0; k < n; k++) start[r.users[k] + 1]++;
  for (let u = 0; u < nUsers; u++) start[u + 1] += start[u];
  const fill = start.slice(0, nUsers);
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) order[fill[r.users[k]]++] = k;
  const stamp = new Int32Array(nItems).fill(-1);
  const firstPos = new Int32Array(nItems);
  let drop: Uint8Array | undefined;
  for (let u = 0; u < nUsers; u++) {
    for (let j = start[u]; j < start[u + 1]; j++) {
      const k = order[j];
      const it = r.items[k];
      if (stamp[it] === u) {
        const a = firstPos[it];
        const [early, late] = r.lines[a] < r.lines[k] ? [a, k] : [k, a];
        issues.bad(
          r.lines[late],
          `duplicate ${describe(u, it)}: already rated on line ${r.lines[early]} (expected one rating per user and item)`,
        );
        drop ??= new Uint8Array(n);
        drop[late] = 1;
        if (late === a) firstPos[it] = k;
      } else {
        stamp[it] = u;
        firstPos[it] = k;
      }
    }
  }
  if (!drop) {
    return new Interactions(
      nUsers,
      nItems,
      r.users.slice(0, n),
      r.items.slice(0, n),
      r.ratings.slice(0, n),
      r.timestamps.slice(0, n),
    );
  }
  const keep: number[] = [];
  for (let k = 0; k < n; k++) if (!drop[k]) keep.push(k);
  const all = new Interactions(nUsers, nItems, r.users, r.items, r.ratings, r.timestamps);
  return all.select(keep);
}

/** How to treat ratings whose user or item is not in the catalogue files. */
export type UnknownIdPolicy =
  /** A bad line (MovieLens: the catalogue files are complete). */
  | { kind: "error"; userFile: string; itemFile: string }
  /** Dropped and counted (Book-Crossing, Anime: their rating files name items missing from the catalogue). */
  | { kind: "drop" };

/**
 * Map numeric source ids to dense ids. Unknown ids follow `policy`; returns the dense records and how
 * many were dropped for an unknown item / user.
 */
export function mapToDense(
  r: DenseRecords,
  users: { get(src: number): number },
  items: { get(src: number): number },
  issues: LineIssues,
  policy: UnknownIdPolicy,
): { records: DenseRecords; droppedUnknownItem: number; droppedUnknownUser: number } {
  const n = r.length;
  const du = new Int32Array(n);
  const di = new Int32Array(n);
  let m = 0;
  let droppedUnknownItem = 0;
  let droppedUnknownUser = 0;
  let compact = false;
  for (let k = 0; k < n; k++) {
    const u = users.get(r.users[k]);
    const it = items.get(r.items[k]);
    if (u < 0 || it < 0) {
      if (policy.kind === "error") {
        if (u < 0) issues.bad(r.lines[k], `user id ${r.users[k]} is not in ${policy.userFile}`, "user");
        else issues.bad(r.lines[k], `item id ${r.items[k]} is not in ${policy.itemFile}`, "item");
      } else if (it < 0) droppedUnknownItem++;
      else droppedUnknownUser++;
      compact = true;
      continue;
    }
    if (compact) {
      r.ratings[m] = r.ratings[k];
      r.timestamps[m] = r.timestamps[k];
      r.lines[m] = r.lines[k];
    }
    du[m] = u;
    di[m] = it;
    m++;
  }
  return {
    records: firstRecords({ ...r, users: du, items: di }, m),
    droppedUnknownItem,
    droppedUnknownUser,
  };
}
