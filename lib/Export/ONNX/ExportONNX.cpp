//===- ExportONNX.cpp - the exporter's entry points -----------------------===//

#include "quarc/Export/ONNX/ExportONNX.h"

#include "GraphExporter.h"
#include "ModelChecker.h"

#include "quarc/Import/ONNX/ImportONNX.h"
#include "quarc/Support/SpecialFiles.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::quarc;

int64_t mlir::quarc::getExportOnnxOpset() { return getNewestOnnxOpset(); }

int64_t mlir::quarc::getExportIrVersion() {
  // The IR version released with opset 23 (ONNX 1.18); onnxruntime reads
  // older IR versions with newer opsets too, but a checker may not.
  return 11;
}

LogicalResult mlir::quarc::exportOnnxModel(ModuleOp module, raw_ostream &os,
                                           const OnnxExportOptions &options) {
  onnx::ModelProto model;
  if (failed(onnx_export::buildOnnxModel(module, options, model)))
    return failure();
  std::string problem = onnx_export::checkOnnxModel(model);
  if (!problem.empty())
    return module.emitError()
           << "the exported model fails the ONNX checker: " << problem;
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return module.emitError(
        "the exported model cannot be serialized (protobuf limits a model "
        "to 2 GiB)");
  os << bytes;
  return success();
}

LogicalResult mlir::quarc::exportOnnxFile(ModuleOp module, StringRef path,
                                          std::string &error,
                                          const OnnxExportOptions &options) {
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  if (failed(exportOnnxModel(module, os, options)))
    return failure();
  // A device or a FIFO (-o /dev/null) is written into, not replaced by a
  // renamed temporary file (SpecialFiles.h).
  if (isSpecialFile(path)) {
    std::error_code ec;
    llvm::raw_fd_ostream file(path, ec);
    if (!ec) {
      file << bytes;
      file.close();
      ec = file.error();
      file.clear_error();
    }
    if (!ec)
      return success();
    error = "cannot write '" + path.str() + "': " + ec.message();
    return failure();
  }
  llvm::Expected<llvm::sys::fs::TempFile> temp =
      llvm::sys::fs::TempFile::create(path + "-%%%%%%.tmp");
  if (!temp) {
    error = "cannot write '" + path.str() +
            "': " + llvm::toString(temp.takeError());
    return failure();
  }
  {
    llvm::raw_fd_ostream file(temp->FD, /*shouldClose=*/false);
    file << bytes;
    file.flush();
    if (file.has_error()) {
      error = "cannot write '" + path.str() + "': " + file.error().message();
      file.clear_error();
    }
  }
  if (error.empty())
    if (llvm::Error kept = temp->keep(path))
      error = "cannot write '" + path.str() +
              "': " + llvm::toString(std::move(kept));
  if (error.empty())
    return success();
  llvm::consumeError(temp->discard());
  return failure();
}
