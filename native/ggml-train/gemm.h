// Packed fp32 GEMM for the ggml training engine's CPU matrix products (see README: fine-tuning engines).
// C[M×N] (+)= A[M×K] · B[K×N], fp32 FMA throughout. A is fp32 with any strides; B is fp32 with any
// strides, or a weight matrix in any ggml type with a to_float routine (F16, BF16, Q8_0, Q4_K, …), which
// is dequantised exactly while it is packed. Each block of C is computed by one thread with the same
// summation order whatever the thread count, so results do not depend on it.
#pragma once
#include <cstdint>

typedef void (*to_float_fn)(const void* src, float* dst, int64_t n);

struct GemmA {
  const float* p;
  int64_t rs, cs;  // element (m, k) at p[m*rs + k*cs]
};

struct GemmB {
  const char* data;
  // fp32: element (k, n) at data + k*kb + n*nb (bytes)
  // typed: rows of `rowLen` elements along k (rowsAlongK) or along n, blck elements per typeSize bytes
  int64_t kb, nb;
  bool typed;
  bool rowsAlongK;
  int64_t rowBytes;  // typed: bytes between rows
  int blck;
  int64_t typeSize;
  to_float_fn toFloat;
  // optional: B already packed by gemm_prepack (fp32 weights, packed once at load)
  const float* packed;
  int64_t packedN;  // columns of the packed matrix, rounded up to the kernel's NR
};

// One block of work: rows [m0, m1) × columns [n0, n1) of C over the full K (n1 − n0 ≤ GEMM_NB).
void gemm_block(int64_t K, const GemmA& A, const GemmB& B, float* C, int64_t ldc, bool acc, int64_t m0,
                int64_t m1, int64_t n0, int64_t n1);

// Columns per block of work (at most; a multiple of every kernel's NR, and of 256 for K-quants), and the
// row granularity when rows are split too (a multiple of every kernel's MR).
constexpr int64_t GEMM_NB = 256;
constexpr int64_t GEMM_MB = 48;
constexpr int64_t GEMM_KC = 256;

// Columns per packed panel of the kernel on this CPU.
int64_t gemm_nr();
// Pack all of B[K×N] once, in the layout gemm_block reads (K blocks of GEMM_KC, then NR-column panels),
// for a B that does not change (frozen weights); returns the floats needed when out is null.
int64_t gemm_prepack(int64_t K, int64_t N, const GemmB& B, float* out);

// bf16 products (vdpbf16ps): whether this CPU has them, and the bf16 versions of gemm_block/gemm_prepack
// (A and B rounded to bf16 while packed; `packed` from gemm_prepack_bf16 or null).
bool gemm_bf16_supported();
void gemm_block_bf16(int64_t K, const GemmA& A, const GemmB& B, const uint32_t* packed, int64_t packedN, float* C,
                     int64_t ldc, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
int64_t gemm_prepack_bf16(int64_t K, int64_t N, const GemmB& B, uint32_t* out);

// Which kernel gemm_block runs on this CPU: "avx512", "avx2" or "generic".
const char* gemm_isa();
