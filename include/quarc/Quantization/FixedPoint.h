//===- FixedPoint.h - the one fixed-point requantization --------*- C++ -*-===//
//
// Requantization turns an int32 accumulator (a sum of products of quantized
// values, zero points already compensated) into a quantized output:
//   out = clamp(round(acc * real) + zeroPoint, qmin, qmax)
// with real = inScale * weightScale / outScale. Integer code cannot use
// `real`; it uses a fixed-point multiplier M (int32, Q31) and a right shift
// n, real ~= M / 2^n. This file is the single definition of that
// arithmetic: every backend (x86, AArch64, GPU, the host loops) lowers the
// same operation and is tested bit-exact against requantize() below.
//
// Semantics of requantize(acc, {M, shift}, zeroPoint, qmin, qmax), all in
// exact integer arithmetic:
//   p   = (int64) acc * M                 one 64-bit product, |p| < 2^62
//   n   = 31 + shift                      1 <= n <= 62
//   r   = (p + 2^(n-1)) >> n              arithmetic shift: ONE rounding,
//                                         round half up (ties toward +inf)
//   out = clamp(r + zeroPoint, qmin, qmax)
// Round half up (not half away from zero, not gemmlowp's two roundings of
// vqrdmulh + rounding shift) because it is one add and one shift, which
// SIMD code reproduces exactly:
//   AArch64: smull/smull2 (64-bit products), srshl by -n (srshr when n is a
//            constant) does the add and the arithmetic shift, sqxtn narrows.
//   AVX-512: vpmuldq, vpaddq, vpsraq.
//   AVX2:    vpmuldq, then, lacking a 64-bit arithmetic shift, add
//            2^(n-1) + 2^62 (p + 2^62 is positive and the sum, read as
//            unsigned, stays below 2^64), vpsrlq by n and subtract
//            2^(62-n): the same r.
//   GPU:     mul.wide.s32, add.s64, shr.s64.
// A sum of two such products with a common n (FixedPointPair, quarc.qadd)
// rounds the same way, once: r = (a*Ma + b*Mb + 2^(n-1)) >> n.
// Saturating r to int32 before adding the zero point (saturating add) gives
// the same `out` whenever |zeroPoint|, |qmin|, |qmax| < 2^30, which holds
// for every storage type quarc uses (at most 16 bits), so backends may
// narrow early.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_QUANTIZATION_FIXEDPOINT_H
#define QUARC_QUANTIZATION_FIXEDPOINT_H

#include <cstdint>

namespace mlir::quarc {

/// real ~= multiplier * 2^-(31 + shift).
struct FixedPointMultiplier {
  /// In [2^30, 2^31), or 0 for a real multiplier too small to matter.
  int32_t multiplier = 0;
  /// In [-30, 31]: negative for real multipliers >= 1 (the product is then
  /// shifted right by fewer than 31 bits, which is the left shift).
  int32_t shift = 0;

  /// The total right shift n = 31 + shift, in [1, 62].
  int32_t rightShift() const { return 31 + shift; }
  /// The real multiplier this represents exactly.
  double toDouble() const;

  bool operator==(const FixedPointMultiplier &other) const {
    return multiplier == other.multiplier && shift == other.shift;
  }
};

/// The fixed-point form of `real`, which must be finite and >= 0 (it is a
/// ratio of validated scales). M = round(real * 2^n) with n chosen so that
/// M is in [2^30, 2^31) (ties away from zero; a mantissa rounding up to
/// 2^31 becomes 2^30 with n - 1): relative error <= 2^-31.
/// Edge cases, each well defined:
///  - real == 0, or real < 2^-32: {0, 0}. For real < 2^-32, |acc * real| <
///    1/2 for every int32 acc, so round(acc * real) is 0 anyway.
///  - real >= 2^30: saturates to {2^31 - 1, -30} (~2^30). Any nonzero acc
///    then lands beyond every <= 16-bit output range, as the exact product
///    would, so clamped results are unchanged.
/// NaN or negative input is a caller bug (asserts; {0, 0} in release).
FixedPointMultiplier quantizeMultiplier(double real);

/// r = (acc * M + 2^(n-1)) >> n (see the file comment), before zero point
/// and clamping: the rounded, unclamped value of acc * real.
int64_t multiplyByQuantizedMultiplier(int32_t acc, FixedPointMultiplier m);

/// THE requantization: clamp(multiplyByQuantizedMultiplier(acc, m) +
/// zeroPoint, qmin, qmax). Requires qmin <= qmax.
int32_t requantize(int32_t acc, FixedPointMultiplier m, int32_t zeroPoint,
                   int32_t qmin, int32_t qmax);

/// The one rounding every requantization uses: value * 2^-n rounded half
/// up, (value + 2^(n-1)) >> n with an arithmetic shift; n in [1, 62] and
/// |value| < 2^62.
int64_t roundingRightShift(int64_t value, int32_t n);

/// Two real multipliers with one common right shift n, for a sum of two
/// terms requantized with ONE rounding (quarc.qadd):
///   r = (a * first + b * second + 2^(n-1)) >> n  ~=  a * realA + b * realB
/// n is the shift quantizeMultiplier gives the larger real (its multiplier
/// is in [2^30, 2^31)); the smaller is round(real * 2^n), ties away from
/// zero, so it may have fewer significant bits (absolute error <= 2^-n-1
/// per unit of its term, below 2^-31 of the larger real).
struct FixedPointPair {
  int32_t first = 0, second = 0;
  int32_t rightShift = 31; // n, in [1, 62]
};
FixedPointPair quantizeMultiplierPair(double realA, double realB);

/// clamp(roundingRightShift(a * first + b * second, n) + zeroPoint, qmin,
/// qmax) in int64 arithmetic: exact for |a|, |b| < 2^16 (differences of
/// values of at most 16 bits). Requires qmin <= qmax.
int32_t requantizeSum(int32_t a, int32_t b, FixedPointPair m,
                      int32_t zeroPoint, int32_t qmin, int32_t qmax);

} // namespace mlir::quarc

#endif // QUARC_QUANTIZATION_FIXEDPOINT_H
