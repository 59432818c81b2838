//===- Report.h - how much quantization changes a model ---------*- C++ -*-===//
//
// `quarc report`: the float model and its quantized integer code are both
// compiled in memory and run on the same samples; every tensor the integer
// code writes is compared, as it runs, with the float model's tensor of the
// same ONNX name (quarc-insert-observers, `quantized` option), and so are
// the model's outputs. With what the quantized graph says (types, weights,
// which ops run as integer code), that makes a QuantizationReport, written
// as Markdown, JSON and a chart (ReportWriter.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_COMPILER_REPORT_H
#define QUARC_COMPILER_REPORT_H

#include "quarc/Calibration/CalibrationData.h"
#include "quarc/Compiler/Pipelines.h"

#include "mlir/IR/MLIRContext.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::quarc {

/// Error of a quantized tensor against the float one, accumulated over
/// samples (x float, q quantized): enough for the SQNR, the cosine
/// similarity and the largest error without keeping the values.
struct ErrorStats {
  uint64_t count = 0;
  double sumSignal = 0;   // sum x^2
  double sumError = 0;    // sum (x - q)^2
  double sumProduct = 0;  // sum x * q
  double sumQuantized = 0; // sum q^2
  double sumAbsError = 0; // sum |x - q|
  double maxAbsError = 0;
  /// Float values outside the range the quantized type represents, by more
  /// than half a step (they saturate).
  uint64_t clipped = 0;

  /// Adds one sample's values; `representable` is the quantized type's
  /// [min, max] (unset: nothing is counted as clipped).
  void add(ArrayRef<float> x, ArrayRef<float> q,
           std::optional<std::pair<double, double>> representable,
           double halfStep);
  /// 10 log10(sum x^2 / sum (x - q)^2): +inf when the values are equal,
  /// -inf when only the float ones are all zero.
  double sqnrDb() const;
  /// Cosine similarity of x and q (1 when both are zero).
  double cosine() const;
  double meanAbsError() const { return count ? sumAbsError / count : 0; }
};

/// One tensor the integer code writes.
struct TensorReport {
  /// The ONNX tensor name.
  std::string name;
  /// The ONNX node that writes it in the float model ("" for a graph
  /// input) and the op that writes it in the quantized code ("qconv",
  /// "lut", "quantize", ...).
  std::string node, op;
  /// "u8", "i8", ...; "f32" for float written by an integer op from its
  /// accumulators.
  std::string type;
  /// Per-tensor parameters (unset for f32 and per-axis types).
  std::optional<double> scale;
  std::optional<int64_t> zeroPoint;
  /// [(qmin - zeroPoint) * scale, (qmax - zeroPoint) * scale].
  std::optional<std::pair<double, double>> representable;
  /// The range the scheme's calibration method chose from the stats
  /// (unset when the stats have no histogram of the tensor).
  std::optional<std::pair<double, double>> calibratedRange;
  ErrorStats error;
};

/// The weight of one contraction (qconv, qmatmul).
struct WeightReport {
  std::string node, op;
  /// "i8", ...; channels: the number of scales (1 per tensor).
  std::string type;
  int64_t elements = 0, channels = 0;
  int64_t floatBytes = 0;     // as f32
  int64_t quantizedBytes = 0; // the integer values
  int64_t scaleBytes = 0;     // one f32 scale per channel
  /// Asymmetric weights: one zero point per channel, in the storage type
  /// (0 when every zero point is 0).
  int64_t zeroPointBytes = 0;
};

/// How many ONNX nodes of one op type run as integer code.
struct OpTypeCount {
  std::string opType;
  unsigned integer = 0, floating = 0;
};

struct OutputReport {
  std::string name;
  ErrorStats error;
};

struct QuantizationReport {
  std::string modelPath, modelHash;
  /// The scheme, in --scheme syntax.
  std::string scheme;
  /// The stats file (empty when calibrated on the measured samples), and
  /// how many samples the stats cover.
  std::string statsPath;
  uint64_t calibrationSamples = 0;
  /// The samples the errors were measured on.
  std::string dataDir;
  uint64_t samples = 0;
  /// The target the integer code was compiled for (the host).
  std::string target;
  /// In program order of the quantized code.
  std::vector<TensorReport> tensors;
  std::vector<WeightReport> weights;
  std::vector<OpTypeCount> opTypes;
  std::vector<OutputReport> outputs;
  /// Bytes of all constants used by the graph, float model and quantized.
  int64_t floatConstantBytes = 0, quantizedConstantBytes = 0;
};

struct ReportOptions {
  /// Input shapes (and the host target).
  PipelineOptions pipeline;
  /// Measure on this folder's samples (CalibrationData.h).
  std::string dataDir;
  /// Or on these (the Python module's); read twice when there are no
  /// stats (calibration, then measurement), so they must rewind.
  calibration::SampleSource *samples = nullptr;
  /// Ranges from this stats file; empty: calibrate on `dataDir` first.
  std::string statsPath;
  /// As for quarc-quantize.
  std::string scheme;
  std::vector<std::string> excludeNodes, floatOps;
  int threads = 1;
  bool progress = false;
};

/// Compiles and runs both models on every sample and gathers the report.
/// Fails with one message (the compiler's diagnostics go to the context's
/// handler): unreadable model, data or stats, stats of another model, a
/// sample that does not fit the model.
FailureOr<QuantizationReport> buildQuantizationReport(
    MLIRContext &context, StringRef modelPath, const ReportOptions &options,
    std::string &error);

//===----------------------------------------------------------------------===//
// Output (ReportWriter.cpp)
//===----------------------------------------------------------------------===//

std::string formatReportMarkdown(const QuantizationReport &report);
std::string formatReportJson(const QuantizationReport &report);

/// Writes the Markdown report, and the JSON and the chart of per-tensor
/// SQNR when their paths are not empty. The chart is drawn by
/// scripts/report_chart.py (installed next to quarc as
/// share/quarc/report_chart.py) with matplotlib, with $QUARC_PYTHON, the
/// Python quarc was configured with, or python3. Every file is written
/// under a temporary name and renamed once all are complete, so on error
/// none is left behind.
LogicalResult writeReport(const QuantizationReport &report,
                          StringRef markdownPath, StringRef jsonPath,
                          StringRef pngPath, std::string &error);

/// Checks, before the long run, that each given output path can be
/// written (its folder exists and is writable) and, with a chart, that the
/// chart's Python and matplotlib are there.
LogicalResult checkReportOutputs(StringRef markdownPath, StringRef jsonPath,
                                 StringRef pngPath, std::string &error);

} // namespace mlir::quarc

#endif // QUARC_COMPILER_REPORT_H
