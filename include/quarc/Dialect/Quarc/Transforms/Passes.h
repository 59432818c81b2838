//===- Passes.h - graph-level passes on the quarc dialect ------*- C++ -*-===//

#ifndef QUARC_DIALECT_QUARC_TRANSFORMS_PASSES_H
#define QUARC_DIALECT_QUARC_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::quarc {

#define GEN_PASS_DECL
#include "quarc/Dialect/Quarc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quarc/Dialect/Quarc/Transforms/Passes.h.inc"

/// Parses one `NAME=D0xD1x...` shape (a `?` for a dynamic dim). Returns
/// failure with `error` set on bad syntax.
LogicalResult parseInputShape(StringRef spec, std::string &name,
                              SmallVectorImpl<int64_t> &shape,
                              std::string &error);

/// Refines the result types of every op in `func` from its operands'
/// types (and constant operands), in order; updates the function's result
/// types. Returns whether anything changed, or failure after an op's shape
/// inference reported an error.
FailureOr<bool> refineShapes(func::FuncOp func);

} // namespace mlir::quarc

#endif // QUARC_DIALECT_QUARC_TRANSFORMS_PASSES_H
