// The GEMM body, compiled once per instruction set (gemm-avx512.cc, gemm-avx2.cc, gemm-generic.cc) with
// GCC vector extensions: V is a VW-float vector; the micro-kernel keeps an MR × (NRV·VW) tile of C in
// registers and streams packed panels of A (MR floats per k) and B (NR floats per k).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "gemm.h"

namespace GEMM_NS {
typedef float V __attribute__((vector_size(VW * 4), aligned(4)));
constexpr int NR = NRV * VW;
static_assert(GEMM_MB % MR == 0 && GEMM_NB % NR == 0, "block sizes");

static void kernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, int64_t ldc,
                   bool acc, int mr, int nr) {
  V s[MR][NRV];
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NRV; j++) s[i][j] = V{};
  for (int64_t k = 0; k < kc; k++) {
    V bv[NRV];
    for (int j = 0; j < NRV; j++) bv[j] = *(const V*)(b + k * NR + j * VW);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      const float ai = a[k * MR + i];
      for (int j = 0; j < NRV; j++) s[i][j] += ai * bv[j];
    }
  }
  if (mr == MR && nr == NR) {
    for (int i = 0; i < MR; i++)
      for (int j = 0; j < NRV; j++) {
        V* cp = (V*)(c + i * ldc + j * VW);
        if (acc)
          *cp += s[i][j];
        else
          *cp = s[i][j];
      }
  } else {
    alignas(64) float t[MR * NR];
    for (int i = 0; i < MR; i++)
      for (int j = 0; j < NRV; j++) *(V*)(t + i * NR + j * VW) = s[i][j];
    for (int i = 0; i < mr; i++)
      for (int j = 0; j < nr; j++) c[i * ldc + j] = acc ? c[i * ldc + j] + t[i * NR + j] : t[i * NR + j];
  }
}

// A[m0+i][k0+k] → out[(i/MR)·kc·MR + k·MR + i%MR], zero-padded to a multiple of MR rows.
static void packA(int64_t mc, int64_t kc, const GemmA& A, int64_t m0, int64_t k0, float* out) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    const int64_t mr = std::min<int64_t>(MR, mc - ip);
    float* o = out + ip * kc;
    if (A.rs == 1) {
      // column-major A (a transposed view): MR consecutive floats per k
      const float* src = A.p + (m0 + ip) + k0 * A.cs;
      for (int64_t k = 0; k < kc; k++) {
        for (int64_t i = 0; i < mr; i++) o[k * MR + i] = src[k * A.cs + i];
        for (int64_t i = mr; i < MR; i++) o[k * MR + i] = 0;
      }
      continue;
    }
    for (int i = 0; i < MR; i++) {
      if (i >= mr) {
        for (int64_t k = 0; k < kc; k++) o[k * MR + i] = 0;
        continue;
      }
      const float* src = A.p + (m0 + ip + i) * A.rs + k0 * A.cs;
      if (A.cs == 1)
        for (int64_t k = 0; k < kc; k++) o[k * MR + i] = src[k];
      else
        for (int64_t k = 0; k < kc; k++) o[k * MR + i] = src[k * A.cs];
    }
  }
}

