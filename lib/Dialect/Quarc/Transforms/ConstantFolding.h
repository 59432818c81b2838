//===- ConstantFolding.h - evaluate quarc ops on constants -----*- C++ -*-===//

#ifndef QUARC_LIB_DIALECT_QUARC_TRANSFORMS_CONSTANTFOLDING_H
#define QUARC_LIB_DIALECT_QUARC_TRANSFORMS_CONSTANTFOLDING_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::quarc {

/// Replaces every op of `func` whose operands are all constants (and whose
/// result has at most `maxElements` elements) by a `quarc.constant`, for the
/// ops the evaluator knows; repeats until nothing folds. Returns whether
/// anything changed.
bool foldConstantOps(func::FuncOp func, int64_t maxElements);

/// Makes `func`'s type agree with its block arguments and returned values
/// after they were refined in place.
void updateFunctionType(func::FuncOp func);

} // namespace mlir::quarc

#endif // QUARC_LIB_DIALECT_QUARC_TRANSFORMS_CONSTANTFOLDING_H
