//===- QuarcModule.cpp - the quarc Python extension (nanobind) ------------===//
//
// `quarc._quarc`: the compile session (lib/Compiler) and compiled models'
// C runtime, for the pure-Python API in python/quarc/__init__.py, which is
// what users call. Each entry point:
// - works in its own MLIRContext, so calls from several Python threads do
//   not share compiler state;
// - releases the GIL while it compiles, calibrates or runs;
// - collects the compiler's diagnostics and turns a failure into one of
//   quarc's Python exceptions (python/quarc/_errors.py), carrying the
//   message and the diagnostics with their ONNX node and file.
//
//===----------------------------------------------------------------------===//

#include "quarc/Calibration/CalibrationData.h"
#include "quarc/Calibration/StatsFile.h"
#include "quarc/Compiler/Calibrate.h"
#include "quarc/Compiler/ObservedRun.h"
#include "quarc/Compiler/Report.h"
#include "quarc/Compiler/Session.h"
#include "quarc/Dialect/Quarc/IR/TensorNames.h"
#include "quarc/Quantization/QuantScheme.h"
#include "quarc/Version.h"
#include "quarc/quarc_runtime.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstring>
#include <map>
#include <memory>
#include <mutex>

namespace nb = nanobind;
using namespace mlir;
using namespace mlir::quarc;
using calibration::NpyArray;

namespace {

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// One diagnostic of the compiler, as python/quarc/_errors.py's Diagnostic
/// holds it.
struct CapturedDiagnostic {
  std::string severity, message, file, node;

  /// "model.onnx: node 'conv1': message".
  std::string withLocation() const {
    std::string where = OnnxLocation{file, node}.str();
    return (where.empty() ? "" : where + ": ") + message;
  }
};

/// Collects the context's errors, warnings and remarks while it lives.
class DiagnosticCapture {
public:
  explicit DiagnosticCapture(MLIRContext &context)
      : handler(&context, [this](Diagnostic &diag) {
          const char *severity = "note";
          switch (diag.getSeverity()) {
          case DiagnosticSeverity::Error:
            severity = "error";
            break;
          case DiagnosticSeverity::Warning:
            severity = "warning";
            break;
          case DiagnosticSeverity::Remark:
            severity = "remark";
            break;
          case DiagnosticSeverity::Note:
            break;
          }
          OnnxLocation where = describeOnnxLocation(diag.getLocation());
          diagnostics.push_back(
              {severity, diag.str(), where.file, where.node});
          return success();
        }) {}

  std::vector<CapturedDiagnostic> diagnostics;

  /// Whether the compiler reported an error (a model that does not compile,
  /// rather than a sample or stats problem).
  bool hasCompilerError() const {
    return llvm::any_of(diagnostics, [](const CapturedDiagnostic &diag) {
      return diag.severity == "error";
    });
  }

