//===- IntegerLowering.h - scalar pieces of the integer op lowerings -*- C++ -*-===//
//
// The scalar arithmetic every integer op lowers to, written once: stored
// values widened by their signedness, and the end of a requantization of
// Quantization/FixedPoint.h (one rounding shift, zero point, clamp), in
// i64 exactly as specified there, or finished in i32 with the same values.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_CONVERSION_QUARCTOLINALG_INTEGERLOWERING_H
#define QUARC_LIB_CONVERSION_QUARCTOLINALG_INTEGERLOWERING_H

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/DialectConversion.h"

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
/// zeroPoint, qmin, qmax), truncated to `storage`. `value` (below 2^62 in
/// magnitude) and `shift` are i64; `leastShift` is the smallest value
/// `shift` takes, known when lowering: from 32 on, the shift is finished
/// and the result clamped in i32.
Value buildRoundingShiftAndClamp(OpBuilder &b, Location loc, Value value,
                                 Value shift, int64_t leastShift,
                                 int64_t zeroPoint, int64_t qmin, int64_t qmax,
                                 Type storage);

/// requantize(acc, {multiplier, n}): the i32 accumulator times the i32
/// multiplier in i64, then buildRoundingShiftAndClamp with the i32 right
/// shift `shift` (at least `leastShift`).
Value buildRequantize(OpBuilder &b, Location loc, Value acc, Value multiplier,
                      Value shift, int64_t leastShift, int64_t zeroPoint,
                      int64_t qmin, int64_t qmax, Type storage);

/// The lowering of an integer op that requantizes, with the pass's
/// i32-requantization choice.
template <typename Op>
struct RequantizingPattern : OpConversionPattern<Op> {
  RequantizingPattern(const TypeConverter &converter, MLIRContext *context,
                      bool i32Requantization)
      : OpConversionPattern<Op>(converter, context),
        i32Requantization(i32Requantization) {}

  /// The `leastShift` to give buildRoundingShiftAndClamp for right shifts
  /// of at least `shift`: 0 (the i64 form) unless i32 requantization is
  /// on.
  int64_t leastShift(int64_t shift) const {
    return i32Requantization ? shift : 0;
  }

  bool i32Requantization;
};

} // namespace mlir::quarc

#endif // QUARC_LIB_CONVERSION_QUARCTOLINALG_INTEGERLOWERING_H
