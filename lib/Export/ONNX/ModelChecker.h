//===- ModelChecker.h - libonnx's checker on exported models ---*- C++ -*-===//
//
// The exporter checks every model with libonnx's checker before writing it.
// The installed libonnx (1.12) knows opsets up to 17 and IR versions up to
// 8, while quarc writes opset 23; ModelChecker.cpp bridges the gap (see
// there). libonnx reports by throwing; the checker's translation unit is
// the only one built with exceptions, and nothing escapes it.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_EXPORT_ONNX_MODELCHECKER_H
#define QUARC_LIB_EXPORT_ONNX_MODELCHECKER_H

#include <onnx/onnx_pb.h>

#include <string>

namespace mlir::quarc::onnx_export {

/// Checks `model` (structure, names in SSA order, tensors, attributes, and
/// every node against its op's schema at the model's opset). Returns the
/// empty string when it passes, else the checker's message.
std::string checkOnnxModel(const onnx::ModelProto &model);

} // namespace mlir::quarc::onnx_export

#endif // QUARC_LIB_EXPORT_ONNX_MODELCHECKER_H
