//===- Passes.h - CPU code generation passes -------------------*- C++ -*-===//

#ifndef QUARC_TARGET_CPU_PASSES_H
#define QUARC_TARGET_CPU_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::quarc {

#define GEN_PASS_DECL
#include "quarc/Target/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quarc/Target/CPU/Passes.h.inc"

} // namespace mlir::quarc

#endif // QUARC_TARGET_CPU_PASSES_H
