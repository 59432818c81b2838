//===- FixedPoint.cpp - the scalar reference of requantization ------------===//
//
// The arithmetic is specified in FixedPoint.h; this is its reference
// implementation, which every backend is tested against.
//
//===----------------------------------------------------------------------===//

#include "quarc/Quantization/FixedPoint.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace mlir::quarc {

double FixedPointMultiplier::toDouble() const {
  return std::ldexp(double(multiplier), -rightShift());
}

FixedPointMultiplier quantizeMultiplier(double real) {
  assert(!std::isnan(real) && real >= 0 && "multiplier must be >= 0");
  if (!(real > 0))
    return {};
  if (std::isinf(real))
    return {INT32_MAX, -30};
  int exponent;
  double mantissa = std::frexp(real, &exponent); // real = mantissa * 2^exp
  // mantissa in [0.5, 1): mantissa * 2^31 in [2^30, 2^31]; llround rounds
  // ties away from zero, deterministically.
  int64_t multiplier = std::llround(std::ldexp(mantissa, 31));
  if (multiplier == (int64_t(1) << 31)) {
    multiplier /= 2;
    ++exponent;
  }
  // real ~= multiplier * 2^(exponent - 31): the right shift is 31 - exponent.
  if (exponent > 30)
    return {INT32_MAX, -30}; // real >= 2^30: saturate (see the header)
  if (exponent < -31)
    return {}; // real < 2^-32: every acc * real rounds to 0
  return {int32_t(multiplier), -exponent};
}

int64_t roundingRightShift(int64_t value, int32_t n) {
  assert(n >= 1 && n <= 62 && "shift outside [1, 62]");
  // |value| < 2^62, so adding 2^(n-1) <= 2^61 cannot overflow int64.
  // >> of a negative int64 is an arithmetic shift (guaranteed since C++20,
  // and what clang and gcc do in C++17).
  return (value + (int64_t(1) << (n - 1))) >> n;
}

int64_t multiplyByQuantizedMultiplier(int32_t acc, FixedPointMultiplier m) {
  // |acc * M| < 2^31 * 2^31 = 2^62.
  return roundingRightShift(int64_t(acc) * int64_t(m.multiplier),
                            m.rightShift());
}

FixedPointPair quantizeMultiplierPair(double realA, double realB) {
  assert(!std::isnan(realA) && !std::isnan(realB) && realA >= 0 &&
         realB >= 0 && "multipliers must be >= 0");
  bool aIsLarger = realA >= realB;
  FixedPointMultiplier larger = quantizeMultiplier(aIsLarger ? realA : realB);
  FixedPointPair pair;
  pair.rightShift = larger.rightShift();
  // round(real * 2^n), ties away from zero; at most the larger's multiplier
  // (reached only when the larger saturated, real >= 2^30).
  double scaled = std::ldexp(aIsLarger ? realB : realA, pair.rightShift);
  int32_t smaller = scaled >= double(larger.multiplier)
                        ? larger.multiplier
                        : int32_t(std::llround(scaled));
  pair.first = aIsLarger ? larger.multiplier : smaller;
  pair.second = aIsLarger ? smaller : larger.multiplier;
  return pair;
}

int32_t requantizeSum(int32_t a, int32_t b, FixedPointPair m,
                      int32_t zeroPoint, int32_t qmin, int32_t qmax) {
  assert(qmin <= qmax && "empty output range");
  // |a|, |b| < 2^16 and multipliers < 2^31: the sum stays below 2^48.
  int64_t sum = int64_t(a) * m.first + int64_t(b) * m.second;
  int64_t value = roundingRightShift(sum, m.rightShift) + zeroPoint;
  return int32_t(std::clamp<int64_t>(value, qmin, qmax));
}

int32_t requantize(int32_t acc, FixedPointMultiplier m, int32_t zeroPoint,
                   int32_t qmin, int32_t qmax) {
  assert(qmin <= qmax && "empty output range");
  int64_t value = multiplyByQuantizedMultiplier(acc, m) + zeroPoint;
  return int32_t(std::clamp<int64_t>(value, qmin, qmax));
}

} // namespace mlir::quarc
