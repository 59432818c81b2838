//===- CalibrationStatsFileTest.cpp - the stats file: round trip, errors --===//

#include "quarc/Calibration/StatsFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>
#include <random>

using namespace mlir;
using namespace mlir::quarc::calibration;

namespace {

/// Small stats whose text is easy to edit: tensor "t" with values of both
/// signs, "r" with non-negative ones, over samples 0, 1, 2 and 5.
CalibrationStats smallStats(StringRef hash = "abc123") {
  CalibrationStats stats(hash.str(), 16);
  std::string error;
  float t0[] = {-1.5f, 0.25f, 3.f}, t1[] = {0.f, 0.1f}, t2[] = {-0.5f},
        t5[] = {7.f, -2.f};
  float r0[] = {0.f, 0.f, 1.f}, r5[] = {2.5f};
  for (auto [sample, values] :
       {std::pair<uint64_t, ArrayRef<float>>{0, t0}, {1, t1}, {2, t2}, {5, t5}})
    EXPECT_TRUE(succeeded(stats.record(sample, "t", values, error))) << error;
  EXPECT_TRUE(succeeded(stats.record(0, "r", r0, error)));
  EXPECT_TRUE(succeeded(stats.record(5, "r", r5, error)));
  return stats;
}

/// `text` with the first `from` replaced by `to` (which must be there).
std::string edit(std::string text, StringRef from, StringRef to) {
  size_t at = text.find(from.str());
  EXPECT_NE(at, std::string::npos) << "'" << from.str() << "' not in:\n"
                                   << text;
  if (at != std::string::npos)
    text.replace(at, from.size(), to.str());
  return text;
}

std::string parseError(StringRef text) {
  std::string error;
  FailureOr<CalibrationStats> stats = parseStatsFile(text, "s.json", error);
  EXPECT_TRUE(failed(stats)) << "parsed:\n" << text.str();
  return error;
}

TEST(CalibrationStatsFile, ReadsBackExactly) {
  CalibrationStats stats = smallStats();
  std::string text = printStatsFile(stats);
  std::string error;
  FailureOr<CalibrationStats> read = parseStatsFile(text, "s.json", error);
  ASSERT_TRUE(succeeded(read)) << error;
  EXPECT_TRUE(*read == stats);
  EXPECT_EQ(printStatsFile(*read), text);

  // Floats that need all their digits, subnormals and extremes too.
  CalibrationStats odd("h", 2048);
  std::mt19937_64 rng(8);
  std::uniform_int_distribution<uint32_t> bits;
  std::vector<float> values;
  while (values.size() < 5000) {
    uint32_t pattern = bits(rng);
    float x;
    std::memcpy(&x, &pattern, sizeof(x));
    if (std::isfinite(x))
      values.push_back(x);
  }
  values.push_back(std::numeric_limits<float>::denorm_min());
  values.push_back(-std::numeric_limits<float>::max());
  values.push_back(0.1f);
  ASSERT_TRUE(succeeded(odd.record(3, "odd", values, error))) << error;
  read = parseStatsFile(printStatsFile(odd), "odd.json", error);
  ASSERT_TRUE(succeeded(read)) << error;
  EXPECT_TRUE(*read == odd);
}

TEST(CalibrationStatsFile, LayoutIsOneTensorALine) {
  std::string text = printStatsFile(smallStats());
  EXPECT_EQ(text.substr(0, text.find("\"tensors\"")),
            "{\n"
            "  \"format\": \"quarc-calibration-stats\",\n"
            "  \"version\": 1,\n"
            "  \"model_hash\": \"abc123\",\n"
            "  \"bins\": 16,\n"
            "  \"num_samples\": 4,\n"
            "  \"samples\": [[0,2],[5,5]],\n  ");
  // r: 0, 0, 1 and 2.5; 2.5 < 16 * 2^-2, so bins of 0.25.
  EXPECT_NE(text.find("\n    \"r\": {\"count\":4,\"max\":2.5,\"min\":0,"
                      "\"positive\":{\"counts\":[2,0,0,0,1,0,0,0,0,0,1],"
                      "\"log2_width\":-2},\"samples\":[[0,0,1],[5,2.5,2.5]],"
                      "\"zeros\":2},\n"),
            std::string::npos)
      << text;
}

TEST(CalibrationStatsFile, SavesAndLoadsThroughAFile) {
  llvm::SmallString<128> dir, path;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("quarc-stats", dir));
  path = dir;
  llvm::sys::path::append(path, "stats.json");
  std::string error;
  ASSERT_TRUE(succeeded(saveStatsFile(smallStats(), path, error))) << error;
  FailureOr<CalibrationStats> loaded = loadStatsFile(path, error);
  ASSERT_TRUE(succeeded(loaded)) << error;
  EXPECT_TRUE(*loaded == smallStats());

