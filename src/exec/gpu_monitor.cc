// GpuMonitor over NVML loaded with dlopen. Only the declarations below are
// taken from nvml.h (same types, same symbol names); see gpu_monitor.h.
#include "mlsched/exec/gpu_monitor.h"

#include <dlfcn.h>

#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "fmt/format.h"

namespace mlsched {
namespace {

// --- The part of nvml.h we use -------------------------------------------
using nvmlReturn_t = int;
struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;
struct nvmlEventSet_st;
using nvmlEventSet_t = nvmlEventSet_st*;
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
struct nvmlUtilization_t {
  unsigned int gpu, memory;
};
struct nvmlEventData_t {
  nvmlDevice_t device;
  unsigned long long eventType;
  unsigned long long eventData;  // the Xid for Xid events
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
};
constexpr nvmlReturn_t NVML_SUCCESS = 0;
constexpr nvmlReturn_t NVML_ERROR_TIMEOUT = 10;
constexpr nvmlReturn_t NVML_ERROR_GPU_IS_LOST = 15;
constexpr int NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1;
constexpr int NVML_AGGREGATE_ECC = 1;
constexpr unsigned long long nvmlEventTypeXidCriticalError = 0x8;
constexpr unsigned kNameBuffer = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE, NVML_DEVICE_UUID_V2_BUFFER_SIZE

struct Nvml {
  void* handle = nullptr;
  nvmlReturn_t (*Init)() = nullptr;                                     // nvmlInit_v2
  nvmlReturn_t (*Shutdown)() = nullptr;                                 // nvmlShutdown
  const char* (*ErrorString)(nvmlReturn_t) = nullptr;                   // nvmlErrorString
  nvmlReturn_t (*GetCount)(unsigned*) = nullptr;                        // nvmlDeviceGetCount_v2
  nvmlReturn_t (*GetHandle)(unsigned, nvmlDevice_t*) = nullptr;         // nvmlDeviceGetHandleByIndex_v2
  nvmlReturn_t (*GetUuid)(nvmlDevice_t, char*, unsigned) = nullptr;     // nvmlDeviceGetUUID
  nvmlReturn_t (*GetName)(nvmlDevice_t, char*, unsigned) = nullptr;     // nvmlDeviceGetName
  nvmlReturn_t (*GetMemory)(nvmlDevice_t, nvmlMemory_t*) = nullptr;     // nvmlDeviceGetMemoryInfo
  nvmlReturn_t (*GetUtil)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;  // nvmlDeviceGetUtilizationRates
  nvmlReturn_t (*GetEcc)(nvmlDevice_t, int, int, unsigned long long*) = nullptr;  // nvmlDeviceGetTotalEccErrors
  // Optional: Xid events.
  nvmlReturn_t (*EventSetCreate)(nvmlEventSet_t*) = nullptr;
  nvmlReturn_t (*RegisterEvents)(nvmlDevice_t, unsigned long long, nvmlEventSet_t) = nullptr;
  nvmlReturn_t (*EventSetWait)(nvmlEventSet_t, nvmlEventData_t*, unsigned) = nullptr;  // nvmlEventSetWait_v2
  nvmlReturn_t (*EventSetFree)(nvmlEventSet_t) = nullptr;

  std::string Error(nvmlReturn_t r) const {
    const char* s = ErrorString != nullptr ? ErrorString(r) : nullptr;
    return fmt::format("{} (NVML error {})", s != nullptr ? s : "unknown error", r);
  }
};

template <typename F>
bool Load(void* handle, const char* name, F* out) {
  *out = reinterpret_cast<F>(::dlsym(handle, name));
  return *out != nullptr;
}

// Xids that report an application's fault, not the GPU's (as NVIDIA's
// Kubernetes device plugin treats them): they do not make a GPU unhealthy.
bool IsApplicationXid(unsigned long long xid) {
  return xid == 13 || xid == 31 || xid == 43 || xid == 45 || xid == 68 || xid == 109;
}

std::string ModelName(std::string name) {
  constexpr std::string_view kPrefix = "NVIDIA ";
  if (name.compare(0, kPrefix.size(), kPrefix) == 0) name.erase(0, kPrefix.size());
  return name;
}

}  // namespace

struct GpuMonitor::Impl {
  GpuMonitorOptions options;
  std::string source = "none";
  Nvml nvml;
  bool initialised = false;
  nvmlEventSet_t events = nullptr;
  std::vector<nvmlDevice_t> handles;
  std::vector<GpuDevice> devices;
  std::map<int, std::string> xid_faults;  // sticky, by index
  std::vector<int> reported;              // -1 unknown, 0 unhealthy, 1 healthy