  /// `error` if set, else the first error diagnostic with its location.
  std::string describeFailure(const std::string &error) const {
    if (!error.empty())
      return error;
    for (const CapturedDiagnostic &diag : diagnostics) {
      if (diag.severity != "error")
        continue;
      return diag.withLocation();
    }
    return "failed (no diagnostic)";
  }

private:
  ScopedDiagnosticHandler handler;
};

/// `text` as a Python str, None when it is empty.
nb::object optionalString(const std::string &text) {
  return text.empty() ? nb::object(nb::none()) : nb::object(nb::str(text.c_str()));
}

/// Raises `quarc.<className>(message, diagnostics)`; the GIL must be held.
[[noreturn]] void raiseError(const char *className, const std::string &message,
                             const std::vector<CapturedDiagnostic> &captured =
                                 {}) {
  nb::module_ errors = nb::module_::import_("quarc._errors");
  nb::object diagnosticType = errors.attr("Diagnostic");
  nb::list diagnostics;
  for (const CapturedDiagnostic &diag : captured)
    diagnostics.append(diagnosticType(diag.severity, diag.message,
                                      optionalString(diag.file),
                                      optionalString(diag.node)));
  nb::object type = errors.attr(className);
  nb::object error = type(message, diagnostics);
  PyErr_SetObject(type.ptr(), error.ptr());
  throw nb::python_error();
}

/// Raises the failure of a calibration or report: a CompileError when the
/// compiler reported an error (the model does not compile), else a
/// CalibrationError with `error` (a sample, the stats).
[[noreturn]] void raiseFailure(const DiagnosticCapture &capture,
                               const std::string &error) {
  bool compiler = error.empty() && capture.hasCompilerError();
  raiseError(compiler ? "CompileError" : "CalibrationError",
             capture.describeFailure(error), capture.diagnostics);
}

/// A context with what the pipelines need, printing nothing.
std::unique_ptr<MLIRContext> createContext() {
  DialectRegistry registry;
  registerCompilerDialects(registry);
  auto context = std::make_unique<MLIRContext>(registry);
  context->printOpOnDiagnostic(false);
  return context;
}

//===----------------------------------------------------------------------===//
// Pipeline options from Python arguments
//===----------------------------------------------------------------------===//

/// What quarc.compile and quarc.report pass down (python/quarc/__init__.py
/// checks their types and spells them as the driver's flags).
struct CompileArguments {
  std::string target = "host";
  std::vector<std::string> inputShapes;
  std::string quantize, statsPath, scheme;
  std::vector<std::string> excludeNodes, keepFloat;
  std::string graphPasses;
};

PipelineOptions toPipelineOptions(const CompileArguments &args) {
  PipelineOptions options;
  std::string error;
  if (!TargetInfo::parse(args.target, options.target, error))
    raiseError("UsageError", "target: " + error);
  options.inputShapes = args.inputShapes;
  options.graphPasses = args.graphPasses;
  options.scheme = args.scheme;
  if (!args.scheme.empty() &&
      failed(checkSchemeOption(args.scheme, args.quantize, error)))
    raiseError("UsageError", "scheme: " + error);
  options.excludeNodes = args.excludeNodes;
  FailureOr<std::vector<std::string>> floatOps =
      getQuarcOpsOfOnnxTypes(args.keepFloat, error);
  if (failed(floatOps))
    raiseError("UsageError", "keep_float: " + error);
  options.floatOps = std::move(*floatOps);
  if (args.quantize == "int8")
    options.quantizeStats = args.statsPath;
  options.dynamicQuantize = args.quantize == "dynamic-int8";
  options.weightOnlyQuantize =
      args.quantize == "int4-weight" || args.quantize == "w4a8";
  options.weightOnlyInt8Activations = args.quantize == "w4a8";
  return options;
}

//===----------------------------------------------------------------------===//
// Compile
//===----------------------------------------------------------------------===//

/// Compiles `modelPath` to the artefact `outputPath` (and its header, and
/// `weightsPath` when given); returns the compiler's warnings.
std::vector<std::string> compileArtifact(const std::string &modelPath,
                                         const std::string &outputPath,
                                         const CompileArguments &args,
                                         const std::string &weightsPath) {
  PipelineOptions options = toPipelineOptions(args);
  options.externalWeights = !weightsPath.empty();
  std::unique_ptr<MLIRContext> context = createContext();
  DiagnosticCapture capture(*context);
  std::string error;
  std::vector<std::string> warnings;
  bool ok;
  {
    nb::gil_scoped_release release;
    std::string prefix =
        makeSymbolPrefix(llvm::sys::path::stem(outputPath));
    FailureOr<LoweredModel> model =
        lowerModel(*context, modelPath, options, prefix);
    ok = succeeded(model) &&
         succeeded(writeArtifact(*model, artifactKindForPath(outputPath),
                                 outputPath, error, weightsPath));
    if (succeeded(model))
      warnings = model->warnings;
  }
  if (!ok)
    raiseError("CompileError", capture.describeFailure(error),
               capture.diagnostics);
  for (const CapturedDiagnostic &diag : capture.diagnostics)
    if (diag.severity == "warning" || diag.severity == "remark")
      warnings.push_back(diag.withLocation());
  return warnings;
}

//===----------------------------------------------------------------------===//
// Samples from Python
//===----------------------------------------------------------------------===//

using HostArray = nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>;

/// The quarc_dtype of a NumPy array's element type, or 0.
int32_t getQuarcDType(nb::dlpack::dtype dtype) {
  using nb::dlpack::dtype_code;
  auto code = dtype_code(dtype.code);
  if (dtype.lanes != 1)
    return 0;
  if (code == dtype_code::Float)
    return dtype.bits == 32   ? QUARC_DTYPE_F32
           : dtype.bits == 16 ? QUARC_DTYPE_F16
           : dtype.bits == 64 ? QUARC_DTYPE_F64
                              : 0;
  if (code == dtype_code::Int)
    return dtype.bits == 8    ? QUARC_DTYPE_I8
           : dtype.bits == 16 ? QUARC_DTYPE_I16
           : dtype.bits == 32 ? QUARC_DTYPE_I32
           : dtype.bits == 64 ? QUARC_DTYPE_I64
                              : 0;
  if (code == dtype_code::UInt && dtype.bits == 8)
    return QUARC_DTYPE_U8;
  if (code == dtype_code::Bool)
    return QUARC_DTYPE_BOOL;
  return 0;
}

/// A copy of `array` as the calibration code holds samples.
NpyArray toNpyArray(const HostArray &array, const std::string &what) {
  NpyArray result;
  int32_t dtype = getQuarcDType(array.dtype());
  if (!dtype)
    raiseError("CalibrationError",
               what + ": element type not supported by quarc");
  result.dtype = quarc_dtype(dtype);
  for (size_t d = 0; d < array.ndim(); ++d)
    result.shape.push_back(int64_t(array.shape(d)));
  const char *data = static_cast<const char *>(array.data());
  result.bytes.assign(data, data + array.nbytes());
  return result;
}

/// One sample: Python's {name: array} as (name, array) pairs, checked and
/// ordered by the model's inputs.
std::vector<NpyArray>
convertSample(const std::vector<std::pair<std::string, HostArray>> &named,
              ArrayRef<calibration::ModelInputSpec> inputs,
              const std::string &what) {
  std::vector<std::pair<std::string, NpyArray>> members;
  for (const auto &[givenName, array] : named) {
    // "" stands for the input of a one-input model (a bare array).
    std::string name = givenName;
    if (name.empty()) {
      if (inputs.size() != 1)
        raiseError("CalibrationError",
                   what + ": a sample given as one array needs a model with "
                          "one input; this one has " +
                       std::to_string(inputs.size()) +
                       ": give {input name: array}");
      name = inputs.front().name;
    }
    members.emplace_back(name,
                         toNpyArray(array, what + ": input '" + name + "'"));
  }
  std::vector<NpyArray> arrays;
  std::string error;
  if (!calibration::assembleSample(std::move(members), inputs, what, arrays,
                                   error))
    raiseError("CalibrationError", error);
  return arrays;
}

/// Samples read once, in order, from a callback (a Python generator's).
class StreamedSamples : public calibration::SampleSource {
public:
  using Next = std::function<FailureOr<bool>(
      std::vector<NpyArray> &arrays, std::string &name, std::string &error)>;
  explicit StreamedSamples(Next next) : nextSample(std::move(next)) {}
  std::optional<uint64_t> size() const override { return std::nullopt; }
  FailureOr<bool> next(std::vector<NpyArray> &arrays, std::string &name,
                       std::string &error) override {
    return nextSample(arrays, name, error);
  }
  bool rewind() override { return false; }

private:
  Next nextSample;
};

/// Samples held in memory, read as often as asked (quarc.report's).
class ListSamples : public calibration::SampleSource {
public:
  explicit ListSamples(std::vector<std::vector<NpyArray>> samples)
      : samples(std::move(samples)) {}
  std::optional<uint64_t> size() const override { return samples.size(); }
  FailureOr<bool> next(std::vector<NpyArray> &arrays, std::string &name,
                       std::string &) override {
    if (position == samples.size())
      return false;
    name = std::to_string(position);
    arrays = samples[position++];
    return true;
  }
  bool rewind() override {
    position = 0;
    return true;
  }

private:
  std::vector<std::vector<NpyArray>> samples;
  size_t position = 0;
};

/// The model's inputs (importing it, without the GIL); a model that does
/// not import is a CompileError.
SmallVector<calibration::ModelInputSpec>
readInputs(MLIRContext &context, DiagnosticCapture &capture,
           const std::string &modelPath) {
  std::optional<FailureOr<SmallVector<calibration::ModelInputSpec>>> inputs;
  {
    nb::gil_scoped_release release;
    inputs = readModelInputs(context, modelPath);
  }
  if (failed(*inputs))
    raiseError("CompileError", capture.describeFailure(""),
               capture.diagnostics);
  return **inputs;
}

//===----------------------------------------------------------------------===//
// Calibration stats
//===----------------------------------------------------------------------===//

struct Stats {
  calibration::CalibrationStats stats;
};

Stats calibrate(const std::string &modelPath, nb::callable nextSample,
                const std::vector<std::string> &inputShapes,
                const std::string &graphPasses, unsigned bins, int threads,
                uint64_t firstIndex) {
  std::unique_ptr<MLIRContext> context = createContext();
  DiagnosticCapture capture(*context);
  CalibrateOptions options;
  options.pipeline.inputShapes = inputShapes;
  options.pipeline.graphPasses = graphPasses;
  options.numBins = bins;
  options.threads = threads;
  SmallVector<calibration::ModelInputSpec> inputs =
      readInputs(*context, capture, modelPath);
  // Called by the compiler without the GIL: a Python exception (from the
  // generator, or a sample that does not fit) is kept and raised again
  // once the compiler has returned.
  std::optional<nb::python_error> pending;
  uint64_t count = 0;
  auto next = [&](std::vector<NpyArray> &arrays, std::string &name,
                  std::string &error) -> FailureOr<bool> {
    nb::gil_scoped_acquire acquire;
    name = std::to_string(count);
    std::string what = "sample " + name;
    // Nothing may throw into the compiler, which is built without
    // exceptions.
    try {
      nb::object sample = nextSample();
      if (sample.is_none())
        return false;
      auto named =
          nb::cast<std::vector<std::pair<std::string, HostArray>>>(sample);
      arrays = convertSample(named, inputs, what);
    } catch (nb::python_error &pythonError) {
      error = what + ": " + pythonError.what();
      pending.emplace(std::move(pythonError));
      return failure();
    } catch (const std::exception &other) { // nanobind's cast errors
      error = what + ": " + other.what();
      return failure();
    } catch (...) {
      error = what + ": unexpected C++ exception";
      return failure();
    }
    ++count;
    return true;
  };
  StreamedSamples samples(next);
  std::string error;
  std::optional<FailureOr<calibration::CalibrationStats>> stats;
  {
    nb::gil_scoped_release release;
    stats = calibrateModel(*context, modelPath, options, samples, firstIndex,
                           error);
  }
  if (pending)
    throw std::move(*pending);
  if (failed(*stats))
    raiseFailure(capture, error);
  return Stats{std::move(**stats)};
}

//===----------------------------------------------------------------------===//
// Report
//===----------------------------------------------------------------------===//

nb::dict toDict(const ErrorStats &error) {
  nb::dict d;
  d["sqnr_db"] = error.sqnrDb();
  d["cosine"] = error.cosine();
  d["mean_abs_error"] = error.meanAbsError();
  d["max_abs_error"] = error.maxAbsError;
  d["clipped"] = error.clipped;
  d["count"] = error.count;
  return d;
}

template <typename T> nb::object optional(const std::optional<T> &value) {
  return value ? nb::cast(*value) : nb::none();
}

nb::object optionalRange(const std::optional<std::pair<double, double>> &r) {
  return r ? nb::make_tuple(r->first, r->second) : nb::object(nb::none());
}

nb::dict toDict(const QuantizationReport &report) {
  nb::dict d;
  d["model_path"] = report.modelPath;
  d["model_hash"] = report.modelHash;
  d["scheme"] = report.scheme;
  d["target"] = report.target;
  d["samples"] = report.samples;
  d["calibration_samples"] = report.calibrationSamples;
  d["float_constant_bytes"] = report.floatConstantBytes;
  d["quantized_constant_bytes"] = report.quantizedConstantBytes;
  nb::list tensors;
  for (const TensorReport &t : report.tensors) {
    nb::dict e = toDict(t.error);
    e["name"] = t.name;
    e["node"] = t.node;
    e["op"] = t.op;
    e["type"] = t.type;
    e["scale"] = optional(t.scale);
    e["zero_point"] = optional(t.zeroPoint);
    e["representable"] = optionalRange(t.representable);
    e["calibrated_range"] = optionalRange(t.calibratedRange);
    tensors.append(e);
  }
  d["tensors"] = tensors;
  nb::list weights;
  for (const WeightReport &w : report.weights) {
    nb::dict e;
    e["node"] = w.node;
    e["op"] = w.op;
    e["type"] = w.type;
    e["elements"] = w.elements;
    e["channels"] = w.channels;
    e["float_bytes"] = w.floatBytes;
    e["quantized_bytes"] = w.quantizedBytes;
    e["scale_bytes"] = w.scaleBytes;
    e["zero_point_bytes"] = w.zeroPointBytes;
    weights.append(e);
  }
  d["weights"] = weights;
  nb::list opTypes;
  for (const OpTypeCount &c : report.opTypes) {
    nb::dict e;
    e["op_type"] = c.opType;
    e["integer"] = c.integer;
    e["float"] = c.floating;
    opTypes.append(e);
  }
  d["op_types"] = opTypes;
  nb::list outputs;
  for (const OutputReport &o : report.outputs) {
    nb::dict e = toDict(o.error);
    e["name"] = o.name;
    outputs.append(e);
  }
  d["outputs"] = outputs;
  d["markdown"] = formatReportMarkdown(report);
  d["json"] = formatReportJson(report);
  return d;
}

nb::dict report(const std::string &modelPath,
                const std::vector<std::vector<std::pair<std::string, HostArray>>>
                    &pythonSamples,
                const CompileArguments &args, int threads) {
  std::unique_ptr<MLIRContext> context = createContext();
  DiagnosticCapture capture(*context);
  PipelineOptions pipeline = toPipelineOptions(args);
  SmallVector<calibration::ModelInputSpec> inputs =
      readInputs(*context, capture, modelPath);
  std::vector<std::vector<NpyArray>> converted;
  for (const auto &sample : pythonSamples)
    converted.push_back(convertSample(
        sample, inputs, "sample " + std::to_string(converted.size())));
  ListSamples samples(std::move(converted));
  ReportOptions options;
  options.pipeline.inputShapes = pipeline.inputShapes;
  options.pipeline.graphPasses = pipeline.graphPasses;
  options.dataDir = std::to_string(samples.size().value_or(0)) +
                    " samples given in Python";
  options.samples = &samples;
  options.statsPath = args.statsPath;
  options.scheme = args.scheme;
  options.excludeNodes = pipeline.excludeNodes;
  options.floatOps = pipeline.floatOps;
  options.threads = threads;
  std::string error;
  std::optional<FailureOr<QuantizationReport>> built;
  {
    nb::gil_scoped_release release;
    built = buildQuantizationReport(*context, modelPath, options, error);
  }
  if (failed(*built))
    raiseFailure(capture, error);
  return toDict(**built);
}

//===----------------------------------------------------------------------===//
// Compiled models
//===----------------------------------------------------------------------===//

/// dlopen of a path the process has open already returns that library,
/// even when the file was replaced since (a model compiled again and saved
/// under the same name). So a path whose file is not the one loaded before
/// is loaded from a private copy instead.
class LibraryFiles {
public:
  /// The path to dlopen for `path`: itself, or a fresh copy of it. The
  /// GIL must be held (it guards this state).
  std::string pathToOpen(const std::string &path) {
    struct stat info;
    if (stat(path.c_str(), &info) != 0)
      return path; // dlopen reports it
    Identity identity{info.st_dev, info.st_ino, info.st_mtim.tv_sec,
                      info.st_mtim.tv_nsec, info.st_size};
    auto [it, inserted] = opened.try_emplace(path, identity);
    if (inserted || it->second == identity)
      return path;
    if (copies.empty()) {
      SmallString<128> folder;
      if (llvm::sys::fs::createUniqueDirectory("quarc-libraries", folder))
        raiseError("LoadError", "cannot create a temporary folder to load " +
                                    path + " again");
      copies = folder.str().str();
    }
    SmallString<256> copy(copies);
    llvm::sys::path::append(copy, std::to_string(++copyCount) + "-" +
                                      llvm::sys::path::filename(path).str());
    if (std::error_code ec = llvm::sys::fs::copy_file(path, copy))
      raiseError("LoadError", "cannot copy " + path + " to load it again: " +
                                  ec.message());
    return copy.str().str();
  }

private:
  struct Identity {
    dev_t device;
    ino_t inode;
    time_t seconds;
    long nanoseconds;
    off_t size;
    bool operator==(const Identity &o) const {
      return device == o.device && inode == o.inode && seconds == o.seconds &&
             nanoseconds == o.nanoseconds && size == o.size;
    }
  };
  std::map<std::string, Identity> opened;
  std::string copies;
  unsigned copyCount = 0;
};

LibraryFiles &getLibraryFiles() {
  static LibraryFiles files;
  return files;
}

/// A compiled shared library, run through its own copy of the runtime:
/// generated code binds its calls (thread pool, allocator) to the copy in
/// its library, so the session must come from the same one.
class Library {
public:
  Library(const std::string &path, std::optional<std::string> weightsPath) {
    std::string opened = getLibraryFiles().pathToOpen(path);
    handle.reset(dlopen(opened.c_str(), RTLD_NOW | RTLD_LOCAL));
    if (!handle)
      raiseError("LoadError", "cannot load " + path + ": " + dlerror());
    auto lookup = [&](const char *name) {
      void *symbol = dlsym(handle.get(), name);
      if (!symbol)
        raiseError("LoadError", path + " is not a model compiled by quarc "
                                       "as a shared library (no " +
                                       std::string(name) + ")");
      return symbol;
    };
    desc = static_cast<const quarc_model_desc *>(lookup("quarc_library_model"));
    createWithWeights = reinterpret_cast<decltype(createWithWeights)>(
        lookup("quarc_session_create_with_weights"));
    runSession = reinterpret_cast<decltype(runSession)>(
        lookup("quarc_session_run"));
    setThreads = reinterpret_cast<decltype(setThreads)>(
        lookup("quarc_session_set_threads"));
    sessionError = reinterpret_cast<decltype(sessionError)>(
        lookup("quarc_session_error"));
    destroySession = reinterpret_cast<decltype(destroySession)>(
        lookup("quarc_session_destroy"));
    auto statusString = reinterpret_cast<const char *(*)(quarc_status)>(
        lookup("quarc_status_string"));
    if (desc->abi_version != QUARC_ABI_VERSION)
      raiseError("LoadError",
                 path + " was compiled for runtime ABI version " +
                     std::to_string(desc->abi_version) + "; this quarc (" +
                     QUARC_VERSION_STRING + ") runs version " +
                     std::to_string(QUARC_ABI_VERSION) + ": compile it again");
    std::string weights;
    if (desc->weights_file) {
      weights = weightsPath.value_or("");
      if (weights.empty()) {
        SmallString<256> nextToLibrary(llvm::sys::path::parent_path(path));
        llvm::sys::path::append(nextToLibrary, desc->weights_file);
        weights = nextToLibrary.str().str();
      }
    } else if (weightsPath) {
      raiseError("LoadError", path + " has its weights embedded; it takes "
                                     "no weights file");
    }
    char message[512] = "";
    quarc_status status =
        createWithWeights(desc, weights.empty() ? nullptr : weights.c_str(),
                          &session, message, sizeof message);
    if (status != QUARC_OK)
      raiseError("LoadError", path + ": " + statusString(status) +
                                  (message[0] ? std::string(": ") + message
                                              : std::string()));
  }
  ~Library() {
    // The session joins its worker threads, and outputs were copied: no
    // code or data of the library is in use once it is destroyed (and
    // `handle` closes the library after this).
    if (session)
      destroySession(session);
  }
  Library(const Library &) = delete;
  Library &operator=(const Library &) = delete;

