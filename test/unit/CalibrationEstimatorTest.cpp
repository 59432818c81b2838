//===- CalibrationEstimatorTest.cpp - range estimators against references -===//
//
// Each estimator is checked on data with a known answer and against an
// independent computation on the raw values: numpy-style exact percentiles,
// the measured quantization error of a real quantizer, and the TensorRT
// KL algorithm written out literally.
//
//===----------------------------------------------------------------------===//

#include "quarc/Calibration/CalibrationStats.h"
#include "quarc/Calibration/RangeEstimators.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <random>

using namespace mlir;
using namespace mlir::quarc::calibration;

namespace {

TensorHistogram histogramOf(ArrayRef<float> values,
                            unsigned bins = kDefaultNumBins) {
  TensorHistogram histogram(bins);
  std::string error;
  EXPECT_TRUE(succeeded(histogram.record(0, values, error))) << error;
  return histogram;
}

Range estimate(const TensorHistogram &histogram, StringRef method,
               EstimatorOptions options = {}) {
  std::string error;
  FailureOr<Method> parsed = parseMethod(method, error);
  EXPECT_TRUE(succeeded(parsed)) << error;
  FailureOr<Range> range = estimateRange(histogram, *parsed, options, error);
  EXPECT_TRUE(succeeded(range)) << error;
  return succeeded(range) ? *range : Range{NAN, NAN};
}

/// numpy.percentile's default (linear) on sorted values; q in [0, 1].
double exactQuantile(const std::vector<float> &sorted, double q) {
  double position = q * static_cast<double>(sorted.size() - 1);
  size_t i = static_cast<size_t>(position);
  size_t j = std::min(i + 1, sorted.size() - 1);
  return sorted[i] + (position - i) * (sorted[j] - sorted[i]);
}

double binWidth(const TensorHistogram &histogram, double x) {
  return std::ldexp(1.0, x >= 0 ? histogram.getPositive().log2Width
                                : histogram.getNegative().log2Width);
}

/// Mean squared error of an actual asymmetric uniform quantizer with
/// 2^bits levels over [lo, hi] widened to include 0 (rounded zero point).
double measuredMSE(const std::vector<float> &values, double lo, double hi,
                   unsigned bits) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  double qmax = std::ldexp(1.0, bits) - 1;
  double scale = (hi - lo) / qmax;
  double zeroPoint = std::round(-lo / scale);
  double sum = 0;
  for (float x : values) {
    double q = std::clamp(std::round(x / scale) + zeroPoint, 0.0, qmax);
    double error = (q - zeroPoint) * scale - x;
    sum += error * error;
  }
  return sum / values.size();
}

std::vector<float> gaussianWithOutliers(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> values(n);
  for (float &x : values)
    x = normal(rng);
  values[10] = 40.f;
  values[20] = 35.f;
  values[30] = -38.f;
  return values;
}

//===----------------------------------------------------------------------===//
// Method names.
//===----------------------------------------------------------------------===//

TEST(CalibrationMethod, ParsesTheCommandLineNames) {
  std::string error;
  auto parse = [&](StringRef spec) {
    FailureOr<Method> method = parseMethod(spec, error);
    EXPECT_TRUE(succeeded(method)) << spec.str() << ": " << error;
    return succeeded(method) ? *method : Method{};
  };
  EXPECT_EQ(parse("minmax").kind, Method::Kind::MinMax);
  EXPECT_EQ(parse("entropy").kind, Method::Kind::Entropy);
  EXPECT_EQ(parse("mse").kind, Method::Kind::MSE);
  EXPECT_EQ(parse("percentile").percentile, 99.99);
  EXPECT_EQ(parse("percentile=99.9").percentile, 99.9);
  EXPECT_EQ(parse("moving-average").averagingConstant, 0.01);
  EXPECT_EQ(parse("moving-average=0.1").averagingConstant, 0.1);
  for (StringRef spec : {"minmax", "moving-average=0.01", "percentile=99.99",
                         "percentile=99.9", "entropy", "mse"})
    EXPECT_EQ(parse(spec).str(), spec);
}

