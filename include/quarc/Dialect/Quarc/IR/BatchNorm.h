//===- BatchNorm.h - BatchNormalization as a per-channel affine map -*- C++ -*-===//
//
// At inference, BatchNormalization is y = x * m[c] + o[c] with
// m = scale / sqrt(var + epsilon) and o = bias - mean * m. The graph pass
// that folds it into the weights before it (quarc-fold-batchnorm) and the
// lowering of the ones that stay both need m and o when the parameters are
// constants; this is the one place that computes them.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_DIALECT_QUARC_IR_BATCHNORM_H
#define QUARC_DIALECT_QUARC_IR_BATCHNORM_H

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

#include <optional>

namespace mlir::quarc {

/// y = x * multiplier[c] + offset[c], per channel.
struct ChannelAffine {
  SmallVector<double> multiplier, offset;
  int64_t size() const { return multiplier.size(); }
};

/// The affine map of `op` computed in double, when its four parameters are
/// constants with one value per channel (matching the input's channel dim
/// where it is static) and every value is finite (a negative variance is
/// not); nullopt otherwise.
std::optional<ChannelAffine> getConstantChannelAffine(BatchNormalizationOp op);

} // namespace mlir::quarc

#endif // QUARC_DIALECT_QUARC_IR_BATCHNORM_H
