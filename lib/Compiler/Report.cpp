//===- Report.cpp - how much quantization changes a model -----------------===//
//
// Runs the float model and the quantized integer code side by side on each
// sample: the float run's observed tensors are kept for the sample, the
// quantized run's are compared with them as they arrive, so memory holds
// one sample's tensors, whatever the number of samples.
//
//===----------------------------------------------------------------------===//

#include "ReportGraph.h"
#include "quarc/Calibration/StatsFile.h"
#include "quarc/Compiler/Calibrate.h"
#include "quarc/Compiler/ObservedRun.h"
#include "quarc/Quantization/QuantScheme.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"

#include <cmath>

using namespace mlir;
using namespace mlir::quarc;
using namespace mlir::quarc::calibration;

//===----------------------------------------------------------------------===//
// ErrorStats
//===----------------------------------------------------------------------===//

void ErrorStats::add(ArrayRef<float> x, ArrayRef<float> q,
                     std::optional<std::pair<double, double>> representable,
                     double halfStep) {
  for (auto [xf, qf] : llvm::zip_equal(x, q)) {
    double a = xf, b = qf, e = a - b;
    sumSignal += a * a;
    sumError += e * e;
    sumProduct += a * b;
    sumQuantized += b * b;
    sumAbsError += std::fabs(e);
    maxAbsError = std::max(maxAbsError, std::fabs(e));
    if (representable && (a < representable->first - halfStep ||
                          a > representable->second + halfStep))
      ++clipped;
  }
  count += x.size();
}

double ErrorStats::sqnrDb() const {
  if (sumError == 0)
    return INFINITY;
  if (sumSignal == 0)
    return -INFINITY;
  return 10 * std::log10(sumSignal / sumError);
}

double ErrorStats::cosine() const {
  if (sumSignal == 0 && sumQuantized == 0)
    return 1;
  if (sumSignal == 0 || sumQuantized == 0)
    return 0;
  return sumProduct / std::sqrt(sumSignal * sumQuantized);
}

//===----------------------------------------------------------------------===//
// The runs
//===----------------------------------------------------------------------===//

namespace {

/// An output's values as floats; false for a dtype that is not compared.
bool outputValues(const quarc_tensor &tensor, std::vector<float> &values) {
  int64_t count = 1;
  for (int32_t dim = 0; dim < tensor.rank; ++dim)
    count *= tensor.dims[dim];
  values.resize(count);
  auto convert = [&](auto *data) {
    for (int64_t i = 0; i < count; ++i)
      values[i] = float(data[i]);
  };
  switch (tensor.dtype) {
  case QUARC_DTYPE_F32:
    convert(static_cast<const float *>(tensor.data));
    return true;
  case QUARC_DTYPE_F64:
    convert(static_cast<const double *>(tensor.data));
    return true;
  case QUARC_DTYPE_I32:
    convert(static_cast<const int32_t *>(tensor.data));
    return true;
  case QUARC_DTYPE_I64:
    convert(static_cast<const int64_t *>(tensor.data));
    return true;
  case QUARC_DTYPE_I8:
    convert(static_cast<const int8_t *>(tensor.data));
    return true;
  case QUARC_DTYPE_U8:
  case QUARC_DTYPE_BOOL:
    convert(static_cast<const uint8_t *>(tensor.data));
    return true;
  default:
    return false;
  }
}

/// The stats to quantize with: the given file (checked against the
/// model), or a calibration on the measured samples, saved to a temporary
/// file that `remover` deletes.
FailureOr<CalibrationStats>
getStats(MLIRContext &context, StringRef modelPath, StringRef hash,
         const ReportOptions &options, SampleSource &samples,
         std::string &statsPath, std::optional<llvm::FileRemover> &remover,
         std::string &error) {
  if (!options.statsPath.empty()) {
    statsPath = options.statsPath;
    return loadStatsFileForModel(options.statsPath, hash, error);
  }
  CalibrateOptions calibrate;
  calibrate.pipeline = options.pipeline;
  calibrate.threads = options.threads;
  calibrate.progress = options.progress;
  FailureOr<CalibrationStats> stats =
      calibrateModel(context, modelPath, calibrate, samples, 0, error);
  if (failed(stats))
    return failure();
  if (!samples.rewind()) {
    error = "the samples can be read only once, but without stats the "
            "report reads them twice (to calibrate, then to measure)";
    return failure();
  }
  SmallString<128> path;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("quarc-stats", "json", path)) {
    error = "cannot create a temporary file: " + ec.message();
    return failure();
  }
  remover.emplace(path);
  if (failed(saveStatsFile(*stats, path, error)))
    return failure();
  statsPath = path.str().str();
  return stats;
}