TEST(CalibrationMethod, RejectsBadNamesAndValues) {
  std::string error;
  EXPECT_TRUE(failed(parseMethod("kl", error)));
  EXPECT_EQ(error, "unknown calibration method 'kl'; expected one of minmax, "
                   "moving-average[=C], percentile[=P], entropy, mse");
  EXPECT_TRUE(failed(parseMethod("percentile=101", error)));
  EXPECT_EQ(error, "invalid percentile '101': expected a number from 50 to "
                   "100, e.g. percentile=99.99");
  EXPECT_TRUE(failed(parseMethod("percentile=abc", error)));
  EXPECT_TRUE(failed(parseMethod("percentile=", error)));
  EXPECT_TRUE(failed(parseMethod("percentile=nan", error)));
  EXPECT_TRUE(failed(parseMethod("moving-average=0", error)));
  EXPECT_EQ(error, "invalid moving-average constant '0': expected a number "
                   "in (0, 1], e.g. moving-average=0.01");
  EXPECT_TRUE(failed(parseMethod("entropy=3", error)));
  EXPECT_EQ(error, "calibration method 'entropy' takes no value");
}

//===----------------------------------------------------------------------===//
// Known data.
//===----------------------------------------------------------------------===//

TEST(CalibrationEstimators, UniformDataMatchesExactPercentiles) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> uniform(-1.f, 3.f);
  std::vector<float> values(200000);
  for (float &x : values)
    x = uniform(rng);
  TensorHistogram histogram = histogramOf(values);
  std::vector<float> sorted = values;
  std::sort(sorted.begin(), sorted.end());

  Range minmax = estimate(histogram, "minmax");
  EXPECT_EQ(minmax.min, sorted.front());
  EXPECT_EQ(minmax.max, sorted.back());
  for (double p : {99.99, 99.9, 99.0, 90.0}) {
    Range range = estimate(histogram, "percentile=" + std::to_string(p));
    double tail = (100 - p) / 200; // both signs: split between the tails
    double lo = exactQuantile(sorted, tail),
           hi = exactQuantile(sorted, 1 - tail);
    EXPECT_NEAR(range.min, lo, binWidth(histogram, lo)) << p;
    EXPECT_NEAR(range.max, hi, binWidth(histogram, hi)) << p;
  }
  // Symmetric: the percentile of |x|.
  std::vector<float> magnitudes;
  for (float x : values)
    magnitudes.push_back(std::fabs(x));
  std::sort(magnitudes.begin(), magnitudes.end());
  Range symmetric =
      estimate(histogram, "percentile=99", {/*numBits=*/8, /*symmetric=*/true});
  double t = exactQuantile(magnitudes, 0.99);
  EXPECT_NEAR(symmetric.max, t, binWidth(histogram, t));
  EXPECT_EQ(symmetric.min, minmax.min); // -t is below the data: narrowed

  // Uniform data has no outliers: the clipping estimators keep nearly all.
  EXPECT_GT(estimate(histogram, "mse").max, 2.9f);
  EXPECT_GT(estimate(histogram, "entropy").max, 2.9f);
}

