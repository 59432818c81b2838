//===- KeepNoisyWeightsFloat.cpp - an example quarc pass plugin -----------===//
//
// A rule for mixed precision that quarc's own options do not have: keep in
// float the layers whose weights would lose the most to 8-bit quantization
// (Passes.td says how it is estimated). It uses quarc's public headers (the
// dialect's op classes, the constant reader) and marks ops with the
// attribute the quantization passes honour; it does not link quarc.
//
//===----------------------------------------------------------------------===//

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"
#include "quarc/Plugin/Plugin.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <optional>

namespace example {
#define GEN_PASS_DECL
#define GEN_PASS_DEF_KEEPNOISYWEIGHTSFLOAT
#define GEN_PASS_REGISTRATION
#include "Passes.h.inc"
} // namespace example

using namespace mlir;

namespace {

/// The constant weight of a Conv, Gemm or MatMul and the axis of its
/// output channels (the axis quarc quantizes weights along), if any.
struct Weight {
  Value value;
  int64_t channelAxis;
};

std::optional<Weight> getWeight(Operation *op) {
  if (auto conv = dyn_cast<quarc::ConvOp>(op))
    return Weight{conv.getW(), 0};
  if (auto gemm = dyn_cast<quarc::GemmOp>(op))
    return Weight{gemm.getB(), gemm.getTransB() != 0 ? 0 : 1};
  if (auto matmul = dyn_cast<quarc::MatMulOp>(op)) {
    auto type = dyn_cast<RankedTensorType>(matmul.getB().getType());
    if (type && type.getRank() >= 2)
      return Weight{matmul.getB(), type.getRank() - 1};
  }
  return std::nullopt;
}

/// The weight's SQNR in dB under symmetric per-channel quantization to
/// `bits` bits, or nullopt for a weight that is not a readable f32
/// constant or is all zeros.
std::optional<double> estimateWeightSqnr(const Weight &weight, unsigned bits) {
  auto type = dyn_cast<RankedTensorType>(weight.value.getType());
  if (!type || !type.getElementType().isF32() ||
      !weight.value.getDefiningOp<quarc::ConstantOp>())
    return std::nullopt;
  std::optional<SmallVector<char>> bytes = quarc::getConstantBytes(weight.value);
  if (!bytes)
    return std::nullopt;
  ArrayRef<float> values(reinterpret_cast<const float *>(bytes->data()),
                         bytes->size() / sizeof(float));
  ArrayRef<int64_t> shape = type.getShape();
  int64_t channels = shape[weight.channelAxis];
  int64_t inner = 1;
  for (int64_t dim : shape.drop_front(weight.channelAxis + 1))
    inner *= dim;
  // Per channel: its largest magnitude, its count and its energy.
  SmallVector<double> maxAbs(channels, 0.0), count(channels, 0.0);
  double signal = 0.0;
  for (size_t i = 0; i < values.size(); ++i) {
    int64_t channel = (int64_t(i) / inner) % channels;
    double v = values[i];
    maxAbs[channel] = std::max(maxAbs[channel], std::fabs(v));
    count[channel] += 1.0;
    signal += v * v;
  }
  double qmax = double((1u << (bits - 1)) - 1);
  double noise = 0.0;
  for (int64_t c = 0; c < channels; ++c) {
    double step = maxAbs[c] / qmax;
    noise += count[c] * step * step / 12.0;
  }
  if (signal == 0.0 || noise == 0.0)
    return std::nullopt;
  return 10.0 * std::log10(signal / noise);
}

struct KeepNoisyWeightsFloat
    : example::impl::KeepNoisyWeightsFloatBase<KeepNoisyWeightsFloat> {
  using KeepNoisyWeightsFloatBase::KeepNoisyWeightsFloatBase;

  void runOnOperation() override {
    if (weightBits < 2 || weightBits > 16) {
      getOperation().emitError()
          << "keep-noisy-weights-float: weight-bits must be 2 to 16, not "
          << unsigned(weightBits);
      return signalPassFailure();
    }
    getOperation().walk([&](Operation *op) {
      std::optional<Weight> weight = getWeight(op);
      if (!weight)
        return;
      std::optional<double> sqnr = estimateWeightSqnr(*weight, weightBits);
      if (!sqnr || *sqnr >= minSqnr)
        return;
      op->setAttr(quarc::kKeepFloatAttr, UnitAttr::get(op->getContext()));
      op->emitRemark() << llvm::formatv(
          "kept in float: its weight's SQNR at {0} bits would be {1:F1} dB, "
          "below {2:F1}",
          unsigned(weightBits), *sqnr, double(minSqnr));
    });
  }
};

} // namespace

QUARC_PASS_PLUGIN("quarc-example-plugin", QUARC_VERSION_STRING,
                  [] { example::registerKeepNoisyWeightsFloat(); })
