#include "gemm.h"

#include <string>

#define DECLARE_BLOCK(ns)                                                                            \
  namespace ns {                                                                                     \
  void block(int64_t K, const GemmA& A, const GemmB& B, float* C, int64_t ldc, bool acc, int64_t m0, \
             int64_t m1, int64_t n0, int64_t n1);                                                    \
  int64_t nr();                                                                                      \
  int64_t prepack(int64_t K, int64_t N, const GemmB& B, float* out);                                 \
  }
DECLARE_BLOCK(gemm_generic)
#if defined(__x86_64__)
DECLARE_BLOCK(gemm_avx512)
namespace gemm_avx512 {
void block_bf16(int64_t K, const GemmA& A, const GemmB& B, const uint32_t* packed, int64_t packedN, float* C,
                int64_t ldc, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
int64_t prepack_bf16(int64_t K, int64_t N, const GemmB& B, uint32_t* out);
}  // namespace gemm_avx512
DECLARE_BLOCK(gemm_avx2)
#endif

struct Isa {
  const char* name;
  void (*block)(int64_t, const GemmA&, const GemmB&, float*, int64_t, bool, int64_t, int64_t, int64_t, int64_t);
  int64_t (*nr)();
  int64_t (*prepack)(int64_t, int64_t, const GemmB&, float*);
};

static Isa pick() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return {"avx512", gemm_avx512::block, gemm_avx512::nr, gemm_avx512::prepack};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {"avx2", gemm_avx2::block, gemm_avx2::nr, gemm_avx2::prepack};
#endif
  return {"generic", gemm_generic::block, gemm_generic::nr, gemm_generic::prepack};
}

static const Isa isa = pick();

const char* gemm_isa() { return isa.name; }
int64_t gemm_nr() { return isa.nr(); }
int64_t gemm_prepack(int64_t K, int64_t N, const GemmB& B, float* out) { return isa.prepack(K, N, B, out); }

void gemm_block(int64_t K, const GemmA& A, const GemmB& B, float* C, int64_t ldc, bool acc, int64_t m0,
                int64_t m1, int64_t n0, int64_t n1) {
  isa.block(K, A, B, C, ldc, acc, m0, m1, n0, n1);
}

bool gemm_bf16_supported() {
#if defined(__x86_64__)
  return isa.name == std::string("avx512") && __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

void gemm_block_bf16(int64_t K, const GemmA& A, const GemmB& B, const uint32_t* packed, int64_t packedN, float* C,
                     int64_t ldc, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
#if defined(__x86_64__)
  gemm_avx512::block_bf16(K, A, B, packed, packedN, C, ldc, m0, m1, n0, n1);
#endif
}

int64_t gemm_prepack_bf16(int64_t K, int64_t N, const GemmB& B, uint32_t* out) {
#if defined(__x86_64__)
  return gemm_avx512::prepack_bf16(K, N, B, out);
#else
  return 0;
#endif
}
