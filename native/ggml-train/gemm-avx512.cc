#define GEMM_NS gemm_avx512
#define VW 16
#define NRV 2
#define MR 12
#include "gemm-kernel.h"
