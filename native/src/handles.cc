#include "handles.h"

#include <vector>

namespace paenet {
namespace {

struct Slot {
  at::Tensor tensor;
  uint32_t generation = 0;
  int64_t bytes = 0;
  bool used = false;
};

constexpr double kSlotSpace = 4194304.0;  // 2^22 slots; generation sits above them in the double.
std::vector<Slot> slots;
std::vector<uint32_t> freeSlots;
size_t live = 0;
int64_t liveBytes = 0;

int64_t bytesOf(const at::Tensor& t) { return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0; }

Slot* lookup(const Napi::Value& v) {
  if (!v.IsNumber()) return nullptr;
  double h = v.As<Napi::Number>().DoubleValue();
  if (h < 0) return nullptr;
  auto index = static_cast<uint64_t>(h) % static_cast<uint64_t>(kSlotSpace);
  auto generation = static_cast<uint32_t>(static_cast<uint64_t>(h) / static_cast<uint64_t>(kSlotSpace));
  if (index >= slots.size()) return nullptr;
  Slot& s = slots[index];
  if (!s.used || s.generation != generation) return nullptr;
  return &s;
}

}  // namespace

double storeTensor(Napi::Env env, at::Tensor t) {
  uint32_t index;
  if (!freeSlots.empty()) {
    index = freeSlots.back();
    freeSlots.pop_back();
  } else {
    if (slots.size() >= static_cast<size_t>(kSlotSpace)) throw Napi::Error::New(env, "paenet: too many live tensors (4M); dispose tensors or use tidy()");
    index = static_cast<uint32_t>(slots.size());
    slots.emplace_back();
  }
  Slot& s = slots[index];
  s.generation++;
  s.used = true;
  s.bytes = bytesOf(t);
  s.tensor = std::move(t);
  live++;
  liveBytes += s.bytes;
  // V8 must see native memory, or a leaked tensor's wrapper is never collected (engine-notes §1.4).
  if (s.bytes > 0) Napi::MemoryManagement::AdjustExternalMemory(env, s.bytes);
  return static_cast<double>(s.generation) * kSlotSpace + index;
}

const at::Tensor& getTensor(Napi::Env env, const Napi::Value& v, const char* what) {
  Slot* s = lookup(v);
  if (s == nullptr) throw Napi::Error::New(env, std::string("paenet: ") + what + " is not a live tensor (disposed, or not a tensor)");
  return s->tensor;
}

void freeTensor(Napi::Env env, const Napi::Value& v) {
  Slot* s = lookup(v);
  if (s == nullptr) return;  // double dispose is harmless by design
  s->tensor = at::Tensor();
  s->used = false;
  live--;
  liveBytes -= s->bytes;
  if (s->bytes > 0) Napi::MemoryManagement::AdjustExternalMemory(env, -s->bytes);
  s->bytes = 0;
  freeSlots.push_back(static_cast<uint32_t>(s - slots.data()));
}

size_t liveTensorCount() { return live; }
int64_t liveTensorBytes() { return liveBytes; }

}  // namespace paenet
