//===- CalibrationData.h - the sample folder of --data ----------*- C++ -*-===//
//
// `quarc calibrate --data DIR` runs the model on every sample in DIR: each
// regular file ending in .npz (one KEY.npy member per model input, keyed by
// input name, as np.savez(path, **{name: array}) writes) or .npy (the one
// input of a single-input model). Other files, subfolders and hidden files
// (a leading '.', such as the ._s0.npz metadata macOS adds to archives) are
// ignored.
// Samples are numbered in the byte order of their file names, so a sample
// index means the same file on every machine and stats recorded by
// different processes merge (see SampleSet.h). A sample must match the
// model exactly (names, dtypes, ranks, static dims) and hold only finite
// floats; every problem is one error naming the file and the input.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_CALIBRATION_CALIBRATIONDATA_H
#define QUARC_CALIBRATION_CALIBRATIONDATA_H

#include "quarc/Calibration/NpyArray.h"

#include "mlir/Support/LLVM.h"

#include <optional>

namespace mlir::quarc::calibration {

/// A model input as the samples must provide it.
struct ModelInputSpec {
  std::string name;
  quarc_dtype dtype = QUARC_DTYPE_F32;
  /// -1 is a dynamic dim: a sample may give it any size.
  llvm::SmallVector<int64_t> shape;
};

/// Samples to run a model on, read in order: a folder of files (--data,
/// FolderSamples below) or the caller's own arrays (the Python module's).
/// Each sample is one array per model input, in the model's input order,
/// checked against the model (names, dtypes, ranks, static dims, finite
/// floats).
class SampleSource {
public:
  virtual ~SampleSource() = default;
  /// How many samples there are, when known before reading them.
  virtual std::optional<uint64_t> size() const = 0;
  /// Reads the next sample into `arrays` and its name for messages into
  /// `name` ("calib/s3.npz"): true, false when there are no more samples,
  /// failure with `error` naming the sample and input.
  virtual FailureOr<bool> next(std::vector<NpyArray> &arrays,
                               std::string &name, std::string &error) = 0;
  /// Back to the first sample; false when the source can be read only
  /// once.
  virtual bool rewind() = 0;
};

/// Orders a sample given as (input name, array) pairs by the model's
/// `inputs` and checks each array against its input; `what` names the
/// sample in errors ("calib/s3.npz", "sample 3").
bool assembleSample(std::vector<std::pair<std::string, NpyArray>> members,
                    ArrayRef<ModelInputSpec> inputs, StringRef what,
                    std::vector<NpyArray> &arrays, std::string &error);

class CalibrationData {
public:
  /// Lists the samples of `dir` for a model with `inputs`. Fails when
  /// `dir` is not a folder, has no samples, or has .npy samples while the
  /// model does not have exactly one input. Reads no sample.
  static std::optional<CalibrationData>
  open(StringRef dir, ArrayRef<ModelInputSpec> inputs, std::string &error);

  /// The number of samples.
  size_t size() const { return fileNames.size(); }
  /// Sample `i`'s file name ("s3.npz"), without the folder.
  StringRef sampleName(size_t i) const { return fileNames[i]; }
  /// Sample `i`'s path ("calib/s3.npz"), as errors write it.
  std::string samplePath(size_t i) const;

  /// Reads sample `i` into `arrays`, one array per model input in the order
  /// of `inputs`, after checking it against the model. Touches no state,
  /// so threads may load samples concurrently.
  bool load(size_t i, std::vector<NpyArray> &arrays, std::string &error) const;

private:
  CalibrationData(std::string directory, ArrayRef<ModelInputSpec> inputs,
                  std::vector<std::string> fileNames)
      : directory(std::move(directory)), inputs(inputs.begin(), inputs.end()),
        fileNames(std::move(fileNames)) {}

  std::string directory;
  std::vector<ModelInputSpec> inputs;
  /// Sorted by bytes.
  std::vector<std::string> fileNames;
};

/// The samples of a folder, or of the range [first, last] of its sorted
/// list.
class FolderSamples : public SampleSource {
public:
  FolderSamples(const CalibrationData &data, uint64_t first, uint64_t last)
      : data(data), first(first), last(last), position(first) {}
  std::optional<uint64_t> size() const override { return last - first + 1; }
  FailureOr<bool> next(std::vector<NpyArray> &arrays, std::string &name,
                       std::string &error) override;
  bool rewind() override {
    position = first;
    return true;
  }

private:
  const CalibrationData &data;
  uint64_t first, last, position;
};

} // namespace mlir::quarc::calibration

#endif // QUARC_CALIBRATION_CALIBRATIONDATA_H
