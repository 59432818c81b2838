//===- Calibrate.h - run a model on calibration samples ---------*- C++ -*-===//
//
// `quarc calibrate` and `quarc compile --quantize --data` (later) use this:
// the model is compiled in memory with observers on its float tensors
// (quarc-insert-observers), run on each sample of a data folder, and every
// observed tensor's values go into the stats' histograms as they are
// produced, so memory does not grow with the number of samples.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_COMPILER_CALIBRATE_H
#define QUARC_COMPILER_CALIBRATE_H

#include "quarc/Calibration/CalibrationData.h"
#include "quarc/Calibration/CalibrationStats.h"
#include "quarc/Compiler/Pipelines.h"

#include "mlir/IR/MLIRContext.h"

#include <optional>

namespace mlir::quarc {

struct CalibrateOptions {
  /// Graph options (input shapes). The target must be the host's.
  PipelineOptions pipeline;
  /// The folder of samples (CalibrationData.h).
  std::string dataDir;
  /// Only the samples with these indices in the folder's sorted list
  /// (both included), so that processes can split a calibration set and
  /// merge their stats; all samples when unset.
  std::optional<std::pair<uint64_t, uint64_t>> sampleRange;
  /// Threads the model runs on.
  int threads = 1;
  /// Histogram bins per sign.
  unsigned numBins = calibration::kDefaultNumBins;
  /// Print progress (samples, rate, ETA) to stderr, on one updated line.
  bool progress = false;
};

/// The identity of a model file for its stats: "sha256:" and the SHA-256 of
/// its bytes in hex.
FailureOr<std::string> hashModelFile(StringRef path, std::string &error);

/// Runs `modelPath` on the samples and returns what its observers saw.
/// Errors (unreadable model or data, a sample of the wrong shape or dtype,
/// NaN or Inf in an input or in an observed tensor) fail with a message
/// naming the sample, the input or tensor; the compiler's own diagnostics
/// go to the context's handler.
FailureOr<calibration::CalibrationStats>
calibrateModel(MLIRContext &context, StringRef modelPath,
               const CalibrateOptions &options, std::string &error);

/// The same on the caller's samples (the Python module's), which the stats
/// number from `firstIndex`; `options.dataDir` and `sampleRange` are not
/// used.
FailureOr<calibration::CalibrationStats>
calibrateModel(MLIRContext &context, StringRef modelPath,
               const CalibrateOptions &options,
               calibration::SampleSource &samples, uint64_t firstIndex,
               std::string &error);

} // namespace mlir::quarc

#endif // QUARC_COMPILER_CALIBRATE_H
