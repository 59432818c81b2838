//===- quarc.cpp - the end-user driver ------------------------------------===//
//
//   quarc compile MODEL -o OUT [--target=T] [--input-shape NAME=SHAPE]...
//                 [--weights=FILE]
//   quarc run MODEL [--input-shape NAME=SHAPE]... [runtime options...]
//   quarc calibrate MODEL --data DIR -o STATS [--samples A:B] [--threads N]
//   quarc calibrate --merge STATS... -o STATS
//   quarc report MODEL --data DIR [--stats STATS] -o REPORT.md [--json F]
//                [--png F]
//   quarc quantize MODEL (--data DIR | --stats STATS | --quantize=int4-weight)
//                  -o OUT.onnx
//                  [--scheme SCHEME] [--input-shape NAME=SHAPE]...
//
// The driver parses flags and calls the compile session (lib/Compiler);
// it contains no transformation logic. `quarc run` hands every option it
// does not know to the same command-line interface that compiled
// executables have (runtime/src/cli.c), so both behave identically.
//
//===----------------------------------------------------------------------===//

#include "quarc/Calibration/StatsFile.h"
#include "quarc/Compiler/Calibrate.h"
#include "quarc/Compiler/Plugins.h"
#include "quarc/Compiler/Report.h"
#include "quarc/Compiler/Session.h"
#include "quarc/Dialect/Quarc/IR/TensorNames.h"
#include "quarc/Import/ONNX/ImportONNX.h"
#include "quarc/Quantization/QuantScheme.h"
#include "quarc/quarc_runtime.h"
#include "npy.h" // the runtime's .npy reader, to size `quarc run`'s inputs

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace mlir;
using namespace mlir::quarc;

