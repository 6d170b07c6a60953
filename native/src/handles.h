// Tensor handles: JS holds a number (slot + generation), C++ holds the at::Tensor.
// Why numbers and not ObjectWrap: the TS Tensor class is the only JS object per tensor, creation is cheap,
// and a stale handle (use after dispose) is detected by its generation instead of crashing.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>

namespace paenet {

double storeTensor(Napi::Env env, at::Tensor t);
const at::Tensor& getTensor(Napi::Env env, const Napi::Value& v, const char* what);
void freeTensor(Napi::Env env, const Napi::Value& v);
size_t liveTensorCount();
int64_t liveTensorBytes();

}  // namespace paenet
