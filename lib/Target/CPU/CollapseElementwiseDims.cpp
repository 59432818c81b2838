//===- CollapseElementwiseDims.cpp - elementwise loops over fewer dims ----===//
//
// An elementwise generic on a 14 x 14 feature map runs as loops whose
// innermost trip count is 14: too short for the LLVM vectorizer, which
// then leaves the whole body scalar (a ResNet residual Add with its two
// requantizations, i64 multiplies, was a fifth of the int8 model's time).
// Merging the trailing dims that every operand walks contiguously gives
// one loop of 196 that it vectorizes. The same holds for the reduced dims
// of a reduction (a global average pool's sums over H x W).
//
//===----------------------------------------------------------------------===//

#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCCOLLAPSEELEMENTWISEDIMS
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// Where `map` reads the loop dims `group`: the position among its results
/// of the first of them, when it reads all of them as adjacent results in
/// order; nullopt when it reads none of them. Failure for anything else,
/// and for results that are neither dims nor constants (a reversed Slice's
/// `c - d`). (Upstream's areDimSequencesPreserved let (d0, d1, 0, d2)
/// through for the group (d1, d2) in some runs and not in others.)
FailureOr<std::optional<int64_t>> getGroupPosition(AffineMap map,
                                                   ArrayRef<int64_t> group) {
  int64_t used = 0;
  for (AffineExpr result : map.getResults()) {
    if (isa<AffineConstantExpr>(result))
      continue;
    auto dim = dyn_cast<AffineDimExpr>(result);
    if (!dim)
      return failure();
    used += llvm::is_contained(group, int64_t(dim.getPosition()));
  }
  if (used == 0)
    return std::optional<int64_t>();
  MLIRContext *context = map.getContext();
  std::optional<unsigned> first =
      map.getResultPosition(getAffineDimExpr(group.front(), context));
  if (used != int64_t(group.size()) || !first)
    return failure();
  for (auto [i, dim] : llvm::enumerate(group))
    if (map.getResultPosition(getAffineDimExpr(dim, context)) != *first + i)
      return failure();
  return std::optional<int64_t>(*first);
}

/// The reassociation of a buffer of `rank` dims with the `count` dims from
/// `start` merged.
SmallVector<ReassociationIndices> mergeDims(int64_t rank, int64_t start,
                                            int64_t count) {
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t d = 0; d < rank; ++d) {
    if (d > start && d < start + count)
      reassociation.back().push_back(d);
    else
      reassociation.push_back({d});
  }
  return reassociation;
}

/// Whether `op` can run over its trailing loop dims `group` merged: every
/// operand reads them as adjacent results (or not at all) of a buffer
/// contiguous along them, and the body does not read loop indices.
bool canCollapse(linalg::GenericOp op, ArrayRef<int64_t> group) {
  if (!op.getRegion().front().getOps<linalg::IndexOp>().empty())
    return false;
  for (OpOperand &operand : op->getOpOperands()) {
    FailureOr<std::optional<int64_t>> position =
        getGroupPosition(op.getMatchingIndexingMap(&operand), group);
    if (failed(position))
      return false;
    if (!*position)
      continue; // a per-channel parameter, a fill's scalar
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !memref::CollapseShapeOp::isGuaranteedCollapsible(
                     type, mergeDims(type.getRank(), **position, group.size())))
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
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (std::optional<int64_t> position = *getGroupPosition(map, group))
      value = memref::CollapseShapeOp::create(
          b, loc, value,
          mergeDims(cast<MemRefType>(value.getType()).getRank(), *position,
                    group.size()));
    operands.push_back(value);
    maps.push_back(collapseMap(map, group));
  }
  int64_t inputs = op.getNumDpsInputs();
  // The dims before the group keep their kinds; the merged one has the
  // group's (all parallel, or all reduction).
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  iterators.resize(group.front() + 1);
  auto collapsed = linalg::GenericOp::create(
      b, loc, TypeRange{}, ArrayRef(operands).take_front(inputs),
      ArrayRef(operands).drop_front(inputs), maps, iterators);
  collapsed.getRegion().takeBody(op.getRegion());
  op.erase();
}

/// Whether every operand of `op` holds integers: merged dims change the
/// order in which LLVM adds a float reduction's elements (it may
/// reassociate them, quarc-lower-reductions), and a float model's
/// calibration ranges, which quarc calibrate measures by running it, would
/// move by an ulp, enough to put a quantized value one step over.
bool hasOnlyIntegerOperands(linalg::GenericOp op) {
  return llvm::all_of(op->getOperandTypes(), [](Type type) {
    return isa<IntegerType>(getElementTypeOrSelf(type));
  });
}

/// The longest run of trailing loop dims (at least two) of one kind that
/// `op` can merge, or empty: for an integer reduction, its reduction dims
/// (a float one is left as it is).
ReassociationIndices getCollapsibleTail(linalg::GenericOp op) {
  int64_t rank = op.getNumLoops();
  int64_t parallel = op.getNumParallelLoops();
  if (parallel != rank && !hasOnlyIntegerOperands(op))
    return {};
  for (int64_t start = parallel == rank ? 0 : parallel; start + 1 < rank;
       ++start) {
    ReassociationIndices group =
        llvm::to_vector(llvm::seq<int64_t>(start, rank));
    if (canCollapse(op, group))
      return group;
  }
  return {};
}

/// Whether `op`'s loop dims are parallel ones, then reduction ones (an
/// elementwise op has none of the latter; a global average pool's sums
/// reduce its trailing ones, which quarc-lower-reductions makes loops).
bool hasParallelThenReductionDims(linalg::GenericOp op) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  auto firstReduction = llvm::find(iterators, utils::IteratorType::reduction);
  return std::all_of(firstReduction, iterators.end(), [](auto iterator) {
    return iterator == utils::IteratorType::reduction;
  });
}

struct QuarcCollapseElementwiseDims
    : impl::QuarcCollapseElementwiseDimsBase<QuarcCollapseElementwiseDims> {
  void runOnOperation() override {
    // Fills and maps (a padded buffer's border value: tensor.pad
    // bufferizes to a linalg.map that yields it) as generics, so that they
    // are merged too: the kernels that fuse a fill into their accumulators
    // ran before.
    SmallVector<linalg::LinalgOp> named;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isa<linalg::FillOp, linalg::MapOp>(op) &&
          op.hasPureBufferSemantics() && op.getNumLoops() >= 2)
        named.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : named) {
      rewriter.setInsertionPoint(op);
      (void)linalg::generalizeNamedOp(rewriter, op);
    }
    SmallVector<linalg::GenericOp> elementwise;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op.hasPureBufferSemantics() && op.getNumLoops() >= 2 &&
          hasParallelThenReductionDims(op))
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
