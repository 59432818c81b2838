//===- RNNOps.cpp - LSTM, GRU and RNN type inference ----------------------===//

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

using namespace mlir;
using namespace mlir::quarc;

/// Y, Y_h (and Y_c, if `withCell`) of a recurrent layer over X.
template <typename Adaptor>
static LogicalResult inferRecurrent(std::optional<Location> loc,
                                    Adaptor adaptor, bool withCell,
                                    SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> x = getRankedType(loc, adaptor.getX(), "X");
  if (failed(x))
    return failure();
  if (x->getRank() != 3)
    return emitOptionalError(loc, "X must be 3-D");
  StringRef direction = adaptor.getDirection();
  if (direction != "forward" && direction != "reverse" &&
      direction != "bidirectional")
    return emitOptionalError(loc, "unknown direction '", direction,
                             "' (expected forward, reverse or bidirectional)");
  int64_t directions = direction == "bidirectional" ? 2 : 1;
  int64_t hidden = adaptor.getHiddenSize();
  if (hidden < 1)
    return emitOptionalError(loc, "hidden_size must be positive");
  bool batchFirst = adaptor.getLayout() != 0;
  int64_t seq = x->getDimSize(batchFirst ? 1 : 0);
  int64_t batch = x->getDimSize(batchFirst ? 0 : 1);
  Type element = x->getElementType();
  SmallVector<int64_t> y = batchFirst
                               ? SmallVector<int64_t>{batch, seq, directions, hidden}
                               : SmallVector<int64_t>{seq, directions, batch, hidden};
  SmallVector<int64_t> last = batchFirst
                                  ? SmallVector<int64_t>{batch, directions, hidden}
                                  : SmallVector<int64_t>{directions, batch, hidden};
  types.push_back(RankedTensorType::get(y, element));
  types.push_back(RankedTensorType::get(last, element));
  if (withCell)
    types.push_back(RankedTensorType::get(last, element));
  return success();
}

LogicalResult LSTMOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  return inferRecurrent(loc, adaptor, /*withCell=*/true, types);
}

LogicalResult GRUOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  return inferRecurrent(loc, adaptor, /*withCell=*/false, types);
}

LogicalResult RNNOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  return inferRecurrent(loc, adaptor, /*withCell=*/false, types);
}
