//===- QuantBehavior.cpp - how quarc ops handle quantized tensors ---------===//

#include "quarc/Dialect/Quarc/IR/QuantBehavior.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

#include "llvm/ADT/TypeSwitch.h"

namespace mlir::quarc {

bool passesQuantization(Operation *op) {
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case<ReshapeOp, FlattenOp, SqueezeOp, UnsqueezeOp, TransposeOp,
            ConcatOp, SplitOp, SliceOp, GatherOp, ExpandOp, TileOp, IdentityOp,
            GlobalMaxPoolOp>([](Operation *) { return true; })
      // Only Y: Indices are positions, not values.
      .Case([](MaxPoolOp pool) { return pool.getIndices().use_empty(); })
      // Nearest neighbours copy values; interpolation computes new ones.
      .Case([](ResizeOp resize) { return resize.getMode() == "nearest"; })
      .Default([](Operation *) { return false; });
}

SmallVector<OpOperand *> getPassThroughOperands(Operation *op) {
  if (!passesQuantization(op))
    return {};
  if (isa<ConcatOp>(op))
    return llvm::to_vector(
        llvm::map_range(op->getOpOperands(), [](OpOperand &o) { return &o; }));
  return {&op->getOpOperand(0)};
}

SmallVector<Value> getPassThroughResults(Operation *op) {
  if (!passesQuantization(op))
    return {};
  if (isa<MaxPoolOp>(op))
    return {op->getResult(0)};
  return SmallVector<Value>(op->getResults());
}

} // namespace mlir::quarc
