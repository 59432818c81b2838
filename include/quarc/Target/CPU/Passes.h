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
/// On the function quarc-externalize-weights gave a weights argument: its
/// size in bytes and its contents (a dense_resource tensor of i8), both
/// kept through the lowering to the LLVM dialect.
constexpr llvm::StringLiteral kWeightsBytesAttr = "quarc.weights_bytes";
constexpr llvm::StringLiteral kWeightsDataAttr = "quarc.weights_data";
/// On that function's weights argument.
constexpr llvm::StringLiteral kWeightsArgAttr = "quarc.weights";

#define GEN_PASS_DECL
#include "quarc/Target/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quarc/Target/CPU/Passes.h.inc"

} // namespace mlir::quarc

#endif // QUARC_TARGET_CPU_PASSES_H
