//===- EntropyEstimator.cpp - TensorRT's KL-divergence threshold ----------===//
//
// Migacz, "8-bit Inference with TensorRT" (GTC 2017): on the histogram of
// |x|, for each candidate count i of kept bins, the reference distribution
// P is bins [0, i) with everything beyond added to bin i-1; the candidate
// Q is the same i bins merged into `levels` groups (the last group takes
// the remainder) and expanded back, each group's total spread evenly over
// its bins where P is non-zero. The threshold is the i with the smallest
// KL(P || Q). As in MXNet's reference implementation (_get_optimal_threshold
// in mxnet/contrib/quantization.py), except that a candidate where Q is 0
// and P is not has infinite divergence and is skipped instead of smoothed;
// keeping all bins is always finite. Unlike both, the threshold keeps at
// least 99% of the values (entropyRange): see RangeEstimators.h.
//
// Within a group Q is constant, so sum(p log q) over the group is
// (group sum of p) * log(q); with prefix sums of h, of non-zero bins and of
// h log h, each candidate costs O(levels) instead of O(i).
//
//===----------------------------------------------------------------------===//

#include "quarc/Calibration/RangeEstimators.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mlir::quarc::calibration {

size_t entropyThresholdBins(ArrayRef<uint64_t> absCounts, unsigned levels,
                            size_t minBins) {
  size_t n = absCounts.size();
  while (n > 0 && absCounts[n - 1] == 0)
    --n;
  if (n <= std::max<size_t>(levels, minBins))
    return n;
  auto xLogX = [](double x) { return x > 0 ? x * std::log(x) : 0.0; };
  // prefix[j]: sums over bins [0, j).
  std::vector<double> sum(n + 1, 0), nonZero(n + 1, 0), sumXLogX(n + 1, 0);
  for (size_t j = 0; j < n; ++j) {
    double h = static_cast<double>(absCounts[j]);
    sum[j + 1] = sum[j] + h;
    nonZero[j + 1] = nonZero[j] + (h > 0);
    sumXLogX[j + 1] = sumXLogX[j] + xLogX(h);
  }
  double total = sum[n];
  double best = std::numeric_limits<double>::infinity();
  size_t bestBins = n;
  for (size_t i = std::max<size_t>(levels, minBins); i <= n; ++i) {
    double outliers = total - sum[i];
    double lastP = static_cast<double>(absCounts[i - 1]) + outliers;
    double sumPLogP = sumXLogX[i - 1] + xLogX(lastP);
    size_t merged = i / levels;
    double sumPLogQ = 0;
    bool infinite = false;
    for (unsigned g = 0; g < levels && !infinite; ++g) {
      size_t start = g * merged;
      size_t end = g + 1 == levels ? i : start + merged;
      double groupSum = sum[end] - sum[start];
      double groupNonZero = nonZero[end] - nonZero[start];
      double groupP = groupSum;
      if (g + 1 == levels) {
        groupP += outliers;
        if (absCounts[i - 1] == 0 && lastP > 0)
          groupNonZero += 1;
      }
      if (groupP == 0)
        continue;
      if (groupSum == 0)
        infinite = true;
      else
        sumPLogQ += groupP * std::log(groupSum / groupNonZero);
    }
    if (infinite)
      continue;
    // KL(P/total || Q/sum[i]), both normalized.
    double divergence =
        (sumPLogP - sumPLogQ) / total - std::log(total) + std::log(sum[i]);
    if (divergence < best) {
      best = divergence;
      bestBins = i;
    }
  }
  return bestBins;
}

Range entropyRange(const TensorHistogram &histogram,
                   const EstimatorOptions &options) {
  double min = histogram.getMin(), max = histogram.getMax();
  if (min == max)
    return minMaxRange(histogram);
  bool twoSided = min < 0 && max > 0;
  unsigned levels = twoSided || options.symmetric ? 1u << (options.numBits - 1)
                                                  : (1u << options.numBits) - 1;
  int log2Width;
  std::vector<uint64_t> counts = histogram.absoluteCounts(log2Width);
  // Exact zeros are left out: quantization represents them exactly, and a
  // ReLU's spike of zeros in bin 0 would otherwise dominate the divergence
  // of every candidate whose first group merges bin 0 with its neighbours,
  // pinning the threshold below 2 * levels bins whatever the data.
  counts[0] -= histogram.getZeroCount();
  // The fewest bins that keep all but kEntropyMaxClippedShare of the values.
  uint64_t total = 0;
  for (uint64_t count : counts)
    total += count;
  size_t minBins = 0;
  for (uint64_t kept = 0;
       minBins < counts.size() &&
       double(kept) < (1.0 - kEntropyMaxClippedShare) * double(total);
       ++minBins)
    kept += counts[minBins];
  size_t bins = entropyThresholdBins(counts, levels, minBins);
  double absMax = std::max(max, -min);
  return symmetricRange(
      histogram,
      std::min(absMax, std::ldexp(static_cast<double>(bins), log2Width)));
}

} // namespace mlir::quarc::calibration
