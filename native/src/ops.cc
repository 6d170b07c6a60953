// Generic op dispatch: any ATen operator, by name, through the c10 dispatcher (autograd included).
// The TS layer resolves an op once (opResolve) and then calls it by index (opCall).
#include <ATen/core/dispatch/Dispatcher.h>

#include <sstream>
#include <vector>

#include "convert.h"
#include "exports.h"
#include "handles.h"

namespace paenet {
namespace {

std::vector<c10::OperatorHandle> ops;

// " (shapes [2, 3], [4])": the tensor arguments' shapes, so an error names what was passed.
std::string shapeList(Napi::Env env, const std::vector<c10::Argument>& formals, const Napi::Array& actuals) {
  std::ostringstream out;
  bool first = true;
  for (uint32_t i = 0; i < actuals.Length() && i < formals.size(); i++) {
    auto kind = formals[i].type()->kind();
    if (kind == c10::TypeKind::OptionalType) kind = formals[i].type()->castRaw<c10::OptionalType>()->getElementType()->kind();
    if (kind != c10::TypeKind::TensorType) continue;
    try {
      const auto& t = getTensor(env, actuals.Get(i), "arg");
      out << (first ? " (shapes " : ", ") << t.sizes();
      first = false;
    } catch (const Napi::Error&) {
    }
  }
  if (!first) out << ")";
  return out.str();
}

std::string firstLine(const std::string& s) {
  auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

Napi::Value OpResolve(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto name = info[0].As<Napi::String>().Utf8Value();
  auto overload = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : std::string();
  auto op = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!op.has_value()) throw Napi::Error::New(env, "paenet: unknown operator " + name + (overload.empty() ? "" : "." + overload));
  ops.push_back(*op);
  return Napi::Number::New(env, static_cast<double>(ops.size() - 1));
}

const c10::OperatorHandle& opAt(Napi::Env env, const Napi::Value& v) {
  auto id = v.As<Napi::Number>().Uint32Value();
  if (id >= ops.size()) throw Napi::Error::New(env, "paenet: bad operator id");
  return ops[id];
}

Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  std::ostringstream out;
  out << opAt(info.Env(), info[0]).schema();
  return Napi::String::New(info.Env(), out.str());
}

// opCall(id, args[, discard]): args are positional in schema order; missing trailing args take the
// schema defaults. With discard=true the outputs are dropped (in-place ops whose result is `self`).
Napi::Value OpCall(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const auto& op = opAt(env, info[0]);
  const auto& schema = op.schema();
  const auto& formals = schema.arguments();
  auto actuals = info[1].As<Napi::Array>();
  uint32_t given = actuals.Length();
  if (given > formals.size()) {
    throw Napi::Error::New(env, schema.name() + ": " + std::to_string(given) + " arguments given, at most " +
                                    std::to_string(formals.size()) + " accepted");
  }
  torch::jit::Stack stack;
  stack.reserve(formals.size());
  for (size_t i = 0; i < formals.size(); i++) {
    const auto& formal = formals[i];
    Napi::Value v = i < given ? actuals.Get(static_cast<uint32_t>(i)) : env.Undefined();
    if (v.IsUndefined()) {
      if (formal.default_value().has_value()) {
        stack.push_back(*formal.default_value());
        continue;
      }
      if (formal.type()->kind() == c10::TypeKind::OptionalType) {
        stack.emplace_back();
        continue;
      }
      throw Napi::Error::New(env, schema.name() + ": missing argument '" + formal.name() + "'");
    }
    try {
      stack.push_back(toIValue(env, v, formal));
    } catch (const Napi::Error& e) {
      throw Napi::Error::New(env, schema.name() + ": " + e.Message());
    }
  }
  try {
    op.callBoxed(&stack);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, schema.name() + ": " + firstLine(e.msg()) + shapeList(env, formals, actuals));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, schema.name() + ": " + firstLine(e.what()) + shapeList(env, formals, actuals));
  }
  if (info.Length() > 2 && info[2].ToBoolean().Value()) return env.Undefined();
  if (stack.size() == 1) return fromIValue(env, stack[0]);
  auto out = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); i++) out.Set(i, fromIValue(env, stack[i]));
  return out;
}

}  // namespace

void registerOps(Napi::Env env, Napi::Object exports) {
  exports.Set("opResolve", Napi::Function::New(env, OpResolve));
  exports.Set("opSchema", Napi::Function::New(env, OpSchema));
  exports.Set("opCall", Napi::Function::New(env, OpCall));
}

}  // namespace paenet
