// Data-parallel collectives: libtorch's c10d ProcessGroupGloo (CPU) over a TCPStore rendezvous, as a handful of
// blocking calls. Policy (buckets, who decides, which rank died) lives in src/engine/distributed.ts.
//
// Built with PAENET_WITH_GLOO only where gloo's headers exist (libgloo-dev; scripts/build-native.mjs decides): the
// c10d headers include <gloo/...>, and a machine without them must still build the rest of the addon. Without it, or
// against a libtorch whose c10d API differs (2.x moved ProcessGroupGloo under c10d::Backend), every function but
// distAvailable() throws one line saying how to get it.
// TODO(cuda): ProcessGroupNCCL for CUDA builds; training runs on the CPU today, so only gloo is bound.
#include <torch/version.h>

#if defined(PAENET_WITH_GLOO) && TORCH_VERSION_MAJOR == 1
#define PAENET_GLOO_BOUND 1
// ProcessGroupGloo.hpp compiles its class only under USE_C10D_GLOO (engine-notes §1.1); defined here, not in
// binding.gyp, so no other translation unit sees torch's distributed configuration.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#ifndef USE_DISTRIBUTED
#define USE_DISTRIBUTED 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>
#endif

#include <string>

#include "exports.h"
#include "handles.h"

namespace paenet {
namespace {

#ifdef PAENET_GLOO_BOUND

// One process group per process, as torch.distributed's default group. Held by raw pointers that are never freed
// at exit: their destructors join gloo's threads, which must not run from static teardown after a peer died.
c10d::TCPStore* store = nullptr;
c10d::ProcessGroupGloo* group = nullptr;

// Gloo and c10d errors carry a source location and, for c10::Error, a backtrace: JS gets the first line only.
std::string firstLine(const std::string& s) {
  auto end = s.find('\n');
  return end == std::string::npos ? s : s.substr(0, end);
}

[[noreturn]] void rethrow(Napi::Env env, const char* what) {
  try {
    throw;
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string("paenet: ") + what + " failed: " + firstLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("paenet: ") + what + " failed: " + firstLine(e.what()));
  }
}

c10d::ProcessGroupGloo& requireGroup(Napi::Env env) {
  if (group == nullptr) throw Napi::Error::New(env, "paenet: no process group (call distInit first)");
  return *group;
}

// Gloo moves bytes of dense CPU memory; a view or a CUDA tensor would need a copy the caller should see.
at::Tensor collectiveTensor(Napi::Env env, const Napi::Value& v) {
  const at::Tensor& t = getTensor(env, v, "collective tensor");
  if (!t.device().is_cpu()) throw Napi::Error::New(env, "paenet: gloo collectives take CPU tensors (NCCL is not bound yet)");
  if (!t.is_contiguous()) throw Napi::Error::New(env, "paenet: gloo collectives take contiguous tensors");
  return t;
}

// The device gloo's pairs listen on: loopback for one machine, GLOO_SOCKET_IFNAME when set (PyTorch's variable),
// otherwise the address this host's name resolves to.
std::shared_ptr<::gloo::transport::Device> makeDevice(const std::string& masterAddr) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0')
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (masterAddr == "127.0.0.1" || masterAddr == "localhost" || masterAddr == "::1")
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// distInit(rank, size, masterAddr, masterPort, timeoutMs): rendezvous through a TCPStore (rank 0 serves it) and
// builds the gloo group. Blocks until every rank has joined or the timeout passes.
Napi::Value DistInit(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (group != nullptr) throw Napi::Error::New(env, "paenet: the process group already exists");
  int rank = info[0].As<Napi::Number>().Int32Value();
  int size = info[1].As<Napi::Number>().Int32Value();
  std::string addr = info[2].As<Napi::String>().Utf8Value();
  int port = info[3].As<Napi::Number>().Int32Value();
  std::chrono::milliseconds timeout(info[4].As<Napi::Number>().Int64Value());
  if (size < 1 || rank < 0 || rank >= size) throw Napi::Error::New(env, "paenet: rank must be in [0, world size)");
  if (port < 1 || port > 65535) throw Napi::Error::New(env, "paenet: MASTER_PORT must be in 1..65535");
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(port);
    o.isServer = rank == 0;
    o.numWorkers = static_cast<std::size_t>(size);
    o.waitWorkers = true;
    o.timeout = timeout;
    auto s = c10::make_intrusive<c10d::TCPStore>(addr, o);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(makeDevice(addr));
    auto g = c10::make_intrusive<c10d::ProcessGroupGloo>(s, rank, size, options);
    store = s.release();
    group = g.release();
  } catch (...) {
    rethrow(env, "joining the process group");
  }
  return env.Undefined();
}

