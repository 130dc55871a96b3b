// LoRA training of a llama-architecture GGUF model as one ggml graph per sequence: forward pass, cross-
// entropy on the response positions, and a hand-written backward pass that computes activation gradients
// everywhere and weight gradients only for LoRA A and B (the base stays frozen).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ggml-api.h"

struct TrainerOptions {
  std::string modelPath;
  int r = 16;
  float alpha = 16;
  float dropout = 0;
  std::vector<std::string> targets;  // GGUF tensor stems: attn_q, attn_k, …
  int threads = 1;
  bool gpu = false;
  // "packed": the packed fp32 GEMM for every matrix product (CPU only); "ggml": ggml_mul_mat
  std::string kernels = "packed";
  // "f32" or "bf16" (frozen weights rounded to bf16, products in ggml's bf16 kernels)
  std::string compute = "f32";
};

struct ModelShape {
  int64_t nEmbd, nLayer, nHead, nHeadKv, headDim, nFf, nVocab, nRot;
  float ropeBase, rmsEps;
  bool tied;
};

struct LoraPair {
  int layer;
  std::string stem;
  int64_t nIn, nOut;
  ggml_tensor* a = nullptr;  // ne [nIn, r]
  ggml_tensor* b = nullptr;  // ne [r, nOut]
};

struct StepResult {
  double lossSum;
  int64_t count;
};

class Trainer {
 public:
  Trainer(const TrainerOptions& o, const ModelShape& shape);
  ~Trainer();
  const std::vector<LoraPair>& pairs() const { return pairs_; }
  std::string description() const;
  void setLora(size_t i, const float* a, const float* b);
  // forward + backward over one sequence; adds the LoRA gradients (of lossGrad · Σ CE) into gradA/gradB
  StepResult step(const int32_t* tokens, const int32_t* targets, int64_t T, float lossGrad,
                  const uint32_t* dropoutSeed, const std::vector<float*>& gradA, const std::vector<float*>& gradB);
  StepResult loss(const int32_t* tokens, const int32_t* targets, int64_t T);
  // logits [T][nVocab] at every position (no dropout)
  void logits(const int32_t* tokens, int64_t T, float* out);

 private:
  struct Graph;
  struct Saved;
  TrainerOptions o_;
  ModelShape s_;
  ggml_backend_t backend_ = nullptr;
  ggml_backend_t cpu_ = nullptr;
  ggml_backend_sched_t sched_ = nullptr;
  ggml_context* wctx_ = nullptr;
  ggml_backend_buffer_t wbuf_ = nullptr;
  std::vector<ggml_tensor*> layerW_;  // 9 per layer: attn_norm q k v o ffn_norm gate up down
  ggml_tensor* tokEmbd_ = nullptr;
  ggml_tensor* output_ = nullptr;
  ggml_tensor* outNorm_ = nullptr;
  std::vector<LoraPair> pairs_;
  std::vector<std::vector<int>> pairOf_;  // [layer][proj] → pair index or -1
  float scale_;
  bool custom_;
  std::vector<uint8_t> ctxMem_;
  // host staging for the per-sequence inputs, kept between sequences (no fresh pages every step)
  std::vector<float> labelsHost_, maskHost_, kqMaskHost_, gradHost_;

  // forward-orientation panels of each fp32 weight for the packed kernels (keyed by the weight tensor)
  struct Prepacked {
    std::vector<float> data;
    int64_t n;
  };
  std::vector<std::pair<const ggml_tensor*, std::unique_ptr<Prepacked>>> prepacked_;
  std::vector<std::unique_ptr<std::vector<uint32_t>>> prepacked16_;
  // what a matrix-product op gets as userdata (stable addresses): pre-packed panels, bf16 or not
  struct MmArgs {
    const float* packed = nullptr;
    const uint32_t* packed16 = nullptr;
    int64_t packedN = 0;
    bool bf16 = false;
  };
  std::vector<std::pair<const ggml_tensor*, std::unique_ptr<MmArgs>>> mmArgs_;
  MmArgs frozenBf16_{nullptr, nullptr, 0, true};
  bool packedBf16_ = false;

  void loadWeights();
  void prepackWeights();
  // ggml_mul_mat(a, b) in ggml's convention, with the packed kernels on the CPU
  ggml_tensor* mm(ggml_context* ctx, ggml_tensor* a, ggml_tensor* b);
  StepResult run(const int32_t* tokens, const int32_t* targets, int64_t T, bool backward, float lossGrad,
                 const uint32_t* dropoutSeed, const std::vector<float*>* gradA, const std::vector<float*>* gradB,
                 float* logitsOut);
};
