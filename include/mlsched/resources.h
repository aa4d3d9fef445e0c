// Resources: what a task asks for and what a node offers.
//
// A ResourceVector holds one integer quantity per resource kind. Three kinds
// are built in: `cpu` in milli-cores, `memory` in bytes and `gpu` in whole
// devices. Hosts register further ("extended") kinds such as `rdma` or
// `nvme` in the engine's ResourceCatalog; there is no global registry.
//
// Quantities are integers and comparisons are named: `a.FitsIn(b)` is true
// when every quantity of `a` is at most the matching one of `b`. There is
// deliberately no `operator<=`, which would read as a total order.
//
// Text form, used by configuration files, CLIs and the Python bindings:
//
//   ResourceCatalog catalog;
//   ResourceVector r = ParseResources(catalog, "cpu=8,memory=64Gi,gpu=4").value();
//   r.cpu_millis() == 8000;  r.memory_bytes() == 64LL << 30;  r.gpus() == 4;
//
// cpu accepts cores ("8", "0.5") or milli-cores ("500m"); memory accepts bytes
// with binary (Ki, Mi, Gi, Ti, Pi) or decimal (k or K, M, G, T, P) suffixes
// and decimals that come out whole ("1.5Gi"); gpu and extended kinds are
// plain positive integers (no fraction, no suffix). Every quantity fits in a
// signed 64-bit integer.
//
// Thread-safety: both types are values; a catalog may be read from many
// threads once no more kinds are being registered.
#ifndef MLSCHED_RESOURCES_H_
#define MLSCHED_RESOURCES_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace mlsched {

// At most this many kinds per catalog: the three built-ins plus five extended.
inline constexpr int kMaxResourceKinds = 8;

class ResourceKind {
 public:
  constexpr explicit ResourceKind(std::uint8_t index) : index_(index) {}
  constexpr int index() const { return index_; }
  friend constexpr auto operator<=>(ResourceKind, ResourceKind) = default;

 private:
  std::uint8_t index_;
};

inline constexpr ResourceKind kCpu{0};
inline constexpr ResourceKind kMemory{1};
inline constexpr ResourceKind kGpu{2};

class ResourceVector {
 public:
  constexpr ResourceVector() = default;

  // Convenience for the built-in kinds: cpu in milli-cores, memory in bytes.
  static constexpr ResourceVector Of(std::int64_t cpu_millis, std::int64_t memory_bytes,
                                     std::int64_t gpus) {
    ResourceVector v;
    v.q_[kCpu.index()] = cpu_millis;
    v.q_[kMemory.index()] = memory_bytes;
    v.q_[kGpu.index()] = gpus;
    return v;
  }

  constexpr std::int64_t Get(ResourceKind k) const { return q_[k.index()]; }
  constexpr void Set(ResourceKind k, std::int64_t quantity) { q_[k.index()] = quantity; }
  constexpr std::int64_t cpu_millis() const { return q_[kCpu.index()]; }
  constexpr std::int64_t memory_bytes() const { return q_[kMemory.index()]; }
  constexpr std::int64_t gpus() const { return q_[kGpu.index()]; }

  // True when every quantity is at most the matching quantity of `capacity`.
  constexpr bool FitsIn(const ResourceVector& capacity) const {
    bool fits = true;
    for (int i = 0; i < kMaxResourceKinds; ++i) fits &= q_[i] <= capacity.q_[i];
    return fits;
  }
  constexpr bool IsZero() const {
    for (std::int64_t q : q_)
      if (q != 0) return false;
    return true;
  }
  constexpr bool AnyNegative() const {
    for (std::int64_t q : q_)
      if (q < 0) return true;
    return false;
  }
  // How many copies of `per_item` fit in this vector (0 if per_item is zero).
  std::int64_t CopiesThatFit(const ResourceVector& per_item) const;

  constexpr ResourceVector& operator+=(const ResourceVector& o) {
    for (int i = 0; i < kMaxResourceKinds; ++i) q_[i] += o.q_[i];
    return *this;
  }
  constexpr ResourceVector& operator-=(const ResourceVector& o) {
    for (int i = 0; i < kMaxResourceKinds; ++i) q_[i] -= o.q_[i];
    return *this;
  }
  friend constexpr ResourceVector operator+(ResourceVector a, const ResourceVector& b) {
    return a += b;
  }
  friend constexpr ResourceVector operator-(ResourceVector a, const ResourceVector& b) {
    return a -= b;
  }
  constexpr ResourceVector Times(std::int64_t n) const {
    ResourceVector v = *this;
    for (std::int64_t& q : v.q_) q *= n;
    return v;
  }
  friend constexpr bool operator==(const ResourceVector&, const ResourceVector&) = default;

  // The quantities are folded into one word, which is then hashed: hashed as
  // 64 contiguous bytes they took absl's long-input hash, about 160
  // instructions a job class lookup. (Vectors that fold alike are told apart
  // by the lookup's equality test.)
  template <typename H>
  friend H AbslHashValue(H h, const ResourceVector& v) {
    std::uint64_t x = 0;
    for (std::int64_t q : v.q_) x = (x ^ static_cast<std::uint64_t>(q)) * 0x9e3779b97f4a7c15u;
    return H::combine(std::move(h), x);
  }

 private:
  std::array<std::int64_t, kMaxResourceKinds> q_{};
};

// The resource kinds one engine knows. Built-ins are always present.
class ResourceCatalog {
 public:
  ResourceCatalog();

  // Registers an extended kind. Names are 1-63 characters of [a-z0-9._/-]
  // starting with a letter. Errors: the name is malformed or already taken
  // (kAlreadyExists), or the catalog is full (kResourceExhausted).
  absl::StatusOr<ResourceKind> Register(std::string_view name);

  std::optional<ResourceKind> Find(std::string_view name) const;
  std::string_view Name(ResourceKind kind) const;
  int size() const { return static_cast<int>(names_.size()); }

 private:
  std::vector<std::string> names_;
};

// Parses one quantity of `kind` ("8", "500m", "64Gi"); zero and negative
// quantities are errors.
absl::StatusOr<std::int64_t> ParseQuantity(const ResourceCatalog& catalog, ResourceKind kind,
                                           std::string_view text);

// Parses "kind=quantity[,kind=quantity...]". An empty text is the zero vector.
// Errors name the offending entry: `memory=12Q: unknown suffix "Q"`.
absl::StatusOr<ResourceVector> ParseResources(const ResourceCatalog& catalog,
                                              std::string_view text);

// The inverse of ParseResources, listing non-zero kinds in catalog order:
// "cpu=8,memory=64Gi,gpu=4". Round-trips through ParseResources.
std::string FormatResources(const ResourceCatalog& catalog, const ResourceVector& v);

// Checks that only kinds registered in `catalog` are non-zero. `what` names
// the vector in the error ("job \"a\": task_groups[0].per_task").
absl::Status CheckKindsRegistered(const ResourceCatalog& catalog, const ResourceVector& v,
                                  std::string_view what);

}  // namespace mlsched

#endif  // MLSCHED_RESOURCES_H_
