//===- ShapeInferenceTest.cpp - unit tests of the shared shape rules ------===//

#include "quarc/Dialect/Quarc/IR/QuarcDialect.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::quarc;

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

class ShapeInferenceTest : public ::testing::Test {
protected:
  ShapeInferenceTest() {
    context.loadDialect<QuarcDialect>();
    // Inference reports through the context; keep test output quiet.
    context.getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
  }
  Location loc() { return UnknownLoc::get(&context); }
  MLIRContext context;
};

TEST_F(ShapeInferenceTest, BroadcastFollowsNumpyRules) {
  auto shape = broadcastShapes(loc(), {ArrayRef<int64_t>{2, 1, 4},
                                       ArrayRef<int64_t>{3, 1}});
  ASSERT_TRUE(succeeded(shape));
  EXPECT_EQ(*shape, (SmallVector<int64_t>{2, 3, 4}));
}

TEST_F(ShapeInferenceTest, BroadcastDynamicAgainstStatic) {
  // `?` against 5 must be 5 (or the input was invalid); `?` against 1 stays.
  auto shape = broadcastShapes(
      loc(), {ArrayRef<int64_t>{kDyn, kDyn}, ArrayRef<int64_t>{5, 1}});
  ASSERT_TRUE(succeeded(shape));
  EXPECT_EQ(*shape, (SmallVector<int64_t>{5, kDyn}));
}

TEST_F(ShapeInferenceTest, BroadcastMismatchFails) {
  EXPECT_TRUE(failed(broadcastShapes(
      loc(), {ArrayRef<int64_t>{2, 3}, ArrayRef<int64_t>{4, 3}})));
}

TEST_F(ShapeInferenceTest, BroadcastOfScalarIsTheOtherShape) {
  auto shape = broadcastShapes(loc(), {ArrayRef<int64_t>{},
                                       ArrayRef<int64_t>{7, 2}});
  ASSERT_TRUE(succeeded(shape));
  EXPECT_EQ(*shape, (SmallVector<int64_t>{7, 2}));
}

TEST_F(ShapeInferenceTest, NormalizeAxis) {
  EXPECT_EQ(*normalizeAxis(loc(), -1, 4, "axis"), 3);
  EXPECT_EQ(*normalizeAxis(loc(), 0, 4, "axis"), 0);
  EXPECT_TRUE(failed(normalizeAxis(loc(), 4, 4, "axis")));
  EXPECT_TRUE(failed(normalizeAxis(loc(), -5, 4, "axis")));
}

WindowParams window(SmallVector<int64_t> kernel, SmallVector<int64_t> strides,
                    SmallVector<int64_t> pads, StringRef autoPad = "NOTSET",
                    bool ceil = false) {
  WindowParams params;
  params.kernel = kernel;
  params.strides = strides;
  params.pads = pads;
  params.autoPad = autoPad;
  params.ceilMode = ceil;
  return params;
}

TEST_F(ShapeInferenceTest, WindowExplicitPads) {
  WindowParams params = window({3}, {2}, {1, 1});
  ASSERT_TRUE(succeeded(completeWindowParams(loc(), 1, params)));
  // floor((224 + 2 - 3) / 2) + 1 = 112
  EXPECT_EQ(*windowOutputSize(loc(), params, 0, 224), 112);
}

TEST_F(ShapeInferenceTest, WindowDilationWidensTheKernel) {
  WindowParams params = window({3}, {1}, {0, 0});
  params.dilations = {2};
  ASSERT_TRUE(succeeded(completeWindowParams(loc(), 1, params)));
  // extent (3 - 1) * 2 + 1 = 5: 10 - 5 + 1 = 6
  EXPECT_EQ(*windowOutputSize(loc(), params, 0, 10), 6);
}

TEST_F(ShapeInferenceTest, WindowSameUpperIsCeilOfInputOverStride) {
  WindowParams params = window({3}, {2}, {}, "SAME_UPPER");
  ASSERT_TRUE(succeeded(completeWindowParams(loc(), 1, params)));
  EXPECT_EQ(*windowOutputSize(loc(), params, 0, 7), 4);
}

TEST_F(ShapeInferenceTest, WindowCeilModeDropsAWindowStartingInThePadding) {
  // Input 5, kernel 2, stride 2, no pads: ceil((5-2)/2)+1 = 3; the third
  // window starts at 4 < 5, so it stays.
  WindowParams params = window({2}, {2}, {0, 0}, "NOTSET", /*ceil=*/true);
  ASSERT_TRUE(succeeded(completeWindowParams(loc(), 1, params)));
  EXPECT_EQ(*windowOutputSize(loc(), params, 0, 5), 3);
  // Input 4, kernel 1, stride 2, pad end 1: ceil((4+1-1)/2)+1 = 3, but the
  // third window would start at 4, past the input: 2.
  params = window({1}, {2}, {0, 1}, "NOTSET", /*ceil=*/true);
  ASSERT_TRUE(succeeded(completeWindowParams(loc(), 1, params)));
  EXPECT_EQ(*windowOutputSize(loc(), params, 0, 4), 2);
}

TEST_F(ShapeInferenceTest, WindowTooLargeFails) {
  WindowParams params = window({5}, {1}, {0, 0});
  ASSERT_TRUE(succeeded(completeWindowParams(loc(), 1, params)));
  EXPECT_TRUE(failed(windowOutputSize(loc(), params, 0, 3)));
}

TEST_F(ShapeInferenceTest, WindowDynamicInputGivesDynamicOutput) {
  WindowParams params = window({3}, {1}, {1, 1});
  ASSERT_TRUE(succeeded(completeWindowParams(loc(), 1, params)));
  EXPECT_EQ(*windowOutputSize(loc(), params, 0, kDyn), kDyn);
}

TEST_F(ShapeInferenceTest, WindowRejectsBadParameters) {
  WindowParams params = window({3}, {0}, {0, 0});
  EXPECT_TRUE(failed(completeWindowParams(loc(), 1, params)));
  params = window({3}, {1}, {0});
  EXPECT_TRUE(failed(completeWindowParams(loc(), 1, params)));
  params = window({3}, {1}, {0, 0}, "SAME");
  EXPECT_TRUE(failed(completeWindowParams(loc(), 1, params)));
}

TEST_F(ShapeInferenceTest, CompatibleReturnTypesAllowRefiningDynamicDims) {
  Builder b(&context);
  auto inferred = RankedTensorType::get({kDyn, 3}, b.getF32Type());
  auto refined = RankedTensorType::get({2, 3}, b.getF32Type());
  auto other = RankedTensorType::get({2, 4}, b.getF32Type());
  auto otherElement = RankedTensorType::get({2, 3}, b.getF16Type());
  EXPECT_TRUE(areCompatibleReturnTypes(TypeRange{inferred}, TypeRange{refined}));
  EXPECT_FALSE(areCompatibleReturnTypes(TypeRange{refined}, TypeRange{inferred}));
  EXPECT_FALSE(areCompatibleReturnTypes(TypeRange{inferred}, TypeRange{other}));
  EXPECT_FALSE(
      areCompatibleReturnTypes(TypeRange{refined}, TypeRange{otherElement}));
}
} // namespace
