// A fake libnvidia-ml for tests: exports the NVML functions GpuMonitor calls,
// with NVML's C signatures, and reports devices and faults chosen through
// environment variables (read on every call, so a test can inject a fault
// between two samples):
//
//   FAKE_NVML_INIT_ERROR=<code>   nvmlInit_v2 fails with this nvmlReturn_t
//   FAKE_NVML_COUNT=<n>           number of GPUs (default 0)
//   FAKE_NVML_NAME=<name>         device name (default "NVIDIA A100-SXM4-80GB")
//   FAKE_NVML_MEMORY_MIB=<mib>    memory per GPU (default 81920)
//   FAKE_NVML_ECC=<i>:<n>,...     aggregate uncorrected ECC errors of GPU i
//   FAKE_NVML_LOST=<i>,...        GPUs whose queries return NVML_ERROR_GPU_IS_LOST
//   FAKE_NVML_XID=<i>:<xid>,...   one pending Xid critical-error event per entry,
//                                 delivered once each (per nvmlInit_v2) by nvmlEventSetWait_v2
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr int kSuccess = 0;
constexpr int kInvalidArgument = 2;
constexpr int kNotSupported = 3;
constexpr int kTimeout = 10;
constexpr int kGpuIsLost = 15;

struct Device {
  int index;
};
Device g_devices[64];
struct EventSet {
  int unused;
};
EventSet g_event_set;
std::set<std::string> g_delivered_xids;  // "i:xid" already delivered

std::string Env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

int Count() { return std::atoi(Env("FAKE_NVML_COUNT", "0").c_str()); }

// "a:b,c:d" -> pairs; "a,b" -> (a, 0) pairs.
std::vector<std::pair<int, long long>> Pairs(const char* name) {
  std::vector<std::pair<int, long long>> out;
  std::string s = Env(name);
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t comma = s.find(',', pos);
    std::string item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    std::size_t colon = item.find(':');
    int i = std::atoi(item.substr(0, colon).c_str());
    long long v = colon == std::string::npos ? 0 : std::atoll(item.substr(colon + 1).c_str());
    if (!item.empty()) out.emplace_back(i, v);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

int IndexOf(const void* device) {
  const Device* d = static_cast<const Device*>(device);
  if (d < g_devices || d >= g_devices + 64) return -1;
  return d->index;
}

bool Lost(int i) {
  for (auto [j, v] : Pairs("FAKE_NVML_LOST"))
    if (j == i) return true;
  return false;
}

int Check(const void* device) {
  int i = IndexOf(device);
  if (i < 0 || i >= Count()) return kInvalidArgument;
  if (Lost(i)) return kGpuIsLost;
  return kSuccess;
}

}  // namespace

extern "C" {

struct FakeMemory {
  unsigned long long total, free, used;
};
struct FakeUtilization {
  unsigned int gpu, memory;
};
struct FakeEventData {
  void* device;
  unsigned long long eventType;
  unsigned long long eventData;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
};

__attribute__((visibility("default"))) int nvmlInit_v2() {
  g_delivered_xids.clear();  // each initialisation sees the pending events afresh
  int code = std::atoi(Env("FAKE_NVML_INIT_ERROR", "0").c_str());
  return code;
}
__attribute__((visibility("default"))) int nvmlShutdown() { return kSuccess; }
__attribute__((visibility("default"))) const char* nvmlErrorString(int r) {
  switch (r) {
    case 0: return "Success";
    case 9: return "Driver Not Loaded";
    case 15: return "GPU is lost";
    default: return "Fake NVML error";
  }
}
__attribute__((visibility("default"))) int nvmlDeviceGetCount_v2(unsigned* count) {
  *count = static_cast<unsigned>(Count());
  return kSuccess;
}
__attribute__((visibility("default"))) int nvmlDeviceGetHandleByIndex_v2(unsigned index, void** device) {
  if (static_cast<int>(index) >= Count() || index >= 64) return kInvalidArgument;
  g_devices[index].index = static_cast<int>(index);
  *device = &g_devices[index];
  return kSuccess;
}
__attribute__((visibility("default"))) int nvmlDeviceGetUUID(void* device, char* uuid, unsigned length) {
  if (int r = Check(device); r != kSuccess) return r;
  std::snprintf(uuid, length, "GPU-fake0000-0000-0000-0000-%012d", IndexOf(device));
  return kSuccess;
}
__attribute__((visibility("default"))) int nvmlDeviceGetName(void* device, char* name, unsigned length) {
  if (int r = Check(device); r != kSuccess) return r;
  std::snprintf(name, length, "%s", Env("FAKE_NVML_NAME", "NVIDIA A100-SXM4-80GB").c_str());
  return kSuccess;
}
__attribute__((visibility("default"))) int nvmlDeviceGetMemoryInfo(void* device, FakeMemory* memory) {
  if (int r = Check(device); r != kSuccess) return r;
  unsigned long long total = std::strtoull(Env("FAKE_NVML_MEMORY_MIB", "81920").c_str(), nullptr, 10) << 20;
  memory->total = total;
  memory->used = total / 4;
  memory->free = total - memory->used;
  return kSuccess;
}
__attribute__((visibility("default"))) int nvmlDeviceGetUtilizationRates(void* device, FakeUtilization* u) {
  if (int r = Check(device); r != kSuccess) return r;
  u->gpu = 50u + static_cast<unsigned>(IndexOf(device));
  u->memory = 20;
  return kSuccess;
}
__attribute__((visibility("default"))) int nvmlDeviceGetTotalEccErrors(void* device, int error_type, int counter_type,
                                                                      unsigned long long* count) {
  if (int r = Check(device); r != kSuccess) return r;
  if (error_type != 1 || counter_type != 1) return kNotSupported;  // only uncorrected/aggregate is faked
  *count = 0;
  for (auto [i, n] : Pairs("FAKE_NVML_ECC"))
    if (i == IndexOf(device)) *count = static_cast<unsigned long long>(n);
  return kSuccess;
}
__attribute__((visibility("default"))) int nvmlEventSetCreate(void** set) {
  *set = &g_event_set;
  return kSuccess;
}
__attribute__((visibility("default"))) int nvmlDeviceRegisterEvents(void* device, unsigned long long, void*) {
  return Check(device);
}
__attribute__((visibility("default"))) int nvmlEventSetWait_v2(void*, FakeEventData* data, unsigned) {
  for (auto [i, xid] : Pairs("FAKE_NVML_XID")) {
    std::string key = std::to_string(i) + ":" + std::to_string(xid);
    if (g_delivered_xids.count(key) || i < 0 || i >= 64) continue;
    g_delivered_xids.insert(key);
    std::memset(data, 0, sizeof *data);
    data->device = &g_devices[i];
    data->eventType = 0x8;  // nvmlEventTypeXidCriticalError
    data->eventData = static_cast<unsigned long long>(xid);
    return kSuccess;
  }
  return kTimeout;
}
__attribute__((visibility("default"))) int nvmlEventSetFree(void*) { return kSuccess; }

}  // extern "C"
