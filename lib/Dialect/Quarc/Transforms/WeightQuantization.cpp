//===- WeightQuantization.cpp - constant weights quantized at compile time ===//

#include "WeightQuantization.h"
#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Quantization/ChooseQuantParams.h"
#include "quarc/Quantization/Quantize.h"
#include "quarc/Quantization/QuantizedTypes.h"

#include <cstring>

namespace mlir::quarc {

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
  llvm::Expected<QuantParams> params = computeQuantParamsForData(
      values, type.getShape(), weights.type, weights.symmetric,
      scheme.reduceRange, weights.granularity, channelAxis, weights.groupSize);
  if (!params)
    return user->emitError() << "weight: "
                             << llvm::toString(params.takeError());
  FailureOr<quant::QuantizedType> elementType =
      getQuantizedType(loc, *params, cast<FloatType>(type.getElementType()));
  if (failed(elementType))
    return failure();
  SmallVector<int32_t> integers = quantize(values, type.getShape(), *params);
  // Storage bytes: the quantized values fit the storage width
  // (little-endian, two's complement for signed types).
  unsigned storageBytes = (params->storageBits + 7) / 8;
  SmallVector<char> storage(integers.size() * storageBytes);
  for (auto [i, q] : llvm::enumerate(integers))
    std::memcpy(&storage[i * storageBytes], &q, storageBytes);
  // ONNX unsigned storage is an unsigned integer type (storage_cast checks
  // the signedness).
  auto storageType = type.clone(IntegerType::get(
      builder.getContext(), storageBytes * 8,
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
