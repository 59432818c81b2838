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

int64_t multiplyByQuantizedMultiplier(int32_t acc, FixedPointMultiplier m) {
  int32_t n = m.rightShift();
  assert(n >= 1 && n <= 62 && "shift outside [1, 62]");
  // |acc * M| < 2^62, so adding 2^(n-1) <= 2^61 cannot overflow int64.
  int64_t product = int64_t(acc) * int64_t(m.multiplier);
  // >> of a negative int64 is an arithmetic shift (guaranteed since C++20,
  // and what clang and gcc do in C++17).
  return (product + (int64_t(1) << (n - 1))) >> n;
}

int32_t requantize(int32_t acc, FixedPointMultiplier m, int32_t zeroPoint,
                   int32_t qmin, int32_t qmax) {
  assert(qmin <= qmax && "empty output range");
  int64_t value = multiplyByQuantizedMultiplier(acc, m) + zeroPoint;
  return int32_t(std::clamp<int64_t>(value, qmin, qmax));
}

} // namespace mlir::quarc
