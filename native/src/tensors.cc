// Tensor creation, copy-out, metadata and autograd entry points.
#include <ATen/ATen.h>

#include <cstring>

#include "exports.h"
#include "handles.h"

namespace paenet {
namespace {

at::ScalarType dtypeArg(Napi::Env env, const Napi::Value& v) {
  auto code = v.As<Napi::Number>().Int32Value();
  switch (static_cast<at::ScalarType>(code)) {
    case at::kFloat: case at::kDouble: case at::kLong: case at::kInt: case at::kByte: case at::kBool: case at::kHalf: case at::kBFloat16:
      return static_cast<at::ScalarType>(code);
    default:
      throw Napi::Error::New(env, "paenet: unsupported dtype code " + std::to_string(code));
  }
}

std::vector<int64_t> shapeArg(const Napi::Value& v) {
  auto a = v.As<Napi::Array>();
  std::vector<int64_t> shape(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) shape[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return shape;
}

// fromBuffer(typedArray, shape, dtype[, device]): copies the bytes into a new tensor.
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto view = info[0].As<Napi::TypedArray>();
  auto shape = shapeArg(info[1]);
  auto dtype = dtypeArg(env, info[2]);
  auto t = at::empty(shape, at::TensorOptions().dtype(dtype));
  size_t nbytes = static_cast<size_t>(t.numel()) * t.element_size();
  if (view.ByteLength() != nbytes) {
    throw Napi::Error::New(env, "paenet: buffer has " + std::to_string(view.ByteLength()) + " bytes, shape " +
                                    c10::str(t.sizes()) + " of " + c10::toString(dtype) + " needs " + std::to_string(nbytes));
  }
  auto* src = static_cast<uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
  if (nbytes > 0) std::memcpy(t.data_ptr(), src, nbytes);
  if (info.Length() > 3 && info[3].IsString()) {
    auto device = info[3].As<Napi::String>().Utf8Value();
    if (device != "cpu") {
      try {
        t = t.to(c10::Device(device));
      } catch (const c10::Error& e) {
        auto msg = e.msg();
        throw Napi::Error::New(env, "paenet: cannot place a tensor on '" + device + "': " + msg.substr(0, msg.find('\n')));
      }
    }
  }
  return Napi::Number::New(env, storeTensor(env, std::move(t)));
}

// toBuffer(h): a fresh typed array with the tensor's values (CPU, contiguous).
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto t = getTensor(env, info[0], "tensor").detach().to(at::kCPU).contiguous();
  size_t nbytes = static_cast<size_t>(t.numel()) * t.element_size();
  auto buf = Napi::ArrayBuffer::New(env, nbytes);
  if (nbytes > 0) std::memcpy(buf.Data(), t.data_ptr(), nbytes);
  size_t n = static_cast<size_t>(t.numel());
  switch (t.scalar_type()) {
    case at::kFloat: return Napi::Float32Array::New(env, n, buf, 0);
    case at::kDouble: return Napi::Float64Array::New(env, n, buf, 0);
    case at::kLong: return Napi::BigInt64Array::New(env, n, buf, 0);
    case at::kInt: return Napi::Int32Array::New(env, n, buf, 0);
    case at::kByte: case at::kBool: return Napi::Uint8Array::New(env, n, buf, 0);
    case at::kHalf: case at::kBFloat16: return Napi::Uint16Array::New(env, n, buf, 0);
    default: throw Napi::Error::New(env, "paenet: cannot copy out dtype " + std::string(c10::toString(t.scalar_type())));
  }
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto sizes = getTensor(env, info[0], "tensor").sizes();
  auto out = Napi::Array::New(env, sizes.size());
  for (size_t i = 0; i < sizes.size(); i++) out.Set(i, Napi::Number::New(env, static_cast<double>(sizes[i])));
  return out;
}

Napi::Value Dtype(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<int>(getTensor(info.Env(), info[0], "tensor").scalar_type()));
}

Napi::Value Device(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), getTensor(info.Env(), info[0], "tensor").device().str());
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const auto& t = getTensor(env, info[0], "tensor");
  if (t.numel() != 1) throw Napi::Error::New(env, "paenet: item() needs a one-element tensor, got shape " + c10::str(t.sizes()));
  auto s = t.item();
  if (s.isBoolean()) return Napi::Boolean::New(env, s.toBool());
  return Napi::Number::New(env, s.toDouble());
}

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const auto& t = getTensor(env, info[0], "tensor");
  if (info.Length() > 1 && info[1].IsBoolean()) t.set_requires_grad(info[1].As<Napi::Boolean>().Value());
  return Napi::Boolean::New(env, t.requires_grad());
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const auto& g = getTensor(env, info[0], "tensor").grad();
  if (!g.defined()) return env.Null();
  return Napi::Number::New(env, storeTensor(env, g));
}

// setGrad(h, gradHandle|null): null clears the gradient (zero_grad with set_to_none).
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const auto& t = getTensor(env, info[0], "tensor");
  if (info[1].IsNull() || info[1].IsUndefined()) t.mutable_grad() = at::Tensor();
  else t.mutable_grad() = getTensor(env, info[1], "grad");
  return env.Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const auto& t = getTensor(env, info[0], "tensor");
  at::Tensor grad;
  if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) grad = getTensor(env, info[1], "gradient");
  bool retain = info.Length() > 2 && info[2].ToBoolean().Value();
  try {
    t.backward(grad, retain);
  } catch (const c10::Error& e) {
    auto msg = e.msg();
    throw Napi::Error::New(env, "backward: " + msg.substr(0, msg.find('\n')));
  }
  return env.Undefined();
}

Napi::Value Detach(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), storeTensor(info.Env(), getTensor(info.Env(), info[0], "tensor").detach()));
}

// Same storage and offset: lets tests prove an in-place op did not copy.
Napi::Value DataPtr(const Napi::CallbackInfo& info) {
  const auto& t = getTensor(info.Env(), info[0], "tensor");
  return Napi::Number::New(info.Env(), static_cast<double>(reinterpret_cast<uintptr_t>(t.data_ptr())));
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  freeTensor(info.Env(), info[0]);
  return info.Env().Undefined();
}

Napi::Value LiveCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(liveTensorCount()));
}

Napi::Value LiveBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(liveTensorBytes()));
}

}  // namespace

void registerTensors(Napi::Env env, Napi::Object exports) {
  exports.Set("fromBuffer", Napi::Function::New(env, FromBuffer));
  exports.Set("toBuffer", Napi::Function::New(env, ToBuffer));
  exports.Set("shape", Napi::Function::New(env, Shape));
  exports.Set("dtype", Napi::Function::New(env, Dtype));
  exports.Set("device", Napi::Function::New(env, Device));
  exports.Set("item", Napi::Function::New(env, Item));
  exports.Set("requiresGrad", Napi::Function::New(env, RequiresGrad));
  exports.Set("grad", Napi::Function::New(env, Grad));
  exports.Set("setGrad", Napi::Function::New(env, SetGrad));
  exports.Set("backward", Napi::Function::New(env, Backward));
  exports.Set("detach", Napi::Function::New(env, Detach));
  exports.Set("dataPtr", Napi::Function::New(env, DataPtr));
  exports.Set("free", Napi::Function::New(env, Free));
  exports.Set("liveCount", Napi::Function::New(env, LiveCount));
  exports.Set("liveBytes", Napi::Function::New(env, LiveBytes));
}

}  // namespace paenet
