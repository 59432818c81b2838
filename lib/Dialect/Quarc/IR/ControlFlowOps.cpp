//===- ControlFlowOps.cpp - If and Loop -----------------------------------===//

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

using namespace mlir;
using namespace mlir::quarc;

/// The values a single-block region yields, or failure.
static FailureOr<ValueRange> getYielded(std::optional<Location> loc,
                                        Region *region, StringRef what) {
  if (!region || region->empty())
    return emitOptionalError(loc, what, " is empty");
  auto yield = dyn_cast<YieldOp>(region->front().getTerminator());
  if (!yield)
    return emitOptionalError(loc, what, " must end in quarc.yield");
  return ValueRange(yield.getOperands());
}

/// The most static type both `a` and `b` refine, or failure.
static FailureOr<Type> joinTypes(std::optional<Location> loc, Type a, Type b,
                                 unsigned index) {
  if (a == b)
    return a;
  auto ta = dyn_cast<RankedTensorType>(a), tb = dyn_cast<RankedTensorType>(b);
  if (!ta || !tb || ta.getElementType() != tb.getElementType() ||
      ta.getRank() != tb.getRank())
    return emitOptionalError(loc, "branches yield different types for output ",
                             index, ": ", a, " and ", b);
  SmallVector<int64_t> shape;
  for (auto [da, db] : llvm::zip(ta.getShape(), tb.getShape()))
    shape.push_back(da == db ? da : ShapedType::kDynamic);
  return Type(RankedTensorType::get(shape, ta.getElementType()));
}

LogicalResult IfOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                     Adaptor adaptor,
                                     SmallVectorImpl<Type> &types) {
  RegionRange regions = adaptor.getRegions();
  if (regions.size() != 2)
    return emitOptionalError(loc, "needs a then and an else region");
  FailureOr<ValueRange> thenValues = getYielded(loc, regions[0], "then_branch");
  FailureOr<ValueRange> elseValues = getYielded(loc, regions[1], "else_branch");
  if (failed(thenValues) || failed(elseValues))
    return failure();
  if (thenValues->size() != elseValues->size())
    return emitOptionalError(loc, "then_branch yields ", thenValues->size(),
                             " values, else_branch ", elseValues->size());
  for (auto [i, pair] :
       llvm::enumerate(llvm::zip(thenValues->getTypes(),
                                 elseValues->getTypes()))) {
    FailureOr<Type> joined =
        joinTypes(loc, std::get<0>(pair), std::get<1>(pair), i);
    if (failed(joined))
      return failure();
    types.push_back(*joined);
  }
  return success();
}

LogicalResult IfOp::verify() {
  auto type = getCond().getType();
  if (type.hasStaticShape() && type.getNumElements() != 1)
    return emitOpError("cond must have exactly one element");
  return success();
}

LogicalResult LoopOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  RegionRange regions = adaptor.getRegions();
  if (regions.size() != 1)
    return emitOptionalError(loc, "needs a body region");
  FailureOr<ValueRange> yielded = getYielded(loc, regions[0], "body");
  if (failed(yielded))
    return failure();
  size_t carried = adaptor.getVInitial().size();
  if (yielded->size() < carried + 1)
    return emitOptionalError(loc, "body yields ", yielded->size(),
                             " values, needs at least ", carried + 1,
                             " (condition and carried values)");
  for (size_t i = 0; i < carried; ++i) {
    FailureOr<Type> joined =
        joinTypes(loc, adaptor.getVInitial()[i].getType(),
                  (*yielded)[i + 1].getType(), i);
    if (failed(joined))
      return failure();
    types.push_back(*joined);
  }
  for (Value scan : yielded->drop_front(carried + 1)) {
    auto type = dyn_cast<RankedTensorType>(scan.getType());
    if (!type)
      return emitOptionalError(loc, "scan outputs must be ranked tensors");
    SmallVector<int64_t> shape = {ShapedType::kDynamic};
    llvm::append_range(shape, type.getShape());
    types.push_back(RankedTensorType::get(shape, type.getElementType()));
  }
  return success();
}

LogicalResult LoopOp::verify() {
  Block &body = getBody().front();
  size_t carried = getVInitial().size();
  if (body.getNumArguments() != carried + 2)
    return emitOpError("body must take the iteration number, the condition "
                       "and ")
           << carried << " carried values, has " << body.getNumArguments()
           << " arguments";
  return success();
}
