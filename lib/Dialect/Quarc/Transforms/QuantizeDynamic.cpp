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
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstring>

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCQUANTIZEDYNAMIC
#include "quarc/Dialect/Quarc/Transforms/Passes.h.inc"

namespace {

/// The elements of an f32 constant, or nullopt.
std::optional<SmallVector<float>> getFloatConstant(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  std::optional<SmallVector<char>> bytes = getConstantBytes(value);
  if (!type || !type.getElementType().isF32() || !bytes)
    return std::nullopt;
  SmallVector<float> values(bytes->size() / sizeof(float));
  std::memcpy(values.data(), bytes->data(), bytes->size());
  return values;
}

/// A matrix product in the form quarc.qmatmul_dynamic takes: the
/// activation, the weight as K x N floats (a Gemm's B^T transposed and
/// alpha applied), and the bias of each column (beta * C), if any.
struct DynamicOperands {
  Value a;
  int64_t rows, columns; // K, N
  SmallVector<float> weight;
  std::optional<SmallVector<float>> bias;
};

std::optional<DynamicOperands> matchMatMul(MatMulOp matmul) {
  auto aType = dyn_cast<RankedTensorType>(matmul.getA().getType());
  auto bType = dyn_cast<RankedTensorType>(matmul.getB().getType());
  std::optional<SmallVector<float>> b = getFloatConstant(matmul.getB());
  if (!aType || aType.getRank() < 2 || !aType.getElementType().isF32() ||
      !bType || bType.getRank() != 2 || !b)
    return std::nullopt;
  return DynamicOperands{matmul.getA(), bType.getDimSize(0),
                         bType.getDimSize(1), std::move(*b), std::nullopt};
}

std::optional<DynamicOperands> matchGemm(GemmOp gemm) {
  auto bType = dyn_cast<RankedTensorType>(gemm.getB().getType());
  std::optional<SmallVector<float>> b = getFloatConstant(gemm.getB());
  if (gemm.getTransA() != 0 || !bType || bType.getRank() != 2 || !b ||
      !gemm.getA().getType().getElementType().isF32())
    return std::nullopt;
  bool transposed = gemm.getTransB() != 0;
  int64_t rows = bType.getDimSize(transposed ? 1 : 0);
  int64_t columns = bType.getDimSize(transposed ? 0 : 1);
  float alpha = gemm.getAlpha().convertToFloat();
  DynamicOperands operands{gemm.getA(), rows, columns,
                           SmallVector<float>(rows * columns), std::nullopt};
  for (int64_t k = 0; k < rows; ++k)
    for (int64_t n = 0; n < columns; ++n)
      operands.weight[k * columns + n] =
          alpha * (*b)[transposed ? n * rows + k : k * columns + n];
  if (!isNone(gemm.getC())) {
    // One value per column, or one for all.
    std::optional<SmallVector<float>> c = getFloatConstant(gemm.getC());
    if (!c || (int64_t(c->size()) != columns && c->size() != 1))
      return std::nullopt;
    float beta = gemm.getBeta().convertToFloat();
    SmallVector<float> bias(columns);
    for (int64_t n = 0; n < columns; ++n)
      bias[n] = beta * (*c)[c->size() == 1 ? 0 : n];
    operands.bias = std::move(bias);
  }
  return operands;
}

struct QuantizeDynamicPass
    : impl::QuarcQuantizeDynamicBase<QuantizeDynamicPass> {
  using QuarcQuantizeDynamicBase::QuarcQuantizeDynamicBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::Expected<QuantScheme> parsed =
        scheme.empty() ? QuantScheme::getDefaultCPU()
                       : parseQuantScheme(scheme);
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
    llvm::StringSet<> excluded(llvm::from_range, excludeNodes);
    llvm::StringSet<> floatOpNames(llvm::from_range, floatOps);
    SmallVector<Operation *> products;
    module.walk([&](Operation *op) {
      if (!isa<MatMulOp, GemmOp, LSTMOp, GRUOp, RNNOp>(op) ||
          floatOpNames.contains(op->getName().getStringRef()))
        return;
      if (llvm::none_of(getNodeNames(op), [&](StringRef node) {
            return excluded.contains(node);
          }))
        products.push_back(op);
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
          !getFloatConstant(weight))
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
    std::optional<DynamicOperands> operands =
        isa<MatMulOp>(op) ? matchMatMul(cast<MatMulOp>(op))
                          : matchGemm(cast<GemmOp>(op));
    if (!operands)
      return success(); // left in float
    OpBuilder builder(op);
    Location loc = op->getLoc();
    Value weightOperand = op->getOperand(1);
    auto weightType = RankedTensorType::get(
        {operands->rows, operands->columns}, builder.getF32Type());
    SmallVector<double> weightValues(operands->weight.begin(),
                                     operands->weight.end());
    Value weight = ConstantOp::create(
        builder, weightOperand.getLoc(), weightType,
        createFloatElementsAttr(
            weightType, weightValues,
            deriveConstantKey(weightOperand, "weight", "_kn")));
    FailureOr<Value> quantized =
        quantizeConstantWeight(builder, op, weight, quantScheme, 1);
    if (failed(quantized))
      return failure();
    Value bias = NoneOp::create(builder, loc);
    if (operands->bias) {
      auto biasType =
          RankedTensorType::get({operands->columns}, builder.getF32Type());
      SmallVector<double> biasValues(operands->bias->begin(),
                                     operands->bias->end());
      bias = ConstantOp::create(
          builder, loc, biasType,
          createFloatElementsAttr(
              biasType, biasValues,
              deriveConstantKey(op->getOperand(2), "bias", "_n")));
    }
    auto product = QMatMulDynamicOp::create(builder, loc,
                                            op->getResult(0).getType(),
                                            operands->a, *quantized, bias);
    op->getResult(0).replaceAllUsesWith(product.getResult());
    op->erase();
    if (weight.use_empty())
      weight.getDefiningOp()->erase();
    return success();
  }
};

} // namespace
} // namespace mlir::quarc
