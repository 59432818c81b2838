//===- Passes.h - CPU code generation passes -------------------*- C++ -*-===//

#ifndef QUARC_TARGET_CPU_PASSES_H
#define QUARC_TARGET_CPU_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::quarc {

/// Marks an scf.parallel a kernel generator built: iterations heavy enough
/// for quarc-parallelize-loops to split across threads whatever their count.
constexpr llvm::StringLiteral kKernelLoopAttr = "quarc.kernel";
/// On the function quarc-plan-memory gave a workspace: its size in bytes
/// (kept through the lowering to the LLVM dialect).
constexpr llvm::StringLiteral kWorkspaceBytesAttr = "quarc.workspace_bytes";
/// On that function's workspace argument.
constexpr llvm::StringLiteral kWorkspaceArgAttr = "quarc.workspace";

#define GEN_PASS_DECL
#include "quarc/Target/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quarc/Target/CPU/Passes.h.inc"

} // namespace mlir::quarc

#endif // QUARC_TARGET_CPU_PASSES_H
