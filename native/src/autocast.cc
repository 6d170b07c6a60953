// Mixed precision: libtorch's autocast (CPU bf16; CUDA fp16/bf16 on CUDA builds) as an enter/exit pair.
// libtorch 1.13 has no scoped C++ guard for it, so TypeScript brackets each forward with enter()/exit() (always
// in try/finally) and the cast-weight cache is cleared whenever the outermost region exits: otherwise the bf16 copy
// made before optimizer.step() would be reused by the next step's forward (stale weights).
#include <ATen/autocast_mode.h>

#include "exports.h"

namespace paenet {
namespace {

at::ScalarType lowPrecision(Napi::Env env, const std::string& name) {
  if (name == "bfloat16") return at::kBFloat16;
  if (name == "float16") return at::kHalf;
  throw Napi::Error::New(env, "paenet: autocast dtype must be bfloat16 or float16, got " + name);
}

// autocastEnter(device: 'cpu'|'cuda', dtype) -> the previous enabled state of that device's autocast.
Napi::Value AutocastEnter(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto device = info[0].As<Napi::String>().Utf8Value();
  auto dtype = lowPrecision(env, info[1].As<Napi::String>().Utf8Value());
  bool cuda = device == "cuda";
  bool previous = cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
  if (cuda) {
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(true);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(true);
  }
  at::autocast::increment_nesting();
  return Napi::Boolean::New(env, previous);
}

// autocastExit(device, previous): restores the device's state; the outermost exit drops the cast-weight cache.
Napi::Value AutocastExit(const Napi::CallbackInfo& info) {
  auto device = info[0].As<Napi::String>().Utf8Value();
  bool previous = info[1].ToBoolean().Value();
  if (device == "cuda") at::autocast::set_enabled(previous);
  else at::autocast::set_cpu_enabled(previous);
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  return info.Env().Undefined();
}

// autocastSetEnabled(device, enabled) -> previous: switches autocast without touching the nesting count, so a
// region can run one op in fp32 (an island) and switch back.
Napi::Value AutocastSetEnabled(const Napi::CallbackInfo& info) {
  auto device = info[0].As<Napi::String>().Utf8Value();
  bool enabled = info[1].ToBoolean().Value();
  bool cuda = device == "cuda";
  bool previous = cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
  if (cuda) at::autocast::set_enabled(enabled);
  else at::autocast::set_cpu_enabled(enabled);
  return Napi::Boolean::New(info.Env(), previous);
}

Napi::Value AutocastEnabled(const Napi::CallbackInfo& info) {
  auto device = info[0].As<Napi::String>().Utf8Value();
  return Napi::Boolean::New(info.Env(), device == "cuda" ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled());
}

}  // namespace

void registerAutocast(Napi::Env env, Napi::Object exports) {
  exports.Set("autocastEnter", Napi::Function::New(env, AutocastEnter));
  exports.Set("autocastExit", Napi::Function::New(env, AutocastExit));
  exports.Set("autocastSetEnabled", Napi::Function::New(env, AutocastSetEnabled));
  exports.Set("autocastEnabled", Napi::Function::New(env, AutocastEnabled));
}

}  // namespace paenet