  nb::list describe(bool outputs) const {
    nb::list list;
    uint32_t n = outputs ? desc->num_outputs : desc->num_inputs;
    const quarc_tensor_desc *tensors = outputs ? desc->outputs : desc->inputs;
    for (uint32_t i = 0; i < n; ++i) {
      nb::list dims;
      for (int32_t d = 0; d < tensors[i].rank; ++d)
        dims.append(tensors[i].dims[d] < 0
                        ? nb::object(nb::none())
                        : nb::object(nb::int_(tensors[i].dims[d])));
      list.append(nb::make_tuple(nb::str(tensors[i].name), tensors[i].dtype,
                                 nb::tuple(dims)));
    }
    return list;
  }

  std::string target() const { return desc->target ? desc->target : ""; }
  std::string graphName() const { return desc->name ? desc->name : ""; }

  void threads(int32_t n) {
    quarc_status status;
    {
      nb::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(running);
      status = setThreads(session, n);
    }
    if (status != QUARC_OK)
      raiseError("UsageError", sessionError(session));
  }

  /// Runs on `inputs` (in declaration order; python/quarc checks names and
  /// converts to contiguous arrays, which are passed without copying) and
  /// returns the outputs as new NumPy arrays.
  nb::list run(const std::vector<HostArray> &inputs) {
    std::vector<quarc_tensor> tensors(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const HostArray &array = inputs[i];
      quarc_tensor &tensor = tensors[i];
      if (array.ndim() > QUARC_MAX_RANK)
        raiseError("InputError", "input " + std::to_string(i) + " has rank " +
                                     std::to_string(array.ndim()) +
                                     ", more than quarc handles");
      tensor.data = const_cast<void *>(array.data());
      tensor.dtype = getQuarcDType(array.dtype());
      tensor.rank = int32_t(array.ndim());
      for (size_t d = 0; d < array.ndim(); ++d)
        tensor.dims[d] = int64_t(array.shape(d));
    }
    std::vector<quarc_tensor> outputs(desc->num_outputs);
    // A session runs one call at a time, and its outputs live until the
    // next: calls from other threads wait, and the outputs are copied
    // before the lock is let go.
    quarc_status status;
    std::string message;
    std::vector<std::unique_ptr<char[]>> copies;
    {
      nb::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(running);
      status = runSession(session, tensors.data(), tensors.size(),
                          outputs.data(), outputs.size());
      if (status != QUARC_OK)
        message = sessionError(session);
      for (size_t i = 0; status == QUARC_OK && i < outputs.size(); ++i) {
        size_t bytes = byteSize(outputs[i]);
        copies.emplace_back(new char[bytes ? bytes : 1]);
        if (bytes)
          std::memcpy(copies.back().get(), outputs[i].data, bytes);
      }
    }
    if (status == QUARC_ERROR_OUT_OF_MEMORY) {
      PyErr_SetString(PyExc_MemoryError, message.c_str());
      throw nb::python_error();
    }
    if (status != QUARC_OK)
      raiseError("InputError", message);
    nb::list results;
    for (size_t i = 0; i < outputs.size(); ++i) {
      size_t shape[QUARC_MAX_RANK];
      for (int32_t d = 0; d < outputs[i].rank; ++d)
        shape[d] = size_t(outputs[i].dims[d]);
      char *copy = copies[i].release();
      nb::capsule owner(copy, [](void *p) noexcept {
        delete[] static_cast<char *>(p);
      });
      results.append(nb::ndarray<nb::numpy>(copy, size_t(outputs[i].rank),
                                            shape, owner, nullptr,
                                            toDLPack(outputs[i].dtype))
                         .cast());
    }
    return results;
  }

private:
  static size_t byteSize(const quarc_tensor &tensor) {
    size_t bytes = calibration::getDTypeSize(quarc_dtype(tensor.dtype));
    for (int32_t d = 0; d < tensor.rank; ++d)
      bytes *= size_t(tensor.dims[d]);
    return bytes;
  }
  static nb::dlpack::dtype toDLPack(int32_t dtype) {
    switch (dtype) {
    case QUARC_DTYPE_F32:
      return nb::dtype<float>();
    case QUARC_DTYPE_F64:
      return nb::dtype<double>();
    case QUARC_DTYPE_F16:
      return {uint8_t(nb::dlpack::dtype_code::Float), 16, 1};
    case QUARC_DTYPE_U8:
      return nb::dtype<uint8_t>();
    case QUARC_DTYPE_I8:
      return nb::dtype<int8_t>();
    case QUARC_DTYPE_I16:
      return nb::dtype<int16_t>();
    case QUARC_DTYPE_I32:
      return nb::dtype<int32_t>();
    case QUARC_DTYPE_I64:
      return nb::dtype<int64_t>();
    case QUARC_DTYPE_BOOL:
      return nb::dtype<bool>();
    }
    return nb::dtype<uint8_t>();
  }

