#include "convert.h"

#include "handles.h"

namespace paenet {
namespace {

[[noreturn]] void typeError(Napi::Env env, const c10::Argument& arg, const std::string& expected) {
  throw Napi::TypeError::New(env, "argument '" + arg.name() + "' expects " + expected);
}

int64_t toInt(Napi::Env env, const Napi::Value& v, const c10::Argument& arg) {
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  if (!v.IsNumber()) typeError(env, arg, "an integer");
  return v.As<Napi::Number>().Int64Value();
}

double toDouble(Napi::Env env, const Napi::Value& v, const c10::Argument& arg) {
  if (!v.IsNumber()) typeError(env, arg, "a number");
  return v.As<Napi::Number>().DoubleValue();
}

c10::IValue toScalar(Napi::Env env, const Napi::Value& v, const c10::Argument& arg) {
  if (v.IsBoolean()) return c10::IValue(v.As<Napi::Boolean>().Value());
  if (!v.IsNumber()) typeError(env, arg, "a number");
  double d = v.As<Napi::Number>().DoubleValue();
  // Integral JS numbers travel as int scalars so integer tensors keep their dtype (as Python ints do).
  if (std::nearbyint(d) == d && std::abs(d) < 9.0e15) return c10::IValue(static_cast<int64_t>(d));
  return c10::IValue(d);
}

c10::IValue toElement(Napi::Env env, const Napi::Value& v, const c10::TypePtr& type, const c10::Argument& arg);

c10::IValue toList(Napi::Env env, const Napi::Value& v, const c10::TypePtr& elem, const c10::Argument& arg) {
  auto kind = elem->kind();
  // A single number for `int[2] stride` means "the same for every dimension", as in Python.
  if (v.IsNumber() && (kind == c10::TypeKind::IntType || kind == c10::TypeKind::SymIntType)) {
    int64_t x = v.As<Napi::Number>().Int64Value();
    return c10::IValue(std::vector<int64_t>(arg.N().value_or(1), x));
  }
  if (!v.IsArray()) typeError(env, arg, "an array");
  auto a = v.As<Napi::Array>();
  uint32_t n = a.Length();
  switch (kind) {
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: {
      c10::List<int64_t> out;
      out.reserve(n);
      for (uint32_t i = 0; i < n; i++) out.push_back(toInt(env, a.Get(i), arg));
      return c10::IValue(out);
    }
    case c10::TypeKind::FloatType: {
      c10::List<double> out;
      for (uint32_t i = 0; i < n; i++) out.push_back(toDouble(env, a.Get(i), arg));
      return c10::IValue(out);
    }
    case c10::TypeKind::BoolType: {
      c10::List<bool> out;
      for (uint32_t i = 0; i < n; i++) out.push_back(a.Get(i).ToBoolean().Value());
      return c10::IValue(out);
    }
    case c10::TypeKind::TensorType: {
      c10::List<at::Tensor> out;
      out.reserve(n);
      for (uint32_t i = 0; i < n; i++) out.push_back(getTensor(env, a.Get(i), arg.name().c_str()));
      return c10::IValue(out);
    }
    case c10::TypeKind::OptionalType: {
      c10::List<c10::optional<at::Tensor>> out;
      for (uint32_t i = 0; i < n; i++) {
        auto x = a.Get(i);
        if (x.IsNull() || x.IsUndefined()) out.push_back(c10::nullopt);
        else out.push_back(getTensor(env, x, arg.name().c_str()));
      }
      return c10::IValue(out);
    }
    default:
      typeError(env, arg, "a list type paenet does not convert (" + elem->str() + ")");
  }
}

c10::IValue toElement(Napi::Env env, const Napi::Value& v, const c10::TypePtr& type, const c10::Argument& arg) {
  switch (type->kind()) {
    case c10::TypeKind::TensorType:
      return c10::IValue(getTensor(env, v, arg.name().c_str()));
    case c10::TypeKind::OptionalType:
      if (v.IsNull() || v.IsUndefined()) return c10::IValue();
      return toElement(env, v, type->castRaw<c10::OptionalType>()->getElementType(), arg);
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
    case c10::TypeKind::ScalarTypeType:
    case c10::TypeKind::LayoutType:
    case c10::TypeKind::MemoryFormatType:
      return c10::IValue(toInt(env, v, arg));
    case c10::TypeKind::FloatType:
      return c10::IValue(toDouble(env, v, arg));
    case c10::TypeKind::NumberType:
      return toScalar(env, v, arg);
    case c10::TypeKind::BoolType:
      if (!v.IsBoolean()) typeError(env, arg, "a boolean");
      return c10::IValue(v.As<Napi::Boolean>().Value());
    case c10::TypeKind::StringType:
      if (!v.IsString()) typeError(env, arg, "a string");
      return c10::IValue(v.As<Napi::String>().Utf8Value());
    case c10::TypeKind::DeviceObjType:
      if (!v.IsString()) typeError(env, arg, "a device string such as 'cpu' or 'cuda:0'");
      try {
        return c10::IValue(c10::Device(v.As<Napi::String>().Utf8Value()));
      } catch (const c10::Error&) {
        typeError(env, arg, "a device string such as 'cpu' or 'cuda:0', got '" + v.As<Napi::String>().Utf8Value() + "'");
      }
    case c10::TypeKind::ListType:
      return toList(env, v, type->castRaw<c10::ListType>()->getElementType(), arg);
    default:
      typeError(env, arg, "a type paenet does not convert (" + type->str() + ")");
  }
}

}  // namespace

c10::IValue toIValue(Napi::Env env, const Napi::Value& v, const c10::Argument& arg) {
  return toElement(env, v, arg.type(), arg);
}

Napi::Value fromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) {
    const auto& t = v.toTensor();
    if (!t.defined()) return env.Null();
    return Napi::Number::New(env, storeTensor(env, t));
  }
  if (v.isNone()) return env.Null();
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    auto out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) out.Set(i, fromIValue(env, c10::IValue(list.get(i))));
    return out;
  }
  if (v.isIntList()) {
    auto list = v.toIntList();
    auto out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) out.Set(i, Napi::Number::New(env, static_cast<double>(list.get(i))));
    return out;
  }
  if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    auto out = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); i++) out.Set(i, fromIValue(env, elems[i]));
    return out;
  }
  if (v.isScalar()) return Napi::Number::New(env, v.toScalar().toDouble());
  throw Napi::Error::New(env, "paenet: cannot convert a returned " + v.tagKind() + " to JS");
}

}  // namespace paenet
