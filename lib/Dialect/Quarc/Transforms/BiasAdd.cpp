//===- BiasAdd.cpp - biases exported as a separate Add --------------------===//

#include "BiasAdd.h"

namespace mlir::quarc {

std::optional<std::pair<int64_t, int64_t>> getOutputChannels(Operation *op) {
  auto dimOf = [](Value value, int64_t dim) {
    return cast<RankedTensorType>(value.getType()).getDimSize(dim);
  };
  auto resultRank =
      cast<RankedTensorType>(op->getResult(0).getType()).getRank();
  if (auto conv = dyn_cast<ConvOp>(op))
    return std::make_pair(int64_t(1), dimOf(conv.getW(), 0));
  if (auto matmul = dyn_cast<MatMulOp>(op)) {
    auto b = cast<RankedTensorType>(matmul.getB().getType());
    return std::make_pair(resultRank - 1, b.getDimSize(b.getRank() - 1));
  }
  if (auto gemm = dyn_cast<GemmOp>(op))
    return std::make_pair(resultRank - 1,
                          dimOf(gemm.getB(), gemm.getTransB() != 0 ? 0 : 1));
  return std::nullopt;
}

std::optional<BiasAdd> getBiasAdd(Operation *op, Value result) {
  std::optional<std::pair<int64_t, int64_t>> channels = getOutputChannels(op);
  if (!channels || ShapedType::isDynamic(channels->second) ||
      !result.hasOneUse())
    return std::nullopt;
  auto add = dyn_cast<AddOp>(*result.getUsers().begin());
  if (!add || add.getType() != result.getType())
    return std::nullopt;
  Value constant = add.getA() == result ? add.getB() : add.getA();
  auto type = dyn_cast<RankedTensorType>(constant.getType());
  auto resultType = cast<RankedTensorType>(result.getType());
  if (!type || !type.getElementType().isF32() || !type.hasStaticShape() ||
      type.getRank() > resultType.getRank())
    return std::nullopt;
  // Right-aligned against the result: only the channel dim may be > 1.
  int64_t offset = resultType.getRank() - type.getRank();
  for (auto [d, size] : llvm::enumerate(type.getShape()))
    if (size != 1 && (int64_t(d) + offset != channels->first ||
                      size != channels->second))
      return std::nullopt;
  std::optional<SmallVector<double>> values = getConstantFloatValues(constant);
  if (!values || values->empty())
    return std::nullopt;
  BiasAdd bias{add, SmallVector<double>(channels->second, values->front())};
  if (values->size() > 1)
    bias.values = std::move(*values);
  return bias;
}

} // namespace mlir::quarc
