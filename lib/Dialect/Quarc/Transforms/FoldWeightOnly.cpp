//===- FoldWeightOnly.cpp - weight-only products into their quarc op ------===//
//
// The QDQ form of a weight-only quantized product (quarc-quantize-weights,
// quarc-decompose-matmul-nbits, or an imported DequantizeLinear of a
// blocked int4 initializer) is a MatMul of an f32 activation and a
// dequantized constant of a few bits per group along k. Its quarc op,
// quarc.qmatmul_weight_only, keeps the weight quantized so that the
// lowering can store it packed and dequantize it in the kernel.
//
//===----------------------------------------------------------------------===//

#include "BiasAdd.h"
#include "FoldQDQ.h"
#include "WeightQuantization.h"
#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"

namespace mlir::quarc {

/// The quantized constant `weight` dequantizes, if it is a K x N constant
/// of 2- to 4-bit values of f32 grouped along k only.
static Value getGroupedWeight(Value weight) {
  auto dequantize = weight.getDefiningOp<DequantizeOp>();
  auto storageCast =
      dequantize ? dequantize.getInput().getDefiningOp<StorageCastOp>()
                 : nullptr;
  if (!storageCast || !storageCast.getInput().getDefiningOp<ConstantOp>())
    return nullptr;
  auto type = cast<RankedTensorType>(storageCast.getType());
  auto element =
      dyn_cast<quant::UniformQuantizedSubChannelType>(type.getElementType());
  if (!element || type.getRank() != 2 || !type.hasStaticShape() ||
      element.getStorageTypeIntegralWidth() > 4 ||
      !element.getExpressedType().isF32())
    return nullptr;
  for (auto [dim, blockSize] : element.getBlockSizeInfo())
    if (dim == 1 && blockSize != 1)
      return nullptr;
  return storageCast.getResult();
}

bool foldWeightOnly(MatMulOp matmul) {
  Value weight = getGroupedWeight(matmul.getB());
  auto aType = cast<RankedTensorType>(matmul.getA().getType());
  // A product over a K known only at run time stays float (the weight is
  // dequantized at compile time).
  if (!weight || !aType.getElementType().isF32() ||
      aType.isDynamicDim(aType.getRank() - 1))
    return false;
  OpBuilder builder(matmul);
  Location loc = matmul.getLoc();
  Value result = matmul.getResult();
  Value bias;
  std::optional<BiasAdd> biasAdd = getBiasAdd(matmul, result);
  int64_t columns = cast<RankedTensorType>(weight.getType()).getDimSize(1);
  if (!biasAdd) {
    bias = NoneOp::create(builder, loc);
  } else {
    auto biasType = RankedTensorType::get({columns}, builder.getF32Type());
    bias = ConstantOp::create(
        builder, loc, biasType,
        createFloatElementsAttr(
            biasType, biasAdd->values,
            deriveConstantKey(biasAdd->add.getResult(), "bias", "_n")));
    result = biasAdd->add.getResult();
  }
  auto product = QMatMulWeightOnlyOp::create(
      builder, biasAdd ? biasAdd->add.getLoc() : loc, result.getType(),
      matmul.getA(), weight, bias);
  if (matmul->hasAttr(kInt8ActivationsAttr))
    product.setInt8Activations(true);
  result.replaceAllUsesWith(product.getResult());
  return true;
}

} // namespace mlir::quarc
