//===- MSEEstimator.cpp - the range with the least expected squared error -===//
//
// Model: a uniform quantizer with step s over the candidate range widened to
// include 0 (Quantization always makes zero representable). A value inside
// the range costs s^2 / 12 (rounding error, uniform), except exact zeros,
// which cost nothing; a value outside costs its squared distance to the
// range. Values are spread uniformly inside their histogram bin, so the
// cost of a bin has a closed form. Candidates put the far end of the range
// at each bin edge of the dominant side and scale the other end by the
// same factor (both-signed data keeps its asymmetry; one-sided data keeps
// its near end); with the symmetric option the candidates are t on the |x|
// grid. Whole bins outside or inside the range are summed with prefix sums
// of their counts and moments, so a candidate costs O(log bins).
//
//===----------------------------------------------------------------------===//

#include "quarc/Calibration/RangeEstimators.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

namespace mlir::quarc::calibration {

namespace {

double cube(double x) { return x * x * x; }

bool isZeroMass(const Bin &bin) { return bin.lo == 0 && bin.hi == 0; }

/// Expected squared error of one bin for the range [lo, hi] where a value
/// inside costs `rounding`.
double binError(const Bin &bin, double lo, double hi, double rounding) {
  double n = static_cast<double>(bin.count);
  if (bin.lo == bin.hi) {
    double x = bin.lo;
    if (x > hi)
      return n * (x - hi) * (x - hi);
    if (x < lo)
      return n * (lo - x) * (lo - x);
    return x == 0 ? 0 : n * rounding;
  }
  double width = bin.hi - bin.lo, error = 0;
  if (bin.hi > hi)
    error +=
        (cube(bin.hi - hi) - cube(std::max(bin.lo, hi) - hi)) / (3 * width);
  if (bin.lo < lo)
    error +=
        (cube(lo - bin.lo) - cube(lo - std::min(bin.hi, lo))) / (3 * width);
  double inside = std::min(bin.hi, hi) - std::max(bin.lo, lo);
  if (inside > 0)
    error += inside / width * rounding;
  return n * error;
}

/// The expected error of any range over a fixed list of bins.
class ErrorModel {
public:
  explicit ErrorModel(std::vector<Bin> bins) : bins(std::move(bins)) {
    size_t n = this->bins.size();
    // Below-tails sum from the bottom, above-tails from the top, so that
    // the small tails do not come out of differences of large totals.
    low0.assign(n + 1, 0), low1.assign(n + 1, 0), low2.assign(n + 1, 0);
    high0.assign(n + 1, 0), high1.assign(n + 1, 0), high2.assign(n + 1, 0);
    rounded.assign(n + 1, 0);
    for (size_t j = 0; j < n; ++j) {
      auto [c, m1, m2] = moments(this->bins[j]);
      low0[j + 1] = low0[j] + c;
      low1[j + 1] = low1[j] + c * m1;
      low2[j + 1] = low2[j] + c * m2;
      rounded[j + 1] = rounded[j] + (isZeroMass(this->bins[j]) ? 0 : c);
    }
    for (size_t j = n; j-- > 0;) {
      auto [c, m1, m2] = moments(this->bins[j]);
      high0[j] = high0[j + 1] + c;
      high1[j] = high1[j + 1] + c * m1;
      high2[j] = high2[j + 1] + c * m2;
    }
  }

  double error(double lo, double hi, double rounding) const {
    size_t n = bins.size();
    // Bins [0, below) have mass under lo, bins [above, n) over hi; those
    // in between are inside the range.
    size_t below =
        std::partition_point(bins.begin(), bins.end(),
                             [&](const Bin &bin) { return bin.lo < lo; }) -
        bins.begin();
    size_t above =
        std::partition_point(bins.begin(), bins.end(),
                             [&](const Bin &bin) { return bin.hi <= hi; }) -
        bins.begin();
    double error = 0;
    // Whole bins below, except the last one, which may straddle lo.
    if (below > 1) {
      size_t k = below - 1;
      error += lo * lo * low0[k] - 2 * lo * low1[k] + low2[k];
    }
    if (above + 1 < n) {
      size_t k = above + 1;
      error += hi * hi * high0[k] - 2 * hi * high1[k] + high2[k];
    }
    size_t first = below > 0 ? below - 1 : 0;
    size_t last = std::min(n, above + 1);
    if (first >= last)
      return std::max(error, 0.0);
    // The straddling bins exactly, the inside ones by count.
    error += binError(bins[first], lo, hi, rounding);
    if (last - 1 > first)
      error += binError(bins[last - 1], lo, hi, rounding);
    if (last - 1 > first + 1)
      error += (rounded[last - 1] - rounded[first + 1]) * rounding;
    return std::max(error, 0.0);
  }

private:
  /// Count, mean and mean square of a bin's uniform spread.
  static std::tuple<double, double, double> moments(const Bin &bin) {
    double c = static_cast<double>(bin.count);
    return {c, (bin.lo + bin.hi) / 2,
            (bin.lo * bin.lo + bin.lo * bin.hi + bin.hi * bin.hi) / 3};
  }

  std::vector<Bin> bins;
  std::vector<double> low0, low1, low2, high0, high1, high2, rounded;
};

} // namespace

Range mseRange(const TensorHistogram &histogram,
               const EstimatorOptions &options) {
  double min = histogram.getMin(), max = histogram.getMax();
  if (min == max)
    return minMaxRange(histogram);
  double bestError = std::numeric_limits<double>::infinity();

  if (options.symmetric) {
    ErrorModel model(histogram.absoluteBins());
    int log2Width;
    (void)histogram.absoluteCounts(log2Width);
    double width = std::ldexp(1.0, log2Width);
    double absMax = std::max(max, -min);
    double steps = (1u << (options.numBits - 1)) - 1;
    double bestT = absMax;
    for (double j = 1;; ++j) {
      double t = std::min(j * width, absMax);
      double step = t / steps;
      double error = model.error(-t, t, step * step / 12);
      if (error <= bestError) {
        bestError = error;
        bestT = t;
      }
      if (t == absMax)
        break;
    }
    return symmetricRange(histogram, bestT);
  }

  ErrorModel model(histogram.signedBins());
  // The far end sweeps the bin edges of the side with the larger magnitude.
  bool twoSided = min < 0 && max > 0;
  bool positiveDominates = max >= -min;
  double far = positiveDominates ? max : -min;
  double width =
      std::ldexp(1.0, positiveDominates ? histogram.getPositive().log2Width
                                        : histogram.getNegative().log2Width);
  double steps = (1u << options.numBits) - 1;
  double bestLo = min, bestHi = max;
  for (double j = 1;; ++j) {
    double scale = std::min(j * width, far) / far;
    double lo = twoSided || !positiveDominates ? min * scale : min;
    double hi = twoSided || positiveDominates ? max * scale : max;
    if (lo <= hi) {
      double step = (std::max(hi, 0.0) - std::min(lo, 0.0)) / steps;
      double error = model.error(lo, hi, step * step / 12);
      if (error <= bestError) {
        bestError = error;
        bestLo = lo;
        bestHi = hi;
      }
    }
    if (scale == 1)
      break;
  }
  return {static_cast<float>(bestLo), static_cast<float>(bestHi)};
}

} // namespace mlir::quarc::calibration
