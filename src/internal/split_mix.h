// SplitMix64 (Steele, Lea and Flood 2014): a 64-bit mixing function. Each
// call maps x to a well-scrambled value, and SplitMix64(seed + k * golden)
// for k = 1, 2, ... is a fast, statistically good sequence. It seeds the
// simulator's streams, derives retry jitter from (seed, job, retry) and
// draws which simulator ticks are timed, without one stream moving another;
// chained (h = SplitMix64(h ^ v)) it hashes the simulator's outcomes into
// its digest.
//
//   std::uint64_t state = 0;
//   const std::uint64_t r = internal::SplitMix64(state++);  // deterministic
//
// A pure function: safe from any thread.
#ifndef MLSCHED_SRC_INTERNAL_SPLIT_MIX_H_
#define MLSCHED_SRC_INTERNAL_SPLIT_MIX_H_

#include <cstdint>

namespace mlsched::internal {

inline std::uint64_t SplitMix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace mlsched::internal

#endif  // MLSCHED_SRC_INTERNAL_SPLIT_MIX_H_
