//===- TensorHistogram.cpp - streaming, exactly mergeable value histogram -===//

#include "quarc/Calibration/TensorHistogram.h"

#include "quarc/Calibration/SampleSet.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/MathExtras.h"
#include <algorithm>
#include <cmath>
#include <limits>

namespace mlir::quarc::calibration {

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();

/// Index of the bin of `magnitude` in a half of width 2^log2Width; exact,
/// since scaling a float by a power of two is exact in double.
uint64_t binIndex(double magnitude, int log2Width) {
  return static_cast<uint64_t>(std::ldexp(magnitude, -log2Width));
}

/// A signed integer that orders finite floats like their values: negative
/// floats have their magnitude bits flipped (an involution).
int32_t orderKey(uint32_t bits) {
  int32_t s = static_cast<int32_t>(bits);
  return s ^ ((s >> 31) & 0x7fffffff);
}
float fromOrderKey(int32_t key) {
  return llvm::bit_cast<float>(
      static_cast<uint32_t>(orderKey(static_cast<uint32_t>(key))));
}

/// Makes `half` wide enough for `magnitude`.
void widen(HistogramHalf &half, double magnitude, unsigned numBins) {
  int needed = log2WidthFor(magnitude, numBins);
  if (half.empty()) {
    half.log2Width = needed;
    half.counts.assign(numBins, 0);
  } else if (needed > half.log2Width) {
    half.coarsen(needed);
  }
}

void addHalf(HistogramHalf &into, const HistogramHalf &from) {
  if (from.empty())
    return;
  if (into.empty()) {
    into = from;
    return;
  }
  int log2Width = std::max(into.log2Width, from.log2Width);
  into.coarsen(log2Width);
  HistogramHalf other = from;
  other.coarsen(log2Width);
  for (auto [a, b] : llvm::zip_equal(into.counts, other.counts))
    a += b;
}

/// Index of the last non-zero count, or -1.
int64_t lastNonZero(ArrayRef<uint64_t> counts) {
  for (int64_t i = static_cast<int64_t>(counts.size()) - 1; i >= 0; --i)
    if (counts[i])
      return i;
  return -1;
}
int64_t firstNonZero(ArrayRef<uint64_t> counts) {
  for (size_t i = 0; i < counts.size(); ++i)
    if (counts[i])
      return static_cast<int64_t>(i);
  return -1;
}
} // namespace

int log2WidthFor(double magnitude, unsigned numBins) {
  if (magnitude == 0)
    return kMinLog2Width;
  // Start just below the answer, then step; each comparison is exact.
  int k =
      std::max(kMinLog2Width, std::ilogb(magnitude) -
                                  static_cast<int>(llvm::Log2_32(numBins)) - 1);
  while (std::ldexp(magnitude, -k) >= numBins)
    ++k;
  while (k > kMinLog2Width && std::ldexp(magnitude, -(k - 1)) < numBins)
    --k;
  return k;
}

void HistogramHalf::coarsen(int newLog2Width) {
  int shift = newLog2Width - log2Width;
  log2Width = newLog2Width;
  if (shift <= 0 || counts.empty())
    return;
  std::vector<uint64_t> merged(counts.size(), 0);
  for (size_t i = 0; i < counts.size(); ++i)
    merged[shift >= 64 ? 0 : i >> shift] += counts[i];
  counts = std::move(merged);
}

TensorHistogram::TensorHistogram(unsigned numBins)
    : numBins(numBins), min(kInf), max(-kInf) {}

