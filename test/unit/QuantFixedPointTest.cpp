//===- QuantFixedPointTest.cpp - the fixed-point requant vs exact math ----===//
//
// requantize() is the reference every backend is tested against, so it is
// itself checked against an independent exact computation: the rational
// acc * M / 2^n evaluated with __int128 floor division and the tie rule
// applied to the remainder (not the add-and-shift of the implementation).
//
//===----------------------------------------------------------------------===//

#include "quarc/Quantization/FixedPoint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace mlir::quarc;

namespace {

/// round-half-up(acc * M / 2^n), exactly.
int64_t exactRounded(int32_t acc, FixedPointMultiplier m) {
  __int128 product = __int128(acc) * m.multiplier;
  __int128 divisor = __int128(1) << m.rightShift();
  __int128 quotient = product / divisor; // truncates toward zero
  __int128 remainder = product % divisor;
  if (remainder < 0) { // make it floor division, 0 <= remainder < divisor
    quotient -= 1;
    remainder += divisor;
  }
  // The fraction remainder / divisor is in [0, 1); a half goes up.
  if (2 * remainder >= divisor)
    quotient += 1;
  return int64_t(quotient);
}

int32_t exactRequantize(int32_t acc, FixedPointMultiplier m, int32_t zeroPoint,
                        int32_t qmin, int32_t qmax) {
  int64_t value = exactRounded(acc, m) + zeroPoint;
  return int32_t(std::min<int64_t>(std::max<int64_t>(value, qmin), qmax));
}

TEST(QuantFixedPointTest, QuantizeMultiplierExamples) {
  EXPECT_EQ(quantizeMultiplier(0.5), (FixedPointMultiplier{1 << 30, 0}));
  EXPECT_EQ(quantizeMultiplier(0.75), (FixedPointMultiplier{3 << 29, 0}));
  EXPECT_EQ(quantizeMultiplier(1.0), (FixedPointMultiplier{1 << 30, -1}));
  EXPECT_EQ(quantizeMultiplier(3.0), (FixedPointMultiplier{3 << 29, -2}));
  EXPECT_EQ(quantizeMultiplier(0.25), (FixedPointMultiplier{1 << 30, 1}));
  // A mantissa that rounds up to 2^31 becomes 2^30 one exponent higher.
  EXPECT_EQ(quantizeMultiplier(1.0 - 0x1p-40),
            (FixedPointMultiplier{1 << 30, -1}));
  EXPECT_EQ(quantizeMultiplier(0.5 - 0x1p-40),
            (FixedPointMultiplier{1 << 30, 0}));
  // The largest real multiplier below 2^30 and the saturation above it.
  EXPECT_EQ(quantizeMultiplier(0x1p29), (FixedPointMultiplier{1 << 30, -30}));
  EXPECT_EQ(quantizeMultiplier(0x1p30), (FixedPointMultiplier{INT32_MAX, -30}));
  EXPECT_EQ(quantizeMultiplier(1e300), (FixedPointMultiplier{INT32_MAX, -30}));
  EXPECT_EQ(quantizeMultiplier(INFINITY),
            (FixedPointMultiplier{INT32_MAX, -30}));
  // The smallest: 2^-32 has n = 62; below, zero.
  EXPECT_EQ(quantizeMultiplier(0x1p-32), (FixedPointMultiplier{1 << 30, 31}));
  EXPECT_EQ(quantizeMultiplier(0x1p-32 * (1 - 0x1p-40)),
            (FixedPointMultiplier{1 << 30, 31}));
  EXPECT_EQ(quantizeMultiplier(0x1p-33), (FixedPointMultiplier{0, 0}));
  EXPECT_EQ(quantizeMultiplier(1e-300), (FixedPointMultiplier{0, 0}));
  EXPECT_EQ(quantizeMultiplier(0.0), (FixedPointMultiplier{0, 0}));
  EXPECT_EQ(quantizeMultiplier(-0.0), (FixedPointMultiplier{0, 0}));
}

TEST(QuantFixedPointTest, QuantizeMultiplierRoundTripError) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> exponent(-32, 30);
  for (int i = 0; i < 1000000; ++i) {
    double real = std::exp2(exponent(rng));
    FixedPointMultiplier m = quantizeMultiplier(real);
    ASSERT_GE(m.multiplier, 1 << 30) << real;
    ASSERT_GE(m.shift, -30);
    ASSERT_LE(m.shift, 31);
    // M = round(real * 2^n): at most half a unit of M, M >= 2^30.
    ASSERT_LE(std::abs(m.toDouble() - real), real * 0x1p-31) << real;
  }
}

