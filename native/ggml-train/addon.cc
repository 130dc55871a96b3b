// Node-API surface of the ggml training engine (src/finetune/ggml/addon.ts declares its types).
#include <node_api.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gemm.h"
#include "ggml-api.h"
#include "trainer.h"

namespace {

struct Fail : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(napi_env env, napi_status s, const char* what) {
  if (s != napi_ok) throw Fail(std::string("invalid argument: ") + what);
}

napi_value arg_or_throw(napi_env env, napi_callback_info info, size_t n, std::vector<napi_value>& args) {
  size_t argc = n;
  args.resize(n);
  napi_value self;
  check(env, napi_get_cb_info(env, info, &argc, args.data(), &self, nullptr), "arguments");
  if (argc < n) throw Fail("expected " + std::to_string(n) + " arguments");
  return self;
}

std::string get_string(napi_env env, napi_value v, const char* what) {
  size_t len = 0;
  check(env, napi_get_value_string_utf8(env, v, nullptr, 0, &len), what);
  std::string s(len, '\0');
  check(env, napi_get_value_string_utf8(env, v, s.data(), len + 1, &len), what);
  return s;
}

double get_number(napi_env env, napi_value v, const char* what) {
  double d;
  check(env, napi_get_value_double(env, v, &d), what);
  return d;
}

napi_value prop(napi_env env, napi_value obj, const char* name) {
  napi_value v;
  check(env, napi_get_named_property(env, obj, name, &v), name);
  return v;
}

template <typename T>
T* typed(napi_env env, napi_value v, size_t* length, napi_typedarray_type want, const char* what) {
  bool is;
  check(env, napi_is_typedarray(env, v, &is), what);
  if (!is) throw Fail(std::string(what) + " must be a typed array");
  napi_typedarray_type type;
  void* data;
  napi_value ab;
  size_t offset;
  check(env, napi_get_typedarray_info(env, v, &type, length, &data, &ab, &offset), what);
  if (type != want) throw Fail(std::string(what) + " has the wrong element type");
  return static_cast<T*>(data);
}

Trainer* handle(napi_env env, napi_value v) {
  void* p;
  check(env, napi_get_value_external(env, v, &p), "trainer handle");
  auto* holder = static_cast<std::unique_ptr<Trainer>*>(p);
  if (!*holder) throw Fail("the trainer has been disposed");
  return holder->get();
}

napi_value make_number(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

napi_value make_string(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  return v;
}

napi_value make_undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// The ggml type named `name` (ggml's type_name, e.g. "q8_0"), or GGML_TYPE_COUNT when there is none.
ggml_type type_named(const std::string& name) {
  for (int t = 0; t < GGML_TYPE_COUNT; t++) {
    const ggml_type_traits* tr = G.ggml_get_type_traits((ggml_type)t);
    if (tr && tr->type_name && name == tr->type_name) return (ggml_type)t;
  }
  return GGML_TYPE_COUNT;
}

template <typename F>
napi_value guarded(napi_env env, F f) {
  try {
    return f();
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
    return nullptr;
  }
}

// load(dir) → error message ("" when loaded)
napi_value Load(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    std::vector<napi_value> a;
    arg_or_throw(env, info, 1, a);
    return make_string(env, ggml_api_load(get_string(env, a[0], "dir")));
  });
}

// loadBackend(path) → error message ("" when loaded)
napi_value LoadBackend(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    std::vector<napi_value> a;
    arg_or_throw(env, info, 1, a);
    return make_string(env, ggml_api_load_backend(get_string(env, a[0], "path")));
  });
}

// gpuCount() → number of GPU devices ggml knows
napi_value GpuCount(napi_env env, napi_callback_info) {
  return guarded(env, [&] {
    double n = 0;
    if (G.ggml_backend_dev_count)
      for (size_t i = 0; i < G.ggml_backend_dev_count(); i++)
        if (G.ggml_backend_dev_type(G.ggml_backend_dev_get(i)) == GGML_BACKEND_DEVICE_TYPE_GPU) n++;
    return make_number(env, n);
  });
}

