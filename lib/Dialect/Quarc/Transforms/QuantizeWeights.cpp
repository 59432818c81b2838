//===- QuantizeWeights.cpp - weight-only quantization of matrix products --===//
//
// Weight-only quantization (--quantize=int4-weight) needs no calibration:
// the weights of MatMul and Gemm are quantized at compile time to a few
// bits per group of k, and the activations stay f32. The products are
// memory-bound at small batch (a transformer decoding one token), so
// weights four or eight times smaller are what makes them faster; the
// arithmetic stays f32 (quarc.qmatmul_weight_only after quarc-fold-qdq).
//
//===----------------------------------------------------------------------===//

#include "WeightQuantization.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/Transforms/Passes.h"
#include "quarc/Quantization/QuantScheme.h"

#include "mlir/Dialect/Quant/IR/Quant.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCQUANTIZEWEIGHTS
#include "quarc/Dialect/Quarc/Transforms/Passes.h.inc"

namespace {

/// The scheme `spec` reads on top of: u4 asymmetric weights in groups of 32
/// (onnxruntime's MatMulNBits quantizer's asymmetric default, at the group
/// size llama.cpp's Q4 formats use).
constexpr const char *kWeightOnlyBase = "weights=u4:asymmetric:per-group=32";

struct QuantizeWeightsPass
    : impl::QuarcQuantizeWeightsBase<QuantizeWeightsPass> {
  using QuarcQuantizeWeightsBase::QuarcQuantizeWeightsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::Expected<QuantScheme> base = parseQuantScheme(kWeightOnlyBase);
    if (!base)
      llvm::report_fatal_error(base.takeError());
    llvm::Expected<QuantScheme> parsed =
        scheme.empty() ? std::move(base) : parseQuantScheme(scheme, *base);
    if (!parsed) {
      module.emitError() << "quarc-quantize-weights: invalid scheme: "
                         << llvm::toString(parsed.takeError());
      return signalPassFailure();
    }
    const TensorQuantScheme &weights = parsed->weights;
    if (weights.type.bits < 2 || weights.type.bits > 4 ||
        weights.granularity != Granularity::PerGroup) {
      module.emitError() << "quarc-quantize-weights: " << weights.str()
                         << ": weight-only quantization takes 2- to 4-bit "
                            "weights per group (e.g. "
                         << kWeightOnlyBase << ")";
      return signalPassFailure();
    }
    SmallVector<Operation *> products =
        selectOps(module, excludeNodes, floatOps,
                  [](Operation *op) { return isa<MatMulOp, GemmOp>(op); });
    for (Operation *op : products)
      if (failed(quantize(op, *parsed)))
        return signalPassFailure();
  }

  /// Replaces `op` by matmul(a, dequantize(quantized weight)) [+ bias] if
  /// its weight is a constant.
  LogicalResult quantize(Operation *op, const QuantScheme &quantScheme) {
    OpBuilder builder(op);
    std::optional<ConstantWeightProduct> product =
        buildConstantWeightProduct(builder, op);
    if (!product)
      return success(); // left in float
    // Groups run along k (axis 0 of the K x N weight) within each column.
    FailureOr<Value> quantized =
        quantizeConstantWeight(builder, op, product->weight, quantScheme, 0);
    if (failed(quantized))
      return failure();
    Location loc = op->getLoc();
    Type resultType = op->getResult(0).getType();
    Value dequantized = DequantizeOp::create(
        builder, loc, product->weight.getType(), *quantized);
    auto matmul =
        MatMulOp::create(builder, loc, resultType, product->a, dequantized);
    if (int8Activations)
      matmul->setAttr(kInt8ActivationsAttr, builder.getUnitAttr());
    Value result = matmul;
    if (!isNone(product->bias))
      result = AddOp::create(builder, loc, resultType, result, product->bias);
    else
      product->bias.getDefiningOp()->erase();
    op->getResult(0).replaceAllUsesWith(result);
    op->erase();
    if (product->weight.use_empty())
      product->weight.getDefiningOp()->erase();
    return success();
  }
};

} // namespace
} // namespace mlir::quarc
