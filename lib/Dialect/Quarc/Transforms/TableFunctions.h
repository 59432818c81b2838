//===- TableFunctions.h - elementwise functions evaluated at compile time -*- C++ -*-===//
//
// An elementwise function of one 8-bit tensor has only 256 inputs, so a
// chain of float elementwise ops on it (Sigmoid, HardSwish, Gelu as
// x * 0.5 * (1 + erf(x / sqrt 2)), x * sigmoid(x), ...) is one table
// (quarc.lut). This is what quarc-quantize (which tensors to quantize)
// and quarc-fold-qdq (building the table) share: which ops qualify, and
// their scalar value per ONNX, rounded to f32 after every op as the float
// code would round.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_DIALECT_QUARC_TRANSFORMS_TABLEFUNCTIONS_H
#define QUARC_LIB_DIALECT_QUARC_TRANSFORMS_TABLEFUNCTIONS_H

#include "mlir/IR/Operation.h"

#include <optional>

namespace mlir::quarc {

/// Whether `op` is an elementwise float op that evaluateTableFunction can
/// evaluate: f32 operands and result, parameters in attributes, and every
/// operand that is not `x` a one-element constant (checked by the callers,
/// which know which operand is `x`).
bool isTableFunction(Operation *op);

/// A one-element f32 constant, as a double; nullopt for anything else.
std::optional<double> getScalarConstant(Value value);

/// The value of table function `op` at scalar operands (one per operand of
/// `op`, nullopt for an absent `none` operand), rounded to f32 (NaN where
/// the float op gives NaN); nullopt for an op that is no table function or
/// a missing operand.
std::optional<double> evaluateTableFunction(
    Operation *op, ArrayRef<std::optional<double>> operands);

} // namespace mlir::quarc

#endif // QUARC_LIB_DIALECT_QUARC_TRANSFORMS_TABLEFUNCTIONS_H
