//===- StatsFileReader.cpp - reading and checking a stats file ------------===//
//
// Every field is checked for presence, type and range, unknown fields are
// rejected (a typo must not be silently ignored), and the histograms are
// checked for consistency by TensorHistogram::fromContents. Each problem
// is reported once, as "<file>: <what is wrong with which field>".
//
//===----------------------------------------------------------------------===//

#include "quarc/Calibration/StatsFile.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>

namespace mlir::quarc::calibration {

namespace json = llvm::json;

namespace {
std::string describe(const json::Value &value) {
  switch (value.kind()) {
  case json::Value::Null:
    return "null";
  case json::Value::Boolean:
    return "a boolean";
  case json::Value::Number: {
    std::string text;
    llvm::raw_string_ostream(text) << value;
    return text;
  }
  case json::Value::String:
    return "a string";
  case json::Value::Array:
    return "an array";
  case json::Value::Object:
    return "an object";
  }
  return "a value";
}

class Reader {
public:
  Reader(StringRef file, std::string &error) : file(file), error(error) {}

  LogicalResult fail(const llvm::Twine &message) {
    error = (file + ": " + message).str();
    return failure();
  }
  LogicalResult wrongType(const std::string &path, const json::Value &value,
                          StringRef expected) {
    return fail("field '" + path + "' must be " + expected + ", not " +
                describe(value));
  }

  static std::string join(const std::string &path, StringRef key) {
    return path.empty() ? key.str() : path + "." + key.str();
  }

  /// Fails on keys of `object` that are not in `known`.
  LogicalResult onlyKnownKeys(const json::Object &object,
                              ArrayRef<StringRef> known,
                              const std::string &path) {
    for (const auto *entry : json::sortedElements(object))
      if (!llvm::is_contained(known, StringRef(entry->first)))
        return fail("unknown field '" + join(path, entry->first) + "'");
    return success();
  }

  FailureOr<const json::Value *> field(const json::Object &object,
                                       StringRef key, const std::string &path) {
    const json::Value *value = object.get(key);
    if (!value)
      return fail("missing field '" + join(path, key) + "'");
    return value;
  }

  FailureOr<const json::Object *> asObject(const json::Value &value,
                                           const std::string &path) {
    if (const json::Object *object = value.getAsObject())
      return object;
    return wrongType(path, value, "an object");
  }

  FailureOr<const json::Array *> asArray(const json::Value &value,
                                         const std::string &path) {
    if (const json::Array *array = value.getAsArray())
      return array;
    return wrongType(path, value, "an array");
  }

  FailureOr<std::string> asString(const json::Value &value,
                                  const std::string &path) {
    if (std::optional<StringRef> text = value.getAsString())
      return text->str();
    return wrongType(path, value, "a string");
  }

  /// A non-negative integer up to `max`.
  FailureOr<uint64_t> asCount(const json::Value &value, const std::string &path,
                              uint64_t max = UINT64_MAX) {
    std::optional<uint64_t> n = value.getAsUINT64();
    if (!n || *n > max)
      return wrongType(path, value,
                       max == UINT64_MAX
                           ? std::string("a non-negative integer")
                           : "an integer from 0 to " + std::to_string(max));
    return *n;
  }

  FailureOr<int64_t> asInteger(const json::Value &value,
                               const std::string &path, int64_t min,
                               int64_t max) {
    std::optional<int64_t> n = value.getAsInteger();
    if (!n || *n < min || *n > max)
      return wrongType(path, value,
                       "an integer from " + std::to_string(min) + " to " +
                           std::to_string(max));
    return *n;
  }

  /// A finite number that is exactly a 32-bit float (the stats hold f32
  /// values; anything else was not written by quarc).
  FailureOr<float> asFloat(const json::Value &value, const std::string &path) {
    std::optional<double> number = value.getAsNumber();
    if (!number || !std::isfinite(*number) ||
        static_cast<double>(static_cast<float>(*number)) != *number)
      return wrongType(path, value, "a finite 32-bit float");
    return static_cast<float>(*number);
  }

