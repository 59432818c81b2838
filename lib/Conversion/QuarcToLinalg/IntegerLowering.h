//===- IntegerLowering.h - scalar pieces of the integer op lowerings -*- C++ -*-===//
//
// The scalar arithmetic every integer op lowers to, written once: stored
// values widened by their signedness, and the end of a requantization of
// Quantization/FixedPoint.h (one rounding shift, zero point, clamp), in
// i64 exactly as specified there.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_CONVERSION_QUARCTOLINALG_INTEGERLOWERING_H
#define QUARC_LIB_CONVERSION_QUARCTOLINALG_INTEGERLOWERING_H

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"

namespace mlir::quarc {

/// The quantized element type of a tensor value.
quant::QuantizedType getElementQuantType(Value value);

/// `value`, a stored scalar of quantized `type`, widened to the integer
/// type `to`: zero-extended when `type` is unsigned, sign-extended when
/// signed.
Value extendStored(OpBuilder &b, Location loc, Value value,
                   quant::QuantizedType type, Type to);

/// The range a requantized result of `op` is clamped to: the storage range
/// of `type`, narrowed by the op's clamp_min / clamp_max (a fused
/// Relu/Clip).
std::pair<int64_t, int64_t> getClampRange(Operation *op,
                                          quant::UniformQuantizedType type);

/// The end of every requantization: clamp(((value + 2^(n-1)) >> n) +
/// zeroPoint, qmin, qmax), truncated to `storage`. `value` and `shift`
/// are i64.
Value buildRoundingShiftAndClamp(OpBuilder &b, Location loc, Value value,
                                 Value shift, int64_t zeroPoint, int64_t qmin,
                                 int64_t qmax, Type storage);

/// requantize(acc, {multiplier, n}): the i32 accumulator times the i32
/// multiplier in i64, then buildRoundingShiftAndClamp with the i32 right
/// shift `shift`.
Value buildRequantize(OpBuilder &b, Location loc, Value acc, Value multiplier,
                      Value shift, int64_t zeroPoint, int64_t qmin,
                      int64_t qmax, Type storage);

} // namespace mlir::quarc

#endif // QUARC_LIB_CONVERSION_QUARCTOLINALG_INTEGERLOWERING_H
