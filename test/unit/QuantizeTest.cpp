//===- QuantizeTest.cpp - reference QuantizeLinear / DequantizeLinear -----===//

#include "quarc/Quantization/Quantize.h"

#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <random>

using namespace mlir::quarc;

namespace {

TEST(QuantizeTest, RoundHalfToEven) {
  EXPECT_EQ(roundHalfToEven(0.5), 0.0);
  EXPECT_EQ(roundHalfToEven(1.5), 2.0);
  EXPECT_EQ(roundHalfToEven(2.5), 2.0);
  EXPECT_EQ(roundHalfToEven(3.5), 4.0);
  EXPECT_EQ(roundHalfToEven(-0.5), 0.0);
  EXPECT_EQ(roundHalfToEven(-1.5), -2.0);
  EXPECT_EQ(roundHalfToEven(-2.5), -2.0);
  EXPECT_EQ(roundHalfToEven(2.4999999), 2.0);
  EXPECT_EQ(roundHalfToEven(2.5000001), 3.0);
  EXPECT_EQ(roundHalfToEven(-7.75), -8.0);
  EXPECT_EQ(roundHalfToEven(0x1p52 + 1), 0x1p52 + 1);
  EXPECT_EQ(roundHalfToEven(0x1p51 + 0.5), 0x1p51);
  EXPECT_EQ(roundHalfToEven(0x1p51 + 1.5), 0x1p51 + 2);
  // Whatever the environment's rounding mode is.
  int mode = std::fegetround();
  std::fesetround(FE_UPWARD);
  EXPECT_EQ(roundHalfToEven(2.5), 2.0);
  EXPECT_EQ(roundHalfToEven(-3.5), -4.0);
  std::fesetround(mode);
}

TEST(QuantizeTest, TiesRoundToEvenLikeQuantizeLinear) {
  // scale 1, zero point 0: the ties are the inputs themselves.
  EXPECT_EQ(quantizeValue(0.5f, 1.0f, 0, -128, 127), 0);
  EXPECT_EQ(quantizeValue(1.5f, 1.0f, 0, -128, 127), 2);
  EXPECT_EQ(quantizeValue(2.5f, 1.0f, 0, -128, 127), 2);
  EXPECT_EQ(quantizeValue(-0.5f, 1.0f, 0, -128, 127), 0);
  EXPECT_EQ(quantizeValue(-2.5f, 1.0f, 0, -128, 127), -2);
  // The tie is in x / scale, before the zero point is added.
  EXPECT_EQ(quantizeValue(0.25f, 0.5f, 3, 0, 255), 3);
  EXPECT_EQ(quantizeValue(0.75f, 0.5f, 3, 0, 255), 5);
  EXPECT_EQ(quantizeValue(-1.25f, 0.5f, 128, 0, 255), 126);
}

TEST(QuantizeTest, Saturates) {
  EXPECT_EQ(quantizeValue(1000.0f, 1.0f, 0, -128, 127), 127);
  EXPECT_EQ(quantizeValue(-1000.0f, 1.0f, 0, -128, 127), -128);
  EXPECT_EQ(quantizeValue(127.5f, 1.0f, 0, -128, 127), 127);
  EXPECT_EQ(quantizeValue(-128.5f, 1.0f, 0, -128, 127), -128);
  EXPECT_EQ(quantizeValue(1e38f, 1e-38f, 0, 0, 255), 255); // x / scale = inf
  EXPECT_EQ(quantizeValue(-1e38f, 1e-38f, 10, 0, 255), 0);
  EXPECT_EQ(quantizeValue(INFINITY, 0.1f, 0, -8, 7), 7);
  EXPECT_EQ(quantizeValue(-INFINITY, 0.1f, 0, -8, 7), -8);
  EXPECT_EQ(quantizeValue(NAN, 0.1f, 5, 0, 15), 5);
  // Narrow and reduced ranges clamp to their own bounds.
  EXPECT_EQ(quantizeValue(-200.0f, 1.0f, 0, -127, 127), -127);
  EXPECT_EQ(quantizeValue(200.0f, 1.0f, 0, -64, 64), 64);
  EXPECT_EQ(quantizeValue(70000.0f, 1.0f, 0, 0, 65535), 65535);
}

// quantizeValue is ONNX's formula evaluated with the f32 division and
// numpy's rint (the default rounding mode), as onnx.reference does.
TEST(QuantizeTest, MatchesOnnxFormulaOnRandomValues) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(-300.0f, 300.0f);
  std::uniform_real_distribution<float> scaleDist(0.01f, 3.0f);
  for (int i = 0; i < 200000; ++i) {
    float x = value(rng), scale = scaleDist(rng);
    int32_t zeroPoint = int32_t(rng() % 256);
    float quotient = x / scale;
    float expected = std::nearbyint(quotient) + float(zeroPoint);
    expected = std::fmin(std::fmax(expected, 0.0f), 255.0f);
    ASSERT_EQ(quantizeValue(x, scale, zeroPoint, 0, 255), int32_t(expected))
        << x << " / " << scale;
  }
}

