//===- QuantizeDynamic.cpp - dynamic quantization of matrix products ------===//
//
// Dynamic quantization needs no calibration: the weights of MatMul, Gemm
// and the recurrent layers are quantized at compile time and the
// activations at run time, from each run's own range
// (quarc.qmatmul_dynamic; LSTM, GRU and RNN marked dynamic_quantization).
// It suits models whose activation ranges vary too much between inputs for
// fixed parameters (transformers, recurrent nets).
//
//===----------------------------------------------------------------------===//

#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"
#include "WeightQuantization.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/TensorNames.h"
#include "quarc/Dialect/Quarc/Transforms/Passes.h"
#include "quarc/Quantization/QuantScheme.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstring>

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCQUANTIZEDYNAMIC
#include "quarc/Dialect/Quarc/Transforms/Passes.h.inc"

namespace {

struct QuantizeDynamicPass
    : impl::QuarcQuantizeDynamicBase<QuantizeDynamicPass> {
  using QuarcQuantizeDynamicBase::QuarcQuantizeDynamicBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::Expected<QuantScheme> parsed =
        parseSchemeOption(scheme);
    if (!parsed) {
      module.emitError() << "quarc-quantize-dynamic: invalid scheme: "
                         << llvm::toString(parsed.takeError());
      return signalPassFailure();
    }
    if (parsed->weights.type.bits != 8) {
      module.emitError() << "quarc-quantize-dynamic: "
                         << parsed->weights.str()
                         << ": dynamic quantization takes 8-bit weights";
      return signalPassFailure();
    }
    SmallVector<Operation *> products =
        selectOps(module, excludeNodes, floatOps, [](Operation *op) {
          return isa<MatMulOp, GemmOp, LSTMOp, GRUOp, RNNOp>(op);
        });
    for (Operation *op : products) {
      LogicalResult result = isa<MatMulOp, GemmOp>(op)
                                 ? quantize(op, *parsed)
                                 : quantizeRecurrent(op, *parsed);
      if (failed(result))
        return signalPassFailure();
    }
  }

  /// Quantizes the W and R of a recurrent layer (operands 1 and 2, both
  /// D x rows x K) if both are f32 constants, and marks the layer
  /// dynamic_quantization.
  LogicalResult quantizeRecurrent(Operation *op,
                                  const QuantScheme &quantScheme) {
    SmallVector<Value, 2> weights = {op->getOperand(1), op->getOperand(2)};
    for (Value weight : weights) {
      auto type = dyn_cast<RankedTensorType>(weight.getType());
      if (!type || type.getRank() != 3 || !type.hasStaticShape() ||
          !type.getElementType().isF32() || !getConstantBytes(weight))
        return success(); // left in float
    }
    OpBuilder builder(op);
    for (auto [index, weight] : llvm::enumerate(weights)) {
      // One scale per row of each direction: groups spanning all of K.
      QuantScheme rowScheme = quantScheme;
      if (rowScheme.weights.granularity != Granularity::PerTensor) {
        rowScheme.weights.granularity = Granularity::PerGroup;
        rowScheme.weights.groupSize =
            cast<RankedTensorType>(weight.getType()).getDimSize(2);
      }
      FailureOr<Value> quantized =
          quantizeConstantWeight(builder, op, weight, rowScheme, 2);
      if (failed(quantized))
        return failure();
      Value dequantized = DequantizeOp::create(builder, weight.getLoc(),
                                               weight.getType(), *quantized);
      op->setOperand(index + 1, dequantized);
      if (weight.use_empty())
        weight.getDefiningOp()->erase();
    }
    llvm::TypeSwitch<Operation *>(op).Case<LSTMOp, GRUOp, RNNOp>(
        [](auto layer) { layer.setDynamicQuantization(true); });
    return success();
  }

  /// Replaces `op` with quarc.qmatmul_dynamic if it matches.
  LogicalResult quantize(Operation *op, const QuantScheme &quantScheme) {
    OpBuilder builder(op);
    std::optional<ConstantWeightProduct> product =
        buildConstantWeightProduct(builder, op);
    if (!product)
      return success(); // left in float
    // quarc.qmatmul_dynamic scales per tensor or per column; a per-group
    // scheme is for recurrent layers (one group per row).
    if (quantScheme.weights.granularity == Granularity::PerGroup)
      return op->emitError()
             << "quarc-quantize-dynamic: " << quantScheme.weights.str()
             << ": MatMul and Gemm weights are quantized per tensor or per "
                "channel (per-group weights apply to LSTM, GRU and RNN "
                "layers, one group per row; --quantize=int4-weight and w4a8 "
                "take them for MatMul and Gemm)";
    FailureOr<Value> quantized =
        quantizeConstantWeight(builder, op, product->weight, quantScheme, 1);
    if (failed(quantized))
      return failure();
    auto dynamic = QMatMulDynamicOp::create(
        builder, op->getLoc(), op->getResult(0).getType(), product->a,
        *quantized, product->bias);
    op->getResult(0).replaceAllUsesWith(dynamic.getResult());
    op->erase();
    if (product->weight.use_empty())
      product->weight.getDefiningOp()->erase();
    return success();
  }
};

} // namespace
} // namespace mlir::quarc