/// Edge multipliers, for exhaustive and random checks.
std::vector<int32_t> edgeMultipliers() {
  return {0,          1 << 30,       (1 << 30) + 1, 0x5A5A5A5A,
          0x6487ED51, INT32_MAX - 1, INT32_MAX};
}

// Every int16 accumulator, every shift, edge multipliers.
TEST(QuantFixedPointTest, ExhaustiveInt16AccumulatorsMatchExact) {
  for (int32_t multiplier : edgeMultipliers()) {
    for (int32_t shift = -30; shift <= 31; ++shift) {
      FixedPointMultiplier m{multiplier, shift};
      for (int32_t acc = INT16_MIN; acc <= INT16_MAX; ++acc) {
        ASSERT_EQ(multiplyByQuantizedMultiplier(acc, m), exactRounded(acc, m))
            << "acc " << acc << " M " << multiplier << " shift " << shift;
        ASSERT_EQ(requantize(acc, m, 3, -128, 127),
                  exactRequantize(acc, m, 3, -128, 127));
      }
    }
  }
}

TEST(QuantFixedPointTest, RandomInt32AccumulatorsMatchExact) {
  std::mt19937_64 rng(2);
  std::uniform_int_distribution<int32_t> anyInt32(INT32_MIN, INT32_MAX);
  std::uniform_int_distribution<int32_t> multiplierDist(1 << 30, INT32_MAX);
  std::uniform_int_distribution<int32_t> shiftDist(-30, 31);
  std::vector<int32_t> edgeAccs = {INT32_MIN, INT32_MIN + 1, -1,       0,
                                   1,         INT32_MAX - 1, INT32_MAX};
  for (int i = 0; i < 4000000; ++i) {
    int32_t acc = i % 64 < 7 ? edgeAccs[i % 64] : anyInt32(rng);
    FixedPointMultiplier m{i % 16 == 0 ? INT32_MAX : multiplierDist(rng),
                           i % 32 == 1 ? -30 : shiftDist(rng)};
    ASSERT_EQ(multiplyByQuantizedMultiplier(acc, m), exactRounded(acc, m))
        << "acc " << acc << " M " << m.multiplier << " shift " << m.shift;
    int32_t zeroPoint = int32_t(rng() % 256);
    ASSERT_EQ(requantize(acc, m, zeroPoint, 0, 255),
              exactRequantize(acc, m, zeroPoint, 0, 255));
    ASSERT_EQ(requantize(acc, m, 0, INT16_MIN, INT16_MAX),
              exactRequantize(acc, m, 0, INT16_MIN, INT16_MAX));
  }
}

TEST(QuantFixedPointTest, TiesRoundHalfUp) {
  FixedPointMultiplier half = quantizeMultiplier(0.5);
  EXPECT_EQ(multiplyByQuantizedMultiplier(1, half), 1);   // 0.5
  EXPECT_EQ(multiplyByQuantizedMultiplier(-1, half), 0);  // -0.5
  EXPECT_EQ(multiplyByQuantizedMultiplier(3, half), 2);   // 1.5
  EXPECT_EQ(multiplyByQuantizedMultiplier(-3, half), -1); // -1.5
  EXPECT_EQ(multiplyByQuantizedMultiplier(5, half), 3);   // 2.5
  EXPECT_EQ(multiplyByQuantizedMultiplier(-5, half), -2); // -2.5
  FixedPointMultiplier quarter = quantizeMultiplier(0.25);
  EXPECT_EQ(multiplyByQuantizedMultiplier(-6, quarter), -1); // -1.5
  EXPECT_EQ(multiplyByQuantizedMultiplier(-7, quarter), -2); // -1.75
  // The extremes of the domain: no int64 overflow.
  FixedPointMultiplier big{INT32_MAX, -30};
  EXPECT_EQ(multiplyByQuantizedMultiplier(INT32_MIN, big),
            exactRounded(INT32_MIN, big));
  EXPECT_EQ(multiplyByQuantizedMultiplier(INT32_MAX, big),
            exactRounded(INT32_MAX, big));
  FixedPointMultiplier tiny{1 << 30, 31};                       // 2^-32
  EXPECT_EQ(multiplyByQuantizedMultiplier(INT32_MIN, tiny), 0); // -0.5 -> 0
  EXPECT_EQ(multiplyByQuantizedMultiplier(INT32_MAX, tiny), 0);
}