TEST(CalibrationEstimators, ClippingEstimatorsClipOutliersMinMaxDoesNot) {
  std::vector<float> values = gaussianWithOutliers(1 << 20, 2);
  TensorHistogram histogram = histogramOf(values);
  Range minmax = estimate(histogram, "minmax");
  EXPECT_EQ(minmax.min, -38.f);
  EXPECT_EQ(minmax.max, 40.f);
  for (StringRef method : {"percentile", "entropy", "mse"}) {
    Range range = estimate(histogram, method);
    // The bulk (|x| < 3 sigma) is kept, the outliers (|x| >= 35) are not.
    EXPECT_LT(range.max, 30.f) << method.str();
    EXPECT_GT(range.max, 3.f) << method.str();
    EXPECT_GT(range.min, -30.f) << method.str();
    EXPECT_LT(range.min, -3.f) << method.str();
  }
  // Percentile and entropy ignore how far out the outliers are; mse weighs
  // their squared distance against the resolution of 1M values (it settles
  // near 14, which the next test confirms by measurement).
  for (StringRef method : {"percentile", "entropy"}) {
    EXPECT_LT(estimate(histogram, method).max, 6.f) << method.str();
    EXPECT_GT(estimate(histogram, method).min, -6.f) << method.str();
  }
}

TEST(CalibrationEstimators, EntropyKeepsDataAwayFromZero) {
  // One-sided data far from zero (a PP-OCR cls tensor is in [-2.03,
  // -0.99]): the KL candidates that clip nearly all of it into one bin
  // have a divergence near 0; the threshold must still keep 99% of it.
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<float> uniform(-2.03f, -0.99f);
  std::vector<float> values(1 << 16);
  for (float &value : values)
    value = uniform(rng);
  TensorHistogram histogram = histogramOf(values);
  for (bool symmetric : {false, true}) {
    Range range = estimate(histogram, "entropy", {8, symmetric});
    size_t kept = llvm::count_if(values, [&](float v) {
      return v >= range.min && v <= range.max;
    });
    EXPECT_GE(double(kept), 0.99 * double(values.size()))
        << "range [" << range.min << ", " << range.max << "]";
  }
}

TEST(CalibrationEstimators, MSERangeIsNearTheMeasuredOptimum) {
  std::vector<float> values = gaussianWithOutliers(1 << 18, 3);
  TensorHistogram histogram = histogramOf(values);
  for (unsigned bits : {4u, 8u}) {
    Range range = estimate(histogram, "mse", {bits, false});
    double ours = measuredMSE(values, range.min, range.max, bits);
    // A grid of clipping factors applied to [min, max], as the estimator
    // does, measured on the raw values with a real quantizer.
    double best = INFINITY;
    for (int i = 1; i <= 200; ++i) {
      double scale = i / 200.0;
      best = std::min(best,
                      measuredMSE(values, -38.0 * scale, 40.0 * scale, bits));
    }
    // The model's rounding term (s^2/12) and the grid's resolution differ
    // from the measurement by a few percent.
    EXPECT_LE(ours, best * 1.05) << bits << " bits";
    EXPECT_LT(ours, measuredMSE(values, -38, 40, bits)) << bits << " bits";
  }
  // Fewer bits: coarser steps, so more clipping pays.
  EXPECT_LT(estimate(histogram, "mse", {4, false}).max,
            estimate(histogram, "mse", {8, false}).max);
}

TEST(CalibrationEstimators, AllZeroAndConstantTensorsGiveTheirValue) {
  std::vector<float> zeros(1000, 0.f), positive(1000, 3.25f),
      negative(1000, -2.f);
  for (const std::vector<float> *values : {&zeros, &positive, &negative}) {
    TensorHistogram histogram = histogramOf(*values);
    float x = values->front();
    for (StringRef method : {"minmax", "moving-average", "percentile",
                             "percentile=60", "entropy", "mse"}) {
      for (bool symmetric : {false, true}) {
        Range range = estimate(histogram, method, {8, symmetric});
        EXPECT_EQ(range.min, x) << method.str();
        EXPECT_EQ(range.max, x) << method.str();
      }
    }
  }
}