namespace {

constexpr int kUsageError = 2;

void printUsage(llvm::raw_ostream &os) {
  os << "usage:\n"
        "  quarc compile MODEL -o OUTPUT [options]\n"
        "  quarc run MODEL [options] [--input NAME=FILE.npy]... "
        "[--output-dir DIR] [--benchmark N]\n"
        "  quarc calibrate MODEL --data DIR -o STATS.json [options]\n"
        "  quarc calibrate --merge STATS.json... -o STATS.json\n"
        "  quarc report MODEL --data DIR -o REPORT.md [options]\n"
        "  quarc quantize MODEL (--data DIR | --stats STATS.json | "
        "--quantize=int4-weight)\n"
        "                 -o OUT.onnx [options]\n"
        "\n"
        "MODEL is an .onnx file (or quarc-dialect .mlir).\n"
        "\n"
        "compile writes OUTPUT and its C header (OUTPUT with .h):\n"
        "  -o FILE.o        object file (link with libquarc_runtime.a -lm)\n"
        "  -o FILE.so       shared library\n"
        "  -o FILE.ll       LLVM IR (no header)\n"
        "  -o FILE          executable with the interface of `quarc run`\n"
        "\n"
        "options:\n"
        "  --target=T             "
        "host (default) or ARCH[+FEATURE...]; known: "
     << describeKnownTargets()
     << "\n"
        "  --input-shape NAME=D0xD1x...\n"
        "                         fix the shape of an input (repeatable); a ?\n"
        "                         keeps a dimension dynamic (the kernels take\n"
        "                         a convolution's batch and a product's rows\n"
        "                         and batch; other dynamic sizes run as\n"
        "                         generic loops, with a warning)\n"
        "  --weights=FILE         compile only: write the large constants\n"
        "                         (1 KiB and up) to FILE instead of into\n"
        "                         OUTPUT; the model maps FILE when it is\n"
        "                         loaded (executables look for it next to\n"
        "                         themselves, or take --weights FILE)\n"
        "  --quantize=int8        quantize (static, post-training) with\n"
        "                         the ranges of --stats STATS.json (from\n"
        "                         quarc calibrate) or of a calibration over\n"
        "                         --data DIR; --scheme SCHEME overrides the\n"
        "                         default (u8 activations per tensor, s8\n"
        "                         weights per channel, min-max; for x86\n"
        "                         without VNNI, weights per channel scaled\n"
        "                         so that vpmaddubsw cannot saturate:\n"
        "                         reduce-range=pairs). Conv, Gemm\n"
        "                         and MatMul run as integer ops, and so do\n"
        "                         Add, Mul, pooling, Concat, reshapes and\n"
        "                         elementwise activations (as tables)\n"
        "                         between them; ops with no integer form\n"
        "                         (Softmax, LayerNormalization, ...) stay\n"
        "                         float. A model already quantized (QDQ\n"
        "                         ONNX) compiles to integer ops without\n"
        "                         this flag\n"
        "  --quantize=dynamic-int8\n"
        "                         quantize MatMul, Gemm, LSTM, GRU and RNN\n"
        "                         dynamically: s8 weights per output channel\n"
        "                         now, u8 activations from each run's own\n"
        "                         range (no calibration; onnxruntime's\n"
        "                         quantize_dynamic numerics)\n"
        "  --quantize=int4-weight weight-only: MatMul and Gemm weights to\n"
        "                         4 bits per group of 32 k (u4 asymmetric;\n"
        "                         --scheme weights=... changes it), kept\n"
        "                         packed two per byte; activations stay f32\n"
        "                         (no calibration; onnxruntime's MatMulNBits\n"
        "                         numerics). Imported MatMulNBits nodes\n"
        "                         compile so without this flag\n"
        "  --quantize=w4a8        as int4-weight, and the activations of\n"
        "                         those products quantized to int8 per row\n"
        "                         and group on every run, for integer dot\n"
        "                         products (onnxruntime's MatMulNBits\n"
        "                         accuracy level 4)\n"
        "  --exclude-nodes=N1,N2  with --quantize: keep these ONNX nodes (by\n"
        "                         node name) in float (repeatable)\n"
        "  --keep-float=T1,T2     with --quantize: keep every node of these\n"
        "                         ONNX op types (Conv, Add, ...) in float\n"
        "  --load-pass-plugin=PATH\n"
        "                         load a pass plugin built against this quarc\n"
        "                         (repeatable; every command; docs/plugins.md)\n"
        "  --graph-passes=PIPELINE\n"
        "                         run these passes (MLIR pipeline syntax,\n"
        "                         e.g. 'func.func(my-pass{opt=1})') after the\n"
        "                         graph cleanup, before calibration observers\n"
        "                         and quantization (compile, run, calibrate,\n"
        "                         report, quantize)\n"
        "  --help                 this text\n"
        "\n"
        "run compiles in memory for the host and runs once; its other options\n"
        "are those of compiled executables (see `quarc run MODEL --help`).\n"
        "\n"
        "calibrate runs the model (compiled in memory for the host) on every\n"
        "sample of DIR and writes the histograms of its float tensors, from\n"
        "which quantization ranges are chosen, to STATS.json:\n"
        "  --data DIR             the samples: one .npz per sample with one\n"
        "                         array per model input, keyed by input name\n"
        "                         (np.savez), or .npy files for a model with\n"
        "                         one input; numbered in file-name order\n"
        "  --samples FIRST:LAST   only these samples (indices in that order,\n"
        "                         both included), to split a calibration\n"
        "                         across processes; --merge joins the parts\n"
        "  --threads N            threads the model runs on (default 1)\n"
        "  --bins N               histogram bins per sign (default 2048)\n"
        "  --input-shape NAME=D0xD1x...   as for compile\n"
        "  --merge                merge stats files made on disjoint samples\n"
        "                         of the same model into exactly what one run\n"
        "                         over all of them gives\n"
        "\n"
        "report compiles the model twice in memory, in float and quantized to\n"
        "int8 integer code, runs both on every sample of DIR and compares\n"
        "every tensor the integer code writes, and the outputs, with the\n"
        "float model's (SQNR, largest error; scales, zero points, ranges,\n"
        "weight bytes, which ops run as integer code):\n"
        "  --data DIR             the samples to measure on (as for\n"
        "                         calibrate)\n"
        "  --stats STATS.json     quantize with these ranges (default: a\n"
        "                         calibration on the samples of --data)\n"
        "  --scheme, --exclude-nodes, --keep-float, --input-shape\n"
        "                         as for compile --quantize=int8\n"
        "  --threads N            threads the models run on (default 1)\n"
        "  -o REPORT.md           the report, in Markdown\n"
        "  --json REPORT.json     the same, machine-readable (docs/cli.md)\n"
        "  --png REPORT.png       a chart of the SQNR of each tensor (needs\n"
        "                         Python 3 with matplotlib; QUARC_PYTHON)\n"
        "\n"
        "quantize writes the model quantized as `compile --quantize=int8`\n"
        "quantizes it, as a standard QDQ ONNX model (QuantizeLinear and\n"
        "DequantizeLinear around float ops, integer weights; opset 23) that\n"
        "other runtimes such as onnxruntime run:\n"
        "  --stats STATS.json     the ranges of quarc calibrate's stats file\n"
        "  --data DIR             or calibrate over DIR first (as calibrate)\n"
        "  --quantize=int4-weight or quantize the MatMul and Gemm weights\n"
        "                         only (as compile; blocked int4\n"
        "                         DequantizeLinear before each product)\n"
        "  -o OUT.onnx            the quantized model\n"
        "  --scheme SCHEME        as for compile\n"
        "  --target TARGET        the target whose kernels the weights are\n"
        "                         quantized for, as for compile (default\n"
        "                         host): x86 without VNNI takes\n"
        "                         reduce-range=pairs unless --scheme says\n"
        "                         otherwise\n"
        "  --exclude-nodes=N1,N2, --keep-float=T1,T2   as for compile\n"
        "  --input-shape NAME=D0xD1x...\n"
        "                         as for compile; the model is written with\n"
        "                         these shapes\n";
}

int usageError(const llvm::Twine &message) {
  llvm::errs() << "error: " << message << "\n"
               << "(run `quarc --help` for usage)\n";
  return kUsageError;
}

/// Flags shared by both commands; everything not recognized is kept in
/// `rest` in order.
struct CommonFlags {
  std::string model;
  std::string output;
  std::string target = "host";
  std::string weights;
  std::vector<std::string> inputShapes;
  /// --quantize=int8 with --stats FILE or --data DIR, and --scheme,
  /// --exclude-nodes, --keep-float (ONNX op types, and the quarc ops they
  /// import as).
  std::string quantize, stats, data, scheme;
  std::vector<std::string> excludeNodes, keepFloat, floatOps;
  /// --graph-passes: a pass pipeline run before quantization (plugins).
  std::string graphPasses;
  std::vector<std::string> rest;
};

/// Matches `args[i]` against a flag taking a value, in the forms
/// `NAME VALUE` and `NAME=VALUE`: 1 and the value in `out` (advancing `i`
/// past a separate value), 0 when it is another argument, -1 when the
/// value is missing.
int takeValue(ArrayRef<const char *> args, size_t &i, StringRef name,
              std::string &out) {
  StringRef arg = args[i];
  if (arg == name) {
    if (i + 1 >= args.size())
      return -1;
    out = args[++i];
    return 1;
  }
  if (arg.starts_with((name + "=").str())) {
    out = arg.drop_front(name.size() + 1).str();
    return out.empty() ? -1 : 1;
  }
  return 0;
}

/// A usage problem if an output would overwrite an input (the model, a
/// stats file): the same path, or another path to the same file.
std::string checkOutputsSpareInputs(ArrayRef<std::string> outputs,
                                    ArrayRef<std::string> inputs) {
  for (const std::string &output : outputs) {
    for (const std::string &input : inputs) {
      if (output.empty() || input.empty())
        continue;
      bool same = false;
      if (output == input ||
          (!llvm::sys::fs::equivalent(output, input, same) && same))
        return "the output " + output + " would overwrite the input " + input;
    }
  }
  return "";
}

/// Appends the non-empty items of the comma-separated `list` to `out`.
void appendCommaSeparated(StringRef list, std::vector<std::string> &out) {
  SmallVector<StringRef> items;
  list.split(items, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (StringRef item : items)
    out.push_back(item.trim().str());
}

/// The quarc ops of the ONNX op types of --keep-float, into
/// `flags.floatOps`; an error naming an op type quarc does not import.
std::string resolveKeepFloat(CommonFlags &flags) {
  std::string error;
  FailureOr<std::vector<std::string>> ops =
      getQuarcOpsOfOnnxTypes(flags.keepFloat, error);
  if (failed(ops))
    return "--keep-float: " + error;
  flags.floatOps = std::move(*ops);
  return "";
}

/// Matches `args[i]`, as takeValue does, against the flags that `quarc
/// quantize` shares with the other commands: -o, --input-shape and the
/// calibration and scheme choices (--stats, --data, --scheme,
/// --exclude-nodes, --keep-float), stored into `flags`.
int takeQuantizationFlag(ArrayRef<const char *> args, size_t &i,
                         CommonFlags &flags) {
  std::string shape, nodes, opTypes;
  int matched;
  if ((matched = takeValue(args, i, "-o", flags.output)) ||
      (matched = takeValue(args, i, "--quantize", flags.quantize)) ||
      (matched = takeValue(args, i, "--stats", flags.stats)) ||
      (matched = takeValue(args, i, "--data", flags.data)) ||
      (matched = takeValue(args, i, "--scheme", flags.scheme)) ||
      (matched = takeValue(args, i, "--exclude-nodes", nodes)) ||
      (matched = takeValue(args, i, "--keep-float", opTypes)) ||
      (matched = takeValue(args, i, "--graph-passes", flags.graphPasses)) ||
      (matched = takeValue(args, i, "--input-shape", shape))) {
    if (!shape.empty())
      flags.inputShapes.push_back(shape);
    appendCommaSeparated(nodes, flags.excludeNodes);
    appendCommaSeparated(opTypes, flags.keepFloat);
  }
  return matched;
}

/// Parses the flags shared by the commands; everything not recognized is
/// kept in `rest` in order (or is an error without `keepUnknown`).
std::string parseFlags(ArrayRef<const char *> args, CommonFlags &flags,
                       bool keepUnknown) {
  for (size_t i = 0; i < args.size(); ++i) {
    StringRef arg = args[i];
    int matched;
    if ((matched = takeValue(args, i, "--target", flags.target)) ||
        (matched = takeValue(args, i, "--weights", flags.weights)) ||
        (matched = takeValue(args, i, "--quantize", flags.quantize)) ||
        (matched = takeQuantizationFlag(args, i, flags))) {
      if (matched < 0)
        return "option " + arg.split('=').first.str() + " needs a value";
      continue;
    }
    if (!arg.starts_with("-") && flags.model.empty()) {
      flags.model = arg.str();
      continue;
    }
    if (!keepUnknown)
      return "unknown option '" + arg.str() + "'";
    flags.rest.push_back(arg.str());
  }
  if (!flags.quantize.empty()) {
    if (flags.quantize != "int8" && flags.quantize != "dynamic-int8" &&
        flags.quantize != "int4-weight" && flags.quantize != "w4a8")
      return "--quantize takes int8 (static quantization), dynamic-int8 "
             "(weights now, activations at run time), int4-weight (weights "
             "only) or w4a8 (int4 weights, int8 activations), not '" +
             flags.quantize + "'";
    if (flags.quantize != "int8" &&
        (!flags.stats.empty() || !flags.data.empty()))
      return "--quantize=" + flags.quantize +
             " needs no calibration: drop --stats and --data";
    if (flags.quantize == "int8" && flags.stats.empty() == flags.data.empty())
      return "--quantize=int8 needs either --stats STATS.json (from quarc "
             "calibrate) or --data DIR (calibration samples)";
    if (std::string error;
        !flags.scheme.empty() &&
        failed(checkSchemeOption(flags.scheme, flags.quantize, error)))
      return "--scheme: " + error;
    if (std::string problem = resolveKeepFloat(flags); !problem.empty())
      return problem;
  } else if (!flags.stats.empty() || !flags.data.empty() ||
             !flags.scheme.empty() || !flags.excludeNodes.empty() ||
             !flags.keepFloat.empty()) {
    return "--stats, --data, --scheme, --exclude-nodes and --keep-float go "
           "with --quantize";
  }
  return "";
}

/// The .npy files `quarc run` was given, read as the runtime's CLI reads
/// them (runtime/src/cli.c): `--input NAME=FILE`, where NAME ends at the
/// first '=' that makes it one of the model's inputs, or `--input FILE`;
/// or a bare FILE (always a whole file name; after `--`, every argument
/// is one). The last two only for a model with one input.
struct DataFiles {
  std::vector<std::string> options; // values of --input
  std::vector<std::string> bare;    // positional file names

  static DataFiles fromArguments(ArrayRef<std::string> args) {
    DataFiles files;
    bool onlyFiles = false;
    for (size_t i = 0; i < args.size(); ++i) {
      StringRef arg = args[i];
      if (onlyFiles || !arg.starts_with("-") || arg == "-")
        files.bare.push_back(arg.str());
      else if (arg == "--")
        onlyFiles = true;
      else if (arg == "--input" && i + 1 < args.size())
        files.options.push_back(args[++i]);
      else if (arg.consume_front("--input="))
        files.options.push_back(arg.str());
      else if (llvm::is_contained({"--output-dir", "--threads", "--benchmark",
                                   "--weights"},
                                  arg))
        ++i; // its value
    }
    return files;
  }

  /// The file given for input `name`, or "".
  std::string fileFor(StringRef name, ArrayRef<std::string> inputNames) const {
    for (StringRef value : options) {
      for (size_t eq = value.find('='); eq != StringRef::npos;
           eq = value.find('=', eq + 1)) {
        StringRef prefix = value.take_front(eq);
        if (llvm::is_contained(inputNames, prefix)) {
          if (prefix == name)
            return value.drop_front(eq + 1).str();
          break;
        }
      }
      if (inputNames.size() == 1 && !value.contains('='))
        return value.str();
    }
    if (inputNames.size() == 1 && bare.size() == 1)
      return bare.front();
    return "";
  }

  /// The shape of the data for input `name`, if its file reads.
  std::optional<SmallVector<int64_t>>
  shapeOf(StringRef name, ArrayRef<std::string> inputNames) const {
    std::string file = fileFor(name, inputNames);
    if (file.empty())
      return std::nullopt;
    quarc_tensor tensor{};
    char error[256];
    if (quarc_npy_read(file.c_str(), &tensor, error, sizeof(error)) != QUARC_OK)
      return std::nullopt; // the run reports it
    free(tensor.data);
    return SmallVector<int64_t>(tensor.dims, tensor.dims + tensor.rank);
  }
};

/// Sets `options` up to quantize with --stats, or with the stats of a
/// calibration over --data done now into a temporary file that
/// `removeStats` deletes when it goes out of scope.
LogicalResult setUpQuantization(MLIRContext &context, const CommonFlags &flags,
                                PipelineOptions &options,
                                std::optional<llvm::FileRemover> &removeStats) {
  options.scheme = flags.scheme;
  options.quantizeStats = flags.stats;
  options.excludeNodes = flags.excludeNodes;
  options.floatOps = flags.floatOps;
  options.dynamicQuantize = flags.quantize == "dynamic-int8";
  options.weightOnlyQuantize =
      flags.quantize == "int4-weight" || flags.quantize == "w4a8";
  options.weightOnlyInt8Activations = flags.quantize == "w4a8";
  if (flags.data.empty())
    return success();
  std::string error;
  CalibrateOptions calibrate;
  calibrate.pipeline.inputShapes = flags.inputShapes;
  calibrate.pipeline.graphPasses = flags.graphPasses;
  calibrate.dataDir = flags.data;
  calibrate.progress = llvm::sys::Process::StandardErrIsDisplayed();
  FailureOr<calibration::CalibrationStats> stats =
      calibrateModel(context, flags.model, calibrate, error);
  SmallString<128> path;
  if (succeeded(stats)) {
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("quarc-stats", "json", path))
      error = "cannot create a temporary file: " + ec.message();
    else
      removeStats.emplace(path);
  }
  if (failed(stats) || path.empty() ||
      failed(calibration::saveStatsFile(*stats, path, error))) {
    if (!error.empty())
      llvm::errs() << "error: " << error << "\n";
    return failure();
  }
  options.quantizeStats = path.str().str();
  return success();
}

/// Lowers the model, with diagnostics printed to stderr. `data`: the files
/// `quarc run` reads, whose shapes fix the model's dynamic dims.
FailureOr<LoweredModel> lower(MLIRContext &context, const CommonFlags &flags,
                              StringRef prefix,
                              const DataFiles *data = nullptr) {
  PipelineOptions options;
  std::string error;
  if (!TargetInfo::parse(flags.target, options.target, error)) {
    llvm::errs() << "error: " << error << "\n";
    return failure();
  }
  options.inputShapes = flags.inputShapes;
  options.graphPasses = flags.graphPasses;
  options.externalWeights = !flags.weights.empty();
  if (!llvm::sys::fs::exists(flags.model)) {
    llvm::errs() << "error: " << flags.model << ": no such file\n";
    return failure();
  }
  std::optional<llvm::FileRemover> removeStats;
  if (!flags.quantize.empty() &&
      failed(setUpQuantization(context, flags, options, removeStats)))
    return failure();
  FailureOr<LoweredModel> lowered =
      data ? lowerModel(context, flags.model, options, prefix,
                        [&](StringRef name, ArrayRef<std::string> inputNames) {
                          return data->shapeOf(name, inputNames);
                        })
           : lowerModel(context, flags.model, options, prefix);
  if (succeeded(lowered))
    for (const std::string &warning : lowered->warnings)
      llvm::errs() << "warning: " << warning << "\n";
  return lowered;
}

int compileCommand(MLIRContext &context, ArrayRef<const char *> args) {
  CommonFlags flags;
  std::string problem = parseFlags(args, flags, /*keepUnknown=*/false);
  if (problem.empty() && flags.model.empty())
    problem = "no model given";
  if (!problem.empty())
    return usageError(problem);
  if (flags.output.empty())
    return usageError("compile needs -o OUTPUT");
  if (std::string problem = checkOutputsSpareInputs(
          {flags.output, flags.weights}, {flags.model, flags.stats});
      !problem.empty())
    return usageError(problem);
  std::string prefix =
      makeSymbolPrefix(llvm::sys::path::stem(flags.output));
  FailureOr<LoweredModel> model = lower(context, flags, prefix);
  if (failed(model))
    return 1;
  std::string error;
  if (failed(writeArtifact(*model, artifactKindForPath(flags.output),
                           flags.output, error, flags.weights))) {
    llvm::errs() << "error: " << error << "\n";
    return 1;
  }
  return 0;
}

int runCommand(MLIRContext &context, ArrayRef<const char *> args) {
  CommonFlags flags;
  std::string problem = parseFlags(args, flags, /*keepUnknown=*/true);
  if (problem.empty() && flags.model.empty())
    problem = "no model given";
  if (!problem.empty())
    return usageError(problem);
  if (!flags.output.empty())
    return usageError("run writes no artefact; use --output-dir DIR for "
                      "the outputs");
  if (!flags.weights.empty())
    return usageError("run keeps the weights in memory; --weights is an "
                      "option of compile");
  // Compiled for the shapes of the data it runs on: static shapes get the
  // vector kernels, dynamic ones only loops.
  DataFiles data = DataFiles::fromArguments(flags.rest);
  FailureOr<LoweredModel> model = lower(context, flags, "quarc_jit", &data);
  if (failed(model))
    return 1;
  std::string error;
  auto jit = JitModel::create(*model, error);
  if (failed(jit)) {
    llvm::errs() << "error: " << error << "\n";
    return 1;
  }
  std::string program = "quarc run " + flags.model;
  std::vector<char *> argv = {program.data()};
  for (std::string &arg : flags.rest)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  return quarc_cli_main((*jit)->descriptor(), int(argv.size() - 1),
                        argv.data());
}

/// `quarc quantize MODEL (--data DIR | --stats STATS |
/// --quantize=int4-weight) -o OUT.onnx`.
int quantizeCommand(MLIRContext &context, ArrayRef<const char *> args) {
  CommonFlags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    StringRef arg = args[i];
    int matched = takeQuantizationFlag(args, i, flags);
    if (!matched)
      matched = takeValue(args, i, "--target", flags.target);
    if (matched) {
      if (matched < 0)
        return usageError("option " + arg.split('=').first + " needs a value");
    } else if (arg.starts_with("-")) {
      return usageError("unknown option '" + arg + "' for quantize");
    } else if (flags.model.empty()) {
      flags.model = arg.str();
    } else {
      return usageError("quantize takes one model");
    }
  }
  if (flags.model.empty())
    return usageError("no model given");
  if (flags.output.empty())
    return usageError("quantize needs -o OUTPUT.onnx");
  bool weightOnly = flags.quantize == "int4-weight";
  if (!flags.quantize.empty() && flags.quantize != "int8" && !weightOnly)
    return usageError("quantize takes --quantize=int8 (the default) or "
                      "--quantize=int4-weight, not '" +
                      flags.quantize + "'");
  if (weightOnly && (!flags.stats.empty() || !flags.data.empty()))
    return usageError("--quantize=int4-weight needs no calibration: drop "
                      "--stats and --data");
  if (!weightOnly && flags.stats.empty() == flags.data.empty())
    return usageError("quantize needs either --stats STATS.json (from quarc "
                      "calibrate) or --data DIR (calibration samples)");
  if (std::string error;
      !flags.scheme.empty() &&
      failed(checkSchemeOption(flags.scheme, flags.quantize, error)))
    return usageError("--scheme: " + error);
  if (std::string problem = resolveKeepFloat(flags); !problem.empty())
    return usageError(problem);
  if (!llvm::sys::fs::exists(flags.model)) {
    llvm::errs() << "error: " << flags.model << ": no such file\n";
    return 1;
  }
  if (llvm::sys::fs::equivalent(flags.model, flags.output))
    return usageError("-o names the model itself; write the quantized model "
                      "to another file");
  // Found out before calibrating, which may take a while.
  StringRef folder = llvm::sys::path::parent_path(flags.output);
  if (!llvm::sys::fs::is_directory(folder.empty() ? "." : folder)) {
    llvm::errs() << "error: cannot write '" << flags.output << "': no folder '"
                 << folder << "'\n";
    return 1;
  }
  PipelineOptions options;
  std::string error;
  if (!TargetInfo::parse(flags.target, options.target, error))
    return usageError("--target: " + error);
  options.inputShapes = flags.inputShapes;
  options.graphPasses = flags.graphPasses;
  std::optional<llvm::FileRemover> removeStats;
  if (failed(setUpQuantization(context, flags, options, removeStats)) ||
      failed(
          writeQDQModel(context, flags.model, options, flags.output, error))) {
    if (!error.empty())
      llvm::errs() << "error: " << error << "\n";
    return 1;
  }
  return 0;
}