napi_value Isa(napi_env env, napi_callback_info) { return make_string(env, gemm_isa()); }

napi_value Bf16(napi_env env, napi_callback_info) {
  napi_value v;
  napi_get_boolean(env, gemm_bf16_supported(), &v);
  return v;
}

void finalize_trainer(napi_env, void* data, void*) { delete static_cast<std::unique_ptr<Trainer>*>(data); }

// trainerNew(options, shape) → handle
napi_value TrainerNew(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    std::vector<napi_value> a;
    arg_or_throw(env, info, 2, a);
    TrainerOptions o;
    o.modelPath = get_string(env, prop(env, a[0], "modelPath"), "modelPath");
    o.r = (int)get_number(env, prop(env, a[0], "r"), "r");
    o.alpha = (float)get_number(env, prop(env, a[0], "alpha"), "alpha");
    o.dropout = (float)get_number(env, prop(env, a[0], "dropout"), "dropout");
    o.threads = (int)get_number(env, prop(env, a[0], "threads"), "threads");
    bool gpu = false;
    check(env, napi_get_value_bool(env, prop(env, a[0], "gpu"), &gpu), "gpu");
    o.gpu = gpu;
    o.kernels = get_string(env, prop(env, a[0], "kernels"), "kernels");
    o.compute = get_string(env, prop(env, a[0], "compute"), "compute");
    napi_value targets = prop(env, a[0], "targets");
    uint32_t nt = 0;
    check(env, napi_get_array_length(env, targets, &nt), "targets");
    for (uint32_t i = 0; i < nt; i++) {
      napi_value t;
      check(env, napi_get_element(env, targets, i, &t), "targets");
      o.targets.push_back(get_string(env, t, "targets"));
    }
    ModelShape s;
    auto num = [&](const char* k) { return get_number(env, prop(env, a[1], k), k); };
    s.nEmbd = (int64_t)num("nEmbd");
    s.nLayer = (int64_t)num("nLayer");
    s.nHead = (int64_t)num("nHead");
    s.nHeadKv = (int64_t)num("nHeadKv");
    s.headDim = (int64_t)num("headDim");
    s.nFf = (int64_t)num("nFf");
    s.nVocab = (int64_t)num("nVocab");
    s.nRot = (int64_t)num("nRot");
    s.ropeBase = (float)num("ropeBase");
    s.rmsEps = (float)num("rmsEps");
    bool tied = false;
    check(env, napi_get_value_bool(env, prop(env, a[1], "tiedEmbeddings"), &tied), "tiedEmbeddings");
    s.tied = tied;
    ggml_last_error.clear();
    std::unique_ptr<Trainer> t;
    try {
      t = std::make_unique<Trainer>(o, s);
    } catch (const std::exception& e) {
      throw Fail(std::string(e.what()) + (ggml_last_error.empty() ? "" : " (ggml: " + ggml_last_error + ")"));
    }
    auto* holder = new std::unique_ptr<Trainer>(std::move(t));
    napi_value ext;
    check(env, napi_create_external(env, holder, finalize_trainer, nullptr, &ext), "external");
    return ext;
  });
}

// trainerInfo(h) → { description, pairs: [{layer, stem, nIn, nOut}] }
napi_value TrainerInfo(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    std::vector<napi_value> a;
    arg_or_throw(env, info, 1, a);
    Trainer* t = handle(env, a[0]);
    napi_value out, arr;
    napi_create_object(env, &out);
    napi_set_named_property(env, out, "description", make_string(env, t->description()));
    napi_create_array_with_length(env, t->pairs().size(), &arr);
    for (size_t i = 0; i < t->pairs().size(); i++) {
      const LoraPair& p = t->pairs()[i];
      napi_value o;
      napi_create_object(env, &o);
      napi_set_named_property(env, o, "layer", make_number(env, p.layer));
      napi_set_named_property(env, o, "stem", make_string(env, p.stem));
      napi_set_named_property(env, o, "nIn", make_number(env, (double)p.nIn));
      napi_set_named_property(env, o, "nOut", make_number(env, (double)p.nOut));
      napi_set_element(env, arr, (uint32_t)i, o);
    }
    napi_set_named_property(env, out, "pairs", arr);
    return out;
  });
}