// B[k0+k][n0+j] → out[(j/NR)·kc·NR + k·NR + j%NR], zero-padded to a multiple of NR columns.
static void packB(int64_t kc, int64_t nc, const GemmB& B, int64_t k0, int64_t n0, float* out, float* row) {
  if (B.typed && !B.rowsAlongK) {
    // row k of B is row k of the weight: dequantise elements [n0, n0+nc) of it
    for (int64_t k = 0; k < kc; k++) {
      B.toFloat(B.data + (k0 + k) * B.rowBytes + (n0 / B.blck) * B.typeSize, row, nc);
      for (int64_t jp = 0; jp < nc; jp += NR) {
        const int64_t nr = std::min<int64_t>(NR, nc - jp);
        float* o = out + jp * kc + k * NR;
        for (int64_t j = 0; j < nr; j++) o[j] = row[jp + j];
        for (int64_t j = nr; j < NR; j++) o[j] = 0;
      }
    }
    return;
  }
  for (int64_t jp = 0; jp < nc; jp += NR) {
    const int64_t nr = std::min<int64_t>(NR, nc - jp);
    float* o = out + jp * kc;
    if (B.typed) {
      // column n of B is row n of the weight: dequantise elements [k0, k0+kc) of it
      for (int64_t j = 0; j < NR; j++) {
        if (j < nr) {
          B.toFloat(B.data + (n0 + jp + j) * B.rowBytes + (k0 / B.blck) * B.typeSize, row, kc);
          for (int64_t k = 0; k < kc; k++) o[k * NR + j] = row[k];
        } else {
          for (int64_t k = 0; k < kc; k++) o[k * NR + j] = 0;
        }
      }
    } else if (B.nb == 4) {
      for (int64_t k = 0; k < kc; k++) {
        const float* src = (const float*)(B.data + (k0 + k) * B.kb) + n0 + jp;
        for (int64_t j = 0; j < nr; j++) o[k * NR + j] = src[j];
        for (int64_t j = nr; j < NR; j++) o[k * NR + j] = 0;
      }
    } else {
      for (int64_t j = 0; j < NR; j++) {
        if (j < nr) {
          const char* src = B.data + (n0 + jp + j) * B.nb + k0 * B.kb;
          for (int64_t k = 0; k < kc; k++) o[k * NR + j] = *(const float*)(src + k * B.kb);
        } else {
          for (int64_t k = 0; k < kc; k++) o[k * NR + j] = 0;
        }
      }
    }
  }
}

struct Buffers {
  float* a = nullptr;
  size_t aCap = 0;
  float* b = nullptr;
  float* row = nullptr;
  Buffers() {
    b = (float*)aligned_alloc(64, GEMM_NB * GEMM_KC * 4);
    row = (float*)aligned_alloc(64, std::max(GEMM_NB, GEMM_KC) * 4);
  }
  float* packedA(size_t floats) {
    if (aCap < floats) {
      free(a);
      aCap = (floats + 4095) / 4096 * 4096;
      a = (float*)aligned_alloc(64, aCap * 4);
    }
    return a;
  }
  ~Buffers() {
    free(a);
    free(b);
    free(row);
  }
};

// C[m0:m1, n0:n1] over the full K: each K block of B is packed once and used for every row of A.
void block(int64_t K, const GemmA& A, const GemmB& B, float* C, int64_t ldc, bool acc, int64_t m0, int64_t m1,
           int64_t n0, int64_t n1) {
  static thread_local Buffers buf;
  const int64_t mc = m1 - m0;
  const int64_t nc = n1 - n0;
  float* pa = buf.packedA((size_t)((mc + MR - 1) / MR * MR) * GEMM_KC);
  for (int64_t pc = 0; pc < K; pc += GEMM_KC) {
    const int64_t kc = std::min(GEMM_KC, K - pc);
    const bool a2 = acc || pc > 0;
    const float* pb = buf.b;
    if (B.packed)
      pb = B.packed + pc * B.packedN + (n0 / NR) * kc * NR;
    else
      packB(kc, nc, B, pc, n0, buf.b, buf.row);
    packA(mc, kc, A, m0, pc, pa);
    for (int64_t jr = 0; jr < nc; jr += NR)
      for (int64_t ir = 0; ir < mc; ir += MR)
        kernel(kc, pa + ir * kc, pb + jr * kc, C + (m0 + ir) * ldc + n0 + jr, ldc, a2,
               (int)std::min<int64_t>(MR, mc - ir), (int)std::min<int64_t>(NR, nc - jr));
  }
}
int64_t nr() { return NR; }

int64_t prepack(int64_t K, int64_t N, const GemmB& B, float* out) {
  const int64_t np = (N + NR - 1) / NR * NR;
  if (!out) return K * np;
  std::vector<float> row(std::max(GEMM_NB, GEMM_KC));
  for (int64_t pc = 0; pc < K; pc += GEMM_KC) {
    const int64_t kc = std::min(GEMM_KC, K - pc);
    for (int64_t n0 = 0; n0 < N; n0 += GEMM_NB)
      packB(kc, std::min(GEMM_NB, N - n0), B, pc, n0, out + pc * np + (n0 / NR) * kc * NR, row.data());
  }
  return K * np;
}
}  // namespace GEMM_NS
