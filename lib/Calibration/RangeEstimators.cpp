//===- RangeEstimators.cpp - min-max, moving average, percentile ----------===//
//
// The simple estimators and the dispatch; entropy and mse have their own
// files.
//
//===----------------------------------------------------------------------===//

#include "quarc/Calibration/RangeEstimators.h"

#include "llvm/Support/ErrorHandling.h"
#include <algorithm>
#include <cmath>

namespace mlir::quarc::calibration {

FailureOr<Range> estimateRange(const TensorHistogram &histogram,
                               const Method &method,
                               const EstimatorOptions &options,
                               std::string &error) {
  if (histogram.getCount() == 0) {
    error = "no values were recorded";
    return failure();
  }
  if (options.numBits < 2 || options.numBits > 16) {
    error = "cannot calibrate for " + std::to_string(options.numBits) +
            "-bit integers (2 to 16 bits)";
    return failure();
  }
  switch (method.kind) {
  case Method::Kind::MinMax:
    return minMaxRange(histogram);
  case Method::Kind::MovingAverage:
    return movingAverageRange(histogram, method.averagingConstant);
  case Method::Kind::Percentile:
    return percentileRange(histogram, method.percentile, options);
  case Method::Kind::Entropy:
    return entropyRange(histogram, options);
  case Method::Kind::MSE:
    return mseRange(histogram, options);
  }
  llvm_unreachable("unknown calibration method");
}

Range symmetricRange(const TensorHistogram &histogram, double t) {
  double lo = std::max<double>(histogram.getMin(), -t);
  double hi = std::min<double>(histogram.getMax(), t);
  // Rounding to float keeps the order, and both stay inside [min, max].
  return {static_cast<float>(lo), static_cast<float>(std::max(lo, hi))};
}

Range minMaxRange(const TensorHistogram &histogram) {
  return {histogram.getMin(), histogram.getMax()};
}

Range movingAverageRange(const TensorHistogram &histogram,
                         double averagingConstant) {
  ArrayRef<SampleRange> samples = histogram.getSampleRanges();
  double lo = samples.front().min, hi = samples.front().max;
  for (const SampleRange &sample : samples.drop_front()) {
    lo += averagingConstant * (sample.min - lo);
    hi += averagingConstant * (sample.max - hi);
  }
  return {static_cast<float>(lo), static_cast<float>(hi)};
}

double quantile(ArrayRef<Bin> bins, uint64_t count, double q) {
  double rank = q * static_cast<double>(count);
  double below = 0;
  for (const Bin &bin : bins) {
    double n = static_cast<double>(bin.count);
    if (below + n >= rank) {
      double fraction = std::clamp((rank - below) / n, 0.0, 1.0);
      return bin.lo + (bin.hi - bin.lo) * fraction;
    }
    below += n;
  }
  return bins.back().hi;
}

Range percentileRange(const TensorHistogram &histogram, double percentile,
                      const EstimatorOptions &options) {
  double min = histogram.getMin(), max = histogram.getMax();
  if (min == max)
    return minMaxRange(histogram);
  uint64_t count = histogram.getCount();
  double tail = (100 - percentile) / 100;
  if (options.symmetric)
    return symmetricRange(histogram,
                          quantile(histogram.absoluteBins(), count, 1 - tail));
  std::vector<Bin> bins = histogram.signedBins();
  double lo = min, hi = max;
  if (min < 0 && max > 0) {
    lo = quantile(bins, count, tail / 2);
    hi = quantile(bins, count, 1 - tail / 2);
  } else if (min >= 0) {
    hi = quantile(bins, count, 1 - tail);
  } else {
    lo = quantile(bins, count, tail);
  }
  return {static_cast<float>(lo), static_cast<float>(hi)};
}

} // namespace mlir::quarc::calibration
