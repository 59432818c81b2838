//===- IntegerLowering.h - scalar pieces of the integer op lowerings -*- C++ -*-===//
//
// The scalar arithmetic every integer op lowers to, written once: stored
// values widened by their signedness, and the end of a requantization of
// Quantization/FixedPoint.h (one rounding shift, zero point, clamp), with
// exactly the values specified there: in i64, or finished in i32 where the
// right shift allows (from 32 bits on), as vector code does best.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_CONVERSION_QUARCTOLINALG_INTEGERLOWERING_H
#define QUARC_LIB_CONVERSION_QUARCTOLINALG_INTEGERLOWERING_H

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"

#include <optional>

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
/// and the result clamped in i32 (no 64-bit vector shift or min/max,
/// which AVX2 lacks).
Value buildRoundingShiftAndClamp(OpBuilder &b, Location loc, Value value,
                                 Value shift, int64_t leastShift,
                                 int64_t zeroPoint, int64_t qmin, int64_t qmax,
                                 Type storage);

/// How buildSplitRequantize cuts the multipliers: `pieces` pieces of
/// `pieceBits` bits from the low end (the last takes the rest), so that
/// every term times a piece fits i32.
struct MultiplierSplit {
  unsigned pieceBits;
  unsigned pieces;
};

/// The split for `terms` values (summed) of at most `valueBits` bits each
/// (sign included: 9 for an 8-bit stored value less its zero point, 17 for
/// the product of two such) and a rounding shift of `shift`, if there is
/// one: 16-bit halves for one or two 9-bit values and 17 <= shift <= 47,
/// 11-bit thirds for one 17-bit value and 23 <= shift <= 53.
std::optional<MultiplierSplit> getMultiplierSplit(unsigned valueBits,
                                                  unsigned terms,
                                                  int64_t shift);

/// A requantization of one or two values (an Add's two, a requantize's
/// one, a Mul's product), all in i32: clamp(((sum of x * m over `terms` +
/// 2^(n-1)) >> n) + zeroPoint, qmin, qmax) truncated to `storage`, for
/// multipliers m in [0, 2^31) cut as `split` says (getMultiplierSplit), so
/// that the products fit i32; the same values as the i64 form.
Value buildSplitRequantize(OpBuilder &b, Location loc,
                           ArrayRef<std::pair<Value, int64_t>> terms,
                           MultiplierSplit split, int64_t shift,
                           int64_t zeroPoint, int64_t qmin, int64_t qmax,
                           Type storage);

/// requantize(acc, {multiplier, n}): the i32 accumulator times the i32
/// multiplier, then the rounding shift by the i32 `shift` (at least
/// `leastShift`), the zero point and the clamp. From a shift of 33 on, all
/// in i32: the high word of the 32 x 32-bit product is all the result
/// needs.
Value buildRequantize(OpBuilder &b, Location loc, Value acc, Value multiplier,
                      Value shift, int64_t leastShift, int64_t zeroPoint,
                      int64_t qmin, int64_t qmax, Type storage);

} // namespace mlir::quarc

#endif // QUARC_LIB_CONVERSION_QUARCTOLINALG_INTEGERLOWERING_H
