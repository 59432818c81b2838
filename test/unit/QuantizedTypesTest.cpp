//===- QuantizedTypesTest.cpp - QuantParams <-> !quant.uniform ------------===//

#include "quarc/Quantization/QuantizedTypes.h"
#include "quarc/Quantization/ChooseQuantParams.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::quarc;

namespace {

class QuantizedTypesTest : public ::testing::Test {
protected:
  QuantizedTypesTest() {
    context.loadDialect<quant::QuantDialect>();
    handler.emplace(&context, [this](Diagnostic &diagnostic) {
      diagnostics += diagnostic.str() + "\n";
      return success();
    });
  }
  Location loc() { return UnknownLoc::get(&context); }
  FloatType f32() { return Float32Type::get(&context); }

  std::string print(Type type) {
    std::string result;
    llvm::raw_string_ostream os(result);
    type.print(os);
    return result;
  }

  /// QuantParams -> type -> QuantParams is the identity; returns the type.
  quant::QuantizedType roundTrip(const QuantParams &params,
                                 FloatType expressed) {
    FailureOr<quant::QuantizedType> type =
        getQuantizedType(loc(), params, expressed);
    EXPECT_TRUE(succeeded(type)) << diagnostics;
    if (failed(type))
      return {};
    FailureOr<QuantParams> back = getQuantParams(loc(), *type);
    EXPECT_TRUE(succeeded(back)) << diagnostics;
    if (succeeded(back))
      EXPECT_TRUE(*back == params) << print(*type);
    // And through the printed form.
    Type reparsed = parseType(print(*type), &context);
    EXPECT_EQ(reparsed, Type(*type)) << print(*type);
    return *type;
  }

  QuantParams get(llvm::Expected<QuantParams> params) {
    if (!params) {
      ADD_FAILURE() << llvm::toString(params.takeError());
      return {};
    }
    return *params;
  }

