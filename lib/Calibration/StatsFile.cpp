//===- StatsFile.cpp - writing, loading and merging stats files -----------===//

#include "quarc/Calibration/StatsFile.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::quarc::calibration {

namespace json = llvm::json;

namespace {
json::Value halfToJSON(const HistogramHalf &half) {
  ArrayRef<uint64_t> counts = half.counts;
  while (!counts.empty() && counts.back() == 0)
    counts = counts.drop_back();
  json::Array array;
  array.reserve(counts.size());
  for (uint64_t n : counts)
    array.push_back(n);
  return json::Object{{"log2_width", half.log2Width},
                      {"counts", std::move(array)}};
}

json::Value tensorToJSON(const TensorHistogram &histogram) {
  json::Object object{{"count", histogram.getCount()},
                      {"zeros", histogram.getZeroCount()}};
  if (histogram.getCount() > 0) {
    // A float widened to double prints (17 digits) and reads back exactly.
    object["min"] = static_cast<double>(histogram.getMin());
    object["max"] = static_cast<double>(histogram.getMax());
  }
  if (!histogram.getPositive().empty())
    object["positive"] = halfToJSON(histogram.getPositive());
  if (!histogram.getNegative().empty())
    object["negative"] = halfToJSON(histogram.getNegative());
  json::Array samples;
  samples.reserve(histogram.getSampleRanges().size());
  for (const SampleRange &range : histogram.getSampleRanges())
    samples.push_back(json::Array{range.sample, static_cast<double>(range.min),
                                  static_cast<double>(range.max)});
  object["samples"] = std::move(samples);
  return object;
}
} // namespace

std::string printStatsFile(const CalibrationStats &stats) {
  json::Array intervals;
  for (const SampleSet::Interval &interval : stats.getSamples().getIntervals())
    intervals.push_back(json::Array{interval.first, interval.last});

  // The hash is the caller's string; JSON strings must be UTF-8.
  const std::string &hash = stats.getModelHash();
  json::Value hashValue = json::isUTF8(hash) ? hash : json::fixUTF8(hash);

  // Written by hand around llvm::json's compact values: a pretty-printed
  // file would spread every bin count over its own line.
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "{\n"
     << "  \"format\": \"" << kStatsFileFormat << "\",\n"
     << "  \"version\": " << kStatsFileVersion << ",\n"
     << "  \"model_hash\": " << hashValue << ",\n"
     << "  \"bins\": " << stats.getNumBins() << ",\n"
     << "  \"num_samples\": " << stats.getSamples().size() << ",\n"
     << "  \"samples\": " << json::Value(std::move(intervals)) << ",\n"
     << "  \"tensors\": {";
  bool first = true;
  for (StringRef name : stats.getTensorNames()) {
    os << (first ? "\n    " : ",\n    ") << json::Value(name) << ": "
       << tensorToJSON(*stats.lookup(name));
    first = false;
  }
  os << (first ? "}\n" : "\n  }\n") << "}\n";
  return text;
}

LogicalResult saveStatsFile(const CalibrationStats &stats, StringRef path,
                            std::string &error) {
  std::string text = printStatsFile(stats);
  // writeToOutput writes a temporary file next to `path` and renames it.
  if (llvm::Error err = llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
        os << text;
        return llvm::Error::success();
      })) {
    error = "cannot write " + path.str() + ": " + toString(std::move(err));
    return failure();
  }
  return success();
}

FailureOr<CalibrationStats> loadStatsFile(StringRef path, std::string &error) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    error = "cannot read " + path.str() + ": " + buffer.getError().message();
    return failure();
  }
  return parseStatsFile((*buffer)->getBuffer(), path, error);
}

FailureOr<CalibrationStats>
loadStatsFileForModel(StringRef path, StringRef modelHash, std::string &error) {
  FailureOr<CalibrationStats> stats = loadStatsFile(path, error);
  if (succeeded(stats) && stats->getModelHash() != modelHash) {
    error = path.str() + ": the stats were made for a different model " +
            "(model hash '" + stats->getModelHash() + "'; this model's is '" +
            modelHash.str() + "'); calibrate this model again";
    return failure();
  }
  return stats;
}

FailureOr<CalibrationStats> mergeStatsFiles(ArrayRef<std::string> paths,
                                            std::string &error) {
  if (paths.empty()) {
    error = "no stats files to merge";
    return failure();
  }
  FailureOr<CalibrationStats> merged = loadStatsFile(paths.front(), error);
  if (failed(merged))
    return failure();
  for (size_t i = 1; i < paths.size(); ++i) {
    FailureOr<CalibrationStats> next = loadStatsFile(paths[i], error);
    if (failed(next))
      return failure();
    std::string reason;
    if (failed(merged->merge(*next, reason))) {
      std::string previous = paths.front();
      for (size_t j = 1; j < i; ++j)
        previous += ", " + paths[j];
      error = "cannot merge " + paths[i] + " into the stats of " + previous +
              ": " + reason;
      return failure();
    }
  }
  return merged;
}

} // namespace mlir::quarc::calibration