  ~Impl() {
    if (events != nullptr && nvml.EventSetFree != nullptr) nvml.EventSetFree(events);
    if (initialised && nvml.Shutdown != nullptr) nvml.Shutdown();
    if (nvml.handle != nullptr) ::dlclose(nvml.handle);
  }
};

GpuMonitor::GpuMonitor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GpuMonitor::~GpuMonitor() = default;
std::string_view GpuMonitor::source() const { return impl_->source; }
const std::vector<GpuDevice>& GpuMonitor::devices() const { return impl_->devices; }

absl::StatusOr<std::unique_ptr<GpuMonitor>> GpuMonitor::Open(GpuMonitorOptions options) {
  if (options.simulated_gpus < 0 || options.simulated_gpus > kMaxGpusPerNode) {
    return absl::InvalidArgumentError(fmt::format("gpu monitor: simulated_gpus = {}: must be in [0, {}]",
                                                  options.simulated_gpus, kMaxGpusPerNode));
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  Impl& im = *impl;
  std::string library = options.nvml_library;
  if (library.empty()) {
    const char* env = std::getenv("MLSCHED_NVML_LIBRARY");
    library = env != nullptr && env[0] != '\0' ? env : "libnvidia-ml.so.1";
  }
  if (options.use_nvml) im.nvml.handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (im.nvml.handle != nullptr) {
    Nvml& n = im.nvml;
    void* h = n.handle;
    const bool ok = Load(h, "nvmlInit_v2", &n.Init) && Load(h, "nvmlShutdown", &n.Shutdown) &&
                    Load(h, "nvmlDeviceGetCount_v2", &n.GetCount) &&
                    Load(h, "nvmlDeviceGetHandleByIndex_v2", &n.GetHandle) &&
                    Load(h, "nvmlDeviceGetUUID", &n.GetUuid) && Load(h, "nvmlDeviceGetName", &n.GetName) &&
                    Load(h, "nvmlDeviceGetMemoryInfo", &n.GetMemory) &&
                    Load(h, "nvmlDeviceGetUtilizationRates", &n.GetUtil) &&
                    Load(h, "nvmlDeviceGetTotalEccErrors", &n.GetEcc);
    Load(h, "nvmlErrorString", &n.ErrorString);
    if (!ok) {
      return absl::FailedPreconditionError(
          fmt::format("NVML library \"{}\" lacks a required function: {}", library, ::dlerror()));
    }
    if (nvmlReturn_t r = n.Init(); r != NVML_SUCCESS) {
      return absl::FailedPreconditionError(fmt::format("NVML \"{}\": nvmlInit_v2: {}", library, n.Error(r)));
    }
    im.initialised = true;
    unsigned count = 0;
    if (nvmlReturn_t r = n.GetCount(&count); r != NVML_SUCCESS) {
      return absl::FailedPreconditionError(fmt::format("NVML: nvmlDeviceGetCount_v2: {}", n.Error(r)));
    }
    if (count > static_cast<unsigned>(kMaxGpusPerNode)) {
      return absl::FailedPreconditionError(
          fmt::format("NVML reports {} GPUs; mlsched handles at most {} per node", count, kMaxGpusPerNode));
    }
    if (Load(h, "nvmlEventSetCreate", &n.EventSetCreate) && Load(h, "nvmlDeviceRegisterEvents", &n.RegisterEvents) &&
        Load(h, "nvmlEventSetWait_v2", &n.EventSetWait) && Load(h, "nvmlEventSetFree", &n.EventSetFree)) {
      if (n.EventSetCreate(&im.events) != NVML_SUCCESS) im.events = nullptr;
    }
    for (unsigned i = 0; i < count; ++i) {
      nvmlDevice_t dev = nullptr;
      if (nvmlReturn_t r = n.GetHandle(i, &dev); r != NVML_SUCCESS) {
        return absl::FailedPreconditionError(
            fmt::format("NVML: nvmlDeviceGetHandleByIndex_v2({}): {}", i, n.Error(r)));
      }
      char uuid[kNameBuffer] = {}, name[kNameBuffer] = {};
      nvmlMemory_t mem{};
      GpuDevice d{.index = static_cast<int>(i)};
      nvmlReturn_t ru = n.GetUuid(dev, uuid, kNameBuffer);
      nvmlReturn_t rn = n.GetName(dev, name, kNameBuffer);
      nvmlReturn_t rm = n.GetMemory(dev, &mem);
      d.uuid = ru == NVML_SUCCESS ? uuid : fmt::format("GPU-unknown-{}", i);
      d.model = rn == NVML_SUCCESS ? ModelName(name) : "unknown";
      d.memory_bytes = rm == NVML_SUCCESS ? static_cast<std::int64_t>(mem.total) : 0;
      if (ru == NVML_ERROR_GPU_IS_LOST || rn == NVML_ERROR_GPU_IS_LOST || rm == NVML_ERROR_GPU_IS_LOST) {
        d.healthy = false;
      }
      if (im.events != nullptr) n.RegisterEvents(dev, nvmlEventTypeXidCriticalError, im.events);
      im.handles.push_back(dev);
      im.devices.push_back(std::move(d));
    }
    // Every GPU of a node has one model (node.h): a lost GPU's name is taken
    // from its neighbours.
    std::string model;
    for (const GpuDevice& d : im.devices)
      if (d.model != "unknown") model = d.model;
    for (GpuDevice& d : im.devices)
      if (d.model == "unknown" && !model.empty()) d.model = model;
    im.source = "nvml";
  } else if (options.simulated_gpus > 0) {
    for (int i = 0; i < options.simulated_gpus; ++i) {
      im.devices.push_back({.index = i,
                            .uuid = fmt::format("GPU-simulated-{:04d}", i),
                            .model = options.simulated_model,
                            .memory_bytes = options.simulated_memory_bytes});
    }
    im.source = "simulated";
  }
  im.reported.assign(im.devices.size(), -1);
  auto monitor = std::unique_ptr<GpuMonitor>(new GpuMonitor(std::move(impl)));
  // Health at discovery: devices() says which GPUs start unhealthy.
  auto first = monitor->Sample();
  if (!first.ok()) return first.status();
  for (const GpuSample& s : *first) monitor->impl_->devices[s.device.index].healthy = s.device.healthy;
  return monitor;
}

absl::StatusOr<std::vector<GpuSample>> GpuMonitor::Sample() {
  Impl& im = *impl_;
  std::vector<GpuSample> out;
  if (im.source != "nvml") {
    for (const GpuDevice& d : im.devices) out.push_back({.device = d});
    return out;
  }
  const Nvml& n = im.nvml;
  // Drain pending Xid events (timeout 0: never blocks).
  if (im.events != nullptr) {
    for (int guard = 0; guard < 1024; ++guard) {
      nvmlEventData_t ev{};
      if (n.EventSetWait(im.events, &ev, 0) != NVML_SUCCESS) break;  // NVML_ERROR_TIMEOUT: none left
      if ((ev.eventType & nvmlEventTypeXidCriticalError) == 0 || IsApplicationXid(ev.eventData)) continue;
      for (std::size_t i = 0; i < im.handles.size(); ++i)
        if (im.handles[i] == ev.device && !im.xid_faults.count(static_cast<int>(i)))
          im.xid_faults[static_cast<int>(i)] = fmt::format("Xid {} reported by the driver", ev.eventData);
    }
  }
  for (std::size_t i = 0; i < im.handles.size(); ++i) {
    GpuSample s{.device = im.devices[i]};
    s.device.healthy = true;
    nvmlDevice_t dev = im.handles[i];
    nvmlMemory_t mem{};
    nvmlUtilization_t util{};
    unsigned long long ecc = 0;
    nvmlReturn_t rm = n.GetMemory(dev, &mem);
    nvmlReturn_t ru = n.GetUtil(dev, &util);
    nvmlReturn_t re = n.GetEcc(dev, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_AGGREGATE_ECC, &ecc);
    if (rm == NVML_SUCCESS) s.memory_used_bytes = static_cast<std::int64_t>(mem.used);
    if (ru == NVML_SUCCESS) {
      s.utilization_percent = static_cast<int>(util.gpu);
      s.memory_utilization_percent = static_cast<int>(util.memory);
    }
    if (re == NVML_SUCCESS) s.uncorrected_ecc = ecc;  // NOT_SUPPORTED on GPUs without ECC: no signal
    if (rm == NVML_ERROR_GPU_IS_LOST || ru == NVML_ERROR_GPU_IS_LOST || re == NVML_ERROR_GPU_IS_LOST) {
      s.fault = "the driver lost the GPU (NVML_ERROR_GPU_IS_LOST)";
    } else if (re == NVML_SUCCESS && ecc > im.options.max_uncorrected_ecc) {
      s.fault = fmt::format("{} uncorrected ECC errors (more than {})", ecc, im.options.max_uncorrected_ecc);
    } else if (auto it = im.xid_faults.find(static_cast<int>(i)); it != im.xid_faults.end()) {
      s.fault = it->second;
    }
    if (!s.fault.empty() && !im.xid_faults.count(static_cast<int>(i))) im.xid_faults[static_cast<int>(i)] = s.fault;
    if (s.fault.empty() && im.xid_faults.count(static_cast<int>(i))) s.fault = im.xid_faults[static_cast<int>(i)];
    s.device.healthy = s.fault.empty();
    out.push_back(std::move(s));
  }
  return out;
}

absl::Status GpuMonitor::CheckHealth(NodeId node, std::vector<ExecutorEvent>* events) {
  auto samples = Sample();
  if (!samples.ok()) return samples.status();
  Impl& im = *impl_;
  for (const GpuSample& s : *samples) {
    const int i = s.device.index;
    const int now = s.device.healthy ? 1 : 0;
    const int before = im.reported[static_cast<std::size_t>(i)];
    if (now == before || (before == -1 && now == 1)) {
      im.reported[static_cast<std::size_t>(i)] = now;
      continue;
    }
    im.reported[static_cast<std::size_t>(i)] = now;
    events->push_back({.kind = ExecutorEventKind::kGpuHealth, .node = node, .gpu = i, .healthy = s.device.healthy,
                       .detail = s.fault});
  }
  return absl::OkStatus();
}

}  // namespace mlsched
