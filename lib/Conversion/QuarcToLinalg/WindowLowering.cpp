//===- WindowLowering.cpp - convolution and pooling windows ---------------===//

#include "WindowLowering.h"
#include "LoweringUtils.h"
#include "NNLoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::quarc {

RankedTensorType withUnitDim(RankedTensorType type, int64_t position) {
  SmallVector<int64_t> shape(type.getShape());
  shape.insert(shape.begin() + position, 1);
  return RankedTensorType::get(shape, type.getElementType());
}

Value refineChannels(OpBuilder &b, Location loc, Value value,
                     int64_t channels) {
  auto type = cast<RankedTensorType>(value.getType());
  if (!type.isDynamicDim(1))
    return value;
  SmallVector<int64_t> shape(type.getShape());
  shape[1] = channels;
  return castToType(b, loc, value, type.clone(shape));
}


SmallVector<Value> getWindowResultSizes(OpBuilder &b, Location loc,
                                        RankedTensorType type, Value padded,
                                        Value channelSource, int64_t channelDim,
                                        const Window &window) {
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    if (!type.isDynamicDim(i))
      continue;
    if (i == 0) {
      sizes.push_back(tensor::DimOp::create(b, loc, padded, 0));
      continue;
    }
    if (i == 1) {
      sizes.push_back(tensor::DimOp::create(b, loc, channelSource, channelDim));
      continue;
    }
    // (padded - extent) / stride + 1, exact since padded >= extent.
    unsigned s = i - 2;
    Value in = tensor::DimOp::create(b, loc, padded, i);
    Value span = arith::SubIOp::create(
        b, loc, in, arith::ConstantIndexOp::create(b, loc, window.extent(s)));
    Value steps = span;
    if (window.strides[s] != 1)
      steps = arith::DivUIOp::create(
          b, loc, span,
          arith::ConstantIndexOp::create(b, loc, window.strides[s]));
    sizes.push_back(arith::AddIOp::create(
        b, loc, steps, arith::ConstantIndexOp::create(b, loc, 1)));
  }
  return sizes;
}

Value padSpatial(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> low,
                 ArrayRef<int64_t> high, Value value) {
  SmallVector<int64_t> fullLow = {0, 0}, fullHigh = {0, 0};
  fullLow.append(low.begin(), low.end());
  fullHigh.append(high.begin(), high.end());
  return padTensor(b, loc, input, fullLow, fullHigh, value);
}


Value splitChannels(OpBuilder &b, Location loc, Value value, int64_t groups) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[1] /= groups;
  shape.insert(shape.begin() + 1, groups);
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), value,
      SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
}


Value createConvInit(OpBuilder &b, Location loc, RankedTensorType type,
                     ValueRange dynamicSizes, Value bias, Value zero) {
  if (!bias)
    return createFilled(b, loc, type, dynamicSizes, zero);
  MLIRContext *context = b.getContext();
  AffineMap channel =
      AffineMap::get(type.getRank(), 0, getAffineDimExpr(1, context), context);
  return broadcastInto(b, loc, type, dynamicSizes, bias, channel);
}

FailureOr<int64_t> checkConvOperands(Operation *op, Value x, Value w,
                                     StringRef name) {
  auto xType = dyn_cast<RankedTensorType>(x.getType());
  auto wType = dyn_cast<RankedTensorType>(w.getType());
  if (!xType || !wType)
    return op->emitOpError("needs ranked operands to lower to linalg");
  int64_t numSpatial = xType.getRank() - 2;
  if (numSpatial != 1 && numSpatial != 2)
    return op->emitOpError("only 1-D and 2-D ")
           << name << " lower to linalg; this one has " << numSpatial
           << " spatial dims";
  if (!wType.hasStaticShape())
    return op->emitOpError("the weight must have a static shape to lower to "
                           "linalg, has ")
           << wType;
  return numSpatial;
}

} // namespace mlir::quarc
