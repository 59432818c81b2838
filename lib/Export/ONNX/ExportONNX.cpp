//===- ExportONNX.cpp - the exporter's entry points -----------------------===//

#include "quarc/Export/ONNX/ExportONNX.h"

#include "GraphExporter.h"
#include "ModelChecker.h"

#include "quarc/Import/ONNX/ImportONNX.h"
#include "quarc/Support/PendingOutput.h"

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
  PendingOutput output;
  if (failed(output.create(path, bytes, error)) || failed(output.keep(error)))
    return failure();
  return success();
}
