//===- IntegerContraction.cpp - integer conv/matmul parameters ------------===//

#include "quarc/Quantization/IntegerContraction.h"
#include "quarc/Quantization/Quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mlir::quarc {

static int32_t saturateToInt32(double value) {
  constexpr double lowest = std::numeric_limits<int32_t>::min();
  constexpr double highest = std::numeric_limits<int32_t>::max();
  return int32_t(std::clamp(value, lowest, highest));
}

double getRequantScale(double inputScale, double weightScale,
                       double outputScale) {
  return (inputScale * weightScale) / outputScale;
}

int32_t quantizeBias(double bias, double accumulatorScale) {
  if (!(accumulatorScale > 0) || std::isnan(bias))
    return 0;
  return saturateToInt32(roundHalfToEven(bias / accumulatorScale));
}

int32_t compensateBias(int32_t quantizedBias, int32_t inputZeroPoint,
                       int64_t weightSum) {
  // |weightSum| < 2^8 * 2^31 and |zeroPoint| < 2^8 for 8-bit operands, so
  // the product fits int64 with room to spare; saturate, never wrap.
  int64_t compensated =
      int64_t(quantizedBias) - int64_t(inputZeroPoint) * weightSum;
  return int32_t(std::clamp<int64_t>(compensated,
                                     std::numeric_limits<int32_t>::min(),
                                     std::numeric_limits<int32_t>::max()));
}

} // namespace mlir::quarc
