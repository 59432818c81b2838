//===- LowerReductions.cpp - reductions as loops with register sums -------===//
//
// convert-linalg-to-parallel-loops lowers a reduction like any linalg op:
// every iteration loads the partial result from the output buffer, adds,
// and stores it back. LLVM cannot keep that sum in a register (it cannot
// prove the output does not alias the inputs, which share the workspace),
// so the loop never vectorizes: every Softmax, LayerNormalization and
// ReduceSum ran one element at a time, with the exp or the square fused
// into it. Here the reduction dims become scf.for loops that carry the
// partial results as values, loaded once before and stored once after, and
// the float ops that fold an element into a partial result may be
// reassociated, which is what LLVM needs to split the sum across vector
// lanes.
//
//===----------------------------------------------------------------------===//

#include "VectorCodegen.h"
#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCLOWERREDUCTIONS
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// A linalg op (a generic, or a named one such as a matmul the kernels did
/// not take) on buffers whose loop dims are parallel ones, then reduction
/// ones, and whose outputs are indexed by every parallel dim and no
/// reduction dim: each output element is one sum (or max, ...) over the
/// reduction dims, computed by one parallel iteration. Its body has no
/// regions, and no input shares a buffer with an output (the loop reads
/// its inputs from memory but keeps the partial results in registers).
bool isInnerReduction(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumReductionLoops() == 0)
    return false;
  if (llvm::any_of(op.getBlock()->without_terminator(),
                   [](Operation &nested) { return nested.getNumRegions(); }))
    return false;
  // After quarc-plan-memory every temporary is a view of the workspace:
  // the views' byte ranges tell them apart.
  for (OpOperand *input : op.getDpsInputOperands())
    for (Value init : op.getDpsInits())
      if (!buffersProvablyDisjoint(input->get(), init))
        return false;
  unsigned parallel = op.getNumParallelLoops();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (auto [dim, iterator] : llvm::enumerate(iterators))
    if ((dim < parallel) != (iterator == utils::IteratorType::parallel))
      return false;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    if (!map.isProjectedPermutation() || map.getNumResults() != parallel ||
        llvm::any_of(map.getResults(), [&](AffineExpr expr) {
          return cast<AffineDimExpr>(expr).getPosition() >= parallel;
        }))
      return false;
  }
  return true;
}

/// Adds `reassoc` to the float ops that depend on `acc` within its block.
void allowReassociation(Value acc, Block *body) {
  SmallVector<Value> worklist = {acc};
  DenseSet<Operation *> seen;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (user->getBlock() != body || !seen.insert(user).second)
        continue;
      if (auto fastMath = dyn_cast<arith::ArithFastMathInterface>(user))
        user->setAttr(fastMath.getFastMathAttrName(),
                      arith::FastMathFlagsAttr::get(
                          user->getContext(),
                          fastMath.getFastMathFlagsAttr().getValue() |
                              arith::FastMathFlags::reassoc));
      llvm::append_range(worklist, user->getResults());
    }
  }
}

class ReductionLowering {
public:
  ReductionLowering(linalg::LinalgOp op) : op(op), loc(op.getLoc()) {}

  void build(OpBuilder &b) {
    SmallVector<Range, 4> ranges = op.createLoopRanges(b, loc);
    for (Range &range : ranges)
      sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, range.size));
    ivs.assign(sizes.size(), Value());
    unsigned parallel = op.getNumParallelLoops();
    if (parallel == 0) {
      buildElement(b);
      return;
    }
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    scf::ParallelOp::create(
        b, loc, SmallVector<Value>(parallel, zero),
        ArrayRef(sizes).take_front(parallel), SmallVector<Value>(parallel, one),
        [&](OpBuilder &pb, Location, ValueRange parallelIvs) {
          llvm::copy(parallelIvs, ivs.begin());
          buildElement(pb);
        });
  }

private:
  /// Loads the partial results of the current output elements, runs the
  /// reduction loops over them and stores them.
  void buildElement(OpBuilder &b) {
    SmallVector<Value> initial;
    for (OpOperand &init : op.getDpsInitsMutable())
      initial.push_back(memref::LoadOp::create(
          b, loc, init.get(), indices(b, op.getMatchingIndexingMap(&init))));
    ValueRange results = buildLoop(b, op.getNumParallelLoops(), initial);
    for (auto [init, result] :
         llvm::zip(op.getDpsInitsMutable(), results))
      memref::StoreOp::create(b, loc, result, init.get(),
                              indices(b, op.getMatchingIndexingMap(&init)));
  }

  /// The loop over reduction dim `dim` and those inside it.
  ValueRange buildLoop(OpBuilder &b, unsigned dim, ValueRange partial) {
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto loop = scf::ForOp::create(
        b, loc, zero, sizes[dim], one, partial,
        [&](OpBuilder &lb, Location, Value iv, ValueRange accumulators) {
          ivs[dim] = iv;
          SmallVector<Value> updated =
              dim + 1 == sizes.size()
                  ? buildBody(lb, accumulators)
                  : llvm::to_vector(buildLoop(lb, dim + 1, accumulators));
          scf::YieldOp::create(lb, loc, updated);
        });
    return loop.getResults();
  }

  /// The op's body on the loaded inputs and the partial results.
  SmallVector<Value> buildBody(OpBuilder &b, ValueRange accumulators) {
    IRMapping mapping;
    Block *body = op.getBlock();
    for (OpOperand *input : op.getDpsInputOperands()) {
      BlockArgument arg = op.getMatchingBlockArgument(input);
      Value value = input->get();
      mapping.map(arg, isa<MemRefType>(value.getType())
                           ? memref::LoadOp::create(
                                 b, loc, value,
                                 indices(b, op.getMatchingIndexingMap(input)))
                                 .getResult()
                           : value);
    }
    for (auto [init, acc] : llvm::zip(op.getDpsInitsMutable(), accumulators))
      mapping.map(op.getMatchingBlockArgument(&init), acc);
    Block *current = b.getInsertionBlock();
    for (Operation &nested : body->without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(nested)) {
        mapping.map(index.getResult(), ivs[index.getDim()]);
        continue;
      }
      b.clone(nested, mapping);
    }
    for (Value acc : accumulators)
      allowReassociation(acc, current);
    SmallVector<Value> results;
    for (Value yielded : body->getTerminator()->getOperands())
      results.push_back(mapping.lookupOrDefault(yielded));
    return results;
  }

  SmallVector<Value> indices(OpBuilder &b, AffineMap map) {
    std::optional<SmallVector<Value, 8>> values =
        affine::expandAffineMap(b, loc, map, ivs);
    return SmallVector<Value>(values->begin(), values->end());
  }

  linalg::LinalgOp op;
  Location loc;
  SmallVector<Value> sizes; // of every loop dim
  SmallVector<Value> ivs;   // the current value of every loop dim
};

struct QuarcLowerReductions
    : impl::QuarcLowerReductionsBase<QuarcLowerReductions> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> reductions;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isInnerReduction(op))
        reductions.push_back(op);
    });
    for (linalg::LinalgOp op : reductions) {
      OpBuilder b(op);
      ReductionLowering(op).build(b);
      op->erase();
    }
  }
};

} // namespace
} // namespace mlir::quarc