TEST(QuantFixedPointTest, ZeroPointAndClamp) {
  FixedPointMultiplier one = quantizeMultiplier(1.0);
  EXPECT_EQ(requantize(10, one, 128, 0, 255), 138);
  EXPECT_EQ(requantize(200, one, 128, 0, 255), 255);
  EXPECT_EQ(requantize(-200, one, 128, 0, 255), 0);
  EXPECT_EQ(requantize(-200, one, 0, -127, 127), -127);
  EXPECT_EQ(requantize(100, one, 0, -64, 64), 64);
  // A zero multiplier gives the zero point.
  EXPECT_EQ(requantize(INT32_MAX, quantizeMultiplier(0.0), 7, 0, 255), 7);
  EXPECT_EQ(requantize(INT32_MIN, quantizeMultiplier(1e-12), -3, -8, 7), -3);
  // A saturated huge multiplier clamps like the exact product would.
  FixedPointMultiplier huge = quantizeMultiplier(1e12);
  EXPECT_EQ(requantize(1, huge, 0, -128, 127), 127);
  EXPECT_EQ(requantize(-1, huge, 0, -128, 127), -128);
  EXPECT_EQ(requantize(0, huge, 5, -128, 127), 5);
}

// Against the real multiplier: the quantized multiplier's error (relative
// 2^-31) moves the rounded result by at most one step.
TEST(QuantFixedPointTest, WithinOneOfRealProduct) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> exponent(-31, 10);
  std::uniform_int_distribution<int32_t> anyInt32(INT32_MIN, INT32_MAX);
  struct Range {
    int32_t zeroPoint, qmin, qmax;
  } ranges[] = {
      {128, 0, 255}, {0, -128, 127}, {-5, INT16_MIN, INT16_MAX}, {0, -8, 7}};
  int64_t offByOne = 0;
  for (int i = 0; i < 2000000; ++i) {
    double real = std::exp2(exponent(rng));
    // Mostly accumulators whose product lands in [-1000, 1000], near the
    // output ranges; every fourth anywhere.
    double target = double(int64_t(rng() % 200001) - 100000) / 100;
    int32_t acc =
        i % 4 == 0
            ? anyInt32(rng)
            : int32_t(std::clamp<double>(target / real, INT32_MIN, INT32_MAX));
    Range range = ranges[i % 4];
    FixedPointMultiplier m = quantizeMultiplier(real);
    long double exact = (long double)acc * (long double)real;
    long double rounded = std::floor(exact + 0.5L) + range.zeroPoint;
    int32_t expected =
        int32_t(std::clamp<long double>(rounded, range.qmin, range.qmax));
    int32_t actual =
        requantize(acc, m, range.zeroPoint, range.qmin, range.qmax);
    ASSERT_LE(std::abs(actual - expected), 1)
        << "acc " << acc << " real " << real;
    offByOne += actual != expected;
  }
  // Off by one needs a product within ~2^-15 of a half: rare.
  EXPECT_LT(offByOne, 2000);
}

// The AVX2 recipe of FixedPoint.h (no 64-bit arithmetic shift: bias by 2^62,
// logical shift, unbias) gives the same result.
TEST(QuantFixedPointTest, Avx2BiasedLogicalShiftMatches) {
  std::mt19937_64 rng(4);
  std::uniform_int_distribution<int32_t> anyInt32(INT32_MIN, INT32_MAX);
  std::uniform_int_distribution<int32_t> multiplierDist(1 << 30, INT32_MAX);
  std::uniform_int_distribution<int32_t> shiftDist(-30, 31);
  for (int i = 0; i < 1000000; ++i) {
    int32_t acc = i % 3 == 0 ? (i % 2 ? INT32_MIN : INT32_MAX) : anyInt32(rng);
    FixedPointMultiplier m{multiplierDist(rng), shiftDist(rng)};
    int n = m.rightShift();
    // Unsigned 64-bit lanes: p + 2^62 is in (0, 2^63), adding 2^(n-1) <=
    // 2^61 cannot wrap.
    uint64_t biased = uint64_t(int64_t(acc) * m.multiplier) +
                      (uint64_t(1) << (n - 1)) + (uint64_t(1) << 62);
    int64_t viaLogical = int64_t(biased >> n) - (int64_t(1) << (62 - n));
    ASSERT_EQ(viaLogical, multiplyByQuantizedMultiplier(acc, m));
  }
}