  // The model hash ties the file to its model.
  EXPECT_TRUE(succeeded(loadStatsFileForModel(path, "abc123", error)));
  EXPECT_TRUE(failed(loadStatsFileForModel(path, "fff999", error)));
  EXPECT_EQ(error, path.str().str() +
                       ": the stats were made for a different model (model "
                       "hash 'abc123'; this model's is 'fff999'); calibrate "
                       "this model again");

  llvm::SmallString<128> missing(dir);
  llvm::sys::path::append(missing, "missing.json");
  EXPECT_TRUE(failed(loadStatsFile(missing, error)));
  EXPECT_EQ(error, "cannot read " + missing.str().str() +
                       ": No such file or directory");
  llvm::SmallString<128> unwritable(missing);
  llvm::sys::path::append(unwritable, "stats.json");
  EXPECT_TRUE(failed(saveStatsFile(smallStats(), unwritable, error)));
  EXPECT_EQ(error.rfind("cannot write " + unwritable.str().str() + ": ", 0), 0u)
      << error;
  llvm::sys::fs::remove_directories(dir);
}

TEST(CalibrationStatsFile, MalformedFilesGiveOneErrorNamingTheField) {
  std::string text = printStatsFile(smallStats());
  const std::string t = "field 'tensors[\"t\"]";

  // Not JSON, or not ours.
  EXPECT_EQ(parseError("").rfind("s.json: not valid JSON (", 0), 0u);
  EXPECT_EQ(parseError(text.substr(0, text.size() / 2))
                .rfind("s.json: not valid JSON (", 0),
            0u);
  EXPECT_EQ(parseError("[1, 2]"),
            "s.json: not a quarc calibration stats file (no field 'format' "
            "with \"quarc-calibration-stats\")");
  EXPECT_EQ(parseError(edit(text, "\"version\": 1", "\"version\": 2")),
            "s.json: stats file version 2 is not supported; this quarc reads "
            "version 1");
  EXPECT_EQ(parseError(edit(text, "\"version\": 1", "\"version\": \"1\"")),
            "s.json: stats file version a string is not supported; this quarc "
            "reads version 1");

  // Missing fields, wrong types, unknown fields.
  EXPECT_EQ(parseError(edit(text, "  \"bins\": 16,\n", "")),
            "s.json: missing field 'bins'");
  EXPECT_EQ(parseError(edit(text, "\"count\":8,", "")),
            "s.json: missing field 'tensors[\"t\"].count'");
  EXPECT_EQ(parseError(edit(text, "\"count\":8,", "\"count\":\"8\",")),
            "s.json: " + t +
                ".count' must be a non-negative integer, not a "
                "string");
  EXPECT_EQ(parseError(edit(text, "\"count\":8,", "\"count\":-8,")),
            "s.json: " + t + ".count' must be a non-negative integer, not -8");
  EXPECT_EQ(parseError(edit(text, "\"count\":8,", "\"count\":8.5,")),
            "s.json: " + t + ".count' must be a non-negative integer, not 8.5");
  EXPECT_EQ(
      parseError(edit(text, "\"bins\": 16", "\"bins\": 3")),
      "s.json: field 'bins' must be an integer from 16 to 1048576, not 3");
  EXPECT_EQ(parseError(edit(text, "\"max\":7,", "\"max\":1e999,")),
            "s.json: " + t + ".max' must be a finite 32-bit float, not inf");
  EXPECT_EQ(parseError(edit(text, "\"max\":7,", "\"max\":7.1,")),
            "s.json: " + t +
                ".max' must be a finite 32-bit float, not "
                "7.0999999999999996");
  EXPECT_EQ(parseError(edit(text, "\"count\":8,", "\"count\":8,\"extra\":1,")),
            "s.json: unknown field 'tensors[\"t\"].extra'");
  EXPECT_EQ(
      parseError(edit(text, "\"samples\": [[0,2],[5,5]]", "\"samples\": {}")),
      "s.json: field 'samples' must be an array, not an object");
  EXPECT_EQ(parseError(edit(text, "[[0,2],[5,5]]", "[[0,2],[2,5]]")),
            "s.json: field 'samples[1]' must be an interval [first, last] "
            "above the previous ones");
  EXPECT_EQ(parseError(edit(text, "\"num_samples\": 4", "\"num_samples\": 5")),
            "s.json: field 'num_samples' is 5, but field 'samples' holds 4");

  // Consistency of a hand-edited histogram.
  EXPECT_EQ(parseError(edit(text, "\"count\":8,", "\"count\":9,")),
            "s.json: tensor 't': field 'count' is 9, but the bins hold 8 "
            "values");
  EXPECT_EQ(parseError(edit(text, "\"max\":7,", "\"max\":3.5,")),
            "s.json: tensor 't': field 'positive.log2_width' is -1, but the "
            "extremes imply -2");
  EXPECT_EQ(parseError(edit(text, "[5,-2,7]", "[6,-2,7]")),
            "s.json: " + t +
                ".samples[3]': sample 6 is not among the file's "
                "samples");
  EXPECT_EQ(parseError(edit(text, "[5,-2,7]", "[5,-2,6]")),
            "s.json: tensor 't': field 'samples' does not agree with 'min' "
            "and 'max'");
}

