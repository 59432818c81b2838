//===- NNLoweringUtils.h - shared by NN and matmul lowerings --*- C++ -*-===//
//
// Broadcasting a bias into the accumulator a named linalg op starts from
// (convolution bias, Gemm's C). Defined in NNToLinalg.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_CONVERSION_QUARCTOLINALG_NNLOWERINGUTILS_H
#define QUARC_LIB_CONVERSION_QUARCTOLINALG_NNLOWERINGUTILS_H

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlir::quarc {

/// A new tensor of `type` holding `source` read through `map` (a
/// broadcast): the accumulator a named op adds its products to, so a bias
/// costs no separate pass. `scale`, when set, multiplies every element.
Value broadcastInto(OpBuilder &b, Location loc, RankedTensorType type,
                    ValueRange dynamicSizes, Value source, AffineMap map,
                    std::optional<double> scale = std::nullopt);

} // namespace mlir::quarc

#endif // QUARC_LIB_CONVERSION_QUARCTOLINALG_NNLOWERINGUTILS_H
