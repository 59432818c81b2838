//===- ObservedRun.h - run a model in memory with observers -----*- C++ -*-===//
//
// `quarc calibrate` and `quarc report` compile a model in memory with
// `quarc.observe` ops on some of its tensors, run it on samples, and look
// at each observed tensor's values while the sample runs (nothing is kept
// between samples unless the caller keeps it). A model with dynamic dims is
// compiled once per distinct set of sample shapes.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_COMPILER_OBSERVEDRUN_H
#define QUARC_COMPILER_OBSERVEDRUN_H

#include "quarc/Calibration/CalibrationData.h"
#include "quarc/Compiler/Session.h"
#include "quarc/quarc_runtime.h"

#include <chrono>
#include <functional>
#include <map>

namespace mlir::quarc {

/// The inputs `modelPath` declares (dynamic dims -1), which samples must
/// match.
FailureOr<SmallVector<calibration::ModelInputSpec>>
readModelInputs(MLIRContext &context, StringRef modelPath);

/// Receives the values of observed tensor `tensor` while a sample runs
/// (row-major, valid only during the call); fails with a message naming
/// the tensor.
using ObservationHandler = llvm::function_ref<LogicalResult(
    StringRef tensor, ArrayRef<float> values, std::string &error)>;

/// A model compiled in memory with observers (PipelineOptions::observe or
/// observeQuantized), for the host.
class ObservedModel {
public:
  /// `inspectGraph` sees the graph-level module of every compile (one per
  /// set of input shapes), before it is lowered.
  ObservedModel(MLIRContext &context, StringRef modelPath,
                PipelineOptions pipeline, int threads = 1,
                std::function<LogicalResult(ModuleOp)> inspectGraph = {});
  ~ObservedModel();

  /// Runs one sample (one array per model input, in `inputs` order),
  /// compiling the model for the sample's shapes first if they are new,
  /// and hands each observation to `handler`. `outputs` (the model's
  /// outputs, owned by the session) stay valid until the next run. The
  /// error does not name the sample; the caller adds it.
  LogicalResult run(ArrayRef<calibration::NpyArray> arrays,
                    ArrayRef<calibration::ModelInputSpec> inputs,
                    ObservationHandler handler,
                    std::vector<quarc_tensor> &outputs, std::string &error);

  /// The tensors the last run's variant observes, by observation index.
  ArrayRef<std::string> getObservedTensors() const;

private:
  struct Variant;
  FailureOr<std::unique_ptr<Variant>>
  compile(ArrayRef<calibration::NpyArray> arrays,
          ArrayRef<calibration::ModelInputSpec> inputs, std::string &error);

  MLIRContext &context;
  std::string modelPath;
  PipelineOptions pipeline;
  int threads;
  std::function<LogicalResult(ModuleOp)> inspectGraph;
  std::map<std::string, std::unique_ptr<Variant>> variants;
  Variant *last = nullptr;
};

/// One line on stderr, rewritten as samples finish:
/// "calibrating: 3/10 samples, 2.1 samples/s, ETA 3 s".
class ProgressLine {
public:
  ProgressLine(bool enabled, StringRef what, uint64_t total)
      : enabled(enabled), what(what.str()), total(total),
        start(std::chrono::steady_clock::now()) {}
  void update(uint64_t done);

private:
  bool enabled;
  std::string what;
  uint64_t total;
  std::chrono::steady_clock::time_point start;
};

} // namespace mlir::quarc

#endif // QUARC_COMPILER_OBSERVEDRUN_H
