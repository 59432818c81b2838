//===- CalibrationHistogramTest.cpp - histograms, sample sets, exact merge ===//
//
// The property calibration relies on: stats recorded on disjoint sample
// sets, in any order, merge into exactly the stats (and the file, byte for
// byte) of one run over all samples.
//
//===----------------------------------------------------------------------===//

#include "quarc/Calibration/CalibrationStats.h"
#include "quarc/Calibration/StatsFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <gtest/gtest.h>
#include <random>

using namespace mlir;
using namespace mlir::quarc::calibration;

namespace {

TEST(CalibrationSampleSet, KeepsSortedJoinedIntervals) {
  SampleSet set;
  for (uint64_t i : {5, 3, 4, 9, 0, 1, 7, 8})
    set.insert(i);
  // {0, 1} {3, 4, 5} {7, 8, 9}
  ASSERT_EQ(set.getIntervals().size(), 3u);
  EXPECT_EQ(set.getIntervals()[1], (SampleSet::Interval{3, 5}));
  EXPECT_EQ(set.size(), 8u);
  set.insert(2);
  set.insert(6);
  ASSERT_EQ(set.getIntervals().size(), 1u);
  EXPECT_EQ(set.getIntervals()[0], (SampleSet::Interval{0, 9}));
  EXPECT_TRUE(set.contains(9));
  EXPECT_FALSE(set.contains(10));

  SampleSet other;
  other.insert(12);
  EXPECT_FALSE(set.firstCommon(other).has_value());
  other.insert(9);
  EXPECT_EQ(set.firstCommon(other), 9u);
  SampleSet third;
  third.insert(10);
  third.insert(11);
  set.unite(third);
  set.unite(other);
  ASSERT_EQ(set.getIntervals().size(), 1u);
  EXPECT_EQ(set.getIntervals()[0], (SampleSet::Interval{0, 12}));
}

TEST(CalibrationHistogram, WidthIsTheSmallestThatFits) {
  // m < numBins * 2^k, and not for k - 1.
  for (double m : {1e-40, 1e-7, 0.5, 1.0, 2047.0, 2048.0, 2049.0, 3.0e38}) {
    int k = log2WidthFor(m, 2048);
    EXPECT_LT(m, std::ldexp(2048.0, k)) << m;
    EXPECT_GE(m, std::ldexp(2048.0, k - 1)) << m;
  }
  EXPECT_EQ(log2WidthFor(0, 2048), kMinLog2Width);
  EXPECT_EQ(log2WidthFor(2047, 2048), 0);
  EXPECT_EQ(log2WidthFor(2048, 2048), 1);
}

TEST(CalibrationHistogram, BinsAreTheDirectBinningAtTheFinalWidth) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal(0.f, 1.f);
  TensorHistogram histogram(256);
  std::vector<float> all;
  std::string error;
  for (uint64_t sample = 0; sample < 20; ++sample) {
    // Growing scale: the widths double many times along the way.
    std::vector<float> values(300);
    for (float &x : values)
      x = normal(rng) * std::ldexp(1.f, static_cast<int>(sample));
    values[0] = 0.f;
    ASSERT_TRUE(succeeded(histogram.record(sample, values, error))) << error;
    all.insert(all.end(), values.begin(), values.end());
  }
  EXPECT_EQ(histogram.getCount(), all.size());
  EXPECT_EQ(histogram.getZeroCount(), 20u);
  EXPECT_EQ(histogram.getMin(), *std::min_element(all.begin(), all.end()));
  EXPECT_EQ(histogram.getMax(), *std::max_element(all.begin(), all.end()));
  const HistogramHalf &pos = histogram.getPositive();
  const HistogramHalf &neg = histogram.getNegative();
  EXPECT_EQ(pos.log2Width, log2WidthFor(histogram.getMax(), 256));
  EXPECT_EQ(neg.log2Width, log2WidthFor(-histogram.getMin(), 256));
  std::vector<uint64_t> expectPos(256), expectNeg(256);
  for (float x : all) {
    if (x >= 0)
      ++expectPos[static_cast<size_t>(
          std::floor(std::ldexp(x, -pos.log2Width)))];
    else
      ++expectNeg[static_cast<size_t>(
          std::floor(std::ldexp(-x, -neg.log2Width)))];
  }
  EXPECT_EQ(pos.counts, expectPos);
  EXPECT_EQ(neg.counts, expectNeg);
}

