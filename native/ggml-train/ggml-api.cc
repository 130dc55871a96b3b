#include "ggml-api.h"

#include <dirent.h>
#include <dlfcn.h>

#include <cstring>
#include <vector>

GgmlApi G;

static std::string loaded_dir;

// ggml logs to stderr by default; a library must not print: keep errors for the exception messages
std::string ggml_last_error;
static void quiet_log(ggml_log_level level, const char* text, void*) {
  if (level == GGML_LOG_LEVEL_ERROR) ggml_last_error += text;
}

// libggml.so, libggml.v0.4.0.so, libggml.cuda.v0.4.0.so, … (the registry library of that build)
static std::string find_registry_library(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return "";
  std::string found;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    const bool so = n.size() > 3 && (n.compare(n.size() - 3, 3, ".so") == 0 || n.find(".dylib") != std::string::npos);
    if (so && n.rfind("libggml.", 0) == 0) found = n;
  }
  closedir(d);
  return found;
}

std::string ggml_api_load(const std::string& dir) {
  if (!loaded_dir.empty()) {
    if (loaded_dir == dir) return "";
    return "ggml is already loaded from " + loaded_dir + " in this process";
  }
#if defined(__APPLE__)
  const std::string base_name = "libggml-base.dylib";
#else
  const std::string base_name = "libggml-base.so";
#endif
  void* base = dlopen((dir + "/" + base_name).c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!base) return std::string("cannot load ") + base_name + ": " + dlerror();
  const std::string reg_name = find_registry_library(dir);
  if (reg_name.empty()) return "no libggml.* registry library in " + dir;
  void* reg = dlopen((dir + "/" + reg_name).c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!reg) return "cannot load " + reg_name + ": " + dlerror();
  std::vector<std::string> missing;
#define GGML_TRAIN_RESOLVE(name)                                      \
  {                                                                   \
    void* p = dlsym(base, #name);                                     \
    if (!p) p = dlsym(reg, #name);                                    \
    if (!p) missing.push_back(#name);                                 \
    G.name = reinterpret_cast<decltype(G.name)>(p);                   \
  }
  GGML_TRAIN_FUNCTIONS(GGML_TRAIN_RESOLVE)
#undef GGML_TRAIN_RESOLVE
  if (!missing.empty()) {
    std::string m = "the ggml libraries in " + dir + " lack:";
    for (auto& s : missing) m += " " + s;
    return m;
  }
  G.ggml_log_set(quiet_log, nullptr);
  // node-llama-cpp may have loaded this very build already (same files, same registry)
  bool have_cpu = false;
  for (size_t i = 0; i < G.ggml_backend_dev_count(); i++)
    if (G.ggml_backend_dev_type(G.ggml_backend_dev_get(i)) == GGML_BACKEND_DEVICE_TYPE_CPU) have_cpu = true;
  if (!have_cpu) G.ggml_backend_load_all_from_path(dir.c_str());
  loaded_dir = dir;
  return "";
}

std::string ggml_api_load_backend(const std::string& path) {
  if (loaded_dir.empty()) return "ggml is not loaded";
  ggml_last_error.clear();
  if (!G.ggml_backend_load(path.c_str()))
    return "cannot load " + path + (ggml_last_error.empty() ? "" : ": " + ggml_last_error);
  return "";
}
