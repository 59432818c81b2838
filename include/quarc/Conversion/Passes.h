//===- Passes.h - quarc conversion passes ----------------------*- C++ -*-===//

#ifndef QUARC_CONVERSION_PASSES_H
#define QUARC_CONVERSION_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::quarc {

#define GEN_PASS_DECL
#include "quarc/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quarc/Conversion/Passes.h.inc"

} // namespace mlir::quarc

#endif // QUARC_CONVERSION_PASSES_H
