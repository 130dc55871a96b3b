#include "gemm.h"

#define DECLARE_BLOCK(ns)                                                                                \
  namespace ns {                                                                                         \
  void block(int64_t K, const GemmA& A, const GemmB& B, float* C, int64_t ldc, bool acc, int64_t m0,     \
             int64_t m1, int64_t n0, int64_t n1);                                                        \
  }
DECLARE_BLOCK(gemm_generic)
#if defined(__x86_64__)
DECLARE_BLOCK(gemm_avx512)
DECLARE_BLOCK(gemm_avx2)
#endif

typedef void (*block_fn)(int64_t, const GemmA&, const GemmB&, float*, int64_t, bool, int64_t, int64_t, int64_t,
                         int64_t);

static block_fn pick(const char** name) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    *name = "avx512";
    return gemm_avx512::block;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    *name = "avx2";
    return gemm_avx2::block;
  }
#endif
  *name = "generic";
  return gemm_generic::block;
}

static const char* isa_name = nullptr;
static block_fn chosen = pick(&isa_name);

const char* gemm_isa() { return isa_name; }

void gemm_block(int64_t K, const GemmA& A, const GemmB& B, float* C, int64_t ldc, bool acc, int64_t m0,
                int64_t m1, int64_t n0, int64_t n1) {
  chosen(K, A, B, C, ldc, acc, m0, m1, n0, n1);
}