TEST(CalibrationStatsFile, CorruptedFilesFailCleanly) {
  // Random edits (digits changed, characters dropped or duplicated): a
  // file either fails with a message naming it, or reads into stats that
  // every estimator can use.
  std::string text = printStatsFile(smallStats());
  std::mt19937_64 rng(11);
  const char replacements[] = "0123456789-.e,[]{}\" ";
  unsigned accepted = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string corrupted = text;
    for (int edits = 1 + trial % 3; edits > 0; --edits) {
      size_t at =
          std::uniform_int_distribution<size_t>(0, corrupted.size() - 1)(rng);
      switch (trial % 4) {
      case 0:
        corrupted.erase(at, 1);
        break;
      case 1:
        corrupted.insert(at, 1, corrupted[at]);
        break;
      default:
        corrupted[at] = replacements[std::uniform_int_distribution<size_t>(
            0, sizeof(replacements) - 2)(rng)];
      }
    }
    std::string error;
    FailureOr<CalibrationStats> stats =
        parseStatsFile(corrupted, "s.json", error);
    if (failed(stats)) {
      EXPECT_EQ(error.rfind("s.json: ", 0), 0u) << error;
      continue;
    }
    ++accepted;
    for (StringRef name : stats->getTensorNames())
      for (StringRef spec :
           {"minmax", "moving-average", "percentile", "entropy", "mse"})
        for (bool symmetric : {false, true}) {
          FailureOr<Range> range = stats->estimateRange(
              name, *parseMethod(spec, error), {8, symmetric}, error);
          if (succeeded(range))
            EXPECT_LE(range->min, range->max) << spec.str();
        }
  }
  // Some edits are harmless (a changed model hash, whitespace).
  EXPECT_GT(accepted, 0u);
}

TEST(CalibrationStatsFile, MergeRefusesOtherModelsAndOverlaps) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("quarc-merge", dir));
  auto save = [&](StringRef name, const CalibrationStats &stats) {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    std::string error;
    EXPECT_TRUE(succeeded(saveStatsFile(stats, path, error))) << error;
    return path.str().str();
  };
  std::string error;
  float values[] = {1.f, -2.f};
  CalibrationStats a("hash-a", 16), b("hash-b", 16), c("hash-a", 16),
      d("hash-a", 16);
  ASSERT_TRUE(succeeded(a.record(0, "x", values, error)));
  ASSERT_TRUE(succeeded(b.record(1, "x", values, error)));
  ASSERT_TRUE(succeeded(c.record(0, "x", values, error)));
  ASSERT_TRUE(succeeded(d.record(1, "y", values, error)));
  std::string pa = save("a.json", a), pb = save("b.json", b),
              pc = save("c.json", c), pd = save("d.json", d);

  EXPECT_TRUE(failed(mergeStatsFiles({pa, pb}, error)));
  EXPECT_EQ(error, "cannot merge " + pb + " into the stats of " + pa +
                       ": they were made for different models (model hash "
                       "'hash-b', not 'hash-a')");
  EXPECT_TRUE(failed(mergeStatsFiles({pa, pc}, error)));
  EXPECT_EQ(error, "cannot merge " + pc + " into the stats of " + pa +
                       ": sample 0 is in both (stats must come from disjoint "
                       "sample sets)");
  EXPECT_TRUE(failed(mergeStatsFiles({pa, pd}, error)));
  EXPECT_EQ(error, "cannot merge " + pd + " into the stats of " + pa +
                       ": tensor 'x' is observed in only one of them");
  EXPECT_TRUE(failed(mergeStatsFiles({}, error)));
  EXPECT_EQ(error, "no stats files to merge");

  // A failed merge changes nothing.
  CalibrationStats before = a;
  EXPECT_TRUE(failed(a.merge(c, error)));
  EXPECT_TRUE(a == before);
  CalibrationStats wide("hash-a", 32);
  EXPECT_TRUE(failed(a.merge(wide, error)));
  EXPECT_EQ(error, "their histograms have different numbers of bins (32, not "
                   "16)");
  llvm::sys::fs::remove_directories(dir);
}

} // namespace
