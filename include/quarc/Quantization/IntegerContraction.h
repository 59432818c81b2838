//===- IntegerContraction.h - integer conv/matmul parameters ----*- C++ -*-===//
//
// An integer convolution or matrix product (quarc.qconv, quarc.qmatmul)
// accumulates products of stored 8-bit values in int32 and starts from a
// bias that holds both the float bias, quantized at the accumulator's scale
// inputScale * weightScale, and the input zero point's compensation:
//
//   sum (x - zx) * w' + round(b / (sx * sw))
//     = sum x * w' + [round(b / (sx * sw)) - zx * sum w']
//
// with w' = w - zw, the stored weight minus its zero point (0 for the
// symmetric weights of the default scheme). The bracket is a compile-time
// constant per output channel. The
// accumulator then requantizes with the multiplier sx * sw / so
// (FixedPoint.h). These functions are the one definition of those
// constants; references that check the integer kernels bit for bit compute
// them the same way, in double, in the order written here.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_QUANTIZATION_INTEGERCONTRACTION_H
#define QUARC_QUANTIZATION_INTEGERCONTRACTION_H

#include <cstdint>

namespace mlir::quarc {

/// The real multiplier of the requantization:
/// (inputScale * weightScale) / outputScale.
double getRequantScale(double inputScale, double weightScale,
                       double outputScale);

/// `bias` at the accumulator's scale: roundHalfToEven(bias /
/// accumulatorScale), saturated to int32 (0 for a zero scale; NaN gives 0).
int32_t quantizeBias(double bias, double accumulatorScale);

/// The accumulator's start: quantizedBias - inputZeroPoint * weightSum,
/// saturated to int32. `weightSum` is the sum of the stored weights minus
/// their zero point, w - zw, of one output channel.
int32_t compensateBias(int32_t quantizedBias, int32_t inputZeroPoint,
                       int64_t weightSum);

} // namespace mlir::quarc

#endif // QUARC_QUANTIZATION_INTEGERCONTRACTION_H