LogicalResult TensorHistogram::record(uint64_t sample, ArrayRef<float> values,
                                      std::string &error) {
  if (sample > kMaxSampleIndex) {
    error = "sample index " + std::to_string(sample) + " is too large";
    return failure();
  }
  // First pass: extremes, and whether anything cannot be binned. On the
  // bit patterns, branch-free (so it vectorizes): a float is NaN or
  // infinite when its exponent bits are all ones, and orderKey orders
  // finite floats like their values.
  uint64_t nonFinite = 0;
  int32_t minKey = INT32_MAX, maxKey = INT32_MIN;
  for (float x : values) {
    uint32_t bits = llvm::bit_cast<uint32_t>(x);
    nonFinite += (bits & 0x7f800000u) == 0x7f800000u;
    int32_t key = orderKey(bits);
    minKey = std::min(minKey, key);
    maxKey = std::max(maxKey, key);
  }
  if (nonFinite) {
    uint64_t nans =
        llvm::count_if(values, [](float x) { return std::isnan(x); });
    error = std::to_string(nans) + " NaN and " +
            std::to_string(nonFinite - nans) + " infinite values among " +
            std::to_string(values.size());
    return failure();
  }
  if (values.empty())
    return success();
  // -0.0 + 0.0 is +0.0: equal multisets must give equal files.
  float lo = fromOrderKey(minKey) + 0.0f;
  float hi = fromOrderKey(maxKey) + 0.0f;

  if (hi >= 0)
    widen(positive, hi, numBins);
  if (lo < 0)
    widen(negative, -static_cast<double>(lo), numBins);

  // Second pass: bin. The half and its scale are picked by the sign bit
  // from two-entry tables, not by a comparison, which compilers turn back
  // into a branch that random signs mispredict (4x slower). Every index is
  // < numBins by the choice of widths. |x| * 2^-k is exact in float when
  // 2^-k is a normal float (a product below the normal range is < 1, bin 0
  // either way); finer widths (a half whose values are all below about
  // 1e-32) take double, where it is always exact.
  uint64_t *halves[2] = {positive.empty() ? nullptr : positive.counts.data(),
                         negative.empty() ? nullptr : negative.counts.data()};
  auto inFloatRange = [](const HistogramHalf &half) {
    return half.empty() || (half.log2Width >= -126 && half.log2Width <= 126);
  };
  uint64_t newZeros = 0;
  if (inFloatRange(positive) && inFloatRange(negative)) {
    float scales[2] = {
        positive.empty() ? 0 : std::ldexp(1.0f, -positive.log2Width),
        negative.empty() ? 0 : std::ldexp(1.0f, -negative.log2Width)};
    for (float x : values) {
      // + 0.0f turns -0.0 into +0.0, so the sign bit says x < 0.
      uint32_t bits = llvm::bit_cast<uint32_t>(x + 0.0f);
      uint32_t isNegative = bits >> 31;
      float magnitude = llvm::bit_cast<float>(bits & 0x7fffffffu);
      ++halves[isNegative]
              [static_cast<uint32_t>(magnitude * scales[isNegative])];
      newZeros += (bits == 0);
    }
  } else {
    double scales[2] = {std::ldexp(1.0, -positive.log2Width),
                        std::ldexp(1.0, -negative.log2Width)};
    for (float x : values) {
      uint32_t bits = llvm::bit_cast<uint32_t>(x + 0.0f);
      uint32_t isNegative = bits >> 31;
      double magnitude = llvm::bit_cast<float>(bits & 0x7fffffffu);
      ++halves[isNegative]
              [static_cast<uint64_t>(magnitude * scales[isNegative])];
      newZeros += (bits == 0);
    }
  }
  count += values.size();
  zeros += newZeros;
  min = std::min(min, lo);
  max = std::max(max, hi);
  addSampleRange(sample, lo, hi);
  return success();
}

void TensorHistogram::addSampleRange(uint64_t sample, float lo, float hi) {
  if (sampleRanges.empty() || sampleRanges.back().sample < sample) {
    sampleRanges.push_back({sample, lo, hi});
    return;
  }
  auto it = llvm::lower_bound(
      sampleRanges, sample,
      [](const SampleRange &range, uint64_t s) { return range.sample < s; });
  if (it->sample == sample) {
    it->min = std::min(it->min, lo);
    it->max = std::max(it->max, hi);
    return;
  }
  sampleRanges.insert(it, {sample, lo, hi});
}

LogicalResult TensorHistogram::merge(const TensorHistogram &other,
                                     std::string &error) {
  if (numBins != other.numBins) {
    error = "histograms of " + std::to_string(numBins) + " and " +
            std::to_string(other.numBins) + " bins cannot be merged";
    return failure();
  }
  std::vector<SampleRange> ranges;
  ranges.reserve(sampleRanges.size() + other.sampleRanges.size());
  auto a = sampleRanges.cbegin();
  auto b = other.sampleRanges.cbegin();
  while (a != sampleRanges.cend() || b != other.sampleRanges.cend()) {
    if (b == other.sampleRanges.cend() ||
        (a != sampleRanges.cend() && a->sample < b->sample)) {
      ranges.push_back(*a++);
    } else if (a == sampleRanges.cend() || b->sample < a->sample) {
      ranges.push_back(*b++);
    } else {
      error = "sample " + std::to_string(a->sample) + " was recorded in both";
      return failure();
    }
  }
  sampleRanges = std::move(ranges);
  count += other.count;
  zeros += other.zeros;
  min = std::min(min, other.min);
  max = std::max(max, other.max);
  addHalf(positive, other.positive);
  addHalf(negative, other.negative);
  return success();
}