  struct Closer {
    void operator()(void *library) const { dlclose(library); }
  };
  std::unique_ptr<void, Closer> handle;
  /// Held while the session runs or changes its threads.
  std::mutex running;
  const quarc_model_desc *desc = nullptr;
  quarc_session *session = nullptr;
  quarc_status (*createWithWeights)(const quarc_model_desc *, const char *,
                                    quarc_session **, char *, size_t);
  quarc_status (*runSession)(quarc_session *, const quarc_tensor *, size_t,
                             quarc_tensor *, size_t);
  quarc_status (*setThreads)(quarc_session *, int32_t);
  const char *(*sessionError)(const quarc_session *);
  void (*destroySession)(quarc_session *);
};

} // namespace

NB_MODULE(_quarc, m) {
  m.doc() = "quarc's compiler and runtime; use the `quarc` package, not this "
            "module";
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  m.attr("version") = QUARC_VERSION_STRING;
  m.attr("abi_version") = QUARC_ABI_VERSION;

  m.def("set_resource_root", [](const std::string &root) {
    setResourceRoot(root);
  });
  m.def("host_target", [] { return TargetInfo::host().name(); });

  nb::class_<CompileArguments>(m, "CompileArguments")
      .def(nb::init<>())
      .def_rw("target", &CompileArguments::target)
      .def_rw("input_shapes", &CompileArguments::inputShapes)
      .def_rw("quantize", &CompileArguments::quantize)
      .def_rw("stats_path", &CompileArguments::statsPath)
      .def_rw("scheme", &CompileArguments::scheme)
      .def_rw("exclude_nodes", &CompileArguments::excludeNodes)
      .def_rw("keep_float", &CompileArguments::keepFloat)
      .def_rw("graph_passes", &CompileArguments::graphPasses);

  m.def("compile_artifact", &compileArtifact, nb::arg("model_path"),
        nb::arg("output_path"), nb::arg("arguments"),
        nb::arg("weights_path") = "");

  nb::class_<Stats>(m, "Stats")
      .def_static(
          "load",
          [](const std::string &path) {
            std::string error;
            FailureOr<calibration::CalibrationStats> stats =
                calibration::loadStatsFile(path, error);
            if (failed(stats))
              raiseError("CalibrationError", error);
            return Stats{std::move(*stats)};
          })
      .def("save",
           [](const Stats &self, const std::string &path) {
             std::string error;
             if (failed(calibration::saveStatsFile(self.stats, path, error)))
               raiseError("CalibrationError", error);
           })
      .def("merge",
           [](const Stats &self, const Stats &other) {
             Stats merged = self;
             std::string error;
             if (failed(merged.stats.merge(other.stats, error)))
               raiseError("CalibrationError", error);
             return merged;
           })
      .def("to_json",
           [](const Stats &self) {
             return calibration::printStatsFile(self.stats);
           })
      .def_prop_ro("model_hash",
                   [](const Stats &self) { return self.stats.getModelHash(); })
      .def_prop_ro("bins",
                   [](const Stats &self) { return self.stats.getNumBins(); })
      .def_prop_ro("num_samples",
                   [](const Stats &self) { return self.stats.getSamples().size(); })
      .def_prop_ro("sample_ranges",
                   [](const Stats &self) {
                     nb::list ranges;
                     for (auto interval : self.stats.getSamples().getIntervals())
                       ranges.append(nb::make_tuple(interval.first, interval.last));
                     return ranges;
                   })
      .def_prop_ro("tensors", [](const Stats &self) {
        std::vector<std::string> names;
        for (StringRef name : self.stats.getTensorNames())
          names.push_back(name.str());
        return names;
      });

  m.def("calibrate", &calibrate, nb::arg("model_path"), nb::arg("next_sample"),
        nb::arg("input_shapes"), nb::arg("graph_passes"), nb::arg("bins"),
        nb::arg("threads"), nb::arg("first_index"));
  m.def("report", &report, nb::arg("model_path"), nb::arg("samples"),
        nb::arg("arguments"), nb::arg("threads"));

  nb::class_<Library>(m, "Library")
      .def(nb::init<const std::string &, std::optional<std::string>>(),
           nb::arg("path"), nb::arg("weights_path") = nb::none())
      .def_prop_ro("inputs", [](const Library &l) { return l.describe(false); })
      .def_prop_ro("outputs", [](const Library &l) { return l.describe(true); })
      .def_prop_ro("target", &Library::target)
      .def_prop_ro("graph_name", &Library::graphName)
      .def("set_threads", &Library::threads)
      .def("run", &Library::run);
}