TEST(CalibrationHistogram, NonFiniteValuesAreAnErrorAndRecordNothing) {
  CalibrationStats stats("hash");
  std::string error;
  float values[] = {1.f, NAN, INFINITY, -INFINITY, 2.f};
  EXPECT_TRUE(failed(stats.record(0, "conv1", values, error)));
  EXPECT_EQ(error, "tensor 'conv1': 1 NaN and 2 infinite values among 5");
  EXPECT_EQ(stats.lookup("conv1")->getCount(), 0u);
  EXPECT_TRUE(stats.getSamples().empty());
}

TEST(CalibrationHistogram, NegativeZeroIsRecordedAsZero) {
  TensorHistogram a(64), b(64);
  std::string error;
  float negative[] = {-0.f, 1.f};
  float positive[] = {0.f, 1.f};
  ASSERT_TRUE(succeeded(a.record(0, negative, error)));
  ASSERT_TRUE(succeeded(b.record(0, positive, error)));
  EXPECT_FALSE(std::signbit(a.getMin()));
  EXPECT_TRUE(a == b);
  EXPECT_TRUE(a.getNegative().empty());
}

TEST(CalibrationHistogram, RecordingASampleTwiceExtendsItsRange) {
  TensorHistogram histogram(64);
  std::string error;
  float first[] = {1.f, 2.f}, second[] = {-1.f, 0.5f}, other[] = {7.f};
  ASSERT_TRUE(succeeded(histogram.record(4, first, error)));
  ASSERT_TRUE(succeeded(histogram.record(1, other, error)));
  ASSERT_TRUE(succeeded(histogram.record(4, second, error)));
  ArrayRef<SampleRange> ranges = histogram.getSampleRanges();
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], (SampleRange{1, 7.f, 7.f}));
  EXPECT_EQ(ranges[1], (SampleRange{4, -1.f, 2.f}));
}

//===----------------------------------------------------------------------===//
// The merge property.
//===----------------------------------------------------------------------===//

/// One sample: the values of each tensor.
struct Sample {
  uint64_t index;
  std::vector<std::pair<std::string, std::vector<float>>> tensors;
};

/// Distributions chosen so that the halves' widths double at different
/// moments depending on which samples a part gets and in which order.
std::vector<Sample> makeSamples(unsigned numSamples, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::uniform_int_distribution<int> size(0, 400);
  std::vector<Sample> samples;
  for (unsigned s = 0; s < numSamples; ++s) {
    Sample sample{s * 3 + 1, {}}; // indices need not be contiguous
    auto add = [&](const char *name, auto generate) {
      std::vector<float> values(size(rng));
      for (float &x : values)
        x = generate();
      sample.tensors.emplace_back(name, std::move(values));
    };
    add("uniform", [&] { return uniform(rng); });
    add("gaussian_outliers", [&] {
      float x = normal(rng);
      return uniform(rng) > 0.995f ? x * 1000.f : x;
    });
    add("relu", [&] { return std::max(0.f, normal(rng)); });
    float scale = std::ldexp(1.f, static_cast<int>(s % 13) - 6);
    add("growing", [&] { return normal(rng) * scale; });
    add("lognormal", [&] {
      float x = std::exp(3.f * normal(rng));
      return uniform(rng) < 0 ? -x : x;
    });
    add("negative_tiny", [&] { return -std::fabs(normal(rng)) * 1e-30f; });
    add("huge", [&] { return normal(rng) * 1e30f; });
    add("zeros", [] { return 0.f; });
    add("constant", [] { return 3.25f; });
    if (s % 4 == 0) // only some samples reach this observer
      add("sometimes", [&] { return uniform(rng) * 5.f; });
    samples.push_back(std::move(sample));
  }
  return samples;
}

constexpr const char *kTensorNames[] = {
    "uniform",   "gaussian_outliers", "relu", "growing",
    "lognormal", "negative_tiny",     "huge", "zeros",
    "constant",  "sometimes"};

