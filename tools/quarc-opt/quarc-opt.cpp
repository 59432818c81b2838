//===- quarc-opt.cpp - the quarc optimizer driver -------------------------===//
//
// mlir-opt with quarc's dialects and passes registered. An input ending in
// .onnx is imported first (in its own context) and handed over as bytecode,
// so `quarc-opt model.onnx --pass-pipeline=...` works like on a .mlir file.
// Pass plugins (`--load-pass-plugin=PATH`) are loaded by quarc's loader,
// which checks the quarc version they were built for, before the command
// line is parsed, so that their passes are options like quarc's own.
//
//===----------------------------------------------------------------------===//

#include "quarc/Compiler/Pipelines.h"
#include "quarc/Compiler/Plugins.h"
#include "quarc/Dialect/Quarc/IR/QuarcDialect.h"
#include "quarc/Import/ONNX/ImportONNX.h"
#include "quarc/Support/SpecialFiles.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

/// Imports `path` and returns it as an MLIR bytecode buffer, or null after
/// the importer printed its diagnostic.
static std::unique_ptr<llvm::MemoryBuffer>
importToBytecode(StringRef path, DialectRegistry &registry) {
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module = quarc::importOnnxFile(path, &context);
  if (!module)
    return nullptr;
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  if (failed(writeBytecodeToFile(*module, os)))
    return nullptr;
  return llvm::MemoryBuffer::getMemBufferCopy(bytes, path);
}

int main(int argc, char **argv) {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  quarc::registerCompilerPasses();
  quarc::registerOnnxImportDialects(registry);

  std::vector<char *> args(argv, argv + argc);
  for (const std::string &plugin : quarc::takePassPluginArguments(args)) {
    std::string error;
    if (plugin.empty()) {
      llvm::errs() << "error: --load-pass-plugin needs a path\n";
      return 1;
    }
    if (failed(quarc::loadPassPlugin(plugin, error))) {
      llvm::errs() << "error: " << error << "\n";
      return 1;
    }
  }
  int numArgs = static_cast<int>(args.size());
  char **argValues = args.data();
  auto [inputFilename, outputFilename] = registerAndParseCLIOptions(
      numArgs, argValues, "quarc optimizer driver\n", registry);
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();

  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> input;
  if (StringRef(inputFilename).ends_with(".onnx")) {
    input = importToBytecode(inputFilename, registry);
    if (!input)
      return 1;
  } else {
    input = openInputFile(inputFilename, &errorMessage);
    if (!input) {
      llvm::errs() << errorMessage << "\n";
      return 1;
    }
  }
  auto output = openOutputFile(outputFilename, &errorMessage);
  if (!output) {
    llvm::errs() << errorMessage << "\n";
    return 1;
  }
  // A failed run removes its output file; a device or a FIFO (-o /dev/null)
  // is not the run's to remove (as root, /dev/null itself would go).
  if (quarc::isSpecialFile(outputFilename)) {
    output->keep();
    llvm::sys::DontRemoveFileOnSignal(outputFilename);
  }
  if (failed(MlirOptMain(output->os(), std::move(input), registry, config)))
    return 1;
  output->keep();
  return 0;
}
