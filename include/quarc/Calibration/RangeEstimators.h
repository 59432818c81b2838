//===- RangeEstimators.h - ranges from stored statistics --------*- C++ -*-===//
//
// Each estimator turns a TensorHistogram into the [min, max] range that
// quantization will map onto the integer grid. They read only the stored
// statistics, so changing the method never re-runs the samples, and they
// are deterministic functions of the histogram, so merged stats give the
// same ranges as one run. Ranges are the data's: making zero representable
// (and symmetry, for symmetric schemes) is Quantization's job; estimators
// that clip never widen the range beyond [min, max].
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_CALIBRATION_RANGEESTIMATORS_H
#define QUARC_CALIBRATION_RANGEESTIMATORS_H

#include "quarc/Calibration/TensorHistogram.h"

#include "llvm/ADT/StringRef.h"
#include <string>

namespace mlir::quarc::calibration {

/// A calibration method as named on the command line:
///   minmax               exact extremes
///   moving-average[=C]   exponential moving average of per-sample extremes,
///                        C = 0.01 (onnxruntime's and PyTorch's constant)
///   percentile[=P]       P = 99.99: clip the (100 - P)% most extreme values
///   entropy              TensorRT's KL-divergence threshold
///   mse                  minimal expected quantization + clipping error
struct Method {
  enum class Kind { MinMax, MovingAverage, Percentile, Entropy, MSE };
  Kind kind = Kind::MinMax;
  /// For Percentile, in [50, 100].
  double percentile = 99.99;
  /// For MovingAverage, in (0, 1].
  double averagingConstant = 0.01;

  /// The canonical spelling, which parseMethod reads back.
  std::string str() const;
};

/// Parses a method name; on failure `error` says what is wrong and lists
/// the methods.
FailureOr<Method> parseMethod(llvm::StringRef spec, std::string &error);

/// What the ranges are for: the clipping estimators (entropy, mse) weigh
/// resolution against clipping for this many integer levels.
struct EstimatorOptions {
  unsigned numBits = 8;
  /// The scheme quantizes [-t, t] (symmetric) rather than [lo, hi]; then
  /// percentile and mse work on |x|.
  bool symmetric = false;
};

struct Range {
  float min;
  float max;
};

/// The range `method` gives for `histogram`. Fails when nothing was
/// recorded (an observer that never ran).
FailureOr<Range> estimateRange(const TensorHistogram &histogram,
                               const Method &method,
                               const EstimatorOptions &options,
                               std::string &error);

// The estimators one by one; each expects getCount() > 0.

/// [-t, t] narrowed to the data's [min, max] (what the |x| estimators
/// return: a symmetric scheme recovers t as max(|min|, |max|)).
Range symmetricRange(const TensorHistogram &histogram, double t);
/// [min, max].
Range minMaxRange(const TensorHistogram &histogram);
/// Over the samples in increasing sample index: start at the first sample's
/// extremes, then m += c * (sampleMin - m) and likewise for the max, as in
/// PyTorch's MovingAverageMinMaxObserver and onnxruntime's MinMaxCalibrater.
Range movingAverageRange(const TensorHistogram &histogram,
                         double averagingConstant);
/// The value below which a fraction `q` of the values lie, interpolated
/// linearly inside its bin (within one bin width of the exact quantile).
double quantile(ArrayRef<Bin> bins, uint64_t count, double q);
/// Two-sided: a (100 - P)% share of the values is clipped, split evenly
/// between the two tails when the data has both signs, all of it in the
/// far tail when it has one (the lower bound of ReLU data stays 0). With
/// options.symmetric: t = the P-th percentile of |x|, range [-t, t]
/// narrowed to [min, max].
Range percentileRange(const TensorHistogram &histogram, double percentile,
                      const EstimatorOptions &options);
/// TensorRT's threshold on the |x| histogram; range [-t, t] narrowed to
/// [min, max]. Levels: 2^(numBits-1) (128 for 8 bits, as TensorRT) for data
/// of both signs or symmetric schemes, 2^numBits - 1 for one-sided data.
/// The threshold keeps at least (1 - kEntropyMaxClippedShare) of the
/// non-zero values: the method clips outliers, and on data away from zero
/// (all of it in [-2, -1], say) the candidates that clip nearly everything
/// into one bin have a divergence near 0 and would win.
Range entropyRange(const TensorHistogram &histogram,
                   const EstimatorOptions &options);
constexpr double kEntropyMaxClippedShare = 0.01;
/// The KL threshold on |x| counts of width 2^log2Width for `levels`
/// quantized levels (exposed for tests); returns the number of bins kept,
/// at least `minBins`.
size_t entropyThresholdBins(ArrayRef<uint64_t> absCounts, unsigned levels,
                            size_t minBins = 0);
/// The clipped range with the least expected squared error under a uniform
/// quantizer with 2^numBits levels over the range widened to include 0.
Range mseRange(const TensorHistogram &histogram,
               const EstimatorOptions &options);

} // namespace mlir::quarc::calibration

#endif // QUARC_CALIBRATION_RANGEESTIMATORS_H
