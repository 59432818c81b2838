//===- WeightQuantization.cpp - constant weights quantized at compile time ===//

#include "WeightQuantization.h"
#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"
#include "quarc/Dialect/Quarc/IR/TensorNames.h"
#include "quarc/Quantization/ChooseQuantParams.h"
#include "quarc/Quantization/Quantize.h"
#include "quarc/Quantization/QuantizedTypes.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSet.h"

#include <cstring>

namespace mlir::quarc {
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

/// A matrix product in the form the quantized products take: the
/// activation, the weight as K x N floats (a Gemm's B^T transposed and
/// alpha applied), and the bias of each column (beta * C), if any.
struct ProductOperands {
  Value a;
  int64_t rows, columns; // K, N
  SmallVector<float> weight;
  std::optional<SmallVector<float>> bias;
};

std::optional<ProductOperands> matchMatMul(MatMulOp matmul) {
  auto aType = dyn_cast<RankedTensorType>(matmul.getA().getType());
  auto bType = dyn_cast<RankedTensorType>(matmul.getB().getType());
  std::optional<SmallVector<float>> b = getFloatConstant(matmul.getB());
  if (!aType || aType.getRank() < 2 || !aType.getElementType().isF32() ||
      !bType || bType.getRank() != 2 || !b)
    return std::nullopt;
  return ProductOperands{matmul.getA(), bType.getDimSize(0),
                         bType.getDimSize(1), std::move(*b), std::nullopt};
}

std::optional<ProductOperands> matchGemm(GemmOp gemm) {
  auto bType = dyn_cast<RankedTensorType>(gemm.getB().getType());
  std::optional<SmallVector<float>> b = getFloatConstant(gemm.getB());
  if (gemm.getTransA() != 0 || !bType || bType.getRank() != 2 || !b ||
      !gemm.getA().getType().getElementType().isF32())
    return std::nullopt;
  bool transposed = gemm.getTransB() != 0;
  int64_t rows = bType.getDimSize(transposed ? 1 : 0);
  int64_t columns = bType.getDimSize(transposed ? 0 : 1);
  float alpha = gemm.getAlpha().convertToFloat();
  ProductOperands operands{gemm.getA(), rows, columns,
                           SmallVector<float>(rows * columns), std::nullopt};
  for (int64_t k = 0; k < rows; ++k)
    for (int64_t n = 0; n < columns; ++n)
      operands.weight[k * columns + n] =
          alpha * (*b)[transposed ? n * rows + k : k * columns + n];
  if (!isNone(gemm.getC())) {
    // One value per column ([N] or [1, N]), or one for all: a C that
    // varies along the rows ([M, 1], [M, N]) is not a bias.
    std::optional<SmallVector<float>> c = getFloatConstant(gemm.getC());
    auto cType = cast<RankedTensorType>(gemm.getC().getType());
    int64_t rank = cType.getRank();
    bool perColumn = rank >= 1 && cType.getDimSize(rank - 1) == columns &&
                     (rank == 1 || cType.getDimSize(0) == 1);
    if (!c || (!perColumn && c->size() != 1))
      return std::nullopt;
    float beta = gemm.getBeta().convertToFloat();
    SmallVector<float> bias(columns);
    for (int64_t n = 0; n < columns; ++n)
      bias[n] = beta * (*c)[c->size() == 1 ? 0 : n];
    operands.bias = std::move(bias);
  }
  return operands;
}

} // namespace

std::optional<ConstantWeightProduct>
buildConstantWeightProduct(OpBuilder &builder, Operation *op) {
  std::optional<ProductOperands> operands;
  if (auto matmul = dyn_cast<MatMulOp>(op))
    operands = matchMatMul(matmul);
  else if (auto gemm = dyn_cast<GemmOp>(op))
    operands = matchGemm(gemm);
  if (!operands)
    return std::nullopt;
  Location loc = op->getLoc();
  Value weightOperand = op->getOperand(1);
  auto weightType = RankedTensorType::get({operands->rows, operands->columns},
                                          builder.getF32Type());
  SmallVector<double> weightValues(operands->weight.begin(),
                                   operands->weight.end());
  ConstantWeightProduct product;
  product.a = operands->a;
  product.weight = ConstantOp::create(
      builder, weightOperand.getLoc(), weightType,
      createFloatElementsAttr(
          weightType, weightValues,
          deriveConstantKey(weightOperand, "weight", "_kn")));
  product.bias = NoneOp::create(builder, loc);
  if (operands->bias) {
    auto biasType =
        RankedTensorType::get({operands->columns}, builder.getF32Type());
    SmallVector<double> biasValues(operands->bias->begin(),
                                   operands->bias->end());
    product.bias = ConstantOp::create(
        builder, loc, biasType,
        createFloatElementsAttr(
            biasType, biasValues,
            deriveConstantKey(op->getOperand(2), "bias", "_n")));
  }
  return product;
}

