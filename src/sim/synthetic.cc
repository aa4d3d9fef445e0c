// Synthetic workload generator (include/mlsched/sim/synthetic.h has the
// distributions).
//
// Order of work: the cluster; then every job's shape, run time, limit,
// tenant and class (each from its own random stream); then the arrival
// times, because with `load` the arrival rate depends on the GPU-time of all
// the jobs drawn before.
#include "mlsched/sim/synthetic.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "internal/split_mix.h"

namespace mlsched::sim {

namespace {

constexpr std::int64_t kGiB = std::int64_t{1} << 30;

// One random stream: mt19937_64 seeded by SplitMix64 of (seed, stream), with
// our own transforms so that values do not depend on the standard library.
class Stream {
 public:
  Stream(std::uint64_t seed, std::uint64_t stream) : engine_(internal::SplitMix64(seed ^ internal::SplitMix64(stream + 1))) {}

  // [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // (0, 1]
  double UniformOpen() { return 1.0 - Uniform(); }
  double Exponential(double mean) { return -mean * std::log(UniformOpen()); }
  // Box-Muller; one of the pair is used, which keeps the stream simple.
  double Normal() {
    return std::sqrt(-2.0 * std::log(UniformOpen())) * std::cos(2.0 * std::numbers::pi * Uniform());
  }
  bool Chance(double p) { return Uniform() < p; }
  // An index drawn with the given (not necessarily normalised) weights.
  int Pick(std::span<const double> weights) {
    double total = 0;
    for (double w : weights) total += w;
    double x = Uniform() * total;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (x < weights[i]) return static_cast<int>(i);
      x -= weights[i];
    }
    return static_cast<int>(weights.size()) - 1;
  }

