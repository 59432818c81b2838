//===- quarc-translate.cpp - ONNX to MLIR translation ---------------------===//
//
// mlir-translate with quarc's translations: `--import-onnx` reads an ONNX
// model and prints the quarc-dialect module, `--export-onnx` writes a
// quarc-dialect module as an ONNX model. `--list-onnx-ops` prints the ops the
// importer supports (domain, op type, first and last opset).
//
//===----------------------------------------------------------------------===//

#include "quarc/Export/ONNX/ExportONNX.h"
#include "quarc/Import/ONNX/ImportONNX.h"
#include "quarc/Support/SpecialFiles.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <fcntl.h>
#include <unistd.h>

using namespace mlir;

static void registerQuarcTranslations() {
  TranslateToMLIRRegistration importOnnx(
      "import-onnx", "import an ONNX model (.onnx) into the quarc dialect",
      [](const std::shared_ptr<llvm::SourceMgr> &sourceMgr,
         MLIRContext *context) -> OwningOpRef<Operation *> {
        const llvm::MemoryBuffer *buffer =
            sourceMgr->getMemoryBuffer(sourceMgr->getMainFileID());
        return quarc::importOnnxModel(buffer->getBuffer(),
                                      buffer->getBufferIdentifier(), context);
      },
      [](DialectRegistry &registry) {
        quarc::registerOnnxImportDialects(registry);
      });
  TranslateFromMLIRRegistration exportOnnx(
      "export-onnx",
      "export a quarc-dialect module as an ONNX model (.onnx; QDQ for the "
      "quantize/dequantize form)",
      [](Operation *op, raw_ostream &os) -> LogicalResult {
        auto module = dyn_cast<ModuleOp>(op);
        if (!module)
          return op->emitError("--export-onnx takes a module");
        return quarc::exportOnnxModel(module, os);
      },
      [](DialectRegistry &registry) {
        quarc::registerOnnxImportDialects(registry);
      });
}

/// mlirTranslateMain removes its output file when a translation fails; a
/// device or a FIFO given as `-o` (/dev/null) is not the run's to remove
/// (as root, /dev/null itself would go). Such an output is opened as
/// standard output and `-o` becomes `-`. False if it cannot be opened.
static bool writeSpecialOutputThroughStdout(int argc, char **argv) {
  static char separateStdout[] = "-", joinedStdout[] = "-o=-";
  for (int i = 1; i < argc; ++i) {
    StringRef arg = argv[i];
    bool separate = (arg == "-o" || arg == "--o") && i + 1 < argc;
    bool joined = arg.starts_with("-o=") || arg.starts_with("--o=");
    if (!separate && !joined)
      continue;
    std::string path = separate ? argv[i + 1] : arg.split('=').second.str();
    if (!quarc::isSpecialFile(path))
      continue;
    int fd = ::open(path.c_str(), O_WRONLY);
    if (fd < 0 || ::dup2(fd, STDOUT_FILENO) < 0) {
      llvm::errs() << "error: cannot write " << path << "\n";
      return false;
    }
    ::close(fd);
    if (separate)
      argv[i + 1] = separateStdout;
    else
      argv[i] = joinedStdout;
  }
  return true;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i)
    if (StringRef(argv[i]) == "--list-onnx-ops") {
      quarc::printSupportedOnnxOps(llvm::outs());
      return 0;
    }
  if (!writeSpecialOutputThroughStdout(argc, argv))
    return 1;
  registerQuarcTranslations();
  return failed(mlirTranslateMain(argc, argv, "quarc translation driver\n"));
}
