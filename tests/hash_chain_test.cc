// HashChain (src/internal/hash_chain.h): dense ids, found again by hash and
// predicate, with colliding hashes told apart by the predicate.
#include "internal/hash_chain.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace mlsched::internal {
namespace {

TEST(HashChain, GivesDenseIdsAndFindsThemAgain) {
  HashChain index;
  std::vector<std::string> things;
  auto id_of = [&](const std::string& s) {
    auto [id, added] = index.FindOrAdd(std::hash<std::string>{}(s), [&](std::uint32_t i) { return things[i] == s; });
    if (added) things.push_back(s);
    return id;
  };
  EXPECT_EQ(id_of("a"), 0u);
  EXPECT_EQ(id_of("b"), 1u);
  EXPECT_EQ(id_of("a"), 0u);
  EXPECT_EQ(index.size(), 2u);
}

TEST(HashChain, CollidingHashesAreToldApartByThePredicate) {
  HashChain index;
  std::vector<int> things;
  auto id_of = [&](int x) {
    auto [id, added] = index.FindOrAdd(42, [&](std::uint32_t i) { return things[i] == x; });  // one hash for all
    if (added) things.push_back(x);
    return id;
  };
  EXPECT_EQ(id_of(7), 0u);
  EXPECT_EQ(id_of(8), 1u);
  EXPECT_EQ(id_of(9), 2u);
  EXPECT_EQ(id_of(8), 1u);
  EXPECT_EQ(id_of(7), 0u);
  EXPECT_EQ(id_of(9), 2u);
}

TEST(HashChain, ARemovedIdIsForgottenAndHandedOutAgain) {
  HashChain index;
  std::vector<int> things;
  auto id_of = [&](int x) {
    auto [id, added] = index.FindOrAdd(42, [&](std::uint32_t i) { return things[i] == x; });  // one chain
    if (added && id == things.size()) things.push_back(x);
    if (added) things[id] = x;
    return id;
  };
  EXPECT_EQ(id_of(7), 0u);
  EXPECT_EQ(id_of(8), 1u);
  EXPECT_EQ(id_of(9), 2u);
  index.Remove(42, 1);  // the middle of the chain
  things[1] = -1;
  EXPECT_EQ(index.live(), 2u);
  EXPECT_EQ(id_of(7), 0u);
  EXPECT_EQ(id_of(9), 2u);
  EXPECT_EQ(id_of(10), 1u);  // reused
  EXPECT_EQ(index.size(), 3u);
  index.Remove(42, 0);  // the first of the chain
  things[0] = -1;
  EXPECT_EQ(id_of(10), 1u);
  EXPECT_EQ(id_of(9), 2u);
  index.Remove(42, 1);
  index.Remove(42, 2);  // the chain is gone
  things[1] = things[2] = -1;
  EXPECT_EQ(index.live(), 0u);
  EXPECT_EQ(id_of(11), 2u);  // the last removed first
  EXPECT_EQ(id_of(12), 1u);
  EXPECT_EQ(id_of(13), 0u);
  EXPECT_EQ(id_of(14), 3u);
}

// Against a map, with hashes drawn from a tiny range so that chains are long.
RC_GTEST_PROP(HashChainProperties, AgreesWithAMap, ()) {
  HashChain index;
  std::vector<int> things;
  std::map<int, std::uint32_t> model;
  const auto values = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 40));
  for (int x : values) {
    auto [id, added] = index.FindOrAdd(static_cast<std::size_t>(x % 3), [&](std::uint32_t i) { return things[i] == x; });
    if (added) things.push_back(x);
    const auto [it, inserted] = model.try_emplace(x, static_cast<std::uint32_t>(model.size()));
    RC_ASSERT(added == inserted);
    RC_ASSERT(id == it->second);
  }
  RC_ASSERT(index.size() == model.size());
}

// With removals: every live value is found under its id, ids are unique, and
// no more ids are made than were ever live at once.
RC_GTEST_PROP(HashChainProperties, RemovalsAgreeWithAMap, ()) {
  HashChain index;
  std::vector<int> things;  // by id; -1 when removed
  std::map<int, std::uint32_t> model;
  std::size_t most = 0;
  const auto ops = *rc::gen::container<std::vector<std::pair<bool, int>>>(
      rc::gen::pair(rc::gen::arbitrary<bool>(), rc::gen::inRange(0, 30)));
  for (const auto& [remove, x] : ops) {
    const auto hash = static_cast<std::size_t>(x % 3);
    if (remove) {
      auto it = model.find(x);
      if (it == model.end()) continue;
      index.Remove(hash, it->second);
      things[it->second] = -1;
      model.erase(it);
      continue;
    }
    auto [id, added] = index.FindOrAdd(hash, [&](std::uint32_t i) { return things[i] == x; });
    RC_ASSERT(added == !model.contains(x));
    if (!added) {
      RC_ASSERT(model.at(x) == id);
      continue;
    }
    if (id == things.size()) things.push_back(-1);
    RC_ASSERT(things[id] == -1);  // not an id in use
    things[id] = x;
    model[x] = id;
    most = std::max(most, model.size());
    RC_ASSERT(index.live() == model.size());
  }
  RC_ASSERT(index.size() == most);
}

}  // namespace
}  // namespace mlsched::internal
