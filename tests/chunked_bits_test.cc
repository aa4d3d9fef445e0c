// ChunkedBits: a bit per record, appended cleared, set and cleared one by
// one, and false once its block is released.
#include "internal/chunked_bits.h"

#include <cstddef>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace mlsched::internal {
namespace {

TEST(ChunkedBits, AppendedClearedSetAndClearedOneByOne) {
  ChunkedBits<6> bits;  // blocks of 64
  for (std::size_t i = 0; i < 200; ++i) bits.Append(i);
  for (std::size_t i = 0; i < 200; ++i) EXPECT_FALSE(bits.Test(i));
  bits.Set(0);
  bits.Set(63);
  bits.Set(64);
  bits.Set(199);
  EXPECT_TRUE(bits.Test(0) && bits.Test(63) && bits.Test(64) && bits.Test(199));
  EXPECT_FALSE(bits.Test(1) || bits.Test(62) || bits.Test(65) || bits.Test(198));
  bits.Clear(63);
  EXPECT_FALSE(bits.Test(63));
  EXPECT_TRUE(bits.Test(64));
  EXPECT_FALSE(bits.Test(200));  // never appended
}

TEST(ChunkedBits, AReleasedBlockReadsAsClear) {
  ChunkedBits<7> bits;  // blocks of 128
  for (std::size_t i = 0; i < 384; ++i) {
    bits.Append(i);
    bits.Set(i);
  }
  bits.ReleaseBlock(1);
  EXPECT_TRUE(bits.Test(127));
  EXPECT_FALSE(bits.Test(128));
  EXPECT_FALSE(bits.Test(255));
  EXPECT_TRUE(bits.Test(256));
}

// Against a vector<bool>, over blocks of 64 bits (one word).
RC_GTEST_PROP(ChunkedBitsProperties, MatchesAVectorOfBool, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(1, 1000);
  ChunkedBits<6> bits;
  std::vector<bool> model(n, false);
  for (std::size_t i = 0; i < n; ++i) bits.Append(i);
  const int ops = *rc::gen::inRange(0, 500);
  for (int k = 0; k < ops; ++k) {
    const auto i = *rc::gen::inRange<std::size_t>(0, n);
    if (*rc::gen::arbitrary<bool>()) {
      bits.Set(i);
      model[i] = true;
    } else {
      bits.Clear(i);
      model[i] = false;
    }
  }
  for (std::size_t i = 0; i < n; ++i) RC_ASSERT(bits.Test(i) == model[i]);
}

}  // namespace
}  // namespace mlsched::internal