  // A required field of `object` with its type checked.
  FailureOr<const json::Object *> objectField(const json::Object &object,
                                              StringRef key,
                                              const std::string &path) {
    FailureOr<const json::Value *> value = field(object, key, path);
    if (failed(value))
      return failure();
    return asObject(**value, join(path, key));
  }
  FailureOr<const json::Array *> arrayField(const json::Object &object,
                                            StringRef key,
                                            const std::string &path) {
    FailureOr<const json::Value *> value = field(object, key, path);
    if (failed(value))
      return failure();
    return asArray(**value, join(path, key));
  }
  FailureOr<std::string> stringField(const json::Object &object, StringRef key,
                                     const std::string &path) {
    FailureOr<const json::Value *> value = field(object, key, path);
    if (failed(value))
      return failure();
    return asString(**value, join(path, key));
  }
  FailureOr<uint64_t> countField(const json::Object &object, StringRef key,
                                 const std::string &path) {
    FailureOr<const json::Value *> value = field(object, key, path);
    if (failed(value))
      return failure();
    return asCount(**value, join(path, key));
  }
  FailureOr<int64_t> integerField(const json::Object &object, StringRef key,
                                  const std::string &path, int64_t min,
                                  int64_t max) {
    FailureOr<const json::Value *> value = field(object, key, path);
    if (failed(value))
      return failure();
    return asInteger(**value, join(path, key), min, max);
  }

  FailureOr<CalibrationStats> read(StringRef text);

private:
  LogicalResult readHalf(const json::Object &tensor, StringRef key,
                         const std::string &path, unsigned numBins,
                         HistogramHalf &half);
  LogicalResult readTensor(const json::Value &value, const std::string &path,
                           unsigned numBins, const SampleSet &samples,
                           TensorHistogram::Contents &contents);