void waitFor(Napi::Env env, const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
  try {
    work->wait();
  } catch (...) {
    rethrow(env, what);
  }
}

// distAllReduce(tensor): in-place sum over every rank.
Napi::Value DistAllReduce(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto& g = requireGroup(env);
  std::vector<at::Tensor> tensors{collectiveTensor(env, info[0])};
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = g.allreduce(tensors);
  } catch (...) {
    rethrow(env, "allreduce");
  }
  waitFor(env, work, "allreduce");
  return env.Undefined();
}

// distBroadcast(tensor, root): every rank's tensor becomes root's, in place.
Napi::Value DistBroadcast(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto& g = requireGroup(env);
  std::vector<at::Tensor> tensors{collectiveTensor(env, info[0])};
  c10d::BroadcastOptions o;
  o.rootRank = info[1].As<Napi::Number>().Int64Value();
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = g.broadcast(tensors, o);
  } catch (...) {
    rethrow(env, "broadcast");
  }
  waitFor(env, work, "broadcast");
  return env.Undefined();
}

Napi::Value DistBarrier(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto& g = requireGroup(env);
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = g.barrier();
  } catch (...) {
    rethrow(env, "barrier");
  }
  waitFor(env, work, "barrier");
  return env.Undefined();
}

// distStoreSet(key, value) / distStoreGet(key): the rendezvous store (get waits for the key up to the timeout).
Napi::Value DistStoreSet(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (store == nullptr) throw Napi::Error::New(env, "paenet: no process group (call distInit first)");
  std::string key = info[0].As<Napi::String>().Utf8Value();
  std::string value = info[1].As<Napi::String>().Utf8Value();
  try {
    store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
  } catch (...) {
    rethrow(env, "the rendezvous store");
  }
  return env.Undefined();
}

Napi::Value DistStoreGet(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (store == nullptr) throw Napi::Error::New(env, "paenet: no process group (call distInit first)");
  std::string key = info[0].As<Napi::String>().Utf8Value();
  std::vector<uint8_t> value;
  try {
    value = store->get(key);
  } catch (...) {
    rethrow(env, "the rendezvous store");
  }
  return Napi::String::New(env, std::string(value.begin(), value.end()));
}

// distDestroy(): a clean shutdown once every rank has passed a final barrier (joins gloo's threads).
Napi::Value DistDestroy(const Napi::CallbackInfo& info) {
  if (group != nullptr) c10::intrusive_ptr<c10d::ProcessGroupGloo>::reclaim(group);
  if (store != nullptr) c10::intrusive_ptr<c10d::TCPStore>::reclaim(store);
  group = nullptr;
  store = nullptr;
  return info.Env().Undefined();
}

Napi::Value DistAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), true); }

#else

#if defined(PAENET_WITH_GLOO)
constexpr const char* kMissing =
    "paenet: this build's libtorch has a c10d API the addon does not bind (libtorch 1.x only); train in one process";
#else
constexpr const char* kMissing = "paenet: this build has no c10d/gloo (apt-get install libgloo-dev, then npm run build:native)";
#endif

Napi::Value Missing(const Napi::CallbackInfo& info) { throw Napi::Error::New(info.Env(), kMissing); }
Napi::Value DistAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), false); }

#define DistInit Missing
#define DistAllReduce Missing
#define DistBroadcast Missing
#define DistBarrier Missing
#define DistStoreSet Missing
#define DistStoreGet Missing
#define DistDestroy Missing

#endif

}  // namespace

void registerDistributed(Napi::Env env, Napi::Object exports) {
  exports.Set("distAvailable", Napi::Function::New(env, DistAvailable));
  exports.Set("distInit", Napi::Function::New(env, DistInit));
  exports.Set("distAllReduce", Napi::Function::New(env, DistAllReduce));
  exports.Set("distBroadcast", Napi::Function::New(env, DistBroadcast));
  exports.Set("distBarrier", Napi::Function::New(env, DistBarrier));
  exports.Set("distStoreSet", Napi::Function::New(env, DistStoreSet));
  exports.Set("distStoreGet", Napi::Function::New(env, DistStoreGet));
  exports.Set("distDestroy", Napi::Function::New(env, DistDestroy));
}

}  // namespace paenet