TEST(CalibrationEstimators, OneSidedDataKeepsItsLowerBound) {
  std::mt19937_64 rng(4);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> values(100000);
  for (float &x : values)
    x = std::max(0.f, normal(rng)); // ReLU: half exact zeros
  values[5] = 30.f;
  TensorHistogram histogram = histogramOf(values);
  EXPECT_GT(histogram.getZeroCount(), 45000u);
  std::vector<float> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (StringRef method : {"minmax", "percentile", "entropy", "mse"}) {
    Range range = estimate(histogram, method);
    EXPECT_EQ(range.min, 0.f) << method.str();
    EXPECT_GT(range.max, 2.5f) << method.str();
  }
  // All of the clipped share is in the upper tail.
  Range percentile = estimate(histogram, "percentile=99.9");
  double hi = exactQuantile(sorted, 0.999);
  EXPECT_NEAR(percentile.max, hi, binWidth(histogram, hi));
  for (StringRef method : {"percentile", "entropy"})
    EXPECT_LT(estimate(histogram, method).max, 10.f) << method.str();
  // mse keeps the outlier here (50K non-zero values are too few to pay for
  // clipping it); check it against the measured optimum over [0, hi]. The
  // exact zeros cost nothing, as in the quantizer.
  double ours = measuredMSE(values, 0, estimate(histogram, "mse").max, 8);
  double best = INFINITY;
  for (int i = 1; i <= 300; ++i)
    best = std::min(best, measuredMSE(values, 0, 30.0 * i / 300, 8));
  EXPECT_LE(ours, best * 1.05);

  // The mirror image (all values <= 0) keeps its upper bound.
  for (float &x : values)
    x = -x;
  TensorHistogram mirrored = histogramOf(values);
  for (StringRef method : {"minmax", "percentile", "entropy", "mse"}) {
    Range range = estimate(mirrored, method);
    Range original = estimate(histogram, method);
    EXPECT_EQ(range.max, 0.f) << method.str();
    EXPECT_EQ(range.min, -original.max) << method.str();
  }
}

TEST(CalibrationEstimators, MovingAverageFollowsSampleIndexOrder) {
  TensorHistogram histogram(64);
  std::string error;
  // Recorded out of order; the average runs over indices 0, 1, 2, 3.
  float s2[] = {-3.f, 5.f}, s0[] = {-1.f, 1.f}, s3[] = {-2.f, 8.f},
        s1[] = {0.5f, 2.f};
  ASSERT_TRUE(succeeded(histogram.record(2, s2, error)));
  ASSERT_TRUE(succeeded(histogram.record(0, s0, error)));
  ASSERT_TRUE(succeeded(histogram.record(3, s3, error)));
  ASSERT_TRUE(succeeded(histogram.record(1, s1, error)));
  double lo = -1, hi = 1;
  for (auto [sampleMin, sampleMax] :
       {std::pair{0.5, 2.0}, std::pair{-3.0, 5.0}, std::pair{-2.0, 8.0}}) {
    lo += 0.25 * (sampleMin - lo);
    hi += 0.25 * (sampleMax - hi);
  }
  Range range = estimate(histogram, "moving-average=0.25");
  EXPECT_EQ(range.min, static_cast<float>(lo));
  EXPECT_EQ(range.max, static_cast<float>(hi));
}

TEST(CalibrationEstimators, NothingRecordedIsAnError) {
  CalibrationStats stats("hash");
  std::string error;
  ASSERT_TRUE(succeeded(stats.declareTensor("branch", error)));
  Method minmax;
  EXPECT_TRUE(failed(stats.estimateRange("branch", minmax, {}, error)));
  EXPECT_EQ(error, "tensor 'branch': no values were recorded");
  EXPECT_TRUE(failed(stats.estimateRange("other", minmax, {}, error)));
  EXPECT_EQ(error, "the calibration stats have no tensor 'other'");
  float values[] = {1.f};
  ASSERT_TRUE(succeeded(stats.record(0, "branch", values, error)));
  EXPECT_TRUE(failed(stats.estimateRange("branch", minmax, {1, false}, error)));
  EXPECT_EQ(error, "tensor 'branch': cannot calibrate for 1-bit integers (2 "
                   "to 16 bits)");
}