  MLIRContext context;
  std::optional<ScopedDiagnosticHandler> handler;
  std::string diagnostics;
};

TEST_F(QuantizedTypesTest, PerTensor) {
  QuantParams params =
      get(computeQuantParams(-1.0, 3.0, QuantType::u8(), false));
  quant::QuantizedType type = roundTrip(params, f32());
  ASSERT_TRUE(type);
  EXPECT_TRUE(isa<quant::UniformQuantizedType>(type));
  EXPECT_FALSE(type.isSigned());
  EXPECT_EQ(type.getStorageType(), IntegerType::get(&context, 8));
  EXPECT_EQ(print(type).rfind("!quant.uniform<u8:f32, ", 0), 0u) << print(type);
  EXPECT_NE(print(type).find(":64>"), std::string::npos) << print(type);

  // Reduced and narrow ranges are explicit storage bounds.
  params = get(computeQuantParams(-1.0, 1.0, QuantType::s8(), true, true));
  type = roundTrip(params, f32());
  EXPECT_NE(print(type).find("i8<-64:64>"), std::string::npos) << print(type);
  params = get(computeQuantParams(-1.0, 1.0, QuantType{8, true, true}, true));
  type = roundTrip(params, f32());
  EXPECT_NE(print(type).find("i8<-127:127>"), std::string::npos) << print(type);
  // int4 and int16, other expressed types.
  roundTrip(get(computeQuantParams(-1.0, 1.0, QuantType::s4(), true)), f32());
  roundTrip(get(computeQuantParams(-1.0, 5.0, QuantType::u16(), false)),
            Float16Type::get(&context));
  roundTrip(get(computeQuantParams(0.0, 0.0, QuantType::u8(), false)),
            BFloat16Type::get(&context));
}

TEST_F(QuantizedTypesTest, PerChannel) {
  double mins[] = {-1.0, -2.0, 0.0};
  double maxs[] = {1.0, 0.5, 0.0};
  QuantParams params =
      get(computePerChannelQuantParams(mins, maxs, 1, QuantType::s8(), true));
  quant::QuantizedType type = roundTrip(params, f32());
  auto perAxis = dyn_cast_or_null<quant::UniformQuantizedPerAxisType>(type);
  ASSERT_TRUE(perAxis);
  EXPECT_EQ(perAxis.getQuantizedDimension(), 1);
  EXPECT_EQ(perAxis.getScales().size(), 3u);
  // Asymmetric u8 per channel keeps each zero point.
  params =
      get(computePerChannelQuantParams(mins, maxs, 0, QuantType::u8(), false));
  roundTrip(params, f32());
}

TEST_F(QuantizedTypesTest, PerGroupIsSubChannel) {
  // A [2, 8] weight grouped by 4 along axis 1: scales [2, 2].
  std::vector<float> data = {1,   -2, 3, -4, 5,  -6, 7, -8,
                             0.5, 0,  0, 0,  -1, 1,  2, 3};
  int64_t shape[] = {2, 8};
  QuantParams params = get(computeQuantParamsForData(
      data, shape, QuantType::s4(), true, false, Granularity::PerGroup, 1, 4));
  quant::QuantizedType type = roundTrip(params, f32());
  auto subChannel =
      dyn_cast_or_null<quant::UniformQuantizedSubChannelType>(type);
  ASSERT_TRUE(subChannel);
  EXPECT_EQ(subChannel.getQuantizedDimensions(), (ArrayRef<int32_t>{0, 1}));
  EXPECT_EQ(subChannel.getBlockSizes(), (ArrayRef<int64_t>{1, 4}));
  EXPECT_EQ(print(type).rfind("!quant.uniform<i4:f32:{0:1, 1:4}, ", 0), 0u)
      << print(type);
  // Unsigned zero points above the signed range survive (u8 128).
  params = get(computeQuantParamsForData(data, shape, QuantType::u8(), true,
                                         false, Granularity::PerGroup, 0, 2));
  EXPECT_EQ(params.zeroPoints[0], 128);
  roundTrip(params, f32());
  params = get(computeQuantParamsForData(data, shape, QuantType::u8(), false,
                                         false, Granularity::PerGroup, 1, 3));
  roundTrip(params, f32());
}

TEST_F(QuantizedTypesTest, Errors) {
  // A scale that f16 cannot hold, in a per-group type (its scales are
  // stored in the expressed type).
  QuantParams params;
  params.storageBits = 8;
  params.isSigned = true;
  params.qmin = -128;
  params.qmax = 127;
  params.granularity = Granularity::PerGroup;
  params.axis = 0;
  params.groupSize = 2;
  params.groupShape = {1};
  params.scales = {double(1e-30f)};
  params.zeroPoints = {0};
  EXPECT_TRUE(
      failed(getQuantizedType(loc(), params, Float16Type::get(&context))));
  EXPECT_NE(diagnostics.find("is not representable in 'f16'"),
            std::string::npos)
      << diagnostics;

  // Invalid parameters are reported, not built.
  diagnostics.clear();
  params.granularity = Granularity::PerTensor;
  params.scales = {-1.0};
  EXPECT_TRUE(failed(getQuantizedType(loc(), params, f32())));
  EXPECT_NE(diagnostics.find("invalid quantization parameters"),
            std::string::npos)
      << diagnostics;

  auto expectRejected = [&](llvm::StringRef text, llvm::StringRef message) {
    diagnostics.clear();
    Type type = parseType(text, &context);
    ASSERT_TRUE(type) << text.str() << ": " << diagnostics;
    auto quantized = dyn_cast<quant::QuantizedType>(type);
    ASSERT_TRUE(quantized);
    EXPECT_TRUE(failed(getQuantParams(loc(), quantized))) << text.str();
    EXPECT_NE(diagnostics.find(message), std::string::npos)
        << text.str() << ": " << diagnostics;
  };
  expectRejected("!quant.uniform<i32:f32, 1.0>", "2- to 16-bit");
  expectRejected("!quant.any<i8:f32>", "not a uniform quantized type");
  expectRejected("!quant.uniform<i8:f32:{1:2}, {{1.0, 2.0}}>",
                 "dim 0 has no block size");
  expectRejected("!quant.uniform<i8:f32:{0:2,1:2}, {{1.0, 2.0}}>",
                 "groups along one axis");
  expectRejected("!quant.uniform<u8:f32, 0.5:300>", "outside [0, 255]");

  // A per-tensor type written by hand reads back; its scale is read at f32
  // precision.
  diagnostics.clear();
  auto handWritten = dyn_cast<quant::QuantizedType>(
      parseType("!quant.uniform<u8:f32, 0.1:128>", &context));
  ASSERT_TRUE(handWritten);
  FailureOr<QuantParams> rounded = getQuantParams(loc(), handWritten);
  ASSERT_TRUE(succeeded(rounded)) << diagnostics;
  EXPECT_EQ(rounded->scale(), double(0.1f));

  diagnostics.clear();
  auto type = dyn_cast<quant::QuantizedType>(
      parseType("!quant.uniform<i8<-127:127>:f32, 0.5:-3>", &context));
  ASSERT_TRUE(type);
  FailureOr<QuantParams> read = getQuantParams(loc(), type);
  ASSERT_TRUE(succeeded(read)) << diagnostics;
  EXPECT_EQ(read->qmin, -127);
  EXPECT_EQ(read->scale(), 0.5);
  EXPECT_EQ(read->zeroPoint(), -3);
}

} // namespace
