//===- KernelCoverage.h - what the CPU kernels cannot take ------*- C++ -*-===//
//
// quarc's vectorized kernels need static image sizes and static matrix
// sizes (only a batch may be dynamic). A model compiled with other sizes
// left dynamic still compiles, to generic loops that run tens of times
// slower: the user must hear it at compile time.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_COMPILER_KERNELCOVERAGE_H
#define QUARC_LIB_COMPILER_KERNELCOVERAGE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::quarc {

/// A warning when f32 convolutions or matrix products of `func` (the
/// graph, after shape specialization) have dynamic sizes other than a
/// convolution's batch or a product's rows and batch: how many, the first one's ONNX node, the dynamic graph inputs and
/// the `--input-shape` flag that fixes them. nullopt when there are none.
std::optional<std::string> getDynamicKernelSizesWarning(func::FuncOp func);

} // namespace mlir::quarc

#endif // QUARC_LIB_COMPILER_KERNELCOVERAGE_H