//===----------------------------------------------------------------------===//
// Entropy: the fast algorithm against TensorRT's, written out literally.
//===----------------------------------------------------------------------===//

/// Migacz (GTC 2017): for i in [levels, n], P = bins[0, i) with the
/// outliers added to P[i-1], Q = bins[0, i) quantized into `levels` groups
/// and expanded over the non-zero bins of P; the argmin of KL(P || Q).
/// Returns the chosen i and fills `divergences` (infinite where Q is 0 and
/// P is not).
size_t literalEntropyBins(const std::vector<uint64_t> &histogram,
                          unsigned levels, std::vector<double> &divergences) {
  size_t n = histogram.size();
  while (n > 0 && histogram[n - 1] == 0)
    --n;
  divergences.assign(n + 1, INFINITY);
  if (n <= levels)
    return n;
  double best = INFINITY;
  size_t bestBins = n;
  for (size_t i = levels; i <= n; ++i) {
    std::vector<double> p(histogram.begin(), histogram.begin() + i);
    for (size_t j = i; j < n; ++j)
      p[i - 1] += histogram[j];
    std::vector<double> q(i, 0);
    size_t merged = i / levels;
    for (unsigned g = 0; g < levels; ++g) {
      size_t start = g * merged, end = g + 1 == levels ? i : start + merged;
      double sum = 0, nonZero = 0;
      for (size_t j = start; j < end; ++j) {
        sum += histogram[j];
        nonZero += p[j] != 0;
      }
      for (size_t j = start; j < end; ++j)
        if (p[j] != 0)
          q[j] = sum / nonZero;
    }
    double pSum = 0, qSum = 0;
    for (size_t j = 0; j < i; ++j) {
      pSum += p[j];
      qSum += q[j];
    }
    double kl = 0;
    for (size_t j = 0; j < i && kl != INFINITY; ++j) {
      if (p[j] == 0)
        continue;
      kl = q[j] == 0
               ? INFINITY
               : kl + p[j] / pSum * std::log((p[j] / pSum) / (q[j] / qSum));
    }
    divergences[i] = kl;
    if (kl < best) {
      best = kl;
      bestBins = i;
    }
  }
  return bestBins;
}

TEST(CalibrationEstimators, EntropyMatchesTheLiteralAlgorithm) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal(0, 1);
  std::vector<std::vector<uint64_t>> histograms;
  {
    // |x| of a Gaussian with outliers, as the estimator sees it.
    std::vector<float> values = gaussianWithOutliers(200000, 6);
    int log2Width;
    histograms.push_back(histogramOf(values, 512).absoluteCounts(log2Width));
  }
  {
    // Sparse random counts with gaps, so Q hits zeros.
    std::vector<uint64_t> sparse(700, 0);
    for (size_t j = 0; j < sparse.size(); ++j)
      if (normal(rng) > 0.3)
        sparse[j] = static_cast<uint64_t>(std::fabs(normal(rng)) * 1000) + 1;
    sparse[699] = 3;
    histograms.push_back(sparse);
  }
  {
    std::vector<uint64_t> decaying(1024);
    for (size_t j = 0; j < decaying.size(); ++j)
      decaying[j] = static_cast<uint64_t>(1e6 * std::exp(-double(j) / 40)) + 1;
    histograms.push_back(decaying);
  }
  for (unsigned levels : {16u, 128u, 255u}) {
    for (size_t h = 0; h < histograms.size(); ++h) {
      std::vector<double> divergences;
      size_t expected = literalEntropyBins(histograms[h], levels, divergences);
      size_t ours = entropyThresholdBins(histograms[h], levels);
      // Equal, or an equally good choice up to rounding.
      EXPECT_NEAR(divergences[ours], divergences[expected], 1e-9)
          << "histogram " << h << ", " << levels << " levels, ours " << ours
          << ", literal " << expected;
    }
  }
}

} // namespace
