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

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

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

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i)
    if (StringRef(argv[i]) == "--list-onnx-ops") {
      quarc::printSupportedOnnxOps(llvm::outs());
      return 0;
    }
  registerQuarcTranslations();
  return failed(mlirTranslateMain(argc, argv, "quarc translation driver\n"));
}