// The pair keeps the larger real's multiplier and shift and rounds the
// smaller one at that shift.
TEST(QuantFixedPointTest, QuantizeMultiplierPairSharesTheShift) {
  FixedPointPair pair = quantizeMultiplierPair(0.75, 0.25);
  EXPECT_EQ(pair.first, 3 << 29);
  EXPECT_EQ(pair.rightShift, 31);
  EXPECT_EQ(pair.second, 1 << 29);
  // Either order: the larger decides the shift.
  FixedPointPair swapped = quantizeMultiplierPair(0.25, 0.75);
  EXPECT_EQ(swapped.first, 1 << 29);
  EXPECT_EQ(swapped.second, 3 << 29);
  EXPECT_EQ(swapped.rightShift, 31);
  // A much smaller real loses relative precision, never range.
  FixedPointPair tiny = quantizeMultiplierPair(2.0, 0x1p-40);
  EXPECT_EQ(tiny.first, 1 << 30);
  EXPECT_EQ(tiny.rightShift, 29);
  EXPECT_EQ(tiny.second, 0);
  FixedPointPair zero = quantizeMultiplierPair(0.0, 0.0);
  EXPECT_EQ(zero.first, 0);
  EXPECT_EQ(zero.second, 0);
  // Saturation of the larger caps the smaller too.
  FixedPointPair huge = quantizeMultiplierPair(0x1p40, 0x1p35);
  EXPECT_EQ(huge.first, INT32_MAX);
  EXPECT_EQ(huge.second, INT32_MAX);
}

/// round-half-up((a * Ma + b * Mb) / 2^n), exactly.
int64_t exactRoundedSum(int32_t a, int32_t b, FixedPointPair m) {
  __int128 sum = __int128(a) * m.first + __int128(b) * m.second;
  __int128 divisor = __int128(1) << m.rightShift;
  __int128 quotient = sum / divisor, remainder = sum % divisor;
  if (remainder < 0) {
    quotient -= 1;
    remainder += divisor;
  }
  if (2 * remainder >= divisor)
    quotient += 1;
  return int64_t(quotient);
}

// requantizeSum is one rounding of the exact sum, and within one step of
// the real-valued sum a * realA + b * realB.
TEST(QuantFixedPointTest, RequantizeSumMatchesExactArithmetic) {
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int32_t> term(-65535, 65535);
  std::uniform_real_distribution<double> exponent(-20, 8);
  for (int i = 0; i < 200000; ++i) {
    double realA = std::exp2(exponent(rng)), realB = std::exp2(exponent(rng));
    FixedPointPair m = quantizeMultiplierPair(realA, realB);
    int32_t a = term(rng), b = term(rng);
    int64_t expected = exactRoundedSum(a, b, m);
    int32_t zeroPoint = i % 256 - 128;
    int64_t clamped = std::clamp<int64_t>(expected + zeroPoint, -32768, 32767);
    ASSERT_EQ(requantizeSum(a, b, m, zeroPoint, -32768, 32767), clamped)
        << a << " " << b << " " << realA << " " << realB;
    // Each multiplier is within 2^-n-1 of its real, and 2^-n is at most
    // 2^-30 of the larger real: one rounding plus that.
    double real = double(a) * realA + double(b) * realB;
    double bound = 0.5 + (std::abs(double(a)) + std::abs(double(b))) *
                             std::max(realA, realB) * 0x1p-30;
    ASSERT_LE(std::abs(double(expected) - real), bound)
        << a << " " << b << " " << realA << " " << realB;
  }
}

// With one term zero, the sum is the ordinary requantization of the other
// when that one holds the larger real (same multiplier and shift).
TEST(QuantFixedPointTest, RequantizeSumOfOneTermIsRequantize) {
  std::mt19937_64 rng(6);
  std::uniform_int_distribution<int32_t> term(-65535, 65535);
  std::uniform_real_distribution<double> exponent(-20, 8);
  for (int i = 0; i < 100000; ++i) {
    double realA = std::exp2(exponent(rng));
    FixedPointPair pair = quantizeMultiplierPair(realA, realA / 3);
    FixedPointMultiplier single = quantizeMultiplier(realA);
    int32_t a = term(rng);
    ASSERT_EQ(requantizeSum(a, 0, pair, 3, -1000000, 1000000),
              requantize(a, single, 3, -1000000, 1000000));
  }
}

} // namespace
