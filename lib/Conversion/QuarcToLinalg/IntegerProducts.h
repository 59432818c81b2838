//===- IntegerProducts.h - the i32 contractions of integer products -*- C++ -*-===//
//
// The multiply-accumulate of 8-bit values into i32 that every integer
// product lowers to (quarc.qconv, quarc.qmatmul, quarc.qmatmul_dynamic and
// the dynamically quantized recurrent layers), written once: the weight
// widened by its signedness and centered on its zero point, the input
// widened by the caller.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_CONVERSION_QUARCTOLINALG_INTEGERPRODUCTS_H
#define QUARC_LIB_CONVERSION_QUARCTOLINALG_INTEGERPRODUCTS_H

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"

namespace mlir::quarc {

/// The scalar body of a contraction: acc + input * (ext(weight) - zw),
/// without the subtraction for symmetric weights (null `zeroPoint`);
/// `input` is already widened to i32.
Value buildMultiplyAccumulate(OpBuilder &b, Location loc, Value input,
                              Value weight, Value zeroPoint, Value acc,
                              quant::QuantizedType weightType);

/// How a contraction reads the zero points of its weight's output
/// channels: nothing when they are all 0 (symmetric weights), a scalar when
/// they are all equal, else an i32 constant of `shape` (the channels in
/// row-major order) that the generic reads as one more input.
struct WeightZeroPoints {
  Value scalar, tensor;

  static WeightZeroPoints get(OpBuilder &b, Location loc,
                              ArrayRef<int64_t> zeroPoints,
                              ArrayRef<int64_t> shape);
  /// The zero points of the `channels` channels of a per-tensor or
  /// per-axis `weightType`.
  static WeightZeroPoints get(OpBuilder &b, Location loc,
                              quant::QuantizedType weightType,
                              int64_t channels, ArrayRef<int64_t> shape);

  /// The zero point in the generic's body, whose inputs are `args`
  /// (input, weight, [zero points], accumulator).
  Value get(ValueRange args) const { return tensor ? args[2] : scalar; }
};

/// The dynamic sizes of a matrix product's accumulators: only the rows of
/// `a` can be dynamic (the weight is static).
SmallVector<Value> getMatMulAccumulatorSizes(OpBuilder &b, Location loc,
                                             RankedTensorType accType,
                                             Value a);

/// The i32 contraction of a matrix product into `init` (batch..., M, N):
/// `a` is batch... x M x K, the weight `b` K x N (shared by the batch) or
/// batch... x K x N. Loop dims (batch..., m, k, n), n innermost after the
/// reduction; each step adds widen(a) * (b - zb), `widenInput` turning a's
/// stored scalar into i32. `zeroPoints` holds b's zero point per column,
/// row-major over b's dims without K (N, or batch... x N).
Value buildIntegerMatMul(OpBuilder &builder, Location loc, Value a, Value b,
                         Value init, quant::QuantizedType weightType,
                         ArrayRef<int64_t> zeroPoints,
                         function_ref<Value(OpBuilder &, Location, Value)>
                             widenInput);

} // namespace mlir::quarc

#endif // QUARC_LIB_CONVERSION_QUARCTOLINALG_INTEGERPRODUCTS_H