/// `quarc calibrate MODEL --data DIR -o STATS` and
/// `quarc calibrate --merge STATS... -o STATS`.
int calibrateCommand(MLIRContext &context, ArrayRef<const char *> args) {
  CommonFlags flags;
  std::string dataDir, samples, threads, bins;
  std::vector<std::string> positional;
  bool merge = false;
  for (size_t i = 0; i < args.size(); ++i) {
    StringRef arg = args[i];
    std::string shape, nodes, opTypes;
    int matched;
    if ((matched = takeValue(args, i, "-o", flags.output)) ||
        (matched = takeValue(args, i, "--data", dataDir)) ||
        (matched = takeValue(args, i, "--samples", samples)) ||
        (matched = takeValue(args, i, "--threads", threads)) ||
        (matched = takeValue(args, i, "--bins", bins)) ||
        (matched = takeValue(args, i, "--target", flags.target)) ||
        (matched = takeValue(args, i, "--graph-passes", flags.graphPasses)) ||
        (matched = takeValue(args, i, "--input-shape", shape))) {
      if (matched < 0)
        return usageError("option " + arg.split('=').first + " needs a value");
      if (!shape.empty())
        flags.inputShapes.push_back(shape);
    } else if (arg == "--merge") {
      merge = true;
    } else if (arg.starts_with("-")) {
      return usageError("unknown option '" + arg + "' for calibrate");
    } else {
      positional.push_back(arg.str());
    }
  }
  if (flags.output.empty())
    return usageError("calibrate needs -o STATS.json");
  if (std::string problem = checkOutputsSpareInputs({flags.output}, positional);
      !problem.empty())
    return usageError(problem);
  std::string error;

  if (merge) {
    if (!dataDir.empty() || !samples.empty() || !threads.empty() ||
        !bins.empty() || !flags.inputShapes.empty())
      return usageError("--merge takes only stats files and -o");
    if (positional.size() < 2)
      return usageError("--merge needs at least two stats files");
    FailureOr<calibration::CalibrationStats> merged =
        calibration::mergeStatsFiles(positional, error);
    if (failed(merged) ||
        failed(calibration::saveStatsFile(*merged, flags.output, error))) {
      llvm::errs() << "error: " << error << "\n";
      return 1;
    }
    return 0;
  }

  if (positional.size() != 1)
    return usageError(positional.empty() ? "no model given"
                                         : "calibrate takes one model");
  if (dataDir.empty())
    return usageError("calibrate needs --data DIR (a folder of .npz or .npy "
                      "samples)");
  flags.model = positional.front();
  CalibrateOptions options;
  if (!TargetInfo::parse(flags.target, options.pipeline.target, error)) {
    llvm::errs() << "error: " << error << "\n";
    return 1;
  }
  options.pipeline.inputShapes = flags.inputShapes;
  options.pipeline.graphPasses = flags.graphPasses;
  options.dataDir = dataDir;
  options.progress = llvm::sys::Process::StandardErrIsDisplayed();
  if (!samples.empty()) {
    auto [first, last] = StringRef(samples).split(':');
    uint64_t a, b;
    if (first.getAsInteger(10, a) || last.getAsInteger(10, b) || a > b)
      return usageError("--samples takes FIRST:LAST, sample indices in the "
                        "sorted file list with FIRST <= LAST, not '" +
                        samples + "'");
    options.sampleRange = {a, b};
  }
  if (!threads.empty() && (StringRef(threads).getAsInteger(10, options.threads) ||
                           options.threads < 1 || options.threads > 4096))
    return usageError("--threads takes a number from 1 to 4096, not '" +
                      threads + "'");
  if (!bins.empty() &&
      (StringRef(bins).getAsInteger(10, options.numBins) ||
       options.numBins < calibration::kMinNumBins ||
       options.numBins > calibration::kMaxNumBins))
    return usageError("--bins takes a number from " +
                      std::to_string(calibration::kMinNumBins) + " to " +
                      std::to_string(calibration::kMaxNumBins) + ", not '" +
                      bins + "'");
  if (!llvm::sys::fs::exists(flags.model)) {
    llvm::errs() << "error: " << flags.model << ": no such file\n";
    return 1;
  }
  FailureOr<calibration::CalibrationStats> stats =
      calibrateModel(context, flags.model, options, error);
  if (failed(stats) ||
      failed(calibration::saveStatsFile(*stats, flags.output, error))) {
    if (!error.empty())
      llvm::errs() << "error: " << error << "\n";
    return 1;
  }
  return 0;
}

