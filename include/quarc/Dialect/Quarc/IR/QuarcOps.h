//===- QuarcOps.h - quarc ops -----------------------------------*- C++ -*-===//

#ifndef QUARC_DIALECT_QUARC_IR_QUARCOPS_H
#define QUARC_DIALECT_QUARC_IR_QUARCOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "quarc/Dialect/Quarc/IR/QuarcDialect.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"

#define GET_OP_CLASSES
#include "quarc/Dialect/Quarc/IR/QuarcOps.h.inc"

namespace mlir::quarc {

/// The runtime function `quarc.observe` lowers to a call of:
/// `void quarc_observe(int64_t index, int64_t rank, void *descriptor)` in C,
/// the descriptor being that of a `memref<*xf32>`.
constexpr llvm::StringLiteral kObserveCallback = "quarc_observe";
/// The module attribute listing the observed tensors' names by index.
constexpr llvm::StringLiteral kObservedTensorsAttr = "quarc.observed_tensors";
/// A unit attribute on an op that the quantization passes must leave in
/// float, whatever their options say (set by rules outside quarc, such as
/// a pass plugin's).
constexpr llvm::StringLiteral kKeepFloatAttr = "quarc.keep_float";

} // namespace mlir::quarc

#endif // QUARC_DIALECT_QUARC_IR_QUARCOPS_H
