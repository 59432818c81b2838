//===- QuantParamsTest.cpp - choosing scales and zero points from ranges --===//

#include "quarc/Quantization/ChooseQuantParams.h"
#include "quarc/Quantization/Quantize.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <random>

using namespace mlir::quarc;

namespace {

QuantParams get(llvm::Expected<QuantParams> params) {
  if (!params) {
    ADD_FAILURE() << llvm::toString(params.takeError());
    return {};
  }
  return *params;
}

std::string errorOf(llvm::Expected<QuantParams> params) {
  if (params)
    return "<no error>";
  return llvm::toString(params.takeError());
}

/// 0.0 maps to the zero point and back to exactly 0.0.
void expectZeroExact(const QuantParams &params, size_t i = 0) {
  float scale = float(params.scales[i]);
  int32_t zeroPoint = int32_t(params.zeroPoints[i]);
  EXPECT_EQ(quantizeValue(0.0f, scale, zeroPoint, params.qmin, params.qmax),
            zeroPoint);
  EXPECT_EQ(dequantizeValue(zeroPoint, scale, zeroPoint), 0.0f);
}

TEST(QuantParamsTest, TypeRanges) {
  EXPECT_EQ(QuantType::u8().qmin(), 0);
  EXPECT_EQ(QuantType::u8().qmax(), 255);
  EXPECT_EQ(QuantType::s8().qmin(), -128);
  EXPECT_EQ(QuantType::s8().qmax(), 127);
  EXPECT_EQ(QuantType::s4().qmin(), -8);
  EXPECT_EQ(QuantType::s4().qmax(), 7);
  EXPECT_EQ(QuantType::u4().qmax(), 15);
  EXPECT_EQ(QuantType::s16().qmin(), -32768);
  EXPECT_EQ(QuantType::u16().qmax(), 65535);
  QuantType narrowS8{8, true, true}, narrowU8{8, false, true};
  EXPECT_EQ(narrowS8.qmin(), -127);
  EXPECT_EQ(narrowS8.qmax(), 127);
  EXPECT_EQ(narrowU8.qmin(), 1);
  EXPECT_EQ(narrowU8.qmax(), 255);
  EXPECT_EQ(QuantType::s8().str(), "s8");
  EXPECT_EQ(narrowU8.str(), "u8:narrow");
}

TEST(QuantParamsTest, ReduceRangeUsesOneBitLess) {
  EXPECT_EQ(QuantType::s8().qmin(true), -64);
  EXPECT_EQ(QuantType::s8().qmax(true), 64);
  EXPECT_EQ((QuantType{8, true, true}.qmin(true)), -64);
  EXPECT_EQ(QuantType::u8().qmin(true), 0);
  EXPECT_EQ(QuantType::u8().qmax(true), 127);
  EXPECT_EQ(QuantType::s4().qmin(true), -4);
  EXPECT_EQ(QuantType::s4().qmax(true), 4);
  EXPECT_EQ(QuantType::u16().qmax(true), 32767);
  // Why [-64, 64]: AVX2's vpmaddubsw adds two u8 * s8 products into a
  // saturating int16; with |w| <= 64 no pair can reach it.
  EXPECT_LE(2 * 255 * 64, INT16_MAX);
  EXPECT_LE(2 * 255 * -64, 0);
  EXPECT_GE(2 * 255 * -64, INT16_MIN);

  QuantParams params = get(computeQuantParams(-2.0, 1.0, QuantType::s8(),
                                              /*symmetric=*/true,
                                              /*reduceRange=*/true));
  EXPECT_EQ(params.qmin, -64);
  EXPECT_EQ(params.qmax, 64);
  EXPECT_EQ(params.zeroPoint(), 0);
  EXPECT_EQ(params.scale(), double(float(2.0 / 64)));
  EXPECT_EQ(quantizeValue(-2.0f, float(params.scale()), 0, -64, 64), -64);

  params = get(computeQuantParams(0.0, 127.0, QuantType::u8(), false, true));
  EXPECT_EQ(params.qmax, 127);
  EXPECT_EQ(params.scale(), 1.0);
  params = get(computeQuantParams(-1.0, 1.0, QuantType::u8(), true, true));
  EXPECT_EQ(params.zeroPoint(), 64);
}

TEST(QuantParamsTest, RangeIsExtendedToContainZero) {
  // All positive: 0 is the lowest level.
  QuantParams params =
      get(computeQuantParams(2.0, 10.0, QuantType::u8(), false));
  EXPECT_EQ(params.zeroPoint(), 0);
  EXPECT_EQ(params.scale(), double(float(10.0 / 255)));
  expectZeroExact(params);
  // All negative: 0 is the highest level.
  params = get(computeQuantParams(-10.0, -2.0, QuantType::u8(), false));
  EXPECT_EQ(params.zeroPoint(), 255);
  expectZeroExact(params);
  params = get(computeQuantParams(-10.0, -2.0, QuantType::s8(), false));
  EXPECT_EQ(params.zeroPoint(), 127);
  // Straddling: the zero point is the rounded, clamped qmin - lo / scale.
  params = get(computeQuantParams(-1.0, 3.0, QuantType::u8(), false));
  EXPECT_EQ(params.scale(), double(float(4.0 / 255)));
  EXPECT_EQ(params.zeroPoint(), 64); // 255 / 4 = 63.75
  expectZeroExact(params);
  params = get(computeQuantParams(-1.0, 3.0, QuantType::s8(), false));
  EXPECT_EQ(params.zeroPoint(), -64); // -128 + 63.75
  expectZeroExact(params);
}

TEST(QuantParamsTest, AllZerosIsDegenerateButValid) {
  QuantParams params =
      get(computeQuantParams(0.0, 0.0, QuantType::u8(), false));
  EXPECT_EQ(params.scale(), 1.0);
  EXPECT_EQ(params.zeroPoint(), 0);
  EXPECT_FALSE(bool(params.verify()));
  expectZeroExact(params);
  params = get(computeQuantParams(0.0, 0.0, QuantType::s8(), false));
  EXPECT_EQ(params.zeroPoint(), 0);
  params = get(computeQuantParams(0.0, 0.0, QuantType::u8(), true));
  EXPECT_EQ(params.zeroPoint(), 128);
  params = get(computeQuantParams(0.0, 0.0, QuantType{8, false, true}, false));
  EXPECT_EQ(params.zeroPoint(), 1); // narrow u8 has no level 0
  expectZeroExact(params);
  params = get(computeQuantParams(-0.0, 0.0, QuantType::s16(), true));
  EXPECT_EQ(params.scale(), 1.0);
  EXPECT_EQ(params.zeroPoint(), 0);
}

TEST(QuantParamsTest, ConstantTensorGetsRangeFromZero) {
  float five[] = {5, 5, 5, 5};
  int64_t shape[] = {4};
  QuantParams params = get(computeQuantParamsForData(
      five, shape, QuantType::u8(), false, false, Granularity::PerTensor));
  EXPECT_EQ(params.zeroPoint(), 0);
  EXPECT_EQ(params.scale(), double(float(5.0 / 255)));
  EXPECT_EQ(quantize(five, shape, params)[0], 255);
  EXPECT_NEAR(dequantize({255}, {1}, params)[0], 5.0f, 1e-5);

  float minusThree[] = {-3, -3};
  int64_t shape2[] = {2};
  params = get(computeQuantParamsForData(minusThree, shape2, QuantType::u8(),
                                         false, false, Granularity::PerTensor));
  EXPECT_EQ(params.zeroPoint(), 255);
  EXPECT_EQ(quantize(minusThree, shape2, params)[0], 0);
  // Symmetric: [-3, 3].
  params = get(computeQuantParamsForData(minusThree, shape2, QuantType::s8(),
                                         true, false, Granularity::PerTensor));
  EXPECT_EQ(params.zeroPoint(), 0);
  EXPECT_EQ(quantize(minusThree, shape2, params)[0], -127);
}

TEST(QuantParamsTest, TinyRanges) {
  // Small but normal: an ordinary scale.
  QuantParams params =
      get(computeQuantParams(0.0, 1e-30, QuantType::u8(), false));
  EXPECT_EQ(params.scale(), double(float(1e-30 / 255)));
  EXPECT_FALSE(bool(params.verify()));
  // Just above the limit: the scale is FLT_MIN-ish and still used.
  params = get(computeQuantParams(0.0, double(FLT_MIN) * 255 * 1.001,
                                  QuantType::u8(), false));
  EXPECT_GE(params.scale(), double(FLT_MIN));
  EXPECT_NE(params.scale(), 1.0);
  // A scale below FLT_MIN (subnormal, 1/scale overflows): all-zero range.
  params = get(computeQuantParams(-1e-40, 1e-40, QuantType::s8(), true));
  EXPECT_EQ(params.scale(), 1.0);
  EXPECT_EQ(params.zeroPoint(), 0);
  params = get(computeQuantParams(0.0, 1e-300, QuantType::u8(), false));
  EXPECT_EQ(params.scale(), 1.0);
  EXPECT_EQ(params.zeroPoint(), 0);
  params = get(computeQuantParams(-1e-38, 0, QuantType::u8(), false));
  EXPECT_EQ(params.scale(), 1.0);
  expectZeroExact(params);
}

TEST(QuantParamsTest, HugeRanges) {
  QuantParams params = get(computeQuantParams(-double(FLT_MAX), double(FLT_MAX),
                                              QuantType::u8(), false));
  EXPECT_TRUE(std::isfinite(params.scale()));
  EXPECT_EQ(params.scale(), double(float(2.0 * FLT_MAX / 255)));
  EXPECT_TRUE(params.zeroPoint() == 127 || params.zeroPoint() == 128);
  EXPECT_FALSE(bool(params.verify()));
  params = get(computeQuantParams(-double(FLT_MAX), double(FLT_MAX),
                                  QuantType::s8(), true));
  EXPECT_EQ(params.scale(), double(float(double(FLT_MAX) / 127)));
  // A scale beyond f32 is an error, not an infinite scale.
  std::string error =
      errorOf(computeQuantParams(-1e300, 1e300, QuantType::u8(), false));
  EXPECT_NE(error.find("too wide"), std::string::npos) << error;
  error = errorOf(computeQuantParams(0, 1e41, QuantType::u8(), false));
  EXPECT_NE(error.find("overflows f32"), std::string::npos) << error;
}

TEST(QuantParamsTest, NonFiniteRangesAreErrors) {
  for (auto [min, max] : {std::pair<double, double>{NAN, 1.0},
                          {0.0, NAN},
                          {-INFINITY, 1.0},
                          {0.0, INFINITY},
                          {NAN, NAN}}) {
    std::string error =
        errorOf(computeQuantParams(min, max, QuantType::u8(), false));
    EXPECT_NE(error.find("is not finite"), std::string::npos) << error;
  }
  std::string error =
      errorOf(computeQuantParams(2.0, 1.0, QuantType::u8(), false));
  EXPECT_NE(error.find("min > max"), std::string::npos) << error;
  error = errorOf(computeQuantParams(0, 1, QuantType{1, true, false}, false));
  EXPECT_NE(error.find("2 to 16"), std::string::npos) << error;
  error = errorOf(computeQuantParams(0, 1, QuantType{17, false, false}, false));
  EXPECT_NE(error.find("2 to 16"), std::string::npos) << error;
  // Reduced u2 is [0, 1]: no level below a symmetric zero point.
  error = errorOf(
      computeQuantParams(-1, 1, QuantType{2, false, false}, true, true));
  EXPECT_NE(error.find("no level below"), std::string::npos) << error;
  // NaN data names the element.
  float data[] = {1, NAN, 3};
  int64_t shape[] = {3};
  error = errorOf(computeQuantParamsForData(data, shape, QuantType::s8(), true,
                                            false, Granularity::PerTensor));
  EXPECT_NE(error.find("element 1"), std::string::npos) << error;
}

TEST(QuantParamsTest, SymmetricSigned) {
  QuantParams params =
      get(computeQuantParams(-1.0, 0.5, QuantType::s8(), true));
  EXPECT_EQ(params.zeroPoint(), 0);
  EXPECT_EQ(params.scale(), double(float(1.0 / 127)));
  // The whole [-absmax, absmax] is representable: nothing clipped.
  EXPECT_EQ(quantizeValue(-1.0f, float(params.scale()), 0, -128, 127), -127);
  EXPECT_EQ(quantizeValue(1.0f, float(params.scale()), 0, -128, 127), 127);
  // Narrow s8 likewise.
  params = get(computeQuantParams(-3.0, 6.0, QuantType{8, true, true}, true));
  EXPECT_EQ(params.qmin, -127);
  EXPECT_EQ(params.zeroPoint(), 0);
  EXPECT_EQ(params.scale(), double(float(6.0 / 127)));
}

TEST(QuantParamsTest, SymmetricUnsignedUsesUpperMidpoint) {
  QuantParams params =
      get(computeQuantParams(-2.0, 1.0, QuantType::u8(), true));
  EXPECT_EQ(params.zeroPoint(), 128);
  EXPECT_EQ(params.scale(), double(float(2.0 / 127)));
  float scale = float(params.scale());
  EXPECT_EQ(quantizeValue(-2.0f, scale, 128, 0, 255), 1);
  EXPECT_EQ(quantizeValue(2.0f, scale, 128, 0, 255), 255);
  EXPECT_EQ(get(computeQuantParams(-1, 1, QuantType::u4(), true)).zeroPoint(),
            8);
  EXPECT_EQ(get(computeQuantParams(-1, 1, QuantType::u16(), true)).zeroPoint(),
            32768);
  EXPECT_EQ(get(computeQuantParams(-1, 1, QuantType{8, false, true}, true))
                .zeroPoint(),
            128);
}

TEST(QuantParamsTest, Int4AndInt16) {
  QuantParams params =
      get(computeQuantParams(-0.7, 0.35, QuantType::s4(), true));
  EXPECT_EQ(params.qmin, -8);
  EXPECT_EQ(params.qmax, 7);
  EXPECT_EQ(params.scale(), double(float(0.7 / 7)));
  params = get(computeQuantParams(0.0, 15.0, QuantType::u4(), false));
  EXPECT_EQ(params.scale(), 1.0);
  EXPECT_EQ(params.zeroPoint(), 0);
  params = get(computeQuantParams(-5.0, 10.0, QuantType::u4(), false));
  EXPECT_EQ(params.zeroPoint(), 5);
  params = get(computeQuantParams(-1.0, 1.0, QuantType::s16(), true));
  EXPECT_EQ(params.scale(), double(float(1.0 / 32767)));
  params = get(computeQuantParams(-1.0, 3.0, QuantType::u16(), false));
  EXPECT_EQ(params.qmax, 65535);
  EXPECT_EQ(params.zeroPoint(), 16384); // 65535 / 4 = 16383.75
  expectZeroExact(params);
}

TEST(QuantParamsTest, PerChannel) {
  double mins[] = {-1.0, 0.0, -4.0, 0.0};
  double maxs[] = {1.0, 2.0, 1.0, 0.0};
  QuantParams params =
      get(computePerChannelQuantParams(mins, maxs, 0, QuantType::s8(), true));
  ASSERT_EQ(params.scales.size(), 4u);
  EXPECT_EQ(params.granularity, Granularity::PerChannel);
  EXPECT_EQ(params.scales[0], double(float(1.0 / 127)));
  EXPECT_EQ(params.scales[1], double(float(2.0 / 127)));
  EXPECT_EQ(params.scales[2], double(float(4.0 / 127)));
  EXPECT_EQ(params.scales[3], 1.0); // an all-zero channel
  for (int64_t zeroPoint : params.zeroPoints)
    EXPECT_EQ(zeroPoint, 0);
  double badMaxs[] = {1.0, 2.0, NAN, 0.0};
  std::string error = errorOf(
      computePerChannelQuantParams(mins, badMaxs, 0, QuantType::s8(), true));
  EXPECT_NE(error.find("channel 2"), std::string::npos) << error;
  error = errorOf(computePerChannelQuantParams(
      mins, llvm::ArrayRef(maxs).take_front(3), 0, QuantType::s8(), true));
  EXPECT_NE(error.find("4 minimums and 3 maximums"), std::string::npos)
      << error;

  // From data: a [2, 3] weight, channels along axis 1.
  float data[] = {1, -1.9f, 0, 3, 4, -0.5f};
  int64_t shape[] = {2, 3};
  params = get(computeQuantParamsForData(data, shape, QuantType::s8(), true,
                                         false, Granularity::PerChannel, 1));
  ASSERT_EQ(params.scales.size(), 3u);
  EXPECT_EQ(params.axis, 1);
  EXPECT_EQ(params.scales[0], double(float(3.0 / 127)));
  EXPECT_EQ(params.scales[1], double(float(4.0 / 127)));
  EXPECT_EQ(params.scales[2], double(float(0.5 / 127)));
  EXPECT_FALSE(bool(params.verifyForShape(shape)));
  EXPECT_EQ(quantize(data, shape, params),
            (llvm::SmallVector<int32_t>{42, -60, 0, 127, 127, -127}));
}

TEST(QuantParamsTest, PerGroup) {
  // A [2, 10] weight grouped along axis 1 by 4: groups [0,4) [4,8) [8,10).
  std::vector<float> data(20);
  for (int i = 0; i < 20; ++i)
    data[i] = float((i * 7) % 11) - 5.0f;
  int64_t shape[] = {2, 10};
  QuantParams params = get(computeQuantParamsForData(
      data, shape, QuantType::s4(), true, false, Granularity::PerGroup, 1, 4));
  EXPECT_EQ(params.groupShape, (llvm::SmallVector<int64_t>{2, 3}));
  EXPECT_EQ(params.groupSize, 4);
  ASSERT_EQ(params.scales.size(), 6u);
  EXPECT_FALSE(bool(params.verifyForShape(shape)));
  // Each group's parameters are the per-tensor ones of its values.
  for (int64_t row = 0; row < 2; ++row) {
    for (int64_t group = 0; group < 3; ++group) {
      int64_t begin = row * 10 + group * 4;
      int64_t end = row * 10 + std::min<int64_t>(group * 4 + 4, 10);
      int64_t size = end - begin;
      QuantParams alone = get(computeQuantParamsForData(
          llvm::ArrayRef(data).slice(begin, size), {size}, QuantType::s4(),
          true, false, Granularity::PerTensor));
      EXPECT_EQ(params.scales[row * 3 + group], alone.scale());
      EXPECT_EQ(params.zeroPoints[row * 3 + group], alone.zeroPoint());
    }
  }
  EXPECT_EQ(groupParamShape({8, 64, 3}, 1, 32),
            (llvm::SmallVector<int64_t>{8, 2, 3}));
  std::string error = errorOf(computePerGroupQuantParams(
      {0.0}, {1.0}, {1, 1}, 2, 32, QuantType::s8(), true));
  EXPECT_NE(error.find("group axis 2"), std::string::npos) << error;
  double mins[] = {0, 0, NAN};
  double maxs[] = {1, 1, 1};
  error = errorOf(computePerGroupQuantParams(mins, maxs, {1, 3}, 1, 8,
                                             QuantType::s8(), true));
  EXPECT_NE(error.find("group 2"), std::string::npos) << error;
}

// Over random ranges of every type and option: the parameters are valid, 0
// is exact, and every value of the range round-trips within half a step.
TEST(QuantParamsTest, RandomRangesRoundTripWithinHalfAStep) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> exponent(-20, 20), unit(-1, 1);
  QuantType types[] = {QuantType::u8(),  QuantType::s8(),  QuantType::u4(),
                       QuantType::s4(),  QuantType::u16(), QuantType::s16(),
                       {8, true, true},  {8, false, true}, {2, true, false},
                       {3, false, false}};
  for (int trial = 0; trial < 20000; ++trial) {
    double magnitude = std::pow(2.0, exponent(rng));
    double a = unit(rng) * magnitude, b = unit(rng) * magnitude;
    if (trial % 4 == 0)
      a = std::abs(a); // one-sided ranges
    double min = std::min(a, b), max = std::max(a, b);
    QuantType type = types[trial % std::size(types)];
    bool symmetric = trial % 3 == 0;
    bool reduceRange = trial % 5 == 0 && type.bits > 2;
    QuantParams params =
        get(computeQuantParams(min, max, type, symmetric, reduceRange));
    ASSERT_FALSE(bool(params.verify())) << min << " " << max;
    expectZeroExact(params);
    float scale = float(params.scale());
    int32_t zeroPoint = int32_t(params.zeroPoint());
    for (int i = 0; i <= 16; ++i) {
      float x = float(min + (max - min) * i / 16);
      int32_t q = quantizeValue(x, scale, zeroPoint, params.qmin, params.qmax);
      float back = dequantizeValue(q, scale, zeroPoint);
      // Half a step (the nudged zero point clips at most half a step at
      // one end), plus the f32 roundings: of the scale (which can shrink
      // the span by (max - min) * 2^-24), of x / scale and of the product.
      EXPECT_LE(std::abs(double(back) - double(x)),
                0.5 * scale * 1.0001 + 3e-7 * (max - min + std::abs(x)))
          << "range [" << min << ", " << max << "] " << type.str()
          << (symmetric ? " symmetric" : "") << " x=" << x << " q=" << q;
    }
  }
}