// trainerSetLora(h, i, a, b)
napi_value TrainerSetLora(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    std::vector<napi_value> a;
    arg_or_throw(env, info, 4, a);
    Trainer* t = handle(env, a[0]);
    const size_t i = (size_t)get_number(env, a[1], "index");
    if (i >= t->pairs().size()) throw Fail("LoRA pair index out of range");
    const LoraPair& p = t->pairs()[i];
    size_t na, nb;
    float* pa = typed<float>(env, a[2], &na, napi_float32_array, "a");
    float* pb = typed<float>(env, a[3], &nb, napi_float32_array, "b");
    if ((int64_t)na != p.nIn * (int64_t)(na / p.nIn) || na / p.nIn != nb / p.nOut || nb % p.nOut != 0)
      throw Fail("LoRA arrays do not match the pair's shape");
    t->setLora(i, pa, pb);
    return make_undefined(env);
  });
}

std::vector<float*> float_arrays(napi_env env, napi_value arr, size_t n, const char* what) {
  std::vector<float*> out;
  uint32_t len = 0;
  check(env, napi_get_array_length(env, arr, &len), what);
  if (len != n) throw Fail(std::string(what) + ": expected one array per LoRA pair");
  for (uint32_t i = 0; i < len; i++) {
    napi_value v;
    check(env, napi_get_element(env, arr, i, &v), what);
    size_t l;
    out.push_back(typed<float>(env, v, &l, napi_float32_array, what));
  }
  return out;
}

napi_value result_pair(napi_env env, const StepResult& r) {
  napi_value out;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "sum", make_number(env, r.lossSum));
  napi_set_named_property(env, out, "count", make_number(env, (double)r.count));
  return out;
}

// trainerStep(h, tokens, targets, lossGrad, dropoutSeed | null, gradsA, gradsB) → {sum, count}
napi_value TrainerStep(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    std::vector<napi_value> a;
    arg_or_throw(env, info, 7, a);
    Trainer* t = handle(env, a[0]);
    size_t nt, ng;
    int32_t* tokens = typed<int32_t>(env, a[1], &nt, napi_int32_array, "tokens");
    int32_t* targets = typed<int32_t>(env, a[2], &ng, napi_int32_array, "targets");
    if (nt != ng) throw Fail("tokens and targets differ in length");
    const float lossGrad = (float)get_number(env, a[3], "lossGrad");
    napi_valuetype vt;
    napi_typeof(env, a[4], &vt);
    const uint32_t* seed = nullptr;
    if (vt != napi_null && vt != napi_undefined) {
      size_t ns;
      seed = typed<uint32_t>(env, a[4], &ns, napi_uint32_array, "dropoutSeed");
      if (ns != 4) throw Fail("dropoutSeed must hold 4 words");
    }
    auto ga = float_arrays(env, a[5], t->pairs().size(), "gradsA");
    auto gb = float_arrays(env, a[6], t->pairs().size(), "gradsB");
    return result_pair(env, t->step(tokens, targets, (int64_t)nt, lossGrad, seed, ga, gb));
  });
}

// trainerLoss(h, tokens, targets) → {sum, count}
napi_value TrainerLoss(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    std::vector<napi_value> a;
    arg_or_throw(env, info, 3, a);
    Trainer* t = handle(env, a[0]);
    size_t nt, ng;
    int32_t* tokens = typed<int32_t>(env, a[1], &nt, napi_int32_array, "tokens");
    int32_t* targets = typed<int32_t>(env, a[2], &ng, napi_int32_array, "targets");
    if (nt != ng) throw Fail("tokens and targets differ in length");
    return result_pair(env, t->loss(tokens, targets, (int64_t)nt));
  });
}

