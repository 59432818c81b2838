//===- KernelCoverage.cpp - what the CPU kernels cannot take --------------===//

#include "KernelCoverage.h"

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/TensorNames.h"


namespace mlir::quarc {

namespace {

bool isF32(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getElementType().isF32();
}

/// Whether `value`'s dims from `first` on (clamped to its rank) include a
/// dynamic one.
bool hasDynamicDimsFrom(Value value, int64_t first) {
  auto type = cast<RankedTensorType>(value.getType());
  return llvm::any_of(
      type.getShape().drop_front(std::clamp<int64_t>(first, 0, type.getRank())),
      ShapedType::isDynamic);
}

/// Whether the kernels would take `op` but for a dynamic size they cannot
/// take: a convolution's image (its batch is fine), a product's columns or
/// depth (its rows and batch dims are fine).
bool leavesKernelsForDynamicSize(Operation *op) {
  if (auto conv = dyn_cast<ConvOp>(op))
    return isF32(conv.getX()) && (hasDynamicDimsFrom(conv.getX(), 1) ||
                                  hasDynamicDimsFrom(conv.getY(), 1));
  if (auto conv = dyn_cast<ConvTransposeOp>(op))
    return isF32(conv.getX()) && (hasDynamicDimsFrom(conv.getX(), 1) ||
                                  hasDynamicDimsFrom(conv.getY(), 1));
  // A's depth (its last dim, or a transposed Gemm's first), B's depth
  // and columns.
  auto fromEnd = [](Value value, int64_t count) {
    auto type = cast<RankedTensorType>(value.getType());
    return hasDynamicDimsFrom(value, type.getRank() - count);
  };
  if (auto matmul = dyn_cast<MatMulOp>(op))
    return isF32(matmul.getA()) &&
           (fromEnd(matmul.getA(), 1) || fromEnd(matmul.getB(), 2));
  if (auto gemm = dyn_cast<GemmOp>(op))
    return isF32(gemm.getA()) &&
           (fromEnd(gemm.getA(), gemm.getTransA() ? 2 : 1) ||
            fromEnd(gemm.getB(), 2));
  return false;
}

/// "x (?x3x48x?)" for each graph input with a dynamic dim.
std::string describeDynamicInputs(func::FuncOp func) {
  std::string text;
  llvm::raw_string_ostream os(text);
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    auto type = dyn_cast<RankedTensorType>(func.getArgument(i).getType());
    if (!type || type.hasStaticShape())
      continue;
    auto name = func.getArgAttrOfType<StringAttr>(i, "quarc.name");
    os << (text.empty() ? "" : ", ") << "'"
       << (name ? name.getValue() : StringRef("?")) << "' (";
    llvm::interleave(
        type.getShape(), os,
        [&](int64_t dim) {
          if (ShapedType::isDynamic(dim))
            os << "?";
          else
            os << dim;
        },
        "x");
    os << ")";
  }
  return text;
}

} // namespace

std::optional<std::string> getDynamicKernelSizesWarning(func::FuncOp func) {
  Operation *first = nullptr;
  int64_t count = 0, total = 0;
  func.walk([&](Operation *op) {
    if (!isa<ConvOp, ConvTransposeOp, MatMulOp, GemmOp>(op))
      return;
    ++total;
    if (!leavesKernelsForDynamicSize(op))
      return;
    if (!first)
      first = op;
    ++count;
  });
  if (!first)
    return std::nullopt;
  std::string text;
  llvm::raw_string_ostream os(text);
  os << count << " of " << total
     << " convolutions and matrix products have dynamic sizes the "
        "vectorized kernels cannot take (only a convolution's batch and a "
        "product's rows and batch may be dynamic; the first: ONNX node";
  // A node folded into it (a BatchNormalization) is named too.
  SmallVector<StringRef> nodes = getNodeNames(first);
  os << (nodes.size() > 1 ? "s " : " ");
  llvm::interleaveComma(nodes, os,
                        [&](StringRef node) { os << "'" << node << "'"; });
  if (std::string inputs = describeDynamicInputs(func); !inputs.empty())
    os << "; inputs " << inputs;
  os << "): they run as generic loops, tens of times slower than quarc's "
        "vectorized kernels. Compile for the sizes you run with "
        "--input-shape NAME=D0xD1x...";
  return text;
}

} // namespace mlir::quarc