std::vector<uint64_t> TensorHistogram::absoluteCounts(int &log2Width) const {
  log2Width = kMinLog2Width;
  if (count == 0)
    return {};
  HistogramHalf all;
  addHalf(all, positive);
  addHalf(all, negative);
  log2Width = all.log2Width;
  return std::move(all.counts);
}

namespace {
/// Appends the bins of one half in increasing |x| order, narrowed to
/// [lo, hi] (in |x|), with the `zeros` taken out of bin 0 as a point mass.
void appendBins(ArrayRef<uint64_t> counts, int log2Width, uint64_t zeros,
                double lo, double hi, std::vector<Bin> &bins) {
  if (zeros)
    bins.push_back({0, 0, zeros});
  double width = std::ldexp(1.0, log2Width);
  for (size_t i = 0; i < counts.size(); ++i) {
    uint64_t n = counts[i] - (i == 0 ? zeros : 0);
    if (!n)
      continue;
    // i and i + 1 are below 2^21: the products are exact.
    bins.push_back({std::max(lo, static_cast<double>(i) * width),
                    std::min(hi, static_cast<double>(i + 1) * width), n});
  }
}
} // namespace

std::vector<Bin> TensorHistogram::signedBins() const {
  std::vector<Bin> bins;
  if (count == 0)
    return bins;
  if (!negative.empty()) {
    // In |x|, the negative values span [-max, -min] (or from 0).
    appendBins(negative.counts, negative.log2Width, 0,
               max < 0 ? -static_cast<double>(max) : 0,
               -static_cast<double>(min), bins);
    std::reverse(bins.begin(), bins.end());
    for (Bin &bin : bins)
      bin = {-bin.hi, -bin.lo, bin.count};
  }
  if (!positive.empty())
    appendBins(positive.counts, positive.log2Width, zeros,
               std::max(0.0, static_cast<double>(min)), max, bins);
  return bins;
}

std::vector<Bin> TensorHistogram::absoluteBins() const {
  std::vector<Bin> bins;
  int log2Width;
  std::vector<uint64_t> counts = absoluteCounts(log2Width);
  if (counts.empty())
    return bins;
  double absMax = std::max<double>(max, -static_cast<double>(min));
  double absMin = min >= 0 ? min : (max <= 0 ? -static_cast<double>(max) : 0);
  appendBins(counts, log2Width, zeros, absMin, absMax, bins);
  return bins;
}

bool TensorHistogram::operator==(const TensorHistogram &o) const {
  return numBins == o.numBins && count == o.count && zeros == o.zeros &&
         min == o.min && max == o.max && positive == o.positive &&
         negative == o.negative && sampleRanges == o.sampleRanges;
}

namespace {
/// Checks one half against the extremes of its values (in |x|): present
/// exactly when the sign occurs, the width the largest magnitude implies,
/// the largest in the last non-empty bin, and the smallest (when known, i.e.
/// the data has one sign; else -1) in the first. Pads the counts.
LogicalResult checkHalf(HistogramHalf &half, StringRef name, bool present,
                        double smallest, double largest, unsigned numBins,
                        std::string &error) {
  std::string field = name.str();
  if (half.counts.size() > numBins) {
    error = "field '" + field + ".counts' has " +
            std::to_string(half.counts.size()) + " bins, more than the " +
            std::to_string(numBins) + " of the file";
    return failure();
  }
  int64_t last = lastNonZero(half.counts);
  if (!present) {
    if (last >= 0 || half.log2Width != kMinLog2Width) {
      error = "field '" + field +
              "' is given, but the extremes say no value has that sign";
      return failure();
    }
    half.counts.clear();
    return success();
  }
  if (last < 0) {
    error = "field '" + field +
            ".counts' holds no value, but the extremes say some value has "
            "that sign";
    return failure();
  }
  int expected = log2WidthFor(largest, numBins);
  if (half.log2Width != expected) {
    error = "field '" + field + ".log2_width' is " +
            std::to_string(half.log2Width) + ", but the extremes imply " +
            std::to_string(expected);
    return failure();
  }
  if (static_cast<int64_t>(binIndex(largest, half.log2Width)) != last ||
      (smallest >= 0 &&
       static_cast<int64_t>(binIndex(smallest, half.log2Width)) !=
           firstNonZero(half.counts))) {
    error = "field '" + field +
            ".counts' does not agree with the extremes (their bins must be "
            "the first and last non-empty ones)";
    return failure();
  }
  half.counts.resize(numBins, 0);
  return success();
}
} // namespace

