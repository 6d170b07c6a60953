// paenet_native: a thin N-API layer over libtorch. Policy lives in TypeScript (src/engine).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <malloc.h>
#include <torch/version.h>

#include "exports.h"

namespace paenet {
namespace {

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  at::manual_seed(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
  return info.Env().Undefined();
}

// setGradEnabled(bool) returns the previous mode so TS can restore it (noGrad nests).
Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool previous = at::GradMode::is_enabled();
  at::GradMode::set_enabled(info[0].ToBoolean().Value());
  return Napi::Boolean::New(info.Env(), previous);
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled()); }

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  int n = at::hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0;
  return Napi::Number::New(info.Env(), n);
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("torchVersion", Napi::String::New(env, std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH)));
  out.Set("config", Napi::String::New(env, at::show_config()));
  out.Set("parallel", Napi::String::New(env, at::get_parallel_info()));
  return out;
}

}  // namespace
}  // namespace paenet

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Multi-MB tensor buffers go to mmap, so freed memory returns to the OS instead of fragmenting
  // the brk heap (measured: RSS otherwise grows ~8 MB/step with correct disposal; engine-notes §1.4).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  paenet::registerAllocator(env, exports);
  paenet::registerOps(env, exports);
  paenet::registerTensors(env, exports);
  paenet::registerAutocast(env, exports);
  exports.Set("setNumThreads", Napi::Function::New(env, paenet::SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, paenet::GetNumThreads));
  exports.Set("manualSeed", Napi::Function::New(env, paenet::ManualSeed));
  exports.Set("setGradEnabled", Napi::Function::New(env, paenet::SetGradEnabled));
  exports.Set("isGradEnabled", Napi::Function::New(env, paenet::IsGradEnabled));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, paenet::CudaDeviceCount));
  exports.Set("buildInfo", Napi::Function::New(env, paenet::BuildInfo));
  return exports;
}

NODE_API_MODULE(paenet_native, Init)
