//===- Activations.h - scalar bodies of activation functions ---*- C++ -*-===//
//
// The activation functions that the elementwise ops (Sigmoid, HardSigmoid,
// LeakyRelu, ...) and the gates of the recurrent layers (LSTM, GRU, RNN)
// both compute, as scalar arithmetic on one float value, built once.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_CONVERSION_QUARCTOLINALG_ACTIVATIONS_H
#define QUARC_LIB_CONVERSION_QUARCTOLINALG_ACTIVATIONS_H

#include "mlir/IR/Builders.h"

namespace mlir::quarc {

/// 1 / (1 + exp(-x)).
Value createSigmoid(OpBuilder &b, Location loc, Value x);
/// max(x, 0).
Value createRelu(OpBuilder &b, Location loc, Value x);
/// min(max(alpha * x + beta, 0), 1).
Value createHardSigmoid(OpBuilder &b, Location loc, Value x, double alpha,
                        double beta);
/// x < 0 ? alpha * x : x.
Value createLeakyRelu(OpBuilder &b, Location loc, Value x, double alpha);
/// x < 0 ? alpha * (exp(x) - 1) : x.
Value createElu(OpBuilder &b, Location loc, Value x, double alpha);
/// log(1 + exp(x)).
Value createSoftplus(OpBuilder &b, Location loc, Value x);

} // namespace mlir::quarc

#endif // QUARC_LIB_CONVERSION_QUARCTOLINALG_ACTIVATIONS_H