TEST(QuantizeTest, Dequantize) {
  EXPECT_EQ(dequantizeValue(130, 0.5f, 128), 1.0f);
  EXPECT_EQ(dequantizeValue(0, 0.5f, 128), -64.0f);
  EXPECT_EQ(dequantizeValue(-128, 0.25f, 0), -32.0f);
  EXPECT_EQ(dequantizeValue(65535, 1.0f, 0), 65535.0f);
  EXPECT_EQ(dequantizeValue(-32768, 1.0f, 32767), -65535.0f);
}

TEST(QuantizeTest, ArraysPerChannelAndPerGroup) {
  QuantParams perTensor;
  perTensor.storageBits = 8;
  perTensor.isSigned = true;
  perTensor.qmin = -128;
  perTensor.qmax = 127;
  perTensor.scales = {0.5};
  perTensor.zeroPoints = {1};
  float values[] = {0, 1, -1, 100, -100, 0.25f};
  int64_t flat[] = {6};
  EXPECT_EQ(quantize(values, flat, perTensor),
            (llvm::SmallVector<int32_t>{1, 3, -1, 127, -128, 1}));

  // [2, 3] with scales along axis 0, then along axis 1.
  int64_t shape[] = {2, 3};
  QuantParams perChannel = perTensor;
  perChannel.granularity = Granularity::PerChannel;
  perChannel.axis = 0;
  perChannel.scales = {1.0, 0.5};
  perChannel.zeroPoints = {0, 0};
  EXPECT_FALSE(bool(perChannel.verifyForShape(shape)));
  float ones[] = {1, 1, 1, 1, 1, 1};
  EXPECT_EQ(quantize(ones, shape, perChannel),
            (llvm::SmallVector<int32_t>{1, 1, 1, 2, 2, 2}));
  perChannel.axis = 1;
  perChannel.scales = {1.0, 0.5, 0.25};
  perChannel.zeroPoints = {0, 0, 0};
  EXPECT_EQ(quantize(ones, shape, perChannel),
            (llvm::SmallVector<int32_t>{1, 2, 4, 1, 2, 4}));
  EXPECT_EQ(dequantize({1, 2, 4, 1, 2, 4}, shape, perChannel),
            (llvm::SmallVector<float>{1, 1, 1, 1, 1, 1}));
  int64_t wrong[] = {3, 2};
  EXPECT_TRUE(bool(perChannel.verifyForShape(wrong)));
  llvm::consumeError(perChannel.verifyForShape(wrong));

  // [2, 5] grouped along axis 1 by 2: groups {0,1} {2,3} {4} per row.
  int64_t groupedShape[] = {2, 5};
  QuantParams perGroup = perTensor;
  perGroup.granularity = Granularity::PerGroup;
  perGroup.axis = 1;
  perGroup.groupSize = 2;
  perGroup.groupShape = {2, 3};
  perGroup.scales = {1, 0.5, 0.25, 0.125, 1, 0.5};
  perGroup.zeroPoints = {0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(bool(perGroup.verifyForShape(groupedShape)));
  EXPECT_EQ(paramIndices(groupedShape, perGroup),
            (llvm::SmallVector<int64_t>{0, 0, 1, 1, 2, 3, 3, 4, 4, 5}));
  float tenOnes[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_EQ(quantize(tenOnes, groupedShape, perGroup),
            (llvm::SmallVector<int32_t>{1, 1, 2, 2, 4, 8, 8, 1, 1, 2}));
  // A group shape for another tensor is reported.
  int64_t otherShape[] = {2, 7};
  llvm::Error error = perGroup.verifyForShape(otherShape);
  ASSERT_TRUE(bool(error));
  EXPECT_NE(llvm::toString(std::move(error)).find("(expected 2x4)"),
            std::string::npos);
}

TEST(QuantizeTest, ParamsVerify) {
  QuantParams params;
  params.scales = {0.1}; // not an f32 value
  params.zeroPoints = {0};
  llvm::Error error = params.verify();
  ASSERT_TRUE(bool(error));
  EXPECT_NE(llvm::toString(std::move(error)).find("f32"), std::string::npos);
  params.scales = {double(0.1f)};
  EXPECT_FALSE(bool(params.verify()));
  params.zeroPoints = {256};
  error = params.verify();
  ASSERT_TRUE(bool(error));
  EXPECT_NE(llvm::toString(std::move(error)).find("outside [0, 255]"),
            std::string::npos);
  params.zeroPoints = {0};
  params.qmin = -1;
  error = params.verify();
  ASSERT_TRUE(bool(error));
  EXPECT_NE(llvm::toString(std::move(error)).find("u8"), std::string::npos);
}

} // namespace
