//===- SplitSharedInits.cpp - one init per linalg op ----------------------===//
//
// CSE merges the identical fills and bias broadcasts that initialize the
// accumulators of several products; an op writes its init in place, so
// bufferization then copies the shared init for all but one of them, and
// the kernels can no longer start from the fill or the bias (see the pass
// description in Passes.td). Cloning the cheap producer for every such use
// undoes the merge where it costs.
//
//===----------------------------------------------------------------------===//

#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCSPLITSHAREDINITS
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// A linalg.fill, or an elementwise generic whose body yields one of its
/// inputs or a value from outside (a broadcast, a copy, a constant fill):
/// cheap to recompute for each use.
bool isCheapInit(Operation *op) {
  if (auto fill = dyn_cast<linalg::FillOp>(op))
    return fill.hasPureTensorSemantics();
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !generic.hasPureTensorSemantics() ||
      generic.getNumResults() != 1 || generic.getNumReductionLoops() != 0)
    return false;
  Block *body = generic.getBody();
  Value yielded = cast<linalg::YieldOp>(body->getTerminator()).getValues()[0];
  if (body->getOperations().size() != 1)
    return false;
  if (auto arg = dyn_cast<BlockArgument>(yielded))
    return arg.getOwner() != body ||
           arg.getArgNumber() < generic.getNumDpsInputs();
  return true; // defined above the generic
}

/// The reshapes from a cheap init producer to `value`, producer first, if
/// `value` is such a producer's result seen through reshapes (convolutions
/// view their accumulators grouped or with pixels as one row).
std::optional<SmallVector<Operation *>> getInitChain(Value value) {
  SmallVector<Operation *> chain;
  Operation *op = value.getDefiningOp();
  while (op && isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op)) {
    chain.push_back(op);
    op = op->getOperand(0).getDefiningOp();
  }
  if (!op || !isCheapInit(op))
    return std::nullopt;
  chain.push_back(op);
  std::reverse(chain.begin(), chain.end());
  return chain;
}

/// Whether `value` has one user that reads its elements: tensor.dim only
/// reads its shape (a dynamic batch's reshapes ask for it), which does not
/// make bufferization copy the init, so it does not count.
bool hasOneDataUse(Value value) {
  return llvm::count_if(value.getUsers(), [](Operation *user) {
           return !isa<tensor::DimOp>(user);
         }) == 1;
}

struct QuarcSplitSharedInits
    : impl::QuarcSplitSharedInitsBase<QuarcSplitSharedInits> {
  void runOnOperation() override {
    SmallVector<OpOperand *> inits;
    getOperation().walk([&](linalg::LinalgOp op) {
      for (OpOperand &init : op.getDpsInitsMutable())
        inits.push_back(&init);
    });
    for (OpOperand *init : inits) {
      std::optional<SmallVector<Operation *>> chain = getInitChain(init->get());
      // Shared when any value on the way has another user; the last user
      // keeps the original.
      if (!chain || llvm::all_of(*chain, [](Operation *op) {
            return hasOneDataUse(op->getResult(0));
          }))
        continue;
      OpBuilder b(init->getOwner());
      IRMapping mapping;
      Operation *last = nullptr;
      for (Operation *op : *chain)
        last = b.clone(*op, mapping);
      init->set(last->getResult(0));
      // Reshapes only this use went through are dead now.
      for (Operation *op : llvm::reverse(*chain))
        if (op->use_empty())
          op->erase();
    }
  }
};

} // namespace
} // namespace mlir::quarc
