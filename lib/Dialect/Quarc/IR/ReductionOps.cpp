//===- ReductionOps.cpp - Reduce* and Arg* type inference -----------------===//

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

using namespace mlir;
using namespace mlir::quarc;

/// The shape after reducing `axes` of `shape` (all dims if `axes` is empty).
static SmallVector<int64_t> reducedShape(ArrayRef<int64_t> shape,
                                         ArrayRef<int64_t> axes, bool keepdims) {
  SmallVector<int64_t> result;
  for (auto [i, dim] : llvm::enumerate(shape)) {
    bool reduced = axes.empty() || llvm::is_contained(axes, int64_t(i));
    if (!reduced)
      result.push_back(dim);
    else if (keepdims)
      result.push_back(1);
  }
  return result;
}

template <typename Adaptor>
static LogicalResult inferReduce(std::optional<Location> loc, Adaptor adaptor,
                                 SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> data =
      getRankedType(loc, adaptor.getData(), "data");
  if (failed(data))
    return failure();
  int64_t rank = data->getRank();
  bool keepdims = adaptor.getKeepdims() != 0;
  SmallVector<int64_t> axes;
  if (!isNone(adaptor.getAxes())) {
    std::optional<SmallVector<int64_t>> values =
        getConstantIntValues(adaptor.getAxes());
    if (!values) {
      // Unknown axes: every dim may be reduced. Without keepdims the result
      // rank needs the (static, non-zero) number of axes.
      int64_t resultRank = rank;
      if (!keepdims) {
        auto axesType = dyn_cast<RankedTensorType>(adaptor.getAxes().getType());
        if (!axesType || axesType.getRank() != 1 || axesType.isDynamicDim(0) ||
            axesType.getDimSize(0) == 0 || axesType.getDimSize(0) > rank)
          return emitOptionalError(loc, "with keepdims 0, non-constant axes "
                                        "need a static, non-zero length");
        resultRank = rank - axesType.getDimSize(0);
      }
      types.push_back(RankedTensorType::get(
          SmallVector<int64_t>(resultRank, ShapedType::kDynamic),
          data->getElementType()));
      return success();
    }
    for (int64_t axis : *values) {
      FailureOr<int64_t> normalized = normalizeAxis(loc, axis, rank, "axis");
      if (failed(normalized))
        return failure();
      axes.push_back(*normalized);
    }
  }
  if (axes.empty() && adaptor.getNoopWithEmptyAxes()) {
    types.push_back(*data);
    return success();
  }
  types.push_back(RankedTensorType::get(
      reducedShape(data->getShape(), axes, keepdims), data->getElementType()));
  return success();
}

#define QUARC_REDUCE_INFERENCE(Op)                                             \
  LogicalResult Op::inferReturnTypes(MLIRContext *,                            \
                                     std::optional<Location> loc,              \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &types) {           \
    return inferReduce(loc, adaptor, types);                                   \
  }
QUARC_REDUCE_INFERENCE(ReduceMeanOp)
QUARC_REDUCE_INFERENCE(ReduceSumOp)
QUARC_REDUCE_INFERENCE(ReduceMaxOp)
QUARC_REDUCE_INFERENCE(ReduceMinOp)
QUARC_REDUCE_INFERENCE(ReduceProdOp)
QUARC_REDUCE_INFERENCE(ReduceL2Op)
#undef QUARC_REDUCE_INFERENCE

template <typename Adaptor>
static LogicalResult inferArgReduce(MLIRContext *context,
                                    std::optional<Location> loc,
                                    Adaptor adaptor,
                                    SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> data =
      getRankedType(loc, adaptor.getData(), "data");
  if (failed(data))
    return failure();
  FailureOr<int64_t> axis =
      normalizeAxis(loc, adaptor.getAxis(), data->getRank(), "axis");
  if (failed(axis))
    return failure();
  types.push_back(RankedTensorType::get(
      reducedShape(data->getShape(), {*axis}, adaptor.getKeepdims() != 0),
      IntegerType::get(context, 64)));
  return success();
}

LogicalResult ArgMaxOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return inferArgReduce(context, loc, adaptor, types);
}

LogicalResult ArgMinOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return inferArgReduce(context, loc, adaptor, types);
}
