//===- QuantIntegerContractionTest.cpp - bias and multiplier constants ----===//

#include "quarc/Quantization/IntegerContraction.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace mlir::quarc;

namespace {

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

TEST(QuantIntegerContraction, RequantScaleIsInputTimesWeightOverOutput) {
  EXPECT_DOUBLE_EQ(getRequantScale(0.5, 0.25, 2.0), 0.0625);
  // The product first, then the division: (0.1 * 0.3) / 0.7 in double.
  EXPECT_EQ(getRequantScale(0.1, 0.3, 0.7), (0.1 * 0.3) / 0.7);
}

TEST(QuantIntegerContraction, BiasRoundsHalfToEven) {
  EXPECT_EQ(quantizeBias(1.0, 0.5), 2);
  EXPECT_EQ(quantizeBias(1.25, 0.5), 2);   // 2.5 -> 2
  EXPECT_EQ(quantizeBias(1.75, 0.5), 4);   // 3.5 -> 4
  EXPECT_EQ(quantizeBias(-1.25, 0.5), -2); // -2.5 -> -2
  EXPECT_EQ(quantizeBias(-0.2, 1.0), 0);
}

TEST(QuantIntegerContraction, BiasSaturatesAndHandlesDegenerateScales) {
  EXPECT_EQ(quantizeBias(1e30, 1e-6), kMax);
  EXPECT_EQ(quantizeBias(-1e30, 1e-6), kMin);
  EXPECT_EQ(quantizeBias(3.0, 0.0), 0);
  EXPECT_EQ(quantizeBias(std::nan(""), 1.0), 0);
  EXPECT_EQ(quantizeBias(INFINITY, 1.0), kMax);
}

TEST(QuantIntegerContraction, CompensationSubtractsZeroPointTimesWeightSum) {
  EXPECT_EQ(compensateBias(100, 128, 3), 100 - 384);
  EXPECT_EQ(compensateBias(-5, -3, -7), -5 - 21);
  EXPECT_EQ(compensateBias(7, 0, 123456), 7);
}

TEST(QuantIntegerContraction, CompensationSaturates) {
  EXPECT_EQ(compensateBias(kMax, -255, int64_t(127) * 100000), kMax);
  EXPECT_EQ(compensateBias(kMin, 255, int64_t(127) * 100000), kMin);
}

} // namespace