/// Records `samples` in the given order, after declaring every tensor as
/// the driver does.
CalibrationStats recordAll(ArrayRef<const Sample *> samples, unsigned bins) {
  CalibrationStats stats("model-hash", bins);
  std::string error;
  for (const char *name : kTensorNames)
    EXPECT_TRUE(succeeded(stats.declareTensor(name, error)));
  for (const Sample *sample : samples)
    for (const auto &[name, values] : sample->tensors)
      EXPECT_TRUE(succeeded(stats.record(sample->index, name, values, error)))
          << error;
  return stats;
}

class CalibrationMerge : public ::testing::TestWithParam<unsigned> {};

TEST_P(CalibrationMerge, DisjointPartsMergeIntoExactlyOneRun) {
  unsigned bins = GetParam();
  std::vector<Sample> samples = makeSamples(60, bins);
  std::vector<const Sample *> inOrder;
  for (const Sample &sample : samples)
    inOrder.push_back(&sample);
  CalibrationStats reference = recordAll(inOrder, bins);
  std::string referenceText = printStatsFile(reference);

  std::mt19937_64 rng(1234 + bins);
  for (unsigned trial = 0; trial < 12; ++trial) {
    unsigned numParts = 2 + trial % 4; // 2..5
    std::vector<std::vector<const Sample *>> parts(numParts);
    for (const Sample &sample : samples)
      parts[std::uniform_int_distribution<unsigned>(0, numParts - 1)(rng)]
          .push_back(&sample);
    std::vector<CalibrationStats> recorded;
    for (auto &part : parts) {
      std::shuffle(part.begin(), part.end(), rng);
      recorded.push_back(recordAll(part, bins));
    }
    std::shuffle(recorded.begin(), recorded.end(), rng);
    CalibrationStats merged = recorded.front();
    std::string error;
    for (size_t i = 1; i < recorded.size(); ++i)
      ASSERT_TRUE(succeeded(merged.merge(recorded[i], error))) << error;
    EXPECT_TRUE(merged == reference) << "trial " << trial;
    EXPECT_EQ(printStatsFile(merged), referenceText) << "trial " << trial;
  }

  // One object, samples in a shuffled order: the same again.
  std::shuffle(inOrder.begin(), inOrder.end(), rng);
  EXPECT_EQ(printStatsFile(recordAll(inOrder, bins)), referenceText);
}

INSTANTIATE_TEST_SUITE_P(Bins, CalibrationMerge, ::testing::Values(16u, 2048u));

TEST(CalibrationMerge, FilesMergeIntoTheSingleRunFileByteForByte) {
  std::vector<Sample> samples = makeSamples(30, 99);
  std::vector<const Sample *> all, parts[3];
  for (const Sample &sample : samples) {
    all.push_back(&sample);
    parts[sample.index % 3].push_back(&sample);
  }
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("quarc-calib", dir));
  auto file = [&](StringRef name) {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    return path.str().str();
  };
  std::string error;
  ASSERT_TRUE(succeeded(
      saveStatsFile(recordAll(all, kDefaultNumBins), file("all.json"), error)))
      << error;
  std::vector<std::string> paths;
  for (int i = 0; i < 3; ++i) {
    paths.push_back(file("part" + std::to_string(i) + ".json"));
    ASSERT_TRUE(succeeded(saveStatsFile(recordAll(parts[i], kDefaultNumBins),
                                        paths.back(), error)))
        << error;
  }
  std::swap(paths[0], paths[2]);
  FailureOr<CalibrationStats> merged = mergeStatsFiles(paths, error);
  ASSERT_TRUE(succeeded(merged)) << error;
  ASSERT_TRUE(succeeded(saveStatsFile(*merged, file("merged.json"), error)))
      << error;
  auto read = [&](StringRef name) {
    return (*llvm::MemoryBuffer::getFile(file(name)))->getBuffer().str();
  };
  EXPECT_EQ(read("merged.json"), read("all.json"));
  EXPECT_EQ(merged->getSamples().size(), 30u);
  llvm::sys::fs::remove_directories(dir);
}

} // namespace
