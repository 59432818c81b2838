//===- CalibrationStats.cpp - the statistics of one calibration -----------===//

#include "quarc/Calibration/CalibrationStats.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/JSON.h"

namespace mlir::quarc::calibration {

namespace {
std::string quoted(StringRef tensor) { return "tensor '" + tensor.str() + "'"; }

/// Tensor names become JSON object keys, which must be UTF-8; an empty name
/// would name nothing in an error message.
LogicalResult checkName(StringRef tensor, std::string &error) {
  if (tensor.empty()) {
    error = "a tensor without a name cannot be observed";
    return failure();
  }
  if (!llvm::json::isUTF8(tensor)) {
    error = quoted(tensor) + ": the name is not valid UTF-8";
    return failure();
  }
  return success();
}
} // namespace

CalibrationStats::CalibrationStats(std::string modelHash, unsigned numBins)
    : modelHash(std::move(modelHash)), numBins(numBins) {}

LogicalResult CalibrationStats::declareTensor(StringRef tensor,
                                              std::string &error) {
  if (failed(checkName(tensor, error)))
    return failure();
  tensors.try_emplace(tensor, numBins);
  return success();
}

LogicalResult CalibrationStats::record(uint64_t sample, StringRef tensor,
                                       ArrayRef<float> values,
                                       std::string &error) {
  if (failed(declareTensor(tensor, error)))
    return failure();
  std::string detail;
  if (failed(tensors.find(tensor)->second.record(sample, values, detail))) {
    error = quoted(tensor) + ": " + detail;
    return failure();
  }
  samples.insert(sample);
  return success();
}

LogicalResult CalibrationStats::merge(const CalibrationStats &other,
                                      std::string &error) {
  if (modelHash != other.modelHash) {
    error = "they were made for different models (model hash '" +
            other.modelHash + "', not '" + modelHash + "')";
    return failure();
  }
  if (numBins != other.numBins) {
    error = "their histograms have different numbers of bins (" +
            std::to_string(other.numBins) + ", not " + std::to_string(numBins) +
            ")";
    return failure();
  }
  const llvm::StringMap<TensorHistogram> &mine = tensors;
  for (const auto *names : {&mine, &other.tensors})
    for (const auto &entry : *names)
      if (!tensors.contains(entry.getKey()) ||
          !other.tensors.contains(entry.getKey())) {
        error = quoted(entry.getKey()) + " is observed in only one of them";
        return failure();
      }
  if (std::optional<uint64_t> common = samples.firstCommon(other.samples)) {
    error = "sample " + std::to_string(*common) +
            " is in both (stats must come from disjoint sample sets)";
    return failure();
  }
  // Merge into a copy, so that a failure leaves this object as it was.
  llvm::StringMap<TensorHistogram> merged = tensors;
  for (auto &entry : merged) {
    std::string detail;
    if (failed(entry.second.merge(other.tensors.find(entry.getKey())->second,
                                  detail))) {
      error = quoted(entry.getKey()) + ": " + detail;
      return failure();
    }
  }
  tensors = std::move(merged);
  samples.unite(other.samples);
  return success();
}

FailureOr<Range>
CalibrationStats::estimateRange(StringRef tensor, const Method &method,
                                const EstimatorOptions &options,
                                std::string &error) const {
  const TensorHistogram *histogram = lookup(tensor);
  if (!histogram) {
    error = "the calibration stats have no " + quoted(tensor);
    return failure();
  }
  std::string detail;
  FailureOr<Range> range =
      calibration::estimateRange(*histogram, method, options, detail);
  if (failed(range))
    error = quoted(tensor) + ": " + detail;
  return range;
}

const TensorHistogram *CalibrationStats::lookup(StringRef tensor) const {
  auto it = tensors.find(tensor);
  return it == tensors.end() ? nullptr : &it->second;
}

SmallVector<StringRef> CalibrationStats::getTensorNames() const {
  SmallVector<StringRef> names;
  for (const auto &entry : tensors)
    names.push_back(entry.getKey());
  llvm::sort(names);
  return names;
}

void CalibrationStats::addTensor(StringRef tensor, TensorHistogram histogram) {
  tensors.insert_or_assign(tensor, std::move(histogram));
}

bool CalibrationStats::operator==(const CalibrationStats &o) const {
  if (modelHash != o.modelHash || numBins != o.numBins ||
      samples != o.samples || tensors.size() != o.tensors.size())
    return false;
  for (const auto &entry : tensors) {
    const TensorHistogram *other = o.lookup(entry.getKey());
    if (!other || *other != entry.second)
      return false;
  }
  return true;
}

} // namespace mlir::quarc::calibration
