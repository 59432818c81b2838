//===- CalibrationStats.h - the statistics of one calibration ---*- C++ -*-===//
//
// Everything calibration learned about a model: one TensorHistogram per
// observed tensor, keyed by tensor name, the set of samples it covers, and
// the hash of the model it was made for. Stats recorded on disjoint sample
// sets merge into exactly the stats of one run over all of them (same
// object, same file, byte for byte), so a calibration can be split across
// threads, processes or machines. Not thread-safe: give each thread its own
// object and merge.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_CALIBRATION_CALIBRATIONSTATS_H
#define QUARC_CALIBRATION_CALIBRATIONSTATS_H

#include "quarc/Calibration/RangeEstimators.h"
#include "quarc/Calibration/SampleSet.h"
#include "quarc/Calibration/TensorHistogram.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::quarc::calibration {

class CalibrationStats {
public:
  /// `modelHash` identifies the model the samples ran through; quarc
  /// refuses to use or merge stats made for another one.
  explicit CalibrationStats(std::string modelHash,
                            unsigned numBins = kDefaultNumBins);

  /// Records the values tensor `tensor` took in sample `sample` (the
  /// sample's index in the whole calibration set). On NaN or infinite
  /// values, or a name that is empty or not UTF-8, fails naming the tensor
  /// ("tensor 'conv1': 2 NaN and 0 infinite values among 4096") and records
  /// nothing; the caller adds the sample's name.
  LogicalResult record(uint64_t sample, StringRef tensor,
                       ArrayRef<float> values, std::string &error);

  /// Makes `tensor` known with no values yet. The driver declares every
  /// observed tensor up front, so that stats of runs on different samples
  /// have the same tensors even where an observer did not run (a branch
  /// not taken); estimating such a tensor's range is an error.
  LogicalResult declareTensor(StringRef tensor, std::string &error);

  /// Adds `other`, made on a disjoint set of samples. Fails, changing
  /// nothing, when the model hashes, bin counts or tensor names differ or a
  /// sample is in both.
  LogicalResult merge(const CalibrationStats &other, std::string &error);

  /// The range `method` gives for `tensor`; fails naming the tensor when it
  /// was not observed.
  FailureOr<Range> estimateRange(StringRef tensor, const Method &method,
                                 const EstimatorOptions &options,
                                 std::string &error) const;

  const std::string &getModelHash() const { return modelHash; }
  unsigned getNumBins() const { return numBins; }
  const SampleSet &getSamples() const { return samples; }
  /// Null when `tensor` was not observed.
  const TensorHistogram *lookup(StringRef tensor) const;
  /// Observed tensor names, sorted.
  SmallVector<StringRef> getTensorNames() const;

  /// Adds a tensor and the samples of a stats file (the reader's
  /// constructor); the histogram must have this object's number of bins.
  void addTensor(StringRef tensor, TensorHistogram histogram);
  void setSamples(SampleSet sampleSet) { samples = std::move(sampleSet); }

  bool operator==(const CalibrationStats &o) const;
  bool operator!=(const CalibrationStats &o) const { return !(*this == o); }

private:
  std::string modelHash;
  unsigned numBins;
  SampleSet samples;
  llvm::StringMap<TensorHistogram> tensors;
};

} // namespace mlir::quarc::calibration

#endif // QUARC_CALIBRATION_CALIBRATIONSTATS_H
