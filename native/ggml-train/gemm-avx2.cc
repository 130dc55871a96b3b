#define GEMM_NS gemm_avx2
#define VW 8
#define NRV 2
#define MR 6
#include "gemm-kernel.h"
