//===- ElementwiseOps.cpp - verifiers of the elementwise ops --------------===//
//
// Type inference of these ops comes from their ODS classes (same type, or
// broadcast); only the checks ODS cannot say are here.
//
//===----------------------------------------------------------------------===//

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

using namespace mlir;
using namespace mlir::quarc;

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError("'approximate' must be \"none\" or \"tanh\", got \"")
           << getApproximate() << "\"";
  return success();
}

template <typename SoftmaxLike>
static LogicalResult verifySoftmaxAxis(SoftmaxLike op) {
  int64_t rank = op.getX().getType().getRank();
  if (failed(normalizeAxis(op.getLoc(), op.getAxis(), rank, "axis")))
    return failure();
  return success();
}

LogicalResult SoftmaxOp::verify() { return verifySoftmaxAxis(*this); }
LogicalResult LogSoftmaxOp::verify() { return verifySoftmaxAxis(*this); }

LogicalResult ClipOp::verify() {
  Type element = getInput().getType().getElementType();
  for (Value bound : {getMin(), getMax()}) {
    if (isNone(bound))
      continue;
    auto type = cast<RankedTensorType>(bound.getType());
    if (type.getElementType() != element)
      return emitOpError("min and max must have the input's element type");
    if (type.getRank() > 1 || (type.getRank() == 1 && type.getDimSize(0) != 1))
      return emitOpError("min and max must be scalars");
  }
  return success();
}

LogicalResult PReluOp::verify() {
  ArrayRef<int64_t> shape = getX().getType().getShape();
  FailureOr<SmallVector<int64_t>> broadcast =
      broadcastShapes(getLoc(), {shape, getSlope().getType().getShape()});
  if (failed(broadcast))
    return failure();
  if (!areCompatibleReturnTypes(getX().getType(),
                                RankedTensorType::get(*broadcast,
                                                      getX().getType()
                                                          .getElementType())))
    return emitOpError("slope must broadcast to the shape of X");
  return success();
}

template <typename VariadicOp>
static LogicalResult verifyNonEmpty(VariadicOp op) {
  if (op.getData_0().empty())
    return op.emitOpError("needs at least one input");
  return success();
}
LogicalResult MaxOp::verify() { return verifyNonEmpty(*this); }
LogicalResult MinOp::verify() { return verifyNonEmpty(*this); }
LogicalResult SumOp::verify() { return verifyNonEmpty(*this); }
LogicalResult MeanOp::verify() { return verifyNonEmpty(*this); }

LogicalResult WhereOp::verify() {
  if (getX().getType().getElementType() != getY().getType().getElementType())
    return emitOpError("X and Y must have the same element type");
  return success();
}