 private:
  std::mt19937_64 engine_;
};

enum class Shape { kCpu, kGpu1, kGpu2, kGpu4, kGpu8, kGang };
constexpr double kShapeWeightsSingle[] = {0.53, 0.18, 0.15, 0.14};  // 1, 2, 4, 8 GPUs
constexpr int kGangTasks[] = {2, 3, 4, 6, 8};
constexpr double kGangWeights[] = {0.45, 0.10, 0.30, 0.05, 0.10};
constexpr int kCpuCores[] = {4, 8, 16, 32};
constexpr double kCpuWeights[] = {0.30, 0.30, 0.25, 0.15};

struct RuntimeModel {
  Duration median;
  double sigma;
};
RuntimeModel RuntimeOf(Shape shape) {
  switch (shape) {
    case Shape::kCpu: return {15 * kMinute, 1.0};
    case Shape::kGpu1: return {30 * kMinute, 1.5};
    case Shape::kGpu2:
    case Shape::kGpu4: return {kHour, 1.5};
    case Shape::kGpu8: return {2 * kHour, 1.5};
    case Shape::kGang: return {6 * kHour, 1.2};
  }
  return {kHour, 1.0};
}

SyntheticOptions Clamped(SyntheticOptions o) {
  o.jobs = std::max<std::int64_t>(o.jobs, 0);
  o.tenants = std::max(o.tenants, 1);
  o.users_per_tenant = std::max(o.users_per_tenant, 1);
  o.tenant_skew = std::clamp(o.tenant_skew, 0.0, 10.0);
  o.mean_interarrival = std::max<Duration>(o.mean_interarrival, 0);
  if (!(o.load > 0)) o.load = 0.85;
  o.load = std::min(o.load, 100.0);
  o.diurnal_amplitude = std::clamp(o.diurnal_amplitude, 0.0, 0.99);
  o.nodes = std::max(o.nodes, 0);
  o.cpu_nodes = std::max(o.cpu_nodes, 0);
  if (o.nodes + o.cpu_nodes == 0) o.nodes = 1;
  o.gpus_per_node = std::clamp(o.gpus_per_node, 0, 64);
  if (o.gpu_model.empty()) o.gpu_model = "A100-80GB";
  o.nodes_per_rack = std::max(o.nodes_per_rack, 1);
  o.racks_per_block = std::max(o.racks_per_block, 1);
  o.cpu_job_fraction = std::clamp(o.cpu_job_fraction, 0.0, 1.0);
  o.gang_fraction = std::clamp(o.gang_fraction, 0.0, 1.0 - o.cpu_job_fraction);
  o.exact_limit_fraction = std::clamp(o.exact_limit_fraction, 0.0, 1.0);
  o.max_runtime = std::max<Duration>(o.max_runtime, kMinute);
  return o;
}

std::vector<NodeSpec> Cluster(const SyntheticOptions& o) {
  std::vector<NodeSpec> nodes;
  const int per_block = o.nodes_per_rack * o.racks_per_block;
  auto topology = [&](int slot) {
    return fmt::format("block-{}/rack-{}", slot / per_block, slot / o.nodes_per_rack);
  };
  const std::int64_t gpus = o.gpus_per_node;
  for (int i = 0; i < o.nodes; ++i) {
    NodeSpec& n = nodes.emplace_back();
    n.name = fmt::format("gpu-{}", i);
    n.capacity = ResourceVector::Of(std::max<std::int64_t>(12 * gpus, 16) * 1000,
                                    std::max<std::int64_t>(128 * gpus, 128) * kGiB, 0);
    for (int g = 0; g < o.gpus_per_node; ++g)
      n.gpus.push_back(
          {.index = g, .model = o.gpu_model, .memory_bytes = 80 * kGiB, .topology_domain = g / 8});
    n.topology = topology(i);
  }
  // CPU nodes start on a fresh rack.
  const int first = (o.nodes + o.nodes_per_rack - 1) / o.nodes_per_rack * o.nodes_per_rack;
  for (int i = 0; i < o.cpu_nodes; ++i) {
    NodeSpec& n = nodes.emplace_back();
    n.name = fmt::format("cpu-{}", i);
    n.capacity = ResourceVector::Of(128'000, 512 * kGiB, 0);
    n.topology = topology(first + i);
  }
  return nodes;
}

}  // namespace

Workload Synthetic(const SyntheticOptions& options) {
  const SyntheticOptions o = Clamped(options);
  Workload w{.name = fmt::format("synthetic-seed{}", o.seed), .nodes = Cluster(o)};
  Stream shape_rng(o.seed, 1), runtime_rng(o.seed, 2), limit_rng(o.seed, 3), tenant_rng(o.seed, 4),
      class_rng(o.seed, 5), arrival_rng(o.seed, 6);

  // The largest CPU-only request any node can hold.
  std::int64_t max_cpu = 0, max_memory = 0;
  for (const NodeSpec& n : w.nodes) {
    max_cpu = std::max(max_cpu, n.capacity.cpu_millis());
    max_memory = std::max(max_memory, n.capacity.memory_bytes());
  }
  const int gpn = o.gpus_per_node;
  const double cpu_fraction = gpn == 0 || o.nodes == 0 ? 1.0 : o.cpu_job_fraction;
  const double gang_fraction = o.nodes >= 2 ? o.gang_fraction : 0.0;

  std::vector<double> tenant_weights;
  for (int k = 0; k < o.tenants; ++k)
    tenant_weights.push_back(1.0 / std::pow(k + 1.0, o.tenant_skew));

  double gpu_time = 0, cpu_time = 0;  // GPU-µs and milli-core-µs of all jobs, for `load`
  w.jobs.reserve(static_cast<std::size_t>(o.jobs));
  for (std::int64_t i = 0; i < o.jobs; ++i) {
    TraceJob& j = w.jobs.emplace_back();
    j.trace_id = i;
    JobSpec& s = j.spec;

    // Shape.
    const double u = shape_rng.Uniform();
    Shape shape;
    TaskGroup group{.count = 1};
    std::string kind;
    if (u < cpu_fraction) {
      shape = Shape::kCpu;
      const std::int64_t cores = kCpuCores[shape_rng.Pick(kCpuWeights)];
      group.per_task = ResourceVector::Of(std::min(cores * 1000, max_cpu),
                                          std::min(cores * 8 * kGiB, max_memory), 0);
      kind = "prep";
    } else if (u < cpu_fraction + gang_fraction) {
      shape = Shape::kGang;
      group.count = std::min(kGangTasks[shape_rng.Pick(kGangWeights)], o.nodes);
      group.per_task = ResourceVector::Of(10'000 * gpn, 96 * kGiB * gpn, gpn);
      kind = fmt::format("gang{}x{}", group.count, gpn);
      s.constraints.topology = {.level = 1, .required = false};
    } else {
      static constexpr Shape kSingle[] = {Shape::kGpu1, Shape::kGpu2, Shape::kGpu4, Shape::kGpu8};
      static constexpr int kGpus[] = {1, 2, 4, 8};
      const int pick = shape_rng.Pick(kShapeWeightsSingle);
      shape = kSingle[pick];
      const std::int64_t g = std::min(kGpus[pick], gpn);
      group.per_task = ResourceVector::Of(10'000 * g, 96 * kGiB * g, g);
      kind = fmt::format("gpu{}", g);
    }
    s.task_groups = {group};
    s.name = fmt::format("{}-{}", kind, i);
    if (group.per_task.gpus() > 0) s.constraints.gpu_models = {o.gpu_model};

    // Run time: log-normal around the shape's median.
    const RuntimeModel model = RuntimeOf(shape);
    const double runtime =
        static_cast<double>(model.median) * std::exp(model.sigma * runtime_rng.Normal());
    j.runtime = std::clamp(static_cast<Duration>(runtime), kMinute, o.max_runtime);

    // Requested time: exact, or overestimated and rounded up to 5 minutes.
    if (limit_rng.Chance(o.exact_limit_fraction)) {
      s.time_limit = j.runtime;
    } else {
      const double factor = 1.2 * std::pow(5.0 / 1.2, limit_rng.Uniform());
      const auto over = static_cast<Duration>(static_cast<double>(j.runtime) * factor);
      s.time_limit = std::max(j.runtime, (over + 5 * kMinute - 1) / (5 * kMinute) * (5 * kMinute));
    }

    // Who and how urgent.
    const int tenant = tenant_rng.Pick(tenant_weights);
    s.tenant = fmt::format("team-{}", tenant);
    s.user = fmt::format("team-{}-u{}", tenant,
                         static_cast<int>(tenant_rng.Uniform() * o.users_per_tenant));
    const double c = class_rng.Uniform();
    s.priority_class = c < 0.10   ? PriorityClass::kHigh
                       : c < 0.85 ? PriorityClass::kMedium
                                  : PriorityClass::kLow;
    s.preemptible = s.priority_class == PriorityClass::kLow;

    gpu_time +=
        static_cast<double>(group.count * group.per_task.gpus()) * static_cast<double>(j.runtime);
    cpu_time += static_cast<double>(group.count * group.per_task.cpu_millis()) *
                static_cast<double>(j.runtime);
  }

  // Arrivals. The load sets the mean gap from the GPU-time (CPU-time on a
  // cluster without GPUs) the jobs bring.
  double mean_gap = static_cast<double>(o.mean_interarrival);
  if (mean_gap <= 0 && o.jobs > 0) {
    double capacity_gpus = 0, capacity_cpu = 0;
    for (const NodeSpec& n : w.nodes) {
      capacity_gpus += static_cast<double>(n.gpus.size());
      capacity_cpu += static_cast<double>(n.capacity.cpu_millis());
    }
    const double span =
        gpu_time > 0 ? gpu_time / (o.load * capacity_gpus) : cpu_time / (o.load * capacity_cpu);
    mean_gap = std::max(1.0, span / static_cast<double>(o.jobs));
  }
  const double amplitude = o.diurnal ? o.diurnal_amplitude : 0.0;
  const double peak = 15.0 * static_cast<double>(kHour);
  double t = 0;
  for (TraceJob& j : w.jobs) {
    // Thinning: candidates at the peak rate, kept with probability rate(t) / peak rate.
    while (true) {
      t += arrival_rng.Exponential(mean_gap / (1.0 + amplitude));
      if (amplitude == 0) break;
      const double phase = 2.0 * std::numbers::pi *
                           (std::fmod(t, static_cast<double>(kDay)) - peak) /
                           static_cast<double>(kDay);
      if (arrival_rng.Uniform() * (1.0 + amplitude) < 1.0 + amplitude * std::cos(phase)) break;
    }
    j.submit = static_cast<Timestamp>(t);
  }
  return w;
}

}  // namespace mlsched::sim
