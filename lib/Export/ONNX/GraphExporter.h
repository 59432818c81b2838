//===- GraphExporter.h - quarc functions to ONNX graphs --------*- C++ -*-===//
//
// Builds the ModelProto: the model function's arguments, ops and results
// become the main graph's inputs, nodes and outputs; If/Loop regions become
// subgraphs. Every exported value gets a unique ONNX name, its tensor name
// (TensorNames.h) where it has one.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_EXPORT_ONNX_GRAPHEXPORTER_H
#define QUARC_LIB_EXPORT_ONNX_GRAPHEXPORTER_H

#include "quarc/Export/ONNX/ExportONNX.h"

#include <onnx/onnx_pb.h>

namespace mlir::quarc::onnx_export {

/// Fills `model` from the model function of `module`. Errors are emitted
/// at the op they concern; `model` is then incomplete.
LogicalResult buildOnnxModel(ModuleOp module, const OnnxExportOptions &options,
                             onnx::ModelProto &model);

} // namespace mlir::quarc::onnx_export

#endif // QUARC_LIB_EXPORT_ONNX_GRAPHEXPORTER_H
