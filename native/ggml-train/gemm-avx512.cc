#define GEMM_NS gemm_avx512
#define VW 16
#define NRV 2
#define MR 12
#define GEMM_BF16 1
#include "gemm-kernel.h"