// trainerLogits(h, tokens, out: Float32Array of T·nVocab)
napi_value TrainerLogits(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    std::vector<napi_value> a;
    arg_or_throw(env, info, 3, a);
    Trainer* t = handle(env, a[0]);
    size_t nt, no;
    int32_t* tokens = typed<int32_t>(env, a[1], &nt, napi_int32_array, "tokens");
    float* out = typed<float>(env, a[2], &no, napi_float32_array, "out");
    if (nt == 0 || no % nt != 0) throw Fail("out must hold T × nVocab floats");
    t->logits(tokens, (int64_t)nt, out);
    return make_undefined(env);
  });
}

// trainerFree(h): releases the weights and graph memory now (the handle is unusable afterwards)
napi_value TrainerFree(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    std::vector<napi_value> a;
    arg_or_throw(env, info, 1, a);
    void* p;
    check(env, napi_get_value_external(env, a[0], &p), "trainer handle");
    static_cast<std::unique_ptr<Trainer>*>(p)->reset();
    return make_undefined(env);
  });
}

// quantize(typeName, data: Float32Array, rowLength) → Uint8Array (rows quantised with ggml)
napi_value Quantize(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    std::vector<napi_value> a;
    arg_or_throw(env, info, 3, a);
    const std::string name = get_string(env, a[0], "type");
    size_t n;
    float* data = typed<float>(env, a[1], &n, napi_float32_array, "data");
    const int64_t rowLen = (int64_t)get_number(env, a[2], "rowLength");
    const ggml_type type = type_named(name);
    if (type == GGML_TYPE_COUNT) throw Fail("unknown ggml type " + name);
    const ggml_type_traits* tr = G.ggml_get_type_traits(type);
    if (rowLen <= 0 || n % rowLen != 0 || rowLen % tr->blck_size != 0)
      throw Fail("row length must divide the data and be a multiple of the block size " +
                 std::to_string(tr->blck_size));
    if (G.ggml_quantize_requires_imatrix(type)) throw Fail(name + " needs an importance matrix");
    const int64_t rows = (int64_t)n / rowLen;
    const size_t bytes = G.ggml_row_size(type, rowLen) * rows;
    void* out;
    napi_value ab, arr;
    check(env, napi_create_arraybuffer(env, bytes, &out, &ab), "buffer");
    G.ggml_quantize_chunk(type, data, out, 0, rows, rowLen, nullptr);
    check(env, napi_create_typedarray(env, napi_uint8_array, bytes, ab, 0, &arr), "buffer");
    return arr;
  });
}

// dequantize(typeName, data: Uint8Array, count) → Float32Array (ggml's to_float)
napi_value Dequantize(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    std::vector<napi_value> a;
    arg_or_throw(env, info, 3, a);
    const std::string name = get_string(env, a[0], "type");
    size_t n;
    uint8_t* data = typed<uint8_t>(env, a[1], &n, napi_uint8_array, "data");
    const int64_t count = (int64_t)get_number(env, a[2], "count");
    const ggml_type type = type_named(name);
    const ggml_type_traits* tr = type == GGML_TYPE_COUNT ? nullptr : G.ggml_get_type_traits(type);
    if (!tr || !tr->to_float) throw Fail("cannot dequantise type " + name);
    if (count % tr->blck_size != 0 || (size_t)(count / tr->blck_size * tr->type_size) != n)
      throw Fail("data size does not match " + std::to_string(count) + " elements of " + name);
    void* out;
    napi_value ab, arr;
    check(env, napi_create_arraybuffer(env, count * 4, &out, &ab), "buffer");
    tr->to_float(data, (float*)out, count);
    check(env, napi_create_typedarray(env, napi_float32_array, count, ab, 0, &arr), "buffer");
    return arr;
  });
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"load", nullptr, Load, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isa", nullptr, Isa, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"loadBackend", nullptr, LoadBackend, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gpuCount", nullptr, GpuCount, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bf16", nullptr, Bf16, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerNew", nullptr, TrainerNew, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerInfo", nullptr, TrainerInfo, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerSetLora", nullptr, TrainerSetLora, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerStep", nullptr, TrainerStep, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerLoss", nullptr, TrainerLoss, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerLogits", nullptr, TrainerLogits, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerFree", nullptr, TrainerFree, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"quantize", nullptr, Quantize, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dequantize", nullptr, Dequantize, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
