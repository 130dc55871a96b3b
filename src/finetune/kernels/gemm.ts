import type { GemmKernels } from "./types.js";

/** Plain TypeScript kernels: the reference the fast paths are tested against (float64 dot products). */
export const tsKernels: GemmKernels = {
  name: "ts",
  nt(C, A, B, M, N, K, acc) {
    for (let i = 0; i < M; i++) {
      const ao = i * K;
      for (let j = 0; j < N; j++) {
        const bo = j * K;
        let s0 = 0;
        let s1 = 0;
        let k = 0;
        for (; k + 1 < K; k += 2) {
          s0 += A[ao + k] * B[bo + k];
          s1 += A[ao + k + 1] * B[bo + k + 1];
        }
        if (k < K) s0 += A[ao + k] * B[bo + k];
        const s = s0 + s1;
        C[i * N + j] = acc ? C[i * N + j] + s : s;
      }
    }
  },
  nn(C, A, B, M, N, K, acc) {
    const row = new Float64Array(N);
    for (let i = 0; i < M; i++) {
      if (acc) for (let j = 0; j < N; j++) row[j] = C[i * N + j];
      else row.fill(0);
      for (let k = 0; k < K; k++) {
        const a = A[i * K + k];
        if (a === 0) continue;
        const bo = k * N;
        for (let j = 0; j < N; j++) row[j] += a * B[bo + j];
      }
      for (let j = 0; j < N; j++) C[i * N + j] = row[j];
    }
  },
  tn(C, A, B, M, N, K, acc) {
    const row = new Float64Array(N);
    for (let i = 0; i < M; i++) {
      if (acc) for (let j = 0; j < N; j++) row[j] = C[i * N + j];
      else row.fill(0);
      for (let k = 0; k < K; k++) {
        const a = A[k * M + i];
        if (a === 0) continue;
        const bo = k * N;
        for (let j = 0; j < N; j++) row[j] += a * B[bo + j];
      }
      for (let j = 0; j < N; j++) C[i * N + j] = row[j];
    }
  },
};
