//===- quarc.cpp - the end-user driver ------------------------------------===//
//
//   quarc compile MODEL -o OUT [--target=T] [--input-shape NAME=SHAPE]...
//                 [--weights=FILE]
//   quarc run MODEL [--input-shape NAME=SHAPE]... [runtime options...]
//
// The driver parses flags and calls the compile session (lib/Compiler);
// it contains no transformation logic. `quarc run` hands every option it
// does not know to the same command-line interface that compiled
// executables have (runtime/src/cli.c), so both behave identically.
//
//===----------------------------------------------------------------------===//

#include "quarc/Compiler/Session.h"
#include "quarc/quarc_runtime.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::quarc;

namespace {

constexpr int kUsageError = 2;

void printUsage(llvm::raw_ostream &os) {
  os << "usage:\n"
        "  quarc compile MODEL -o OUTPUT [options]\n"
        "  quarc run MODEL [options] [--input NAME=FILE.npy]... "
        "[--output-dir DIR] [--benchmark N]\n"
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
        "                         keeps a dimension dynamic\n"
        "  --weights=FILE         compile only: write the large constants\n"
        "                         (1 KiB and up) to FILE instead of into\n"
        "                         OUTPUT; the model maps FILE when it is\n"
        "                         loaded (executables look for it next to\n"
        "                         themselves, or take --weights FILE)\n"
        "  --help                 this text\n"
        "\n"
        "run compiles in memory for the host and runs once; its other options\n"
        "are those of compiled executables (see `quarc run MODEL --help`).\n";
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
  std::vector<std::string> rest;
};

/// Parses `--flag=value` and `--flag value` forms for the driver's own
/// flags. Returns an error message, or "" on success.
std::string parseFlags(ArrayRef<const char *> args, CommonFlags &flags,
                       bool keepUnknown) {
  for (size_t i = 0; i < args.size(); ++i) {
    StringRef arg = args[i];
    auto value = [&](StringRef name, std::string &out) -> int {
      if (arg == name) {
        if (i + 1 >= args.size())
          return -1;
        out = args[++i];
        return 1;
      }
      if (arg.starts_with((name + "=").str())) {
        out = arg.drop_front(name.size() + 1).str();
        return 1;
      }
      return 0;
    };
    std::string shape;
    int matched;
    if ((matched = value("-o", flags.output)) ||
        (matched = value("--target", flags.target)) ||
        (matched = value("--weights", flags.weights)) ||
        (matched = value("--input-shape", shape))) {
      bool noWeightsFile =
          arg.starts_with("--weights") && flags.weights.empty();
      if (matched < 0 || noWeightsFile)
        return "option " + arg.str() + " needs a value";
      if (!shape.empty())
        flags.inputShapes.push_back(shape);
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
  if (flags.model.empty())
    return "no model given";
  return "";
}

/// Lowers the model, with diagnostics printed to stderr.
FailureOr<LoweredModel> lower(MLIRContext &context, const CommonFlags &flags,
                              StringRef prefix) {
  PipelineOptions options;
  std::string error;
  if (!TargetInfo::parse(flags.target, options.target, error)) {
    llvm::errs() << "error: " << error << "\n";
    return failure();
  }
  options.inputShapes = flags.inputShapes;
  options.externalWeights = !flags.weights.empty();
  if (!llvm::sys::fs::exists(flags.model)) {
    llvm::errs() << "error: " << flags.model << ": no such file\n";
    return failure();
  }
  return lowerModel(context, flags.model, options, prefix);
}

int compileCommand(MLIRContext &context, ArrayRef<const char *> args) {
  CommonFlags flags;
  std::string problem = parseFlags(args, flags, /*keepUnknown=*/false);
  if (!problem.empty())
    return usageError(problem);
  if (flags.output.empty())
    return usageError("compile needs -o OUTPUT");
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
  if (!problem.empty())
    return usageError(problem);
  if (!flags.output.empty())
    return usageError("run writes no artefact; use --output-dir DIR for "
                      "the outputs");
  if (!flags.weights.empty())
    return usageError("run keeps the weights in memory; --weights is an "
                      "option of compile");
  FailureOr<LoweredModel> model = lower(context, flags, "quarc_jit");
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

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  if (argc < 2)
    return usageError("no command given");
  StringRef command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    printUsage(llvm::outs());
    return 0;
  }
  DialectRegistry registry;
  registerCompilerDialects(registry);
  MLIRContext context(registry);
  ArrayRef<const char *> args(argv + 2, argv + argc);
  if (command == "compile")
    return compileCommand(context, args);
  if (command == "run")
    return runCommand(context, args);
  return usageError("unknown command '" + command +
                    "' (commands: compile, run)");
}
