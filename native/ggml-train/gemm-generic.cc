#define GEMM_NS gemm_generic
#define VW 4
#define NRV 2
#define MR 4
#include "gemm-kernel.h"