FailureOr<TensorHistogram> TensorHistogram::fromContents(Contents c,
                                                         std::string &error) {
  if (c.numBins < kMinNumBins || c.numBins > kMaxNumBins) {
    error = "the number of bins, " + std::to_string(c.numBins) +
            ", is outside [" + std::to_string(kMinNumBins) + ", " +
            std::to_string(kMaxNumBins) + "]";
    return failure();
  }
  TensorHistogram h(c.numBins);
  if (c.count == 0) {
    if (lastNonZero(c.positive.counts) >= 0 ||
        lastNonZero(c.negative.counts) >= 0 || c.zeros ||
        !c.sampleRanges.empty()) {
      error = "field 'count' is 0, but values are recorded";
      return failure();
    }
    return h;
  }
  if (!std::isfinite(c.min) || !std::isfinite(c.max) || c.min > c.max) {
    error = "fields 'min' and 'max' are not a range of finite values";
    return failure();
  }
  c.min += 0.0f;
  c.max += 0.0f;
  double lo = c.min, hi = c.max;
  if (failed(checkHalf(c.positive, "positive", hi >= 0, lo >= 0 ? lo : -1, hi,
                       c.numBins, error)) ||
      failed(checkHalf(c.negative, "negative", lo < 0, hi < 0 ? -hi : -1, -lo,
                       c.numBins, error)))
    return failure();

  uint64_t sum = 0;
  for (const HistogramHalf *half : {&c.positive, &c.negative})
    for (uint64_t n : half->counts) {
      if (n > UINT64_MAX - sum) {
        error = "the bin counts overflow";
        return failure();
      }
      sum += n;
    }
  if (sum != c.count) {
    error = "field 'count' is " + std::to_string(c.count) +
            ", but the bins hold " + std::to_string(sum) + " values";
    return failure();
  }
  bool zeroOccurs = lo <= 0 && hi >= 0;
  if ((!zeroOccurs && c.zeros) ||
      (!c.positive.empty() && c.zeros > c.positive.counts[0]) ||
      ((lo == 0 || hi == 0) && !c.zeros)) {
    error = "field 'zeros' (" + std::to_string(c.zeros) +
            ") does not agree with the extremes and bin 0";
    return failure();
  }

  float rangeMin = kInf, rangeMax = -kInf;
  for (size_t i = 0; i < c.sampleRanges.size(); ++i) {
    SampleRange &range = c.sampleRanges[i];
    std::string field = "samples[" + std::to_string(i) + "]";
    if (i > 0 && range.sample <= c.sampleRanges[i - 1].sample) {
      error = "field '" + field + "': sample indices must increase";
      return failure();
    }
    if (!std::isfinite(range.min) || !std::isfinite(range.max) ||
        range.min > range.max) {
      error = "field '" + field + "' is not a range of finite values";
      return failure();
    }
    range.min += 0.0f;
    range.max += 0.0f;
    rangeMin = std::min(rangeMin, range.min);
    rangeMax = std::max(rangeMax, range.max);
  }
  if (rangeMin != c.min || rangeMax != c.max) {
    error = "field 'samples' does not agree with 'min' and 'max'";
    return failure();
  }

  h.count = c.count;
  h.zeros = c.zeros;
  h.min = c.min;
  h.max = c.max;
  h.positive = std::move(c.positive);
  h.negative = std::move(c.negative);
  h.sampleRanges = std::move(c.sampleRanges);
  return h;
}

} // namespace mlir::quarc::calibration
