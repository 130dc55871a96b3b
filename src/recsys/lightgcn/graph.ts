import type { Interactions } from "../../data/index.js";
import type { CsrMatrix, Kernels } from "../kernels/types.js";

/**
 * The normalised bipartite adjacency Â = D^-1/2 A D^-1/2 with A = [[0, R], [Rᵀ, 0]] built from the
 * training interactions only (binary: repeated pairs count once). Nodes 0..nUsers-1 are users,
 * nUsers..nUsers+nItems-1 items. Nodes without edges get D^-1/2 = 0 (their rows and columns are empty).
 * Â is symmetric, so the backward pass multiplies by Â again.
 */
export interface NormalizedGraph {
  nUsers: number;
  nItems: number;
  nNodes: number;
  /** Number of stored non-zeros (2 × distinct training pairs). */
  nnz: number;
  /** Node degrees (number of distinct neighbours). */
  degree: Int32Array;
  matrix: CsrMatrix;
}

/** Build Â from training interactions; values are d_r^-1/2 · d_c^-1/2 computed in float64, stored as float32. */
export function buildNormalizedGraph(train: Interactions, kernels: Kernels): NormalizedGraph {
  const { nUsers, nItems } = train;
  const nNodes = nUsers + nItems;
  const byUser = train.byUser;
  // Distinct (user, item) pairs: CSR rows are sorted by item, so duplicates are adjacent.
  const userDeg = new Int32Array(nUsers);
  const itemDeg = new Int32Array(nItems);
  for (let u = 0; u < nUsers; u++) {
    let prev = -1;
    for (let e = byUser.indptr[u]; e < byUser.indptr[u + 1]; e++) {
      const i = byUser.indices[e];
      if (i === prev) continue;
      prev = i;
      userDeg[u]++;
      itemDeg[i]++;
    }
  }
  const degree = new Int32Array(nNodes);
  degree.set(userDeg, 0);
  degree.set(itemDeg, nUsers);
  const dinv = new Float64Array(nNodes);
  for (let r = 0; r < nNodes; r++) dinv[r] = degree[r] > 0 ? 1 / Math.sqrt(degree[r]) : 0;
  const indptr = new Int32Array(nNodes + 1);
  for (let r = 0; r < nNodes; r++) indptr[r + 1] = indptr[r] + degree[r];
  const nnz = indptr[nNodes];
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  const fill = indptr.slice(0, nNodes);
  // User rows: items ascending. Item rows get users in ascending order because users are visited in order.
  for (let u = 0; u < nUsers; u++) {
    let prev = -1;
    for (let e = byUser.indptr[u]; e < byUser.indptr[u + 1]; e++) {
      const i = byUser.indices[e];
      if (i === prev) continue;
      prev = i;
      const node = nUsers + i;
      const w = dinv[u] * dinv[node];
      indices[fill[u]] = node;
      values[fill[u]++] = w;
      indices[fill[node]] = u;
      values[fill[node]++] = w;
    }
  }
  return { nUsers, nItems, nNodes, nnz, degree, matrix: kernels.uploadCsr(indptr, indices, values) };
}
