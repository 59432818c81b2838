//===- TensorHistogram.h - streaming, mergeable histogram -------*- C++ -*-===//
//
// What an observer keeps about one tensor across calibration samples: the
// exact count, min and max, the number of exact zeros, a histogram of the
// values, and the min and max of each sample (for the moving average).
// Memory is two arrays of `numBins` counts, whatever the number of values;
// only the per-sample ranges (16 bytes a sample) grow with the samples.
//
// The histogram is two halves, one for x >= 0 and one for |x| of x < 0, so
// that one-sided data (ReLU outputs) does not waste half of the bins and a
// small negative tail keeps a fine resolution. A half has bins of width
// w = 2^k anchored at 0: bin i holds i*w <= |x| < (i+1)*w. k is a function
// of the half's largest magnitude m only: the smallest k >= kMinLog2Width
// with m < numBins * 2^k. When a larger value arrives, k grows and pairs of
// bins merge (bin i goes to bin i >> dk); the grids are nested, so that is
// exact. Hence the histogram depends only on the multiset of values, not on
// their order or on how they were split into parts, and merging two
// histograms (bring both halves to the larger k, add the counts) gives
// exactly the histogram of all their values. Bin indices are computed as
// floor(|x| * 2^-k) in double, which is exact for every finite float.
// The largest magnitude always lands in the upper half of the bins (unless
// k is kMinLog2Width), so the resolution is within 2x of numBins bins
// spanning [0, m].
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_CALIBRATION_TENSORHISTOGRAM_H
#define QUARC_CALIBRATION_TENSORHISTOGRAM_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"
#include <cstdint>
#include <string>
#include <vector>

namespace mlir::quarc::calibration {

/// TensorRT's KL calibration uses 2048 bins; so do we by default.
constexpr unsigned kDefaultNumBins = 2048;
/// Bounds on numBins that a stats file may state.
constexpr unsigned kMinNumBins = 16;
constexpr unsigned kMaxNumBins = 1u << 20;
/// The finest bin width, 2^-170: below every float (the smallest
/// subnormal is 2^-149) times any allowed number of bins, so tiny values
/// still get distinct bins. Only a half that holds nothing but zeros
/// stays at this width.
constexpr int kMinLog2Width = -170;

/// The smallest k >= kMinLog2Width with `magnitude` < numBins * 2^k.
/// `magnitude` must be finite and >= 0.
int log2WidthFor(double magnitude, unsigned numBins);

/// One sign's half: bin i counts the values with i*w <= |x| < (i+1)*w,
/// w = 2^log2Width.
struct HistogramHalf {
  int log2Width = kMinLog2Width;
  /// Empty while the half has no values, else numBins long.
  std::vector<uint64_t> counts;

  bool empty() const { return counts.empty(); }
  /// Merges bins so that the width becomes 2^newLog2Width (>= the present).
  void coarsen(int newLog2Width);
  bool operator==(const HistogramHalf &o) const {
    return log2Width == o.log2Width && counts == o.counts;
  }
};

/// The range of the values a tensor took in one sample.
struct SampleRange {
  uint64_t sample;
  float min;
  float max;
  bool operator==(const SampleRange &o) const {
    return sample == o.sample && min == o.min && max == o.max;
  }
};

/// A stretch of the value axis with a count, for the estimators: the values
/// are taken as spread uniformly over [lo, hi] (a point mass when lo == hi).
struct Bin {
  double lo;
  double hi;
  uint64_t count;
};

class TensorHistogram {
public:
  explicit TensorHistogram(unsigned numBins = kDefaultNumBins);

  /// Adds the values of one tensor in sample `sample` (any order of samples;
  /// recording the same sample twice, e.g. an observer inside a loop, adds
  /// to that sample). NaN and infinite values are counted and reported as an
  /// error ("3 NaN and 1 infinite values among 1024"), and then nothing is
  /// recorded; the caller prefixes the tensor and sample names.
  LogicalResult record(uint64_t sample, ArrayRef<float> values,
                       std::string &error);

  /// Adds everything `other` recorded. Fails, changing nothing, when the
  /// bin counts differ or both recorded the same sample.
  LogicalResult merge(const TensorHistogram &other, std::string &error);

  unsigned getNumBins() const { return numBins; }
  /// Number of values recorded.
  uint64_t getCount() const { return count; }
  /// Number of values that were exactly zero (they are also in bin 0 of
  /// the positive half); the estimators treat them as a point mass, which
  /// quantization represents exactly.
  uint64_t getZeroCount() const { return zeros; }
  /// Exact extremes; only meaningful when getCount() > 0. -0.0 is recorded
  /// as 0.0, so that equal multisets give equal files.
  float getMin() const { return min; }
  float getMax() const { return max; }
  /// x >= 0 (zeros included).
  const HistogramHalf &getPositive() const { return positive; }
  /// |x| for x < 0.
  const HistogramHalf &getNegative() const { return negative; }
  /// Per-sample ranges, sorted by sample index: merged stats order their
  /// samples by the caller's global sample index, never by arrival.
  ArrayRef<SampleRange> getSampleRanges() const { return sampleRanges; }

  /// The non-empty bins in increasing value order, each narrowed to
  /// [min, max] (so the first starts at min and the last ends at max), with
  /// the exact zeros as a point mass [0, 0].
  std::vector<Bin> signedBins() const;
  /// The same for |x|.
  std::vector<Bin> absoluteBins() const;
  /// Counts of |x| on one grid: both halves brought to the larger width.
  /// `log2Width` receives that width. Empty when nothing was recorded.
  std::vector<uint64_t> absoluteCounts(int &log2Width) const;

  /// Everything a histogram holds, as the stats file stores it.
  struct Contents {
    unsigned numBins = kDefaultNumBins;
    uint64_t count = 0;
    uint64_t zeros = 0;
    float min = 0;
    float max = 0;
    /// Counts may be shorter than numBins (trailing zero bins left out);
    /// empty for a half without values.
    HistogramHalf positive;
    HistogramHalf negative;
    std::vector<SampleRange> sampleRanges;
  };
  /// Builds a histogram from stored contents, checking that they are
  /// consistent with each other (counts sum to `count`, each width is the
  /// one the extremes imply, the extremes fall into the last non-empty
  /// bins, per-sample ranges are sorted and agree with min and max). The
  /// error names the offending field.
  static FailureOr<TensorHistogram> fromContents(Contents contents,
                                                 std::string &error);

  bool operator==(const TensorHistogram &o) const;
  bool operator!=(const TensorHistogram &o) const { return !(*this == o); }

private:
  void addSampleRange(uint64_t sample, float lo, float hi);

  unsigned numBins;
  uint64_t count = 0;
  uint64_t zeros = 0;
  float min;
  float max;
  HistogramHalf positive;
  HistogramHalf negative;
  std::vector<SampleRange> sampleRanges;
};

} // namespace mlir::quarc::calibration

#endif // QUARC_CALIBRATION_TENSORHISTOGRAM_H
