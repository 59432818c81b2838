//===- ChooseQuantParams.h - qparams from real ranges -----------*- C++ -*-===//
//
// The one place where a calibrated (or measured) real range [min, max]
// becomes a scale and a zero point. The rules, applied in this order:
//
// 1. Validation. A NaN or infinite bound, or min > max, is an error that
//    names the bad range; a scale is never silently NaN or infinite.
// 2. Zero is in the range: [lo, hi] = [min(min, 0), max(max, 0)], so that
//    0.0 (padding, ReLU's floor, zero-point folding) is exactly
//    representable: it is always the integer zero point. A constant tensor
//    of value v therefore gets [min(0, v), max(0, v)].
// 3. The integer range is [qmin, qmax] = type.qmin/qmax(reduceRange)
//    (narrow and reduced ranges: QuantType in QuantParams.h).
// 4. Asymmetric: scale = (hi - lo) / (qmax - qmin), rounded to the nearest
//    f32; zeroPoint = clamp(roundHalfToEven(qmin - lo / scale), qmin, qmax).
//    This is gemmlowp/TFLite's nudged zero point; of their two equivalent
//    estimates (from lo and from hi, equal up to rounding error) we use the
//    one from lo, as onnxruntime's compute_scale_zp does, so that QDQ
//    models from onnxruntime and ours agree.
// 5. Symmetric: zeroPoint = ceil((qmin + qmax) / 2), which is 0 for every
//    signed range (full, narrow or reduced) and the upper midpoint for
//    unsigned ones (u8: 128, u4: 8, u16: 32768, reduced u8: 64), the same
//    zero points as onnxruntime. scale = max(-lo, hi) / h with
//    h = min(qmax - zeroPoint, zeroPoint - qmin), the half range usable on
//    both sides (s8: 127, u8: 127, narrow s8: 127, reduced s8: 64): the
//    whole [-absmax, absmax] is representable, nothing is clipped (s8's -128
//    and u8's 0 stay reachable only by saturation).
// 6. Degenerate ranges: when hi == lo (all zeros), or when the f32 scale
//    would be below FLT_MIN (ranges narrower than ~3e-36 for 8 bits: a
//    subnormal scale loses precision and 1/scale overflows f32), scale is
//    1.0 and the zero point is the symmetric one (rule 5) for symmetric
//    schemes, else clamp(0, qmin, qmax) (0 for u8 and s8). Zero is exact
//    and the tensor's values, all below the resolution, quantize to it.
// 7. A range too wide for an f32 scale (beyond ~8.7e40 for 8 bits) is an
//    error.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_QUANTIZATION_CHOOSEQUANTPARAMS_H
#define QUARC_QUANTIZATION_CHOOSEQUANTPARAMS_H

#include "quarc/Quantization/QuantParams.h"

#include "llvm/Support/Error.h"

namespace mlir::quarc {

/// Per-tensor parameters for values in [min, max] (rules above).
llvm::Expected<QuantParams> computeQuantParams(double min, double max,
                                               QuantType type, bool symmetric,
                                               bool reduceRange = false);

/// Per-channel parameters: channel c covers [mins[c], maxs[c]], each chosen
/// independently by the per-tensor rules. Errors name the channel.
llvm::Expected<QuantParams> computePerChannelQuantParams(
    llvm::ArrayRef<double> mins, llvm::ArrayRef<double> maxs, int32_t axis,
    QuantType type, bool symmetric, bool reduceRange = false);

/// Per-group parameters: `mins`/`maxs` are row-major over `groupShape`
/// (groupParamShape of the data's shape). Errors name the group's index.
llvm::Expected<QuantParams> computePerGroupQuantParams(
    llvm::ArrayRef<double> mins, llvm::ArrayRef<double> maxs,
    llvm::ArrayRef<int64_t> groupShape, int32_t axis, int64_t groupSize,
    QuantType type, bool symmetric, bool reduceRange = false);

/// Parameters for known data (a constant weight): the exact min/max of each
/// tensor/channel/group of the row-major `data` of `shape`. NaN or infinite
/// data is an error naming the element's index.
llvm::Expected<QuantParams> computeQuantParamsForData(
    llvm::ArrayRef<float> data, llvm::ArrayRef<int64_t> shape, QuantType type,
    bool symmetric, bool reduceRange, Granularity granularity, int32_t axis = 0,
    int64_t groupSize = 0);

/// Symmetric s8 parameters for known weights (`reduce-range=pairs`, see
/// WeightRange): the smallest scales with which, for every pair of
/// elements 2m and 2m + 1 along `pairAxis` (the product's reduction dim,
/// whose neighbours vpmaddubsw multiplies and adds into int16), the sum of
/// the pair's same-signed quantized magnitudes is at most 128. Granularity,
/// axis and groups as computeQuantParamsForData.
llvm::Expected<QuantParams> computePairFitQuantParams(
    llvm::ArrayRef<float> data, llvm::ArrayRef<int64_t> shape, QuantType type,
    Granularity granularity, int32_t axis, int64_t groupSize,
    int32_t pairAxis);

} // namespace mlir::quarc

#endif // QUARC_QUANTIZATION_CHOOSEQUANTPARAMS_H
