//===- StatsFile.h - calibration stats on disk (JSON) -----------*- C++ -*-===//
//
// The stats file keeps the histograms, so a range can be re-estimated with
// another method without running the samples again:
//
//   {
//     "format": "quarc-calibration-stats",
//     "version": 1,
//     "model_hash": "<the caller's hash of the model>",
//     "bins": 2048,
//     "num_samples": 1000,
//     "samples": [[0, 999]],               // sample indices, as intervals
//     "tensors": {                           // one line a tensor, sorted
//       "conv1": {"count": 802816, "min": -3.5, "max": 7.25, "zeros": 0,
//                 "positive": {"log2_width": -8, "counts": [...]},
//                 "negative": {"log2_width": -9, "counts": [...]},
//                 "samples": [[0, -3.5, 6.5], [1, -2.0, 7.25], ...]}
//     }
//   }
//
// A half is left out when no value has its sign; trailing empty bins are
// left out of `counts`; per-sample entries are [index, min, max]. Counts
// are integers and floats are printed with 17 significant digits (llvm::json
// prints doubles with max_digits10), so a file reads back to exactly the
// stats it was written from, and equal stats give byte-identical files.
// Reading checks every field, and the histograms' consistency; any problem
// is one error naming the file and the field, never a crash.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_CALIBRATION_STATSFILE_H
#define QUARC_CALIBRATION_STATSFILE_H

#include "quarc/Calibration/CalibrationStats.h"

namespace mlir::quarc::calibration {

/// The value of the "format" field, and the version this quarc reads.
constexpr const char *kStatsFileFormat = "quarc-calibration-stats";
constexpr int kStatsFileVersion = 1;

/// The file's text.
std::string printStatsFile(const CalibrationStats &stats);
/// Reads a file's text; `fileName` prefixes the errors.
FailureOr<CalibrationStats> parseStatsFile(StringRef text, StringRef fileName,
                                           std::string &error);

/// Writes `path` through a temporary file renamed into place, so a reader
/// never sees a partial file and a failure leaves the old one.
LogicalResult saveStatsFile(const CalibrationStats &stats, StringRef path,
                            std::string &error);
FailureOr<CalibrationStats> loadStatsFile(StringRef path, std::string &error);
/// Loads `path` and checks that it was made for the model with hash
/// `modelHash`: stats of another model are an error, never reused.
FailureOr<CalibrationStats>
loadStatsFileForModel(StringRef path, StringRef modelHash, std::string &error);
/// Loads and merges stats files made on disjoint sample sets (what
/// `quarc calibrate --merge` does); errors name the files.
FailureOr<CalibrationStats> mergeStatsFiles(ArrayRef<std::string> paths,
                                            std::string &error);

} // namespace mlir::quarc::calibration

#endif // QUARC_CALIBRATION_STATSFILE_H
