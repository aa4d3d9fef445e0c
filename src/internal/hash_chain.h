// HashChain: dense ids (0, 1, 2, ... in order of creation) found by a hash of
// what they stand for, without building a key.
//
// One map entry per distinct hash, and a chain through the ids that share it;
// the caller's predicate says which id of the chain is the one it looks for
// (collisions are rare, so the chain is nearly always one long). Used for
// job classes and job shapes, where a key string per lookup cost an
// allocation and a long hash.
//
//   HashChain index;
//   auto [id, added] = index.FindOrAdd(absl::HashOf(thing), [&](std::uint32_t i) { return things[i] == thing; });
//   if (added) things.push_back(thing);  // ids follow the caller's own array
//
// Not thread-safe; owned by value.
#ifndef MLSCHED_INTERNAL_HASH_CHAIN_H_
#define MLSCHED_INTERNAL_HASH_CHAIN_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace mlsched::internal {

class HashChain {
 public:
  // The id for which `same(id)` holds among those added under `hash`, and
  // false; or, when none does, a new id (== size() before the call) and
  // true. The caller creates what the new id stands for at once.
  template <typename Same>
  std::pair<std::uint32_t, bool> FindOrAdd(std::size_t hash, Same same) {
    const auto id = static_cast<std::uint32_t>(next_.size());
    auto [it, inserted] = first_.try_emplace(hash, id);
    if (inserted) {
      next_.push_back(kNone);
      return {id, true};
    }
    for (std::uint32_t c = it->second; c != kNone; c = next_[c]) {
      if (same(c)) return {c, false};
    }
    next_.push_back(next_[it->second]);  // chain the new id after the first of its hash
    next_[it->second] = id;
    return {id, true};
  }

  std::size_t size() const { return next_.size(); }

 private:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  absl::flat_hash_map<std::size_t, std::uint32_t> first_;  // first id of each hash
  std::vector<std::uint32_t> next_;                        // per id: the next id of its hash
};

}  // namespace mlsched::internal

#endif  // MLSCHED_INTERNAL_HASH_CHAIN_H_
