//===- CollapseElementwiseDims.cpp - elementwise loops over fewer dims ----===//
//
// An elementwise generic on a 14 x 14 feature map runs as loops whose
// innermost trip count is 14: too short for the LLVM vectorizer, which
// then leaves the whole body scalar (a ResNet residual Add with its two
// requantizations, i64 multiplies, was a fifth of the int8 model's time).
// Merging the trailing dims that every operand walks contiguously gives
// one loop of 196 that it vectorizes.
//
//===----------------------------------------------------------------------===//

#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCCOLLAPSEELEMENTWISEDIMS
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// How operand `operand` of `op` reads the merged dims `group`: the
/// reassociation of its buffer's dims (the group's consecutive results
/// merged), or none when it does not use them.
std::optional<SmallVector<ReassociationIndices>>
getOperandReassociation(linalg::GenericOp op, OpOperand &operand,
                        ArrayRef<int64_t> group) {
  AffineMap map = op.getMatchingIndexingMap(&operand);
  SmallVector<int64_t> positions;
  for (int64_t dim : group)
    if (std::optional<unsigned> position =
            map.getResultPosition(getAffineDimExpr(dim, op.getContext())))
      positions.push_back(*position);
  if (positions.empty())
    return std::nullopt;
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t r = 0, e = map.getNumResults(); r < e; ++r) {
    if (r > positions.front() && r <= positions.back())
      reassociation.back().push_back(r);
    else
      reassociation.push_back({r});
  }
  return reassociation;
}

/// Whether `op` can run over its trailing loop dims `group` merged: every
/// operand walks them as consecutive results (or not at all) of a buffer
/// contiguous along them, and the body does not read loop indices.
bool canCollapse(linalg::GenericOp op, ArrayRef<int64_t> group) {
  if (!op.getRegion().front().getOps<linalg::IndexOp>().empty() ||
      !linalg::areDimSequencesPreserved(op.getIndexingMapsArray(),
                                        {ReassociationIndices(group)}))
    return false;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type)
      return false;
    // Plain dims and constants only (not a reversed Slice's `c - d`), and
    // all of the group or none of it.
    AffineMap map = op.getMatchingIndexingMap(&operand);
    int64_t used = 0;
    for (AffineExpr result : map.getResults()) {
      if (isa<AffineConstantExpr>(result))
        continue;
      auto dim = dyn_cast<AffineDimExpr>(result);
      if (!dim)
        return false;
      used += llvm::is_contained(group, int64_t(dim.getPosition()));
    }
    if (used != 0 && used != int64_t(group.size()))
      return false;
    // In order and adjacent among the results: no constant (a broadcast
    // dim of size 1) between them. Checked here rather than trusting
    // areDimSequencesPreserved, which let (d0, d1, 0, d2) through for the
    // group (d1, d2) in some runs and not in others.
    if (used != 0) {
      std::optional<unsigned> first = map.getResultPosition(
          getAffineDimExpr(group.front(), op.getContext()));
      for (auto [i, dim] : llvm::enumerate(group))
        if (!first || map.getResultPosition(getAffineDimExpr(
                          dim, op.getContext())) != *first + i)
          return false;
    }
    std::optional<SmallVector<ReassociationIndices>> reassociation =
        getOperandReassociation(op, operand, group);
    if (reassociation &&
        !memref::CollapseShapeOp::isGuaranteedCollapsible(type, *reassociation))
      return false;
  }
  return true;
}

/// `map` over the loop dims with `group` (trailing) merged into its first.
AffineMap collapseMap(AffineMap map, ArrayRef<int64_t> group) {
  MLIRContext *context = map.getContext();
  int64_t first = group.front();
  SmallVector<AffineExpr> results;
  for (AffineExpr result : map.getResults()) {
    auto dim = dyn_cast<AffineDimExpr>(result);
    if (dim && int64_t(dim.getPosition()) > first)
      continue; // merged into the group's first dim
    results.push_back(result);
  }
  return AffineMap::get(first + 1, 0, results, context);
}

/// `op` over its trailing loop dims `group` merged, on views of its
/// buffers.
void collapse(linalg::GenericOp op, ArrayRef<int64_t> group) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Value> operands;
  SmallVector<AffineMap> maps;
  for (OpOperand &operand : op->getOpOperands()) {
    Value value = operand.get();
    if (std::optional<SmallVector<ReassociationIndices>> reassociation =
            getOperandReassociation(op, operand, group))
      value = memref::CollapseShapeOp::create(b, loc, value, *reassociation);
    operands.push_back(value);
    maps.push_back(collapseMap(op.getMatchingIndexingMap(&operand), group));
  }
  int64_t inputs = op.getNumDpsInputs();
  SmallVector<utils::IteratorType> iterators(group.front() + 1,
                                             utils::IteratorType::parallel);
  auto collapsed = linalg::GenericOp::create(
      b, loc, TypeRange{}, ArrayRef(operands).take_front(inputs),
      ArrayRef(operands).drop_front(inputs), maps, iterators);
  collapsed.getRegion().takeBody(op.getRegion());
  op.erase();
}

/// The longest run of trailing loop dims (at least two) that `op` can
/// merge, or empty.
ReassociationIndices getCollapsibleTail(linalg::GenericOp op) {
  int64_t rank = op.getNumLoops();
  for (int64_t start = 0; start + 1 < rank; ++start) {
    ReassociationIndices group =
        llvm::to_vector(llvm::seq<int64_t>(start, rank));
    if (canCollapse(op, group))
      return group;
  }
  return {};
}

struct QuarcCollapseElementwiseDims
    : impl::QuarcCollapseElementwiseDimsBase<QuarcCollapseElementwiseDims> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> elementwise;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op.hasPureBufferSemantics() && op.getNumLoops() >= 2 &&
          op.getNumParallelLoops() == op.getNumLoops())
        elementwise.push_back(op);
    });
    for (linalg::GenericOp op : elementwise) {
      ReassociationIndices tail = getCollapsibleTail(op);
      if (!tail.empty())
        collapse(op, tail);
    }
  }
};

} // namespace
} // namespace mlir::quarc