//===----------------------------------------------------------------------===//
// reduce-range=pairs: scales that keep vpmaddubsw's pairs within int16
//===----------------------------------------------------------------------===//

/// The largest same-signed sum of quantized pairs (2m, 2m + 1) along
/// `pairAxis`, in magnitude.
int64_t largestPairSum(llvm::ArrayRef<int32_t> q, llvm::ArrayRef<int64_t> shape,
                       int32_t pairAxis) {
  int64_t stride = 1;
  for (int64_t dim : shape.drop_front(pairAxis + 1))
    stride *= dim;
  int64_t largest = 0;
  for (int64_t i = 0; i < int64_t(q.size()); ++i) {
    int64_t position = (i / stride) % shape[pairAxis];
    if (position % 2 != 0 || position + 1 >= shape[pairAxis])
      continue;
    int64_t a = q[i], b = q[i + stride];
    largest = std::max({largest, std::max<int64_t>(a, 0) + std::max<int64_t>(b, 0),
                        -(std::min<int64_t>(a, 0) + std::min<int64_t>(b, 0))});
  }
  return largest;
}

TEST(QuantParamsTest, PairFitScalesByHand) {
  // A filter [O = 2, I = 4, 1, 1]; pairs are input channels (0, 1), (2, 3).
  // Channel 0's first pair adds up to 2.0: scale 2 / 127, where the
  // largest magnitude alone (1.0) would give 1 / 127. Channel 1's pairs
  // have mixed signs or a small sum: its scale stays 1 / 127.
  std::vector<float> data = {1.0f, 1.0f, -0.5f, 0.25f, 1.0f, -1.0f, 0.5f, 0.0f};
  llvm::SmallVector<int64_t> shape = {2, 4, 1, 1};
  QuantParams params = get(computePairFitQuantParams(
      data, shape, QuantType::s8(), Granularity::PerChannel, /*axis=*/0,
      /*groupSize=*/0, /*pairAxis=*/1));
  ASSERT_EQ(params.scales.size(), 2u);
  EXPECT_EQ(params.scales[0], double(float(2.0 / 127)));
  EXPECT_EQ(params.scales[1], double(float(1.0 / 127)));
  EXPECT_EQ(params.zeroPoints[0], 0);
  EXPECT_EQ(quantize(data, shape, params),
            (llvm::SmallVector<int32_t>{64, 64, -32, 16, 127, -127, 64, 0}));
  // The same weights as a matrix product's [K = 4, N = 2] (columns are the
  // channels, pairs run down K).
  std::vector<float> kn = {1.0f, 1.0f, 1.0f, -1.0f, -0.5f, 0.5f, 0.25f, 0.0f};
  QuantParams knParams = get(computePairFitQuantParams(
      kn, {4, 2}, QuantType::s8(), Granularity::PerChannel, /*axis=*/1, 0,
      /*pairAxis=*/0));
  EXPECT_EQ(knParams.scales, params.scales);
  // Only s8 has the bound.
  EXPECT_NE(errorOf(computePairFitQuantParams(data, shape, QuantType::s4(),
                                              Granularity::PerChannel, 0, 0, 1))
                .find("the bound is for s8"),
            std::string::npos);
}

