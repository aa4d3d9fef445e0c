// GpuMonitor: this machine's GPUs and their health, through NVML.
//
// NVML (libnvidia-ml.so.1, shipped with the NVIDIA driver) is loaded at run
// time with dlopen; mlsched declares the handful of functions it calls with
// NVML's own signatures and _v2 symbol names, so it builds without any NVIDIA
// package and runs unchanged on an NVIDIA node. The library is, in order:
// `options.nvml_library`, $MLSCHED_NVML_LIBRARY, "libnvidia-ml.so.1".
//
// Discovery reports, per GPU: index (NVML order, which is what
// CUDA_VISIBLE_DEVICES counts when CUDA_DEVICE_ORDER=PCI_BUS_ID), UUID,
// model (NVML's name without a leading "NVIDIA "), memory, and on each
// Sample() used memory and utilisation. A GPU is unhealthy when
//   - its aggregate uncorrected ECC error count exceeds
//     `max_uncorrected_ecc` (NVML_MEMORY_ERROR_TYPE_UNCORRECTED), or
//   - a query returns NVML_ERROR_GPU_IS_LOST (the driver lost it: Xid 79), or
//   - NVML delivered an Xid critical-error event for it (when the driver
//     supports event sets; the Xid number is in the fault text), except the
//     Xids that report an application's fault (13, 31, 43, 45, 68, 109).
// Unhealthy is sticky: ECC counters only grow and a lost GPU needs a reset.
// CheckHealth() turns changes into kGpuHealth events for the engine
// (Engine::SetGpuHealth), which then places nothing more on that GPU.
//
// Without NVML (no library, as on a CPU-only machine) the monitor reports no
// GPUs, or `simulated_gpus` always-healthy simulated ones for development.
// A library that loads but fails to initialise (driver not loaded) is an
// error that names NVML's message.
//
// Thread-safety: none; one thread uses a monitor. NVML is shut down and the
// library closed in the destructor.
//
//   auto gpus = GpuMonitor::Open({}).value();
//   for (const GpuDevice& d : gpus->devices()) ...;     // at registration
//   gpus->CheckHealth(node_id, &events);                 // every few seconds
#ifndef MLSCHED_EXEC_GPU_MONITOR_H_
#define MLSCHED_EXEC_GPU_MONITOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mlsched/exec/executor_event.h"
#include "mlsched/gpu.h"
#include "mlsched/ids.h"

namespace mlsched {

struct GpuMonitorOptions {
  bool use_nvml = true;
  std::string nvml_library;  // "" = $MLSCHED_NVML_LIBRARY, else "libnvidia-ml.so.1"
  // Without NVML: this many simulated GPUs (>= 0, <= kMaxGpusPerNode).
  int simulated_gpus = 0;
  std::string simulated_model = "SIM-GPU";
  std::int64_t simulated_memory_bytes = std::int64_t{16} << 30;
  // More aggregate uncorrected ECC errors than this make a GPU unhealthy.
  std::uint64_t max_uncorrected_ecc = 0;
};

struct GpuSample {
  GpuDevice device;  // healthy reflects this sample
  std::int64_t memory_used_bytes = 0;
  int utilization_percent = 0;         // GPU busy time, last sample period
  int memory_utilization_percent = 0;  // memory controller busy time
  std::uint64_t uncorrected_ecc = 0;
  std::string fault;  // why it is unhealthy; "" when healthy
};

class GpuMonitor {
 public:
  static absl::StatusOr<std::unique_ptr<GpuMonitor>> Open(GpuMonitorOptions options);
  ~GpuMonitor();
  GpuMonitor(const GpuMonitor&) = delete;
  GpuMonitor& operator=(const GpuMonitor&) = delete;

  // "nvml", "simulated" or "none".
  std::string_view source() const;
  // The GPUs found by Open(), with their health then.
  const std::vector<GpuDevice>& devices() const;
  // Reads every GPU now. Errors only for NVML calls failing on the whole
  // library (a single lost GPU is a fault, not an error).
  absl::StatusOr<std::vector<GpuSample>> Sample();
  // Samples, and appends a kGpuHealth event (with `node`) for every GPU whose
  // health differs from what was last reported; the first call reports the
  // GPUs that are unhealthy already.
  absl::Status CheckHealth(NodeId node, std::vector<ExecutorEvent>* events);

 private:
  struct Impl;
  explicit GpuMonitor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlsched

#endif  // MLSCHED_EXEC_GPU_MONITOR_H_