/// The ranges the scheme's calibration method gives the quantized tensors.
void addCalibratedRanges(const CalibrationStats &stats,
                         const QuantScheme &scheme, const Method &method,
                         QuantizationReport &report) {
  EstimatorOptions estimator{scheme.activations.type.bits,
                             scheme.activations.symmetric};
  for (TensorReport &tensor : report.tensors) {
    if (!tensor.scale || !stats.lookup(tensor.name))
      continue;
    std::string ignored; // an observer that never ran has no range
    FailureOr<Range> range =
        stats.estimateRange(tensor.name, method, estimator, ignored);
    if (succeeded(range))
      tensor.calibratedRange = {range->min, range->max};
  }
}

} // namespace

FailureOr<QuantizationReport>
mlir::quarc::buildQuantizationReport(MLIRContext &context, StringRef modelPath,
                                     const ReportOptions &options,
                                     std::string &error) {
  if (!options.pipeline.target.runsOnHost()) {
    error = "the report runs the model on this machine; the target must be "
            "the host's (" +
            TargetInfo::host().name() + ")";
    return failure();
  }
  QuantizationReport report;
  report.modelPath = modelPath.str();
  report.dataDir = options.dataDir;
  report.target = options.pipeline.target.name();
  llvm::Expected<QuantScheme> scheme = parseSchemeOption(
      getSchemeForTarget(options.scheme, options.pipeline.target));
  if (!scheme) {
    error = "--scheme: " + llvm::toString(scheme.takeError());
    return failure();
  }
  report.scheme = scheme->str();
  FailureOr<Method> method = parseMethod(scheme->calibrationMethod, error);
  if (failed(method))
    return failure();
  FailureOr<std::string> hash = hashModelFile(modelPath, error);
  if (failed(hash))
    return failure();
  report.modelHash = *hash;

  FailureOr<ModelSignature> signature =
      importModelSignature(context, modelPath);
  FailureOr<SmallVector<ModelInputSpec>> inputs =
      readModelInputs(context, modelPath);
  if (failed(signature) || failed(inputs)) {
    error = "cannot read the model's inputs";
    return failure();
  }
  std::optional<CalibrationData> data;
  std::optional<FolderSamples> folderSamples;
  SampleSource *samples = options.samples;
  if (!samples) {
    data = CalibrationData::open(options.dataDir, *inputs, error);
    if (!data)
      return failure();
    samples = &folderSamples.emplace(*data, 0, data->size() - 1);
  }

  std::optional<llvm::FileRemover> removeStats;
  std::string statsPath;
  FailureOr<CalibrationStats> stats =
      getStats(context, modelPath, *hash, options, *samples, statsPath,
               removeStats, error);
  if (failed(stats))
    return failure();
  report.statsPath = options.statsPath;
  report.calibrationSamples = stats->getSamples().size();

  // The float model observes its named f32 tensors; the quantized one what
  // its integer code writes. Their graphs are read at their first compile.
  std::optional<FloatGraphInfo> floatGraph;
  bool quantizedGraphRead = false;
  PipelineOptions floatPipeline = options.pipeline;
  floatPipeline.observe = true;
  ObservedModel floatModel(context, modelPath, floatPipeline, options.threads,
                           [&](ModuleOp module) {
                             if (!floatGraph)
                               floatGraph = inspectFloatGraph(module);
                             return success();
                           });
  PipelineOptions quantizedPipeline = options.pipeline;
  quantizedPipeline.quantizeStats = statsPath;
  quantizedPipeline.scheme = options.scheme;
  quantizedPipeline.excludeNodes = options.excludeNodes;
  quantizedPipeline.floatOps = options.floatOps;
  quantizedPipeline.observeQuantized = true;
  ObservedModel quantizedModel(
      context, modelPath, quantizedPipeline, options.threads,
      [&](ModuleOp module) {
        if (!quantizedGraphRead && floatGraph)
          inspectQuantizedGraph(module, *floatGraph, report);
        quantizedGraphRead = true;
        return success();
      });

  for (const TensorSignature &output : signature->outputs)
    report.outputs.push_back({output.name, {}});
  llvm::StringMap<std::vector<float>> floatValues;
  llvm::StringMap<size_t> tensorIndex;
  std::vector<NpyArray> arrays;
  std::vector<quarc_tensor> floatOutputs, quantizedOutputs;
  std::vector<float> expected, actual;
  ProgressLine progress(options.progress && samples->size(), "measuring",
                        samples->size().value_or(0));
  std::string sampleName;
  uint64_t sample = 0;
  for (;; ++sample) {
    FailureOr<bool> read = samples->next(arrays, sampleName, error);
    if (failed(read))
      return failure();
    if (!*read)
      break;
    auto keep = [&](StringRef tensor, ArrayRef<float> values, std::string &) {
      floatValues[tensor].assign(values.begin(), values.end());
      return success();
    };
    if (failed(floatModel.run(arrays, *inputs, keep, floatOutputs, error))) {
      error = "sample '" + sampleName + "' (float model): " + error;
      return failure();
    }
    if (floatGraph && floatGraph->quantized) {
      error = "'" + modelPath.str() +
              "' is already quantized (QuantizeLinear/DequantizeLinear pairs "
              "run as integer code); quarc report compares a float model "
              "with its quantization";
      return failure();
    }
    auto compare = [&](StringRef name, ArrayRef<float> values,
                       std::string &message) -> LogicalResult {
      // The quantized graph is read when it is compiled, in the first run.
      if (tensorIndex.empty())
        for (auto [i, tensor] : llvm::enumerate(report.tensors))
          tensorIndex[tensor.name] = i;
      auto index = tensorIndex.find(name);
      auto reference = floatValues.find(name);
      if (index == tensorIndex.end() || reference == floatValues.end())
        return success(); // no float counterpart: reported as not measured
      if (reference->second.size() != values.size()) {
        message = "tensor '" + name.str() + "' has " +
                  std::to_string(values.size()) +
                  " values in the quantized model but " +
                  std::to_string(reference->second.size()) +
                  " in the float model";
        return failure();
      }
      TensorReport &tensor = report.tensors[index->second];
      tensor.error.add(reference->second, values, tensor.representable,
                       tensor.scale ? *tensor.scale / 2 : 0);
      return success();
    };
    if (failed(quantizedModel.run(arrays, *inputs, compare, quantizedOutputs,
                                  error))) {
      error = "sample '" + sampleName + "' (quantized model): " + error;
      return failure();
    }
    if (!floatGraph || !quantizedGraphRead) {
      error = "the compiled graphs could not be read";
      return failure();
    }
    for (auto [i, output] : llvm::enumerate(report.outputs)) {
      if (i >= floatOutputs.size() || i >= quantizedOutputs.size() ||
          !outputValues(floatOutputs[i], expected) ||
          !outputValues(quantizedOutputs[i], actual))
        continue;
      if (expected.size() != actual.size()) {
        error = "sample '" + sampleName + "': output '" + output.name +
                "' has " + std::to_string(actual.size()) +
                " values in the quantized model but " +
                std::to_string(expected.size()) + " in the float model";
        return failure();
      }
      output.error.add(expected, actual, std::nullopt, 0);
    }
    progress.update(sample + 1);
  }
  if (sample == 0) {
    error = "no samples to measure on";
    return failure();
  }
  report.samples = sample;
  report.floatConstantBytes = floatGraph->constantBytes;
  addCalibratedRanges(*stats, *scheme, *method, report);
  return report;
}
