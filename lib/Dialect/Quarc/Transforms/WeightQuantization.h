//===- WeightQuantization.h - constant weights quantized at compile time -*- C++ -*-===//
//
// What static (quarc-quantize) and dynamic (quarc-quantize-dynamic)
// quantization share: a constant f32 weight becomes an integer constant of
// its stored values, read as a tensor of `!quant.uniform` elements through
// `quarc.storage_cast`, with parameters from the scheme's weight type and
// granularity (Quantization/ChooseQuantParams.h).
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_DIALECT_QUARC_TRANSFORMS_WEIGHTQUANTIZATION_H
#define QUARC_LIB_DIALECT_QUARC_TRANSFORMS_WEIGHTQUANTIZATION_H

#include "quarc/Quantization/QuantScheme.h"

#include "mlir/IR/Builders.h"

namespace mlir::quarc {

/// The quantized form of the constant `weight` (per the scheme's weights,
/// along `channelAxis` for per-channel granularity), created at the
/// builder's insertion point: the storage_cast's result. Null when
/// `weight` is not an f32 constant of static shape that can be read;
/// failure, reported at `user`, when no parameters fit the data.
FailureOr<Value> quantizeConstantWeight(OpBuilder &builder, Operation *user,
                                        Value weight,
                                        const QuantScheme &scheme,
                                        int32_t channelAxis);

} // namespace mlir::quarc

#endif // QUARC_LIB_DIALECT_QUARC_TRANSFORMS_WEIGHTQUANTIZATION_H
