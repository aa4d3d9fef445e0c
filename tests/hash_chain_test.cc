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

}  // namespace
}  // namespace mlsched::internal
