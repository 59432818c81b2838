//===- QuantIntegerElementwiseTest.cpp - add/mul/pool/lut constants -------===//

#include "quarc/Quantization/IntegerElementwise.h"
#include "quarc/Quantization/Quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace mlir::quarc;

namespace {

TEST(QuantIntegerElementwise, MultipliersFollowTheDefinitions) {
  EXPECT_EQ(getRescaleMultiplier(0.5, 0.25), quantizeMultiplier(2.0));
  EXPECT_EQ(getRescaleMultiplier(0.1, 0.3), quantizeMultiplier(0.1 / 0.3));
  // The product first, then the division.
  EXPECT_EQ(getMulMultiplier(0.1, 0.3, 0.7),
            quantizeMultiplier((0.1 * 0.3) / 0.7));
  // The ratio first, then the count.
  EXPECT_EQ(getAveragePoolMultiplier(0.1, 0.3, 9),
            quantizeMultiplier((0.1 / 0.3) / 9.0));
  FixedPointPair pair = getAddMultipliers(0.1, 0.3, 0.7);
  FixedPointPair expected = quantizeMultiplierPair(0.1 / 0.7, 0.3 / 0.7);
  EXPECT_EQ(pair.first, expected.first);
  EXPECT_EQ(pair.second, expected.second);
  EXPECT_EQ(pair.rightShift, expected.rightShift);
}

// An 8-bit add of two tensors at the same scale into that scale is exact:
// the pair is (1, 1), so the sum is the integer sum.
TEST(QuantIntegerElementwise, AddAtEqualScalesIsExact) {
  FixedPointPair pair = getAddMultipliers(0.05, 0.05, 0.05);
  for (int32_t a = -128; a <= 127; a += 5)
    for (int32_t b = -128; b <= 127; b += 7)
      ASSERT_EQ(requantizeSum(a, b, pair, 0, -1000, 1000), a + b);
}

// Averaging a window of equal values gives that value back.
TEST(QuantIntegerElementwise, AverageOfEqualValuesIsTheValue) {
  for (int64_t count : {1, 3, 9, 49, 1600})
    for (int32_t x = -128; x <= 127; x += 3) {
      FixedPointMultiplier m = getAveragePoolMultiplier(0.02, 0.02, count);
      int64_t sum = int64_t(x) * count;
      ASSERT_EQ(requantize(int32_t(sum), m, 0, -128, 127), x) << count;
    }
}

// The table of the identity at equal parameters is the identity; the table
// of a sigmoid is its quantized values at every stored input.
TEST(QuantIntegerElementwise, LookupTables) {
  ScalarQuantization u8{0.1f, 128, 0, 255};
  llvm::SmallVector<int32_t> identity =
      buildLookupTable(u8, u8, [](double x) { return x; });
  ASSERT_EQ(identity.size(), 256u);
  for (int32_t i = 0; i < 256; ++i)
    EXPECT_EQ(identity[i], i);

  ScalarQuantization out{1.0f / 255, 0, 0, 255};
  llvm::SmallVector<int32_t> sigmoid = buildLookupTable(
      u8, out, [](double x) { return 1 / (1 + std::exp(-x)); });
  for (int32_t i = 0; i < 256; ++i) {
    float x = dequantizeValue(i, 0.1f, 128);
    float y = float(1 / (1 + std::exp(-double(x))));
    EXPECT_EQ(sigmoid[i], quantizeValue(y, 1.0f / 255, 0, 0, 255));
  }
  // Monotonic function, monotonic table, spanning the output range.
  EXPECT_TRUE(std::is_sorted(sigmoid.begin(), sigmoid.end()));
  EXPECT_EQ(sigmoid.front(), 0);
  EXPECT_EQ(sigmoid.back(), 255);

  // Signed input: entry 0 is the storage minimum, -128.
  ScalarQuantization s8{0.5f, 0, -128, 127};
  llvm::SmallVector<int32_t> negate =
      buildLookupTable(s8, s8, [](double x) { return -x; });
  EXPECT_EQ(negate.front(), 127); // -(-64.0) = 64 -> 128 saturates to 127
  EXPECT_EQ(negate[128], 0);
  EXPECT_EQ(negate.back(), -127);
}

} // namespace