TEST(QuantParamsTest, PairFitScalesKeepEveryPairWithinInt16) {
  // Gaussian filters, per channel and per tensor: every quantized pair's
  // same-signed sum is at most 128 (255 x 128 fits int16), the scales are
  // never below the plain ones nor above twice them (reduce-range's), and
  // some pairs do need the wider scale (the test is not vacuous).
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  llvm::SmallVector<int64_t> shape = {16, 13, 3, 3};
  std::vector<float> data(16 * 13 * 9);
  for (float &value : data)
    value = normal(rng);
  for (Granularity granularity :
       {Granularity::PerChannel, Granularity::PerTensor}) {
    QuantParams pairs = get(computePairFitQuantParams(
        data, shape, QuantType::s8(), granularity, 0, 0, /*pairAxis=*/1));
    QuantParams plain = get(computeQuantParamsForData(
        data, shape, QuantType::s8(), /*symmetric=*/true,
        /*reduceRange=*/false, granularity, 0));
    EXPECT_LE(largestPairSum(quantize(data, shape, pairs), shape, 1), 128);
    EXPECT_GT(largestPairSum(quantize(data, shape, plain), shape, 1), 128);
    for (auto [wide, narrow] : llvm::zip_equal(pairs.scales, plain.scales)) {
      EXPECT_GE(wide, narrow);
      EXPECT_LE(wide, 2 * narrow * (1 + 1e-6));
    }
  }
}

} // namespace
