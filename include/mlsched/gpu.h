// GPUs: the devices on a node and sets of them.
//
// A GpuDevice describes one physical GPU as discovery (NVML on a real node)
// reports it. Its `topology_domain` groups GPUs that talk over NVLink/NVSwitch:
// GPUs with the same domain on one node form an island, and the engine places
// a multi-GPU task inside one island when it can.
//
// A GpuSet is a set of device indices on one node (at most 64 per node), used
// in placements: `for (int gpu : placement.gpus) ...`.
//
// Thread-safety: plain values.
//
//   GpuSet gpus = GpuSet::FromMask(0b0110);
//   FormatGpuSet(gpus) == "1,2";  // CUDA_VISIBLE_DEVICES
#ifndef MLSCHED_GPU_H_
#define MLSCHED_GPU_H_

#include <bit>
#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace mlsched {

inline constexpr int kMaxGpusPerNode = 64;

struct GpuDevice {
  int index = 0;                  // 0..n-1 on its node, as CUDA_VISIBLE_DEVICES counts
  std::string uuid;               // "GPU-5c8e..." from NVML; unique on the node
  std::string model;              // "A100-80GB"; every GPU of a node has the same model
  std::int64_t memory_bytes = 0;  // device memory
  int topology_domain = 0;        // NVLink island on the node
  bool healthy = true;
};

class GpuSet {
 public:
  constexpr GpuSet() = default;
  static constexpr GpuSet FromMask(std::uint64_t mask) {
    GpuSet s;
    s.bits_ = mask;
    return s;
  }
  static constexpr GpuSet FirstN(int n) {
    return FromMask(n >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1);
  }

  constexpr void Add(int index) { bits_ |= std::uint64_t{1} << index; }
  constexpr void Remove(int index) { bits_ &= ~(std::uint64_t{1} << index); }
  constexpr bool Contains(int index) const { return (bits_ >> index) & 1u; }
  constexpr int size() const { return std::popcount(bits_); }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr std::uint64_t mask() const { return bits_; }
  constexpr GpuSet operator&(GpuSet o) const { return FromMask(bits_ & o.bits_); }
  constexpr GpuSet operator|(GpuSet o) const { return FromMask(bits_ | o.bits_); }
  constexpr GpuSet Minus(GpuSet o) const { return FromMask(bits_ & ~o.bits_); }
  friend constexpr bool operator==(GpuSet, GpuSet) = default;

  class Iterator {
   public:
    constexpr explicit Iterator(std::uint64_t bits) : bits_(bits) {}
    constexpr int operator*() const { return std::countr_zero(bits_); }
    constexpr Iterator& operator++() {
      bits_ &= bits_ - 1;
      return *this;
    }
    friend constexpr bool operator==(Iterator, Iterator) = default;

   private:
    std::uint64_t bits_;
  };
  constexpr Iterator begin() const { return Iterator(bits_); }
  constexpr Iterator end() const { return Iterator(0); }

 private:
  std::uint64_t bits_ = 0;
};

// "0,1,4,5"; the form CUDA_VISIBLE_DEVICES takes.
std::string FormatGpuSet(GpuSet set);

}  // namespace mlsched

#endif  // MLSCHED_GPU_H_
