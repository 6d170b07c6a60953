// A caching CPU allocator for large tensor buffers.
// Why: with glibc's defaults, multi-MB buffers land in the brk heap and fragment it (RSS grows every step), so the
// addon sets M_MMAP_THRESHOLD to 1 MB; but then every large tensor is a fresh mmap whose pages fault in on first
// touch (measured: 16 MB add = 4,097 faults, 9 ms vs 0.9 ms in PyTorch). Caching freed large blocks by size keeps
// both: no heap fragmentation and no page-fault storm. The cache is capped (PAENET_CPU_CACHE_MB; default a quarter of
// physical memory, between 512 MB and 8 GB) so varying shapes cannot grow it without bound; small buffers go straight
// to malloc. A fixed 512 MB was too small for a MobileNet at 128 px and batch 64 (activations of 67 MB each): the
// cache filled, every step missed it, and inference ran at 5.9 img/s instead of 53 (measured).
#include <c10/core/CPUAllocator.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "exports.h"

namespace paenet {
namespace {

constexpr size_t kAlign = 64;              // oneDNN/AVX-512 friendly, and the header slot
constexpr size_t kMinCached = 256 * 1024;  // below this, glibc's own bins are fast
constexpr size_t kGranule = 64 * 1024;     // sizes round up to this, so near-equal shapes share blocks

// A quarter of physical memory, clamped to [512 MB, 8 GB].
size_t defaultCap() {
  const size_t mb = 1024 * 1024;
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGE_SIZE);
  size_t quarter = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) / 4 : 512 * mb;
  return std::min(std::max(quarter, 512 * mb), 8192 * mb);
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  CachingCpuAllocator() {
    const char* mb = std::getenv("PAENET_CPU_CACHE_MB");
    capBytes_ = mb ? static_cast<size_t>(std::atoll(mb)) * 1024 * 1024 : defaultCap();
  }

  c10::DataPtr allocate(size_t n) const override {
    size_t size = n < kMinCached ? n : (n + kGranule - 1) / kGranule * kGranule;
    void* raw = nullptr;
    if (size >= kMinCached) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        raw = it->second.back();
        it->second.pop_back();
        cachedBytes_ -= size;
        hits_++;
      }
    }
    if (raw == nullptr) {
      raw = std::aligned_alloc(kAlign, (size + kAlign + kAlign - 1) / kAlign * kAlign);
      if (raw == nullptr) throw std::bad_alloc();
      *static_cast<size_t*>(raw) = size;
    }
    void* data = static_cast<char*>(raw) + kAlign;
    return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &release; }

  // Never destroyed: tensors still alive at process exit (a script that did not dispose, autograd's statics) are
  // freed after static destructors run, and would otherwise return blocks to a destroyed cache (segfault at exit).
  static CachingCpuAllocator& instance() {
    static auto* a = new CachingCpuAllocator();
    return *a;
  }

  void put(void* raw) {
    size_t size = *static_cast<size_t*>(raw);
    if (size < kMinCached) {
      std::free(raw);
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (cachedBytes_ + size > capBytes_) evictLocked(size);
    if (cachedBytes_ + size > capBytes_) {
      std::free(raw);
      return;
    }
    free_[size].push_back(raw);
    cachedBytes_ += size;
  }

  void emptyCache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, blocks] : free_) {
      for (void* b : blocks) std::free(b);
      blocks.clear();
    }
    cachedBytes_ = 0;
  }

  size_t cachedBytes() const { return cachedBytes_; }
  size_t hits() const { return hits_; }

 private:
  static void release(void* data) { instance().put(static_cast<char*>(data) - kAlign); }

  // Frees cached blocks of other sizes until `incoming` more bytes fit (shapes that stopped recurring go first).
  void evictLocked(size_t incoming) {
    for (auto& [size, blocks] : free_) {
      if (size == incoming) continue;
      while (!blocks.empty() && cachedBytes_ + incoming > capBytes_) {
        std::free(blocks.back());
        blocks.pop_back();
        cachedBytes_ -= size;
      }
      if (cachedBytes_ + incoming <= capBytes_) return;
    }
  }

  mutable std::mutex mutex_;
  mutable std::unordered_map<size_t, std::vector<void*>> free_;
  mutable size_t cachedBytes_ = 0;
  mutable size_t hits_ = 0;
  size_t capBytes_;
};

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  CachingCpuAllocator::instance().emptyCache();
  return info.Env().Undefined();
}

Napi::Value CacheStats(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("cachedBytes", Napi::Number::New(env, static_cast<double>(CachingCpuAllocator::instance().cachedBytes())));
  out.Set("hits", Napi::Number::New(env, static_cast<double>(CachingCpuAllocator::instance().hits())));
  return out;
}

}  // namespace

void registerAllocator(Napi::Env env, Napi::Object exports) {
  if (std::getenv("PAENET_CPU_CACHE_MB") == nullptr || std::atoll(std::getenv("PAENET_CPU_CACHE_MB")) > 0) {
    c10::SetCPUAllocator(&CachingCpuAllocator::instance(), /*priority=*/1);
  }
  exports.Set("emptyCache", Napi::Function::New(env, EmptyCache));
  exports.Set("cacheStats", Napi::Function::New(env, CacheStats));
}

}  // namespace paenet
