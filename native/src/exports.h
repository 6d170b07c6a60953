// Each translation unit registers its own JS functions on the addon's exports.
#pragma once
#include <napi.h>

namespace paenet {
void registerOps(Napi::Env env, Napi::Object exports);
void registerTensors(Napi::Env env, Napi::Object exports);
void registerAllocator(Napi::Env env, Napi::Object exports);
void registerAutocast(Napi::Env env, Napi::Object exports);
void registerDistributed(Napi::Env env, Napi::Object exports);
}  // namespace paenet
