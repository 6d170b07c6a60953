// paenet_native: a thin N-API layer over libtorch. Policy lives in TypeScript (src/engine).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <malloc.h>

#include <cstring>
#include <mutex>
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

// rngState(): the CPU generator's state as bytes (torch.get_rng_state()). A checkpoint taken mid-training records
// it so dropout draws after a resume are the ones the uninterrupted run made.
Napi::Value RngState(const Napi::CallbackInfo& info) {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  at::Tensor state;
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    state = gen.get_state();
  }
  auto out = Napi::Uint8Array::New(info.Env(), static_cast<size_t>(state.numel()));
  if (state.numel() > 0) std::memcpy(out.Data(), state.data_ptr(), static_cast<size_t>(state.numel()));
  return out;
}

// setRngState(bytes): restores a state rngState() returned; libtorch rejects bytes of another size or version.
Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "paenet: setRngState needs a Uint8Array from rngState()");
  auto bytes = info[0].As<Napi::Uint8Array>();
  auto state = at::empty({static_cast<int64_t>(bytes.ElementLength())}, at::TensorOptions().dtype(at::kByte));
  if (bytes.ElementLength() > 0) std::memcpy(state.data_ptr(), bytes.Data(), bytes.ElementLength());
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  try {
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
  } catch (const c10::Error& e) {
    auto msg = e.msg();
    throw Napi::Error::New(env, "paenet: not a generator state of this libtorch: " + msg.substr(0, msg.find('\n')));
  }
  return env.Undefined();
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
  paenet::registerDistributed(env, exports);
  exports.Set("setNumThreads", Napi::Function::New(env, paenet::SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, paenet::GetNumThreads));
  exports.Set("manualSeed", Napi::Function::New(env, paenet::ManualSeed));
  exports.Set("rngState", Napi::Function::New(env, paenet::RngState));
  exports.Set("setRngState", Napi::Function::New(env, paenet::SetRngState));
  exports.Set("setGradEnabled", Napi::Function::New(env, paenet::SetGradEnabled));
  exports.Set("isGradEnabled", Napi::Function::New(env, paenet::IsGradEnabled));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, paenet::CudaDeviceCount));
  exports.Set("buildInfo", Napi::Function::New(env, paenet::BuildInfo));
  return exports;
}

NODE_API_MODULE(paenet_native, Init)
