// JS values <-> c10::IValue, driven by an operator schema's argument types.
#pragma once
#include <ATen/core/function_schema.h>
#include <ATen/core/ivalue.h>
#include <napi.h>

namespace paenet {

// Converts one JS argument for `arg`. Tensors are handle numbers; int lists are number arrays;
// dtype/layout/memory_format are the ScalarType/Layout/MemoryFormat integer codes; devices are strings.
c10::IValue toIValue(Napi::Env env, const Napi::Value& v, const c10::Argument& arg);

// Converts a returned value: tensors become new handles, tuples and lists become arrays.
Napi::Value fromIValue(Napi::Env env, const c10::IValue& v);

}  // namespace paenet