  StringRef file;
  std::string &error;
};

LogicalResult Reader::readHalf(const json::Object &tensor, StringRef key,
                               const std::string &path, unsigned numBins,
                               HistogramHalf &half) {
  const json::Value *value = tensor.get(key);
  if (!value)
    return success(); // no value of that sign
  std::string halfPath = join(path, key);
  FailureOr<const json::Object *> object = asObject(*value, halfPath);
  if (failed(object) ||
      failed(onlyKnownKeys(**object, {"log2_width", "counts"}, halfPath)))
    return failure();
  // Widths of finite floats are far inside this range.
  FailureOr<int64_t> log2Width =
      integerField(**object, "log2_width", halfPath, kMinLog2Width, 1024);
  if (failed(log2Width))
    return failure();
  std::string countsPath = join(halfPath, "counts");
  FailureOr<const json::Array *> counts =
      arrayField(**object, "counts", halfPath);
  if (failed(counts))
    return failure();
  if ((*counts)->size() > numBins)
    return fail("field '" + countsPath + "' has " +
                std::to_string((*counts)->size()) + " bins, more than the " +
                std::to_string(numBins) + " of field 'bins'");
  half.log2Width = static_cast<int>(*log2Width);
  half.counts.clear();
  for (size_t i = 0; i < (*counts)->size(); ++i) {
    FailureOr<uint64_t> n =
        asCount((**counts)[i], countsPath + "[" + std::to_string(i) + "]");
    if (failed(n))
      return failure();
    half.counts.push_back(*n);
  }
  return success();
}

LogicalResult Reader::readTensor(const json::Value &value,
                                 const std::string &path, unsigned numBins,
                                 const SampleSet &samples,
                                 TensorHistogram::Contents &contents) {
  FailureOr<const json::Object *> object = asObject(value, path);
  if (failed(object) ||
      failed(onlyKnownKeys(
          **object,
          {"count", "zeros", "min", "max", "positive", "negative", "samples"},
          path)))
    return failure();
  const json::Object &tensor = **object;
  contents.numBins = numBins;
  FailureOr<uint64_t> count = countField(tensor, "count", path);
  if (failed(count))
    return failure();
  FailureOr<uint64_t> zeros = countField(tensor, "zeros", path);
  if (failed(zeros))
    return failure();
  contents.count = *count;
  contents.zeros = *zeros;
  // The extremes exist exactly when values were recorded.
  for (auto [key, target] :
       {std::pair<StringRef, float *>{"min", &contents.min},
        {"max", &contents.max}}) {
    const json::Value *v = tensor.get(key);
    if (contents.count == 0) {
      if (v)
        return fail("field '" + join(path, key) +
                    "' is given, but no values were recorded");
      continue;
    }
    if (!v)
      return fail("missing field '" + join(path, key) + "'");
    FailureOr<float> x = asFloat(*v, join(path, key));
    if (failed(x))
      return failure();
    *target = *x;
  }
  if (failed(readHalf(tensor, "positive", path, numBins, contents.positive)) ||
      failed(readHalf(tensor, "negative", path, numBins, contents.negative)))
    return failure();

  std::string samplesPath = join(path, "samples");
  FailureOr<const json::Array *> ranges = arrayField(tensor, "samples", path);
  if (failed(ranges))
    return failure();
  for (size_t i = 0; i < (*ranges)->size(); ++i) {
    std::string rangePath = samplesPath + "[" + std::to_string(i) + "]";
    const json::Array *entry = (**ranges)[i].getAsArray();
    if (!entry || entry->size() != 3)
      return wrongType(rangePath, (**ranges)[i], "[sample, min, max]");
    FailureOr<uint64_t> sample =
        asCount((*entry)[0], rangePath + "[0]", kMaxSampleIndex);
    if (failed(sample))
      return failure();
    FailureOr<float> lo = asFloat((*entry)[1], rangePath + "[1]");
    if (failed(lo))
      return failure();
    FailureOr<float> hi = asFloat((*entry)[2], rangePath + "[2]");
    if (failed(hi))
      return failure();
    if (!samples.contains(*sample))
      return fail("field '" + rangePath + "': sample " +
                  std::to_string(*sample) + " is not among the file's samples");
    contents.sampleRanges.push_back({*sample, *lo, *hi});
  }
  return success();
}

FailureOr<CalibrationStats> Reader::read(StringRef text) {
  llvm::Expected<json::Value> parsed = json::parse(text);
  if (!parsed) {
    return fail("not valid JSON (" + toString(parsed.takeError()) + ")");
  }
  const json::Object *root = parsed->getAsObject();
  std::optional<StringRef> format =
      root ? root->getString("format") : std::nullopt;
  if (!format || *format != kStatsFileFormat) {
    return fail(llvm::Twine("not a quarc calibration stats file (no field "
                            "'format' with \"") +
                kStatsFileFormat + "\")");
  }
  FailureOr<const json::Value *> versionValue = field(*root, "version", "");
  if (failed(versionValue))
    return failure();
  std::optional<int64_t> version = (*versionValue)->getAsInteger();
  if (!version || *version != kStatsFileVersion) {
    return fail("stats file version " + describe(**versionValue) +
                " is not supported; this quarc reads version " +
                std::to_string(kStatsFileVersion));
  }
  if (failed(onlyKnownKeys(*root,
                           {"format", "version", "model_hash", "bins",
                            "num_samples", "samples", "tensors"},
                           "")))
    return failure();

  FailureOr<std::string> modelHash = stringField(*root, "model_hash", "");
  if (failed(modelHash))
    return failure();
  FailureOr<int64_t> bins =
      integerField(*root, "bins", "", kMinNumBins, kMaxNumBins);
  if (failed(bins))
    return failure();
  CalibrationStats stats(*modelHash, static_cast<unsigned>(*bins));

  // Samples: sorted, disjoint [first, last] intervals.
  FailureOr<const json::Array *> intervals = arrayField(*root, "samples", "");
  if (failed(intervals))
    return failure();
  SampleSet samples;
  for (size_t i = 0; i < (*intervals)->size(); ++i) {
    std::string path = "samples[" + std::to_string(i) + "]";
    const json::Array *pair = (**intervals)[i].getAsArray();
    if (!pair || pair->size() != 2)
      return wrongType(path, (**intervals)[i], "[first, last]");
    FailureOr<uint64_t> first =
        asCount((*pair)[0], path + "[0]", kMaxSampleIndex);
    if (failed(first))
      return failure();
    FailureOr<uint64_t> last =
        asCount((*pair)[1], path + "[1]", kMaxSampleIndex);
    if (failed(last))
      return failure();
    if (!samples.appendInterval({*first, *last}))
      return fail("field '" + path +
                  "' must be an interval [first, last] above the previous "
                  "ones");
  }
  FailureOr<uint64_t> numSamples = countField(*root, "num_samples", "");
  if (failed(numSamples))
    return failure();
  if (*numSamples != samples.size())
    return fail("field 'num_samples' is " + std::to_string(*numSamples) +
                ", but field 'samples' holds " +
                std::to_string(samples.size()));
  stats.setSamples(samples);

  FailureOr<const json::Object *> tensors = objectField(*root, "tensors", "");
  if (failed(tensors))
    return failure();
  for (const auto *entry : json::sortedElements(**tensors)) {
    StringRef name = entry->first;
    if (name.empty())
      return fail("field 'tensors' has a tensor without a name");
    std::string path = "tensors[\"" + name.str() + "\"]";
    TensorHistogram::Contents contents;
    if (failed(readTensor(entry->second, path, *bins, samples, contents)))
      return failure();
    std::string detail;
    FailureOr<TensorHistogram> histogram =
        TensorHistogram::fromContents(std::move(contents), detail);
    if (failed(histogram))
      return fail("tensor '" + name + "': " + detail);
    stats.addTensor(name, std::move(*histogram));
  }
  return stats;
}
} // namespace

FailureOr<CalibrationStats> parseStatsFile(StringRef text, StringRef fileName,
                                           std::string &error) {
  return Reader(fileName, error).read(text);
}

} // namespace mlir::quarc::calibration
