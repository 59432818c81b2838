//===- Passes.h - graph-level passes on the quarc dialect ------*- C++ -*-===//

#ifndef QUARC_DIALECT_QUARC_TRANSFORMS_PASSES_H
#define QUARC_DIALECT_QUARC_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
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

/// The rewrites of quarc-fold-batchnorm: BatchNormalization into a preceding
/// Conv, ConvTranspose, Gemm or MatMul with constant weights.
void populateFoldBatchNormPatterns(RewritePatternSet &patterns);

/// The rewrites of quarc-simplify-layout: compile-time transposes of
/// constants and Gemm operands, unit-dim transposes as reshapes, reshape
/// chains as one reshape.
void populateSimplifyLayoutPatterns(RewritePatternSet &patterns);

} // namespace mlir::quarc

#endif // QUARC_DIALECT_QUARC_TRANSFORMS_PASSES_H
