// HashChain: dense ids (0, 1, 2, ... in order of creation) found by a hash of
// what they stand for, without building a key. A removed id is handed out
// again by the next addition (the most recently removed first), so the
// caller's array stays as long as the most ids ever held at once.
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
//   ...
//   index.Remove(absl::HashOf(thing), id);  // the next addition may reuse `id`
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
  // false; or, when none does, an id and true: the last removed one, else a
  // new one (== size() before the call). The caller creates (or recreates)
  // what the id stands for at once.
  template <typename Same>
  std::pair<std::uint32_t, bool> FindOrAdd(std::size_t hash, Same same) {
    const std::uint32_t id = free_.empty() ? static_cast<std::uint32_t>(next_.size()) : free_.back();
    auto [it, inserted] = first_.try_emplace(hash, id);
    std::uint32_t after = kNone;
    if (!inserted) {
      for (std::uint32_t c = it->second; c != kNone; c = next_[c]) {
        if (same(c)) return {c, false};
      }
      after = next_[it->second];  // chain the new id after the first of its hash
      next_[it->second] = id;
    }
    if (free_.empty()) {
      next_.push_back(after);
    } else {
      free_.pop_back();
      next_[id] = after;
    }
    return {id, true};
  }

  // Forgets `id`, added under `hash`; the next addition reuses it.
  void Remove(std::size_t hash, std::uint32_t id) {
    auto it = first_.find(hash);
    if (it->second == id) {
      if (next_[id] == kNone) {
        first_.erase(it);
      } else {
        it->second = next_[id];
      }
    } else {
      std::uint32_t c = it->second;
      while (next_[c] != id) c = next_[c];
      next_[c] = next_[id];
    }
    next_[id] = kNone;
    free_.push_back(id);
  }

  // Ids handed out and not removed.
  std::size_t live() const { return next_.size() - free_.size(); }
  // The most ids ever held at once: every id is below it.
  std::size_t size() const { return next_.size(); }

 private:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  absl::flat_hash_map<std::size_t, std::uint32_t> first_;  // first id of each hash
  std::vector<std::uint32_t> next_;                        // per id: the next id of its hash
  std::vector<std::uint32_t> free_;                        // removed ids, reused last first
};

}  // namespace mlsched::internal

#endif  // MLSCHED_INTERNAL_HASH_CHAIN_H_
