import { readCandidatesFile } from "../eval/index.js";

/**
 * Ranked candidate lists per dense user from a JSONL file as `recalpaca recsys candidates` writes it
 * (`{"user": 0, "candidates": [{"item": 173, …}, …], …}`, best first); any recommender's lists work.
 * Read and checked by the eval module's reader.
 */
export function readCandidateLists(path: string): Map<number, number[]> {
  return new Map([...readCandidatesFile(path)].map(([user, c]) => [user, c.items]));
}
