#include "trainer.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "gemm.h"

namespace {

enum Proj { W_ATTN_NORM = 0, W_Q, W_K, W_V, W_O, W_FFN_NORM, W_GATE, W_UP, W_DOWN, N_W };
const char* const STEMS[N_W] = {"attn_norm", "attn_q",   "attn_k",  "attn_v",   "attn_output",
                                "ffn_norm",  "ffn_gate", "ffn_up",  "ffn_down"};

std::string shape_str(const ggml_tensor* t) {
  return "[" + std::to_string(t->ne[0]) + ", " + std::to_string(t->ne[1]) + "]";
}

// Same layout as Trainer::MmArgs (userdata of the op).
struct MmOpArgs {
  const float* packed;
  const uint32_t* packed16;
  int64_t packedN;
  bool bf16;
};

// The custom GEMM op: dst = mul_mat(a, b) in ggml's convention, dst[i, j] = Σ_k a[k, i] · b[k, j], batched
// over dims 2 and 3 with a broadcast over b's batches (grouped-query attention). a and b may be strided
// views (transposes included); a may be any type with to_float (weights stay as stored in the GGUF).
void mm_op(ggml_tensor* dst, int ith, int nth, void* userdata) {
  const ggml_tensor* a = dst->src[0];
  const ggml_tensor* b = dst->src[1];
  const int64_t K = a->ne[0], N = a->ne[1], M = b->ne[1];
  const int64_t B2 = b->ne[2], B3 = b->ne[3];
  const int64_t r2 = B2 / a->ne[2], r3 = B3 / a->ne[3];
  GemmB gb{};
  if (a->type == GGML_TYPE_F32) {
    gb.kb = a->nb[0];
    gb.nb = a->nb[1];
    gb.typed = false;
  } else {
    const ggml_type_traits* tr = G.ggml_get_type_traits(a->type);
    gb.typed = true;
    gb.blck = (int)tr->blck_size;
    gb.typeSize = (int64_t)tr->type_size;
    gb.toFloat = tr->to_float;
    // a is a weight (rows along k) or ggml_transpose of one (rows along n); strides alone are ambiguous
    // when a row is one block
    gb.rowsAlongK = a->op != GGML_OP_TRANSPOSE;
    gb.rowBytes = gb.rowsAlongK ? a->nb[1] : a->nb[0];
  }
  bool bf16 = false;
  const uint32_t* packed16 = nullptr;
  int64_t packedN = 0;
  if (userdata) {
    const auto* args = static_cast<const MmOpArgs*>(userdata);
    gb.packed = args->packed;
    gb.packedN = args->packedN;
    packed16 = args->packed16;
    packedN = args->packedN;
    bf16 = args->bf16;
  }
  // Work units: (batch, column block, row part). Column blocks shrink (to 32) until there are enough units
  // for the threads; rows are split only when that is not enough. Block sizes do not change the result.
  const bool aligned256 = gb.typed && !gb.rowsAlongK;  // dequantised along n: blocks start at 256 multiples
  int64_t nbs = GEMM_NB;
  auto nBlocksOf = [&](int64_t s) { return (N + s - 1) / s; };
  while (!aligned256 && nbs > 32 && B2 * B3 * nBlocksOf(nbs) < 4 * nth) nbs /= 2;
  const int64_t nBlocks = nBlocksOf(nbs);
  const int64_t unitsN = B2 * B3 * nBlocks;
  int64_t mParts = 1;
  if (unitsN < 2 * nth) mParts = std::max<int64_t>(1, std::min<int64_t>((M + GEMM_MB - 1) / GEMM_MB, (2 * nth + unitsN - 1) / unitsN));
  const int64_t mStep = ((M + mParts - 1) / mParts + GEMM_MB - 1) / GEMM_MB * GEMM_MB;
  const int64_t total = unitsN * mParts;
  const int64_t u0 = total * ith / nth, u1 = total * (ith + 1) / nth;
  for (int64_t u = u0; u < u1; u++) {
    int64_t rest = u;
    const int64_t mp = rest % mParts;
    rest /= mParts;
    const int64_t nb = rest % nBlocks;
    rest /= nBlocks;
    const int64_t i2 = rest % B2, i3 = rest / B2;
    const int64_t m0 = mp * mStep, m1 = std::min(M, m0 + mStep);
    if (m0 >= m1) continue;
    GemmA ga{(const float*)((const char*)b->data + i2 * b->nb[2] + i3 * b->nb[3]), (int64_t)(b->nb[1] / 4),
             (int64_t)(b->nb[0] / 4)};
    GemmB gbb = gb;
    gbb.data = (const char*)a->data + (i2 / r2) * a->nb[2] + (i3 / r3) * a->nb[3];
    float* C = (float*)((char*)dst->data + i2 * dst->nb[2] + i3 * dst->nb[3]);
    if (bf16)
      gemm_block_bf16(K, ga, gbb, packed16, packedN, C, dst->ne[0], m0, m1, nb * nbs, std::min(N, (nb + 1) * nbs));
    else
      gemm_block(K, ga, gbb, C, dst->ne[0], false, m0, m1, nb * nbs, std::min(N, (nb + 1) * nbs));
  }
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

Trainer::Trainer(const TrainerOptions& o, const ModelShape& shape) : o_(o), s_(shape) {
  scale_ = o.alpha / o.r;
  custom_ = o.kernels == "packed";
  if (custom_ && o.gpu) throw std::runtime_error("the packed kernels run on the CPU; use kernels \"ggml\" with --gpu");
  packedBf16_ = custom_ && o.compute == "bf16";
  if (packedBf16_ && !gemm_bf16_supported())
    throw std::runtime_error("the packed bf16 kernels need a CPU with AVX512-BF16; use kernels \"ggml\" for bf16");
  if (o.gpu) {
    backend_ = G.ggml_backend_init_by_type(GGML_BACKEND_DEVICE_TYPE_GPU, nullptr);
    if (!backend_) throw std::runtime_error("no GPU device found by ggml's CUDA/Vulkan backend");
  }
  cpu_ = G.ggml_backend_init_by_type(GGML_BACKEND_DEVICE_TYPE_CPU, nullptr);
  if (!cpu_) throw std::runtime_error("ggml's CPU backend did not load");
  ggml_backend_reg_t reg = G.ggml_backend_dev_backend_reg(G.ggml_backend_get_device(cpu_));
  auto set_threads = (ggml_backend_set_n_threads_t)G.ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_n_threads");
  if (set_threads) set_threads(cpu_, o.threads);
  if (!backend_) backend_ = cpu_;
  loadWeights();
  if (custom_) prepackWeights();
  std::vector<ggml_backend_t> bs{backend_};
  if (backend_ != cpu_) bs.push_back(cpu_);
  sched_ = G.ggml_backend_sched_new(bs.data(), nullptr, (int)bs.size(), 65536, false, false);
  if (!sched_) throw std::runtime_error("ggml_backend_sched_new failed");
}

Trainer::~Trainer() {
  if (sched_) G.ggml_backend_sched_free(sched_);
  if (wbuf_) G.ggml_backend_buffer_free(wbuf_);
  if (wctx_) G.ggml_free(wctx_);
  if (backend_ && backend_ != cpu_) G.ggml_backend_free(backend_);
  if (cpu_) G.ggml_backend_free(cpu_);
}

std::string Trainer::description() const {
  ggml_backend_dev_t dev = G.ggml_backend_get_device(backend_);
  std::string d = std::string(G.ggml_backend_name(backend_)) + " (" + G.ggml_backend_dev_description(dev) + ")";
  if (custom_) d += packedBf16_ ? ", packed GEMM, bf16 products for the frozen weights (avx512-bf16)" : ", packed fp32 GEMM (" + std::string(gemm_isa()) + ")";
  else d += ", ggml mul_mat " + o_.compute;
  return d;
}

void Trainer::loadWeights() {
  ggml_context* meta = nullptr;
  gguf_init_params gp{true, &meta};
  gguf_context* gg = G.gguf_init_from_file(o_.modelPath.c_str(), gp);
  if (!gg) throw std::runtime_error(o_.modelPath + ": not a readable GGUF file");
  struct Load {
    ggml_tensor* src;
    ggml_tensor* dst;
    int64_t fileIndex;
  };
  std::vector<Load> loads;
  const size_t nTensors = (size_t)s_.nLayer * (N_W + 2 * o_.targets.size()) + 8;
  ctxMem_.resize(0);
  ggml_init_params ip{G.ggml_tensor_overhead() * nTensors, nullptr, true};
  wctx_ = G.ggml_init(ip);
  const ggml_type wtype = o_.compute == "bf16" ? GGML_TYPE_BF16 : GGML_TYPE_F32;
  auto take = [&](const std::string& name, int64_t ne0, int64_t ne1, bool matrix) -> ggml_tensor* {
    ggml_tensor* src = G.ggml_get_tensor(meta, name.c_str());
    if (!src) throw std::runtime_error(o_.modelPath + ": tensor " + name + " is missing");
    if (src->ne[0] != ne0 || src->ne[1] != ne1 || src->ne[2] != 1)
      throw std::runtime_error(o_.modelPath + ": tensor " + name + " has shape " + shape_str(src) +
                               ", expected [" + std::to_string(ne0) + ", " + std::to_string(ne1) + "]");
    const ggml_type_traits* tr = G.ggml_get_type_traits(src->type);
    if (src->type != GGML_TYPE_F32 && (!tr || !tr->to_float))
      throw std::runtime_error(o_.modelPath + ": tensor " + name + " has type " + G.ggml_type_name(src->type) +
                               ", which ggml cannot dequantise");
    // the packed kernels read weights as stored; ggml's kernels get them converted to the compute type
    // (F16/BF16 are widened to F32 once: exact, and cheaper than converting while packing)
    const bool quantised = src->type != GGML_TYPE_F32 && src->type != GGML_TYPE_F16 && src->type != GGML_TYPE_BF16;
    ggml_type t = !matrix ? GGML_TYPE_F32 : custom_ ? (quantised ? src->type : GGML_TYPE_F32) : wtype;
    ggml_tensor* dst = ne1 == 1 ? G.ggml_new_tensor_1d(wctx_, t, ne0) : G.ggml_new_tensor_2d(wctx_, t, ne0, ne1);
    G.ggml_set_name(dst, name.c_str());
    loads.push_back({src, dst, G.gguf_find_tensor(gg, name.c_str())});
    return dst;
  };
  const int64_t d = s_.nEmbd, kv = s_.nHeadKv * s_.headDim, ff = s_.nFf;
  const int64_t shapes[N_W][2] = {{d, 1}, {d, d}, {d, kv}, {d, kv}, {d, d}, {d, 1}, {d, ff}, {d, ff}, {ff, d}};
  for (int64_t l = 0; l < s_.nLayer; l++)
    for (int w = 0; w < N_W; w++)
      layerW_.push_back(take("blk." + std::to_string(l) + "." + STEMS[w] + ".weight", shapes[w][0], shapes[w][1],
                             shapes[w][1] != 1));
  tokEmbd_ = take("token_embd.weight", d, s_.nVocab, true);
  outNorm_ = take("output_norm.weight", d, 1, false);
  output_ = s_.tied ? tokEmbd_ : take("output.weight", d, s_.nVocab, true);
  pairOf_.assign(s_.nLayer, std::vector<int>(N_W, -1));
  for (int64_t l = 0; l < s_.nLayer; l++) {
    for (const std::string& stem : o_.targets) {
      int w = -1;
      for (int i = 0; i < N_W; i++)
        if (stem == STEMS[i]) w = i;
      if (w < 0 || shapes[w][1] == 1) throw std::runtime_error("LoRA target " + stem + " is not a projection");
      LoraPair p{(int)l, stem, shapes[w][0], shapes[w][1]};
      p.a = G.ggml_new_tensor_2d(wctx_, GGML_TYPE_F32, p.nIn, o_.r);
      p.b = G.ggml_new_tensor_2d(wctx_, GGML_TYPE_F32, o_.r, p.nOut);
      pairOf_[l][w] = (int)pairs_.size();
      pairs_.push_back(p);
    }
  }
  wbuf_ = G.ggml_backend_alloc_ctx_tensors(wctx_, backend_);
  if (!wbuf_) throw std::runtime_error("could not allocate the model weights on " + std::string(G.ggml_backend_name(backend_)));
  FILE* f = fopen(o_.modelPath.c_str(), "rb");
  if (!f) throw std::runtime_error(o_.modelPath + ": cannot open");
  const size_t base = G.gguf_get_data_offset(gg);
  std::vector<uint8_t> raw;
  std::vector<float> f32;
  std::vector<uint8_t> conv;
  for (auto& ld : loads) {
    const size_t n = G.ggml_nbytes(ld.src);
    raw.resize(n);
    if (fseeko(f, (off_t)(base + G.gguf_get_tensor_offset(gg, ld.fileIndex)), SEEK_SET) != 0 ||
        fread(raw.data(), 1, n, f) != n) {
      fclose(f);
      throw std::runtime_error(o_.modelPath + ": truncated data for tensor " + ld.dst->name);
    }
    if (ld.dst->type == ld.src->type) {
      G.ggml_backend_tensor_set(ld.dst, raw.data(), 0, n);
      continue;
    }
    const int64_t ne = G.ggml_nelements(ld.src);
    f32.resize(ne);
    if (ld.src->type == GGML_TYPE_F32) memcpy(f32.data(), raw.data(), ne * 4);
    else G.ggml_get_type_traits(ld.src->type)->to_float(raw.data(), f32.data(), ne);
    if (ld.dst->type == GGML_TYPE_F32) {
      G.ggml_backend_tensor_set(ld.dst, f32.data(), 0, ne * 4);
    } else {
      conv.resize(ne * 2);
      G.ggml_fp32_to_bf16_row(f32.data(), (ggml_bf16_t*)conv.data(), ne);
      G.ggml_backend_tensor_set(ld.dst, conv.data(), 0, ne * 2);
    }
  }
  fclose(f);
  G.gguf_free(gg);
  G.ggml_free(meta);
}

void Trainer::setLora(size_t i, const float* a, const float* b) {
  const LoraPair& p = pairs_.at(i);
  G.ggml_backend_tensor_set(p.a, a, 0, G.ggml_nbytes(p.a));
  G.ggml_backend_tensor_set(p.b, b, 0, G.ggml_nbytes(p.b));
}

void Trainer::prepackWeights() {
  std::vector<const ggml_tensor*> ws;
  for (int64_t l = 0; l < s_.nLayer; l++)
    for (int w : {W_Q, W_K, W_V, W_O, W_GATE, W_UP, W_DOWN}) ws.push_back(layerW_[l * N_W + w]);
  ws.push_back(output_);
  for (const ggml_tensor* w : ws) {
    auto args = std::make_unique<MmArgs>();
    args->bf16 = packedBf16_;
    if (w->type == GGML_TYPE_F32 && w->data) {
      GemmB gb{};
      gb.data = (const char*)w->data;
      gb.kb = w->nb[0];
      gb.nb = w->nb[1];
      args->packedN = (w->ne[1] + gemm_nr() - 1) / gemm_nr() * gemm_nr();
      if (packedBf16_) {
        auto p = std::make_unique<std::vector<uint32_t>>(gemm_prepack_bf16(w->ne[0], w->ne[1], gb, nullptr));
        gemm_prepack_bf16(w->ne[0], w->ne[1], gb, p->data());
        args->packed16 = p->data();
        prepacked16_.push_back(std::move(p));
      } else {
        auto p = std::make_unique<Prepacked>();
        p->n = args->packedN;
        p->data.resize(gemm_prepack(w->ne[0], w->ne[1], gb, nullptr));
        gemm_prepack(w->ne[0], w->ne[1], gb, p->data.data());
        args->packed = p->data.data();
        prepacked_.emplace_back(w, std::move(p));
      }
    }
    mmArgs_.emplace_back(w, std::move(args));
  }
}

ggml_tensor* Trainer::mm(ggml_context* ctx, ggml_tensor* a, ggml_tensor* b) {
  if (custom_) {
    // a frozen weight (forward: pre-packed panels) or its transpose (backward): bf16 products when asked
    void* userdata = nullptr;
    for (auto& [w, args] : mmArgs_) {
      if (w == a) userdata = args.get();
      else if (packedBf16_ && a->op == GGML_OP_TRANSPOSE && a->src[0] == w) userdata = &frozenBf16_;
    }
    ggml_tensor* args[2] = {a, b};
    return G.ggml_custom_4d(ctx, GGML_TYPE_F32, a->ne[1], b->ne[1], b->ne[2], b->ne[3], args, 2, mm_op,
                            GGML_N_TASKS_MAX, userdata);
  }
  if (!G.ggml_is_contiguous(a)) a = G.ggml_cont(ctx, a);
  if (!G.ggml_is_contiguous(b)) b = G.ggml_cont(ctx, b);
  return G.ggml_mul_mat(ctx, a, b);
}

StepResult Trainer::step(const int32_t* tokens, const int32_t* targets, int64_t T, float lossGrad,
                         const uint32_t* dropoutSeed, const std::vector<float*>& gradA,
                         const std::vector<float*>& gradB) {
  return run(tokens, targets, T, true, lossGrad, dropoutSeed, &gradA, &gradB, nullptr);
}

StepResult Trainer::loss(const int32_t* tokens, const int32_t* targets, int64_t T) {
  return run(tokens, targets, T, false, 0, nullptr, nullptr, nullptr, nullptr);
}

void Trainer::logits(const int32_t* tokens, int64_t T, float* out) {
  std::vector<int32_t> targets(T, 0);
  run(tokens, targets.data(), T, false, 0, nullptr, nullptr, nullptr, out);
}

StepResult Trainer::run(const int32_t* tokens, const int32_t* targets, int64_t T, bool backward, float lossGrad,
                        const uint32_t* dropoutSeed, const std::vector<float*>* gradA,
                        const std::vector<float*>* gradB, float* logitsOut) {
  const int64_t d = s_.nEmbd, hd = s_.headDim, nh = s_.nHead, nkv = s_.nHeadKv, kvw = nkv * hd;
  const int64_t group = nh / nkv, V = s_.nVocab;
  const float eps = s_.rmsEps, kqScale = 1.0f / std::sqrt((float)hd);
  std::vector<int32_t> rows;
  for (int64_t t = 0; t < T; t++) {
    if (tokens[t] < 0 || tokens[t] >= V)
      throw std::runtime_error("token id " + std::to_string(tokens[t]) + " outside the vocabulary");
    if (logitsOut || targets[t] >= 0) rows.push_back((int32_t)t);
  }
  const int64_t n = (int64_t)rows.size();
  if (n == 0 && !logitsOut) return {0.0, 0};
  const bool dropout = backward && o_.dropout > 0 && dropoutSeed;

  const size_t maxNodes = 32768 + (size_t)s_.nLayer * 1024;
  const size_t memSize = G.ggml_tensor_overhead() * maxNodes + G.ggml_graph_overhead_custom(maxNodes, false);
  if (ctxMem_.size() < memSize) ctxMem_.resize(memSize);
  ggml_init_params ip{memSize, ctxMem_.data(), true};
  ggml_context* ctx = G.ggml_init(ip);
  ggml_cgraph* gf = G.ggml_new_graph_custom(ctx, maxNodes, false);
  auto input = [&](ggml_tensor* t, const char* name) {
    G.ggml_set_name(t, name);
    G.ggml_set_input(t);
    return t;
  };
  ggml_tensor* tok = input(G.ggml_new_tensor_1d(ctx, GGML_TYPE_I32, T), "tokens");
  ggml_tensor* pos = input(G.ggml_new_tensor_1d(ctx, GGML_TYPE_I32, T), "pos");
  ggml_tensor* kqMask = input(G.ggml_new_tensor_2d(ctx, GGML_TYPE_F32, T, T), "kq_mask");
  ggml_tensor* rowIdx = input(G.ggml_new_tensor_1d(ctx, GGML_TYPE_I32, n), "rows");
  ggml_tensor* labels = logitsOut ? nullptr : input(G.ggml_new_tensor_2d(ctx, GGML_TYPE_F32, V, n), "labels");
  ggml_tensor* dloss = backward ? input(G.ggml_new_tensor_1d(ctx, GGML_TYPE_F32, 1), "dloss") : nullptr;
  std::vector<ggml_tensor*> masks(pairs_.size(), nullptr);
  if (dropout)
    for (size_t i = 0; i < pairs_.size(); i++)
      masks[i] = input(G.ggml_new_tensor_2d(ctx, GGML_TYPE_F32, pairs_[i].nIn, T), "dropout");

  struct LoraSaved {
    ggml_tensor* xd = nullptr;
    ggml_tensor* z = nullptr;
  };
  struct LayerSaved {
    ggml_tensor *x, *n1, *Q, *K, *Vp, *P, *att, *h, *n2, *g, *u, *sg, *a;
    LoraSaved lora[N_W];
  };
  std::vector<LayerSaved> saved(s_.nLayer);
  auto W = [&](int64_t l, int w) { return layerW_[l * N_W + w]; };

  auto linear = [&](int64_t l, int w, ggml_tensor* x, LayerSaved& sv) {
    ggml_tensor* y = mm(ctx, W(l, w), x);
    const int pi = pairOf_[l][w];
    if (pi >= 0) {
      const LoraPair& p = pairs_[pi];
      ggml_tensor* xd = masks[pi] ? G.ggml_mul(ctx, x, masks[pi]) : x;
      ggml_tensor* z = mm(ctx, p.a, xd);
      y = G.ggml_add(ctx, y, G.ggml_scale(ctx, mm(ctx, p.b, z), scale_));
      sv.lora[w] = {xd, z};
    }
    return y;
  };
  std::vector<ggml_tensor*> gA(pairs_.size(), nullptr), gB(pairs_.size(), nullptr);
  auto linearBack = [&](int64_t l, int w, ggml_tensor* dy, LayerSaved& sv) {
    ggml_tensor* dx = mm(ctx, G.ggml_transpose(ctx, W(l, w)), dy);
    const int pi = pairOf_[l][w];
    if (pi >= 0) {
      const LoraPair& p = pairs_[pi];
      const LoraSaved& ls = sv.lora[w];
      gB[pi] = G.ggml_scale(ctx, mm(ctx, G.ggml_transpose(ctx, ls.z), G.ggml_transpose(ctx, dy)), scale_);
      ggml_tensor* dz = G.ggml_scale(ctx, mm(ctx, G.ggml_transpose(ctx, p.b), dy), scale_);
      gA[pi] = mm(ctx, G.ggml_transpose(ctx, ls.xd), G.ggml_transpose(ctx, dz));
      ggml_tensor* dxl = mm(ctx, G.ggml_transpose(ctx, p.a), dz);
      if (masks[pi]) dxl = G.ggml_mul(ctx, dxl, masks[pi]);
      dx = G.ggml_add(ctx, dx, dxl);
      G.ggml_set_output(gA[pi]);
      G.ggml_set_output(gB[pi]);
    }
    return dx;
  };
  auto rope = [&](ggml_tensor* x) {
    return G.ggml_rope_ext(ctx, x, pos, nullptr, (int)s_.nRot, GGML_ROPE_TYPE_NORMAL, 0, s_.ropeBase, 1.0f, 0.0f,
                           1.0f, 0.0f, 0.0f);
  };
  auto ropeBack = [&](ggml_tensor* dx) {
    return G.ggml_rope_ext_back(ctx, dx, pos, nullptr, (int)s_.nRot, GGML_ROPE_TYPE_NORMAL, 0, s_.ropeBase, 1.0f,
                                0.0f, 1.0f, 0.0f, 0.0f);
  };
  auto heads = [&](ggml_tensor* x) {  // [hd, nHeads, T] → contiguous [hd, T, nHeads]
    return G.ggml_cont(ctx, G.ggml_permute(ctx, x, 0, 2, 1, 3));
  };
  auto unheads = [&](ggml_tensor* x, int64_t width) {  // [hd, T, nHeads] → [width, T]
    return G.ggml_reshape_2d(ctx, G.ggml_cont(ctx, G.ggml_permute(ctx, x, 0, 2, 1, 3)), width, T);
  };

  // ---- forward
  ggml_tensor* x = G.ggml_get_rows(ctx, tokEmbd_, tok);
  for (int64_t l = 0; l < s_.nLayer; l++) {
    LayerSaved& sv = saved[l];
    sv.x = x;
    sv.n1 = G.ggml_mul(ctx, G.ggml_rms_norm(ctx, x, eps), W(l, W_ATTN_NORM));
    ggml_tensor* q = linear(l, W_Q, sv.n1, sv);
    ggml_tensor* k = linear(l, W_K, sv.n1, sv);
    ggml_tensor* v = linear(l, W_V, sv.n1, sv);
    sv.Q = heads(rope(G.ggml_reshape_3d(ctx, q, hd, nh, T)));
    sv.K = heads(rope(G.ggml_reshape_3d(ctx, k, hd, nkv, T)));
    sv.Vp = heads(G.ggml_reshape_3d(ctx, v, hd, nkv, T));
    ggml_tensor* KQ = mm(ctx, sv.K, sv.Q);  // [T_k, T_q, nh]
    sv.P = G.ggml_soft_max_ext(ctx, KQ, kqMask, kqScale, 0.0f);
    ggml_tensor* O = mm(ctx, G.ggml_transpose(ctx, sv.Vp), sv.P);  // [hd, T_q, nh]
    sv.att = unheads(O, d);
    sv.h = G.ggml_add(ctx, x, linear(l, W_O, sv.att, sv));
    sv.n2 = G.ggml_mul(ctx, G.ggml_rms_norm(ctx, sv.h, eps), W(l, W_FFN_NORM));
    sv.g = linear(l, W_GATE, sv.n2, sv);
    sv.u = linear(l, W_UP, sv.n2, sv);
    sv.sg = G.ggml_silu(ctx, sv.g);
    sv.a = G.ggml_mul(ctx, sv.sg, sv.u);
    x = G.ggml_add(ctx, sv.h, linear(l, W_DOWN, sv.a, sv));
  }
  ggml_tensor* xLast = x;
  ggml_tensor* xn = G.ggml_mul(ctx, G.ggml_rms_norm(ctx, x, eps), outNorm_);
  ggml_tensor* xs = G.ggml_get_rows(ctx, xn, rowIdx);  // [d, n]
  ggml_tensor* logits = mm(ctx, output_, xs);           // [V, n]
  ggml_tensor* lossT = nullptr;
  if (logitsOut) {
    G.ggml_set_output(logits);
    G.ggml_build_forward_expand(gf, logits);
  } else {
    // Σ log p(target) over the rows: softmax and row sums are per row and ggml_sum runs on one thread, so
    // the value does not depend on the thread count (ggml_cross_entropy_loss sums per-thread partials)
    ggml_tensor* pTarget = G.ggml_sum_rows(ctx, G.ggml_mul(ctx, G.ggml_soft_max(ctx, logits), labels));
    lossT = G.ggml_sum(ctx, G.ggml_log(ctx, pTarget));
    G.ggml_set_output(lossT);
    G.ggml_build_forward_expand(gf, lossT);
  }

  // ---- backward (LoRA A/B gradients only)
  if (backward) {
    ggml_tensor* dlogits = G.ggml_cross_entropy_loss_back(ctx, dloss, logits, labels);
    ggml_tensor* dxs = mm(ctx, G.ggml_transpose(ctx, output_), dlogits);  // [d, n]
    ggml_tensor* dxn = G.ggml_get_rows_back(ctx, dxs, rowIdx, xn);
    ggml_tensor* dx = G.ggml_rms_norm_back(ctx, G.ggml_mul(ctx, dxn, outNorm_), xLast, eps);
    for (int64_t l = s_.nLayer - 1; l >= 0; l--) {
      LayerSaved& sv = saved[l];
      ggml_tensor* da = linearBack(l, W_DOWN, dx, sv);
      ggml_tensor* dg = G.ggml_silu_back(ctx, G.ggml_mul(ctx, da, sv.u), sv.g);
      ggml_tensor* du = G.ggml_mul(ctx, da, sv.sg);
      ggml_tensor* dn2 = G.ggml_add(ctx, linearBack(l, W_GATE, dg, sv), linearBack(l, W_UP, du, sv));
      ggml_tensor* dh =
          G.ggml_add(ctx, dx, G.ggml_rms_norm_back(ctx, G.ggml_mul(ctx, dn2, W(l, W_FFN_NORM)), sv.h, eps));
      ggml_tensor* datt = linearBack(l, W_O, dh, sv);
      ggml_tensor* dO = heads(G.ggml_reshape_3d(ctx, datt, hd, nh, T));  // [hd, T, nh]
      ggml_tensor* dP = mm(ctx, sv.Vp, dO);                                  // [T_k, T_q, nh]
      ggml_tensor* dS = G.ggml_soft_max_ext_back(ctx, dP, sv.P, kqScale, 0.0f);
      ggml_tensor* dQ = mm(ctx, G.ggml_transpose(ctx, sv.K), dS);  // [hd, T_q, nh]
      // dK, dV sum over the query heads of each KV head: (query position, head in group) is one
      // contraction index of length T·group, contiguous in Q, dO, P and dS laid out [·, T, nh].
      ggml_tensor* dK = mm(ctx, G.ggml_transpose(ctx, G.ggml_reshape_3d(ctx, sv.Q, hd, T * group, nkv)),
                           G.ggml_transpose(ctx, G.ggml_reshape_3d(ctx, dS, T, T * group, nkv)));
      ggml_tensor* dV = mm(ctx, G.ggml_transpose(ctx, G.ggml_reshape_3d(ctx, dO, hd, T * group, nkv)),
                           G.ggml_transpose(ctx, G.ggml_reshape_3d(ctx, sv.P, T, T * group, nkv)));
      ggml_tensor* dq = G.ggml_reshape_2d(
          ctx, ropeBack(G.ggml_cont(ctx, G.ggml_permute(ctx, dQ, 0, 2, 1, 3))), d, T);
      ggml_tensor* dk = G.ggml_reshape_2d(
          ctx, ropeBack(G.ggml_cont(ctx, G.ggml_permute(ctx, dK, 0, 2, 1, 3))), kvw, T);
      ggml_tensor* dv = unheads(dV, kvw);
      ggml_tensor* dn1 = G.ggml_add(
          ctx, G.ggml_add(ctx, linearBack(l, W_Q, dq, sv), linearBack(l, W_K, dk, sv)), linearBack(l, W_V, dv, sv));
      dx = G.ggml_add(ctx, dh, G.ggml_rms_norm_back(ctx, G.ggml_mul(ctx, dn1, W(l, W_ATTN_NORM)), sv.x, eps));
    }
    for (size_t i = 0; i < pairs_.size(); i++) {
      if (gA[i]) G.ggml_build_forward_expand(gf, gA[i]);
      if (gB[i]) G.ggml_build_forward_expand(gf, gB[i]);
    }
  }

  G.ggml_backend_sched_reset(sched_);
  if (!G.ggml_backend_sched_alloc_graph(sched_, gf)) {
    G.ggml_free(ctx);
    throw std::runtime_error("could not allocate the training graph (out of memory?)");
  }
  // ---- inputs
  G.ggml_backend_tensor_set(tok, tokens, 0, T * 4);
  {
    std::vector<int32_t> p(T);
    for (int64_t t = 0; t < T; t++) p[t] = (int32_t)t;
    G.ggml_backend_tensor_set(pos, p.data(), 0, T * 4);
    std::vector<float>& m = kqMaskHost_;
    m.resize(T * T);
    for (int64_t tq = 0; tq < T; tq++)
      for (int64_t tk = 0; tk < T; tk++) m[tq * T + tk] = tk <= tq ? 0.0f : -INFINITY;
    G.ggml_backend_tensor_set(kqMask, m.data(), 0, T * T * 4);
  }
  G.ggml_backend_tensor_set(rowIdx, rows.data(), 0, n * 4);
  if (labels) {
    std::vector<float>& lab = labelsHost_;
    lab.assign(V * n, 0.0f);
    for (int64_t i = 0; i < n; i++) lab[i * V + targets[rows[i]]] = 1.0f;
    G.ggml_backend_tensor_set(labels, lab.data(), 0, V * n * 4);
  }
  if (dloss) {
    const float v = lossGrad * (float)n;
    G.ggml_backend_tensor_set(dloss, &v, 0, 4);
  }
  if (dropout) {
    const uint64_t k0 = (uint64_t)dropoutSeed[0] | ((uint64_t)dropoutSeed[1] << 32);
    const uint64_t k1 = (uint64_t)dropoutSeed[2] | ((uint64_t)dropoutSeed[3] << 32);
    const uint32_t threshold = (uint32_t)std::floor(o_.dropout * 4294967296.0);
    const float keep = 1.0f / (1.0f - o_.dropout);
    std::vector<float>& m = maskHost_;
    for (size_t i = 0; i < pairs_.size(); i++) {
      const int64_t cnt = pairs_[i].nIn * T;
      m.resize(cnt);
      const uint64_t base = splitmix64(k0 ^ splitmix64(k1 + i));
      for (int64_t e = 0; e < cnt; e++) m[e] = (uint32_t)(splitmix64(base + e) >> 32) >= threshold ? keep : 0.0f;
      G.ggml_backend_tensor_set(masks[i], m.data(), 0, cnt * 4);
    }
  }
  if (G.ggml_backend_sched_graph_compute(sched_, gf) != GGML_STATUS_SUCCESS) {
    G.ggml_free(ctx);
    throw std::runtime_error("the training graph failed to compute");
  }
  StepResult res{0.0, n};
  if (lossT) {
    float logLikelihood = 0;
    G.ggml_backend_tensor_get(lossT, &logLikelihood, 0, 4);
    res.lossSum = -(double)logLikelihood;
  }
  if (logitsOut) G.ggml_backend_tensor_get(logits, logitsOut, 0, (size_t)V * n * 4);
  if (backward) {
    std::vector<float>& tmp = gradHost_;
    for (size_t i = 0; i < pairs_.size(); i++) {
      for (int which = 0; which < 2; which++) {
        ggml_tensor* g = which == 0 ? gA[i] : gB[i];
        if (!g) continue;
        float* dst = (which == 0 ? *gradA : *gradB)[i];
        const int64_t cnt = G.ggml_nelements(g);
        tmp.resize(cnt);
        G.ggml_backend_tensor_get(g, tmp.data(), 0, cnt * 4);
        for (int64_t e = 0; e < cnt; e++) dst[e] += tmp[e];
      }
    }
  }
  G.ggml_free(ctx);
  return res;
}
