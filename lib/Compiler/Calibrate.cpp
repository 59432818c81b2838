//===- Calibrate.cpp - run a model on calibration samples -----------------===//

#include "quarc/Compiler/Calibrate.h"
#include "quarc/Compiler/ObservedRun.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SHA256.h"

using namespace mlir;
using namespace mlir::quarc;
using namespace mlir::quarc::calibration;

FailureOr<std::string> mlir::quarc::hashModelFile(StringRef path,
                                                  std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    error = path.str() + ": " + buffer.getError().message();
    return failure();
  }
  std::array<uint8_t, 32> digest =
      llvm::SHA256::hash(llvm::arrayRefFromStringRef((*buffer)->getBuffer()));
  return "sha256:" + llvm::toHex(digest, /*LowerCase=*/true);
}

namespace {

/// What calibration needs to know of the model before running it.
struct CalibratedModel {
  std::string hash;
  SmallVector<ModelInputSpec> inputs;
};

FailureOr<CalibratedModel> readCalibratedModel(MLIRContext &context,
                                               StringRef modelPath,
                                               const CalibrateOptions &options,
                                               std::string &error) {
  if (!options.pipeline.target.runsOnHost()) {
    error = "calibration runs the model on this machine; --target must be "
            "the host's (" +
            TargetInfo::host().name() + ")";
    return failure();
  }
  FailureOr<std::string> hash = hashModelFile(modelPath, error);
  if (failed(hash))
    return failure();
  FailureOr<SmallVector<ModelInputSpec>> inputs =
      readModelInputs(context, modelPath);
  if (failed(inputs)) {
    error = "cannot read the model's inputs";
    return failure();
  }
  return CalibratedModel{std::move(*hash), std::move(*inputs)};
}

FailureOr<CalibrationStats> runCalibration(MLIRContext &context,
                                           StringRef modelPath,
                                           const CalibratedModel &calibrated,
                                           const CalibrateOptions &options,
                                           SampleSource &samples,
                                           uint64_t firstIndex,
                                           std::string &error) {
  CalibrationStats stats(calibrated.hash, options.numBins);
  PipelineOptions pipeline = options.pipeline;
  pipeline.observe = true;
  ObservedModel model(context, modelPath, pipeline, options.threads);
  ProgressLine progress(options.progress && samples.size(), "calibrating",
                        samples.size().value_or(0));
  std::vector<NpyArray> arrays;
  std::vector<quarc_tensor> outputs;
  std::string sampleName;
  uint64_t sample = firstIndex;
  for (;; ++sample) {
    FailureOr<bool> read = samples.next(arrays, sampleName, error);
    if (failed(read))
      return failure();
    if (!*read)
      break;
    auto record = [&](StringRef tensor, ArrayRef<float> values,
                      std::string &message) {
      return stats.record(sample, tensor, values, message);
    };
    if (failed(model.run(arrays, calibrated.inputs, record, outputs, error))) {
      error = "sample '" + sampleName + "': " + error;
      return failure();
    }
    // Every observed tensor, also one whose observer did not run.
    for (const std::string &name : model.getObservedTensors())
      if (failed(stats.declareTensor(name, error)))
        return failure();
    progress.update(sample - firstIndex + 1);
  }
  if (sample == firstIndex) {
    error = "no calibration samples";
    return failure();
  }
  return stats;
}

} // namespace

FailureOr<CalibrationStats>
mlir::quarc::calibrateModel(MLIRContext &context, StringRef modelPath,
                            const CalibrateOptions &options,
                            std::string &error) {
  FailureOr<CalibratedModel> calibrated =
      readCalibratedModel(context, modelPath, options, error);
  if (failed(calibrated))
    return failure();
  std::optional<CalibrationData> data =
      CalibrationData::open(options.dataDir, calibrated->inputs, error);
  if (!data)
    return failure();
  uint64_t first = 0, last = data->size() - 1;
  if (options.sampleRange) {
    std::tie(first, last) = *options.sampleRange;
    if (first > last || last >= data->size()) {
      error = llvm::formatv("samples {0}:{1} are not in '{2}', which has {3} "
                            "(0:{4})",
                            first, last, options.dataDir, data->size(),
                            data->size() - 1);
      return failure();
    }
  }
  FolderSamples samples(*data, first, last);
  return runCalibration(context, modelPath, *calibrated, options, samples,
                        first, error);
}

FailureOr<CalibrationStats>
mlir::quarc::calibrateModel(MLIRContext &context, StringRef modelPath,
                            const CalibrateOptions &options,
                            SampleSource &samples, uint64_t firstIndex,
                            std::string &error) {
  FailureOr<CalibratedModel> calibrated =
      readCalibratedModel(context, modelPath, options, error);
  if (failed(calibrated))
    return failure();
  return runCalibration(context, modelPath, *calibrated, options, samples,
                        firstIndex, error);
}
