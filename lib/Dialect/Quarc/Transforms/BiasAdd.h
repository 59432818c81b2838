//===- BiasAdd.h - biases exported as a separate Add (private) --*- C++ -*-===//
//
// Exporters often write a layer's bias as an Add of a constant after the
// convolution or matrix product (a MatMul has no bias input; PaddlePaddle
// writes its convolution biases so too). An integer contraction takes such
// a constant into its int32 bias, so the Add costs nothing and the
// contraction's output goes on to the next integer op. quarc-quantize and
// quarc-fold-qdq share this recognizer.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_DIALECT_QUARC_TRANSFORMS_BIASADD_H
#define QUARC_LIB_DIALECT_QUARC_TRANSFORMS_BIASADD_H

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

namespace mlir::quarc {

/// An Add of a constant along a contraction's output channels.
struct BiasAdd {
  AddOp add;
  SmallVector<double> values; // one per output channel
};

/// The output channels of a contraction: the dim of its result they are
/// along, and how many (Conv: dim 1, W's dim 0; MatMul and Gemm: the last
/// dim, B's columns). nullopt for any other op.
std::optional<std::pair<int64_t, int64_t>> getOutputChannels(Operation *op);

/// The Add that is the only user of `result` (the result of contraction
/// `op`) and adds an f32 constant of one value per output channel
/// (broadcast along every other dim) or one value in all, without
/// broadcasting the result to a larger shape.
std::optional<BiasAdd> getBiasAdd(Operation *op, Value result);

} // namespace mlir::quarc

#endif // QUARC_LIB_DIALECT_QUARC_TRANSFORMS_BIASADD_H
