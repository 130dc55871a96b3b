// The ggml functions the engine calls, resolved at run time with dlopen/dlsym from one folder of
// node-llama-cpp's prebuilt libraries (CPU, CUDA or Vulkan build), so the addon links against nothing and
// the caller chooses the build. Declarations come from the headers of exactly the bundled llama.cpp
// release (extracted by scripts/build-ggml-addon.mjs).
#pragma once
#include <string>

#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "ggml.h"
#include "gguf.h"

#define GGML_TRAIN_FUNCTIONS(X)    \
  X(ggml_init)                     \
  X(ggml_free)                     \
  X(ggml_log_set)                  \
  X(ggml_tensor_overhead)          \
  X(ggml_graph_overhead_custom)    \
  X(ggml_new_graph_custom)         \
  X(ggml_new_tensor_1d)            \
  X(ggml_new_tensor_2d)            \
  X(ggml_new_tensor_3d)            \
  X(ggml_set_name)                 \
  X(ggml_set_input)                \
  X(ggml_set_output)               \
  X(ggml_build_forward_expand)     \
  X(ggml_get_tensor)               \
  X(ggml_graph_n_nodes)            \
  X(ggml_get_rows)                 \
  X(ggml_get_rows_back)            \
  X(ggml_rms_norm)                 \
  X(ggml_rms_norm_back)            \
  X(ggml_mul)                      \
  X(ggml_add)                      \
  X(ggml_scale)                    \
  X(ggml_silu)                     \
  X(ggml_silu_back)                \
  X(ggml_reshape_2d)               \
  X(ggml_reshape_3d)               \
  X(ggml_permute)                  \
  X(ggml_transpose)                \
  X(ggml_cont)                     \
  X(ggml_is_contiguous)            \
  X(ggml_rope_ext)                 \
  X(ggml_rope_ext_back)            \
  X(ggml_soft_max_ext)             \
  X(ggml_soft_max_ext_back)        \
  X(ggml_mul_mat)                  \
  X(ggml_soft_max)                 \
  X(ggml_sum_rows)                 \
  X(ggml_sum)                      \
  X(ggml_log)                      \
  X(ggml_cross_entropy_loss_back)  \
  X(ggml_custom_4d)                \
  X(ggml_nbytes)                   \
  X(ggml_nelements)                \
  X(ggml_row_size)                 \
  X(ggml_get_type_traits)          \
  X(ggml_type_name)                \
  X(ggml_quantize_chunk)           \
  X(ggml_quantize_requires_imatrix) \
  X(ggml_fp32_to_bf16_row)         \
  X(gguf_init_from_file)           \
  X(gguf_free)                     \
  X(gguf_find_tensor)              \
  X(gguf_get_tensor_offset)        \
  X(gguf_get_data_offset)          \
  X(ggml_backend_alloc_ctx_tensors) \
  X(ggml_backend_buffer_free)      \
  X(ggml_backend_tensor_set)       \
  X(ggml_backend_tensor_get)       \
  X(ggml_backend_free)             \
  X(ggml_backend_name)             \
  X(ggml_backend_get_device)       \
  X(ggml_backend_dev_name)         \
  X(ggml_backend_dev_description)  \
  X(ggml_backend_dev_type)         \
  X(ggml_backend_dev_backend_reg)  \
  X(ggml_backend_reg_get_proc_address) \
  X(ggml_backend_get_default_buffer_type) \
  X(ggml_backend_sched_new)        \
  X(ggml_backend_sched_free)       \
  X(ggml_backend_sched_reset)      \
  X(ggml_backend_sched_alloc_graph) \
  X(ggml_backend_sched_graph_compute) \
  X(ggml_backend_load_all_from_path) \
  X(ggml_backend_load)             \
  X(ggml_backend_dev_count)        \
  X(ggml_backend_dev_get)          \
  X(ggml_backend_dev_init)         \
  X(ggml_backend_init_by_type)

struct GgmlApi {
#define GGML_TRAIN_DECLARE(name) decltype(&::name) name = nullptr;
  GGML_TRAIN_FUNCTIONS(GGML_TRAIN_DECLARE)
#undef GGML_TRAIN_DECLARE
};

// The resolved functions (valid after ggml_api_load succeeded).
extern GgmlApi G;

// ggml's error messages since the last clear (ggml's log goes here instead of stderr)
extern std::string ggml_last_error;

// dlopen libggml-base and libggml from `dir` and resolve every function; returns "" or why it failed.
std::string ggml_api_load(const std::string& dir);

// Load one more backend library (libggml-cuda.so, libggml-vulkan.so, … of the same llama.cpp release) into
// the ggml loaded above: its dependency on libggml-base resolves to the copy already loaded, so every
// tensor meets one ggml. Returns "" or why it failed.
std::string ggml_api_load_backend(const std::string& path);