SmallVector<Operation *> selectOps(ModuleOp module,
                                   ArrayRef<std::string> excludeNodes,
                                   ArrayRef<std::string> floatOps,
                                   function_ref<bool(Operation *)> candidate) {
  llvm::StringSet<> excluded(llvm::from_range, excludeNodes);
  llvm::StringSet<> floatOpNames(llvm::from_range, floatOps);
  SmallVector<Operation *> selected;
  module.walk([&](Operation *op) {
    if (!candidate(op) || op->hasAttr(kKeepFloatAttr) ||
        floatOpNames.contains(op->getName().getStringRef()))
      return;
    if (llvm::none_of(getNodeNames(op), [&](StringRef node) {
          return excluded.contains(node);
        }))
      selected.push_back(op);
  });
  return selected;
}

/// The dim of a product's weight that the product sums over, given its
/// output-channel dim: a convolution's filter [O, I, kernel...] and a
/// transposed [N, K] weight (channel dim 0) reduce over dim 1, a matrix
/// product's [..., K, N] (channel dim last) over the dim before it.
static int32_t getReductionAxis(int32_t channelAxis) {
  return channelAxis == 0 ? 1 : channelAxis - 1;
}

FailureOr<Value> quantizeConstantWeight(OpBuilder &builder, Operation *user,
                                        Value weight,
                                        const QuantScheme &scheme,
                                        int32_t channelAxis) {
  auto type = cast<RankedTensorType>(weight.getType());
  Location loc = weight.getLoc();
  std::optional<SmallVector<char>> bytes = getConstantBytes(weight);
  if (!bytes || !type.getElementType().isF32() || !type.hasStaticShape())
    return Value(); // not an f32 constant we can read: stays float
  ArrayRef<float> values(reinterpret_cast<const float *>(bytes->data()),
                         bytes->size() / sizeof(float));
  const TensorQuantScheme &weights = scheme.weights;
  llvm::Expected<QuantParams> params =
      scheme.weightRange == WeightRange::Pairs
          ? computePairFitQuantParams(values, type.getShape(), weights.type,
                                      weights.granularity, channelAxis,
                                      weights.groupSize,
                                      getReductionAxis(channelAxis))
          : computeQuantParamsForData(
                values, type.getShape(), weights.type, weights.symmetric,
                scheme.weightRange == WeightRange::Reduced,
                weights.granularity, channelAxis, weights.groupSize);
  if (!params)
    return user->emitError() << "weight: "
                             << llvm::toString(params.takeError());
  FailureOr<quant::QuantizedType> elementType =
      getQuantizedType(loc, *params, cast<FloatType>(type.getElementType()));
  if (failed(elementType))
    return failure();
  SmallVector<int32_t> integers = quantize(values, type.getShape(), *params);
  // Storage bytes: the quantized values fit the storage width
  // (little-endian, two's complement for signed types; one byte each below
  // 8 bits, as in dense attributes).
  unsigned storageBytes = (params->storageBits + 7) / 8;
  SmallVector<char> storage(integers.size() * storageBytes);
  for (auto [i, q] : llvm::enumerate(integers))
    std::memcpy(&storage[i * storageBytes], &q, storageBytes);
  // ONNX unsigned storage is an unsigned integer type (storage_cast checks
  // the signedness).
  auto storageType = type.clone(IntegerType::get(
      builder.getContext(), params->storageBits,
      params->isSigned ? IntegerType::Signless : IntegerType::Unsigned));
  auto constant = ConstantOp::create(
      builder, loc, storageType,
      createElementsAttr(storageType, storage,
                         deriveConstantKey(weight, "weight", "_q")));
  return StorageCastOp::create(builder, loc, type.clone(*elementType),
                               constant)
      .getResult();
}

} // namespace mlir::quarc