/// `quarc report MODEL --data DIR [--stats STATS] -o REPORT.md
/// [--json REPORT.json] [--png REPORT.png]` and the quantization flags.
int reportCommand(MLIRContext &context, ArrayRef<const char *> args) {
  CommonFlags flags;
  std::string json, png, threads;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    StringRef arg = args[i];
    std::string shape, nodes, opTypes;
    int matched;
    if ((matched = takeValue(args, i, "-o", flags.output)) ||
        (matched = takeValue(args, i, "--json", json)) ||
        (matched = takeValue(args, i, "--png", png)) ||
        (matched = takeValue(args, i, "--data", flags.data)) ||
        (matched = takeValue(args, i, "--stats", flags.stats)) ||
        (matched = takeValue(args, i, "--scheme", flags.scheme)) ||
        (matched = takeValue(args, i, "--exclude-nodes", nodes)) ||
        (matched = takeValue(args, i, "--keep-float", opTypes)) ||
        (matched = takeValue(args, i, "--threads", threads)) ||
        (matched = takeValue(args, i, "--graph-passes", flags.graphPasses)) ||
        (matched = takeValue(args, i, "--input-shape", shape))) {
      if (matched < 0)
        return usageError("option " + arg.split('=').first + " needs a value");
      if (!shape.empty())
        flags.inputShapes.push_back(shape);
      appendCommaSeparated(nodes, flags.excludeNodes);
      appendCommaSeparated(opTypes, flags.keepFloat);
    } else if (arg.starts_with("-") && arg != "-") {
      return usageError("unknown option '" + arg + "' for report");
    } else {
      positional.push_back(arg.str());
    }
  }
  if (positional.size() != 1)
    return usageError(positional.empty() ? "no model given"
                                         : "report takes one model");
  flags.model = positional.front();
  if (flags.output.empty())
    return usageError("report needs -o REPORT.md");
  if (flags.data.empty())
    return usageError("report needs --data DIR, the samples the errors are "
                      "measured on (and calibrated on, without --stats)");
  if (flags.output == json || flags.output == png ||
      (!json.empty() && json == png))
    return usageError("-o, --json and --png must name different files");
  if (std::string problem = checkOutputsSpareInputs(
          {flags.output, json, png}, {flags.model, flags.stats});
      !problem.empty())
    return usageError(problem);
  ReportOptions options;
  if (!threads.empty() &&
      (StringRef(threads).getAsInteger(10, options.threads) ||
       options.threads < 1 || options.threads > 4096))
    return usageError("--threads takes a number from 1 to 4096, not '" +
                      threads + "'");
  if (std::string error;
      !flags.scheme.empty() &&
      failed(checkSchemeOption(flags.scheme, flags.quantize, error)))
    return usageError("--scheme: " + error);
  if (std::string problem = resolveKeepFloat(flags); !problem.empty())
    return usageError(problem);
  if (!llvm::sys::fs::exists(flags.model)) {
    llvm::errs() << "error: " << flags.model << ": no such file\n";
    return 1;
  }
  std::string error;
  // Before the long run: outputs that cannot be written, no matplotlib.
  if (failed(checkReportOutputs(flags.output, json, png, error))) {
    llvm::errs() << "error: " << error << "\n";
    return 1;
  }
  options.pipeline.inputShapes = flags.inputShapes;
  options.pipeline.graphPasses = flags.graphPasses;
  options.dataDir = flags.data;
  options.statsPath = flags.stats;
  options.scheme = flags.scheme;
  options.excludeNodes = flags.excludeNodes;
  options.floatOps = flags.floatOps;
  options.progress = llvm::sys::Process::StandardErrIsDisplayed();
  FailureOr<QuantizationReport> report =
      buildQuantizationReport(context, flags.model, options, error);
  if (failed(report) ||
      failed(writeReport(*report, flags.output, json, png, error))) {
    if (!error.empty())
      llvm::errs() << "error: " << error << "\n";
    return 1;
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  if (argc < 2)
    return usageError("no command given");
  StringRef command = argv[1];
  // `quarc --help`, `quarc help` and `quarc COMMAND ... --help`: one usage
  // text covers every command.
  auto isHelp = [](StringRef arg) { return arg == "--help" || arg == "-h"; };
  if (command == "help" ||
      llvm::any_of(ArrayRef(argv + 1, argv + argc), isHelp)) {
    printUsage(llvm::outs());
    return 0;
  }
  // Plugins first: their passes must be registered before any pipeline
  // (--graph-passes) is parsed; quarc's own before them, so that a plugin
  // pass that takes one of their names fails now.
  registerCompilerPasses();
  std::vector<char *> commandArgs(argv + 2, argv + argc);
  for (const std::string &plugin : takePassPluginArguments(commandArgs)) {
    std::string error;
    if (plugin.empty())
      return usageError("--load-pass-plugin needs a path");
    if (failed(loadPassPlugin(plugin, error))) {
      llvm::errs() << "error: " << error << "\n";
      return 1;
    }
  }
  DialectRegistry registry;
  registerCompilerDialects(registry);
  MLIRContext context(registry);
  // MLIR prints only errors when no handler is installed, each with its
  // location as MLIR writes it. Errors and remarks about an op imported
  // from an ONNX node name it as the user knows it ("model.onnx: node
  // 'conv1': error: ..."); remarks of passes (a plugin's rule saying which
  // layers it kept in float) are for the user too. The importer's errors
  // (a file location) print as before, and warnings (of the translation to
  // LLVM IR, about attributes it ignores) are still dropped.
  ScopedDiagnosticHandler printDiagnostics(&context, [](Diagnostic &diag) {
    DiagnosticSeverity severity = diag.getSeverity();
    if (severity != DiagnosticSeverity::Remark &&
        severity != DiagnosticSeverity::Error)
      return failure(); // to the default handler
    OnnxLocation where = describeOnnxLocation(diag.getLocation());
    if (severity == DiagnosticSeverity::Error && where.node.empty())
      return failure();
    // The importer's messages name their node already.
    std::string message = diag.str();
    if (StringRef(message).contains("node '" + where.node + "'"))
      where.node.clear();
    std::string prefix = where.str();
    llvm::errs() << prefix << (prefix.empty() ? "" : ": ")
                 << (severity == DiagnosticSeverity::Error ? "error: "
                                                           : "remark: ")
                 << message << "\n";
    return success();
  });
  ArrayRef<const char *> args(commandArgs.data(), commandArgs.size());
  if (command == "compile")
    return compileCommand(context, args);
  if (command == "run")
    return runCommand(context, args);
  if (command == "calibrate")
    return calibrateCommand(context, args);
  if (command == "report")
    return reportCommand(context, args);
  if (command == "quantize")
    return quantizeCommand(context, args);
  return usageError("unknown command '" + command +
                    "' (commands: compile, run, calibrate, report, "
                    "quantize)");
}
