// The GEMM body, compiled once per instruction set (gemm-avx512.cc, gemm-avx2.cc, gemm-generic.cc) with
// GCC vector extensions: V is a VW-float vector; the micro-kernel keeps an MR × (NRV·VW) tile of C in
// registers and streams packed panels of A (MR floats per k) and B (NR floats per k).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>
#ifdef GEMM_BF16
#include <immintrin.h>
#endif

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

#ifdef GEMM_BF16
// ---- bf16 products (AVX512-BF16): A and B rounded to bf16 (round to nearest even) while packed, pairs
// of k in one 32-bit word, vdpbf16ps accumulating in fp32. Panels as above with k halved.
static inline uint32_t bf16(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  u += 0x7fff + ((u >> 16) & 1);
  return u >> 16;
}

static void kernel_bf16(int64_t kc2, const uint32_t* __restrict a, const uint32_t* __restrict b, float* c,
                        int64_t ldc, bool acc, int mr, int nr) {
  static_assert(NR == 32 && VW == 16, "bf16 kernel assumes 2 zmm columns");
  __m512 s[MR][2];
  for (int i = 0; i < MR; i++) s[i][0] = s[i][1] = _mm512_setzero_ps();
  for (int64_t kp = 0; kp < kc2; kp++) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b + kp * NR);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + kp * NR + 16);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[kp * MR + i]);
      s[i][0] = _mm512_dpbf16_ps(s[i][0], ai, b0);
      s[i][1] = _mm512_dpbf16_ps(s[i][1], ai, b1);
    }
  }
  alignas(64) float t[MR * NR];
  for (int i = 0; i < MR; i++) {
    _mm512_store_ps(t + i * NR, s[i][0]);
    _mm512_store_ps(t + i * NR + 16, s[i][1]);
  }
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < nr; j++) c[i * ldc + j] = acc ? c[i * ldc + j] + t[i * NR + j] : t[i * NR + j];
}

// fp32 panels (packA/packB layout) → bf16 pairs: out[p][kp][w] = bf16(in[p][2kp][w]) | bf16(in[p][2kp+1][w]) << 16
static void pairs(const float* in, int64_t panels, int64_t kc, int width, uint32_t* out) {
  const int64_t kc2 = (kc + 1) / 2;
  for (int64_t p = 0; p < panels; p++) {
    const float* src = in + p * kc * width;
    uint32_t* o = out + p * kc2 * width;
    for (int64_t kp = 0; kp < kc2; kp++)
      for (int w = 0; w < width; w++) {
        const uint32_t lo = bf16(src[(2 * kp) * width + w]);
        const uint32_t hi = 2 * kp + 1 < kc ? bf16(src[(2 * kp + 1) * width + w]) : 0;
        o[kp * width + w] = lo | hi << 16;
      }
  }
}

struct Bf16Buffers {
  std::vector<float> a, b;
  std::vector<uint32_t> a2, b2;
  std::vector<float> row = std::vector<float>(std::max(GEMM_NB, GEMM_KC));
};

void block_bf16(int64_t K, const GemmA& A, const GemmB& B, const uint32_t* packed, int64_t packedN, float* C,
                int64_t ldc, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  static thread_local Bf16Buffers buf;
  const int64_t mc = m1 - m0, nc = n1 - n0;
  const int64_t mp = (mc + MR - 1) / MR, np = (nc + NR - 1) / NR;
  buf.a.resize(mp * MR * GEMM_KC);
  buf.a2.resize(mp * MR * GEMM_KC / 2);
  buf.b.resize(np * NR * GEMM_KC);
  buf.b2.resize(np * NR * GEMM_KC / 2);
  for (int64_t pc = 0; pc < K; pc += GEMM_KC) {
    const int64_t kc = std::min(GEMM_KC, K - pc), kc2 = (kc + 1) / 2;
    const uint32_t* pb = buf.b2.data();
    if (packed) {
      pb = packed + (pc / 2) * packedN + (n0 / NR) * kc2 * NR;
    } else {
      packB(kc, nc, B, pc, n0, buf.b.data(), buf.row.data());
      pairs(buf.b.data(), np, kc, NR, buf.b2.data());
    }
    packA(mc, kc, A, m0, pc, buf.a.data());
    pairs(buf.a.data(), mp, kc, MR, buf.a2.data());
    for (int64_t jr = 0; jr < nc; jr += NR)
      for (int64_t ir = 0; ir < mc; ir += MR)
        kernel_bf16(kc2, buf.a2.data() + ir * kc2, pb + jr * kc2, C + (m0 + ir) * ldc + n0 + jr, ldc, pc > 0,
                    (int)std::min<int64_t>(MR, mc - ir), (int)std::min<int64_t>(NR, nc - jr));
  }
}

int64_t prepack_bf16(int64_t K, int64_t N, const GemmB& B, uint32_t* out) {
  const int64_t np = (N + NR - 1) / NR * NR;
  if (!out) return (K + 1) / 2 * np;
  std::vector<float> row(std::max(GEMM_NB, GEMM_KC)), panel(GEMM_NB * GEMM_KC);
  for (int64_t pc = 0; pc < K; pc += GEMM_KC) {
    const int64_t kc = std::min(GEMM_KC, K - pc), kc2 = (kc + 1) / 2;
    for (int64_t n0 = 0; n0 < N; n0 += GEMM_NB) {
      const int64_t nc = std::min(GEMM_NB, N - n0);
      packB(kc, nc, B, pc, n0, panel.data(), row.data());
      pairs(panel.data(), (nc + NR - 1) / NR, kc, NR, out + (pc / 2) * np + (n0 / NR) * kc2 * NR);
    }
  }
  return (K + 1) / 2 * np;
}
#endif

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
