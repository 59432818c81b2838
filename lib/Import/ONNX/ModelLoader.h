//===- ModelLoader.h - parse a ModelProto, read external data --*- C++ -*-===//

#ifndef QUARC_LIB_IMPORT_ONNX_MODELLOADER_H
#define QUARC_LIB_IMPORT_ONNX_MODELLOADER_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

#include <onnx/onnx_pb.h>
#include <string>

namespace mlir::quarc::onnx_import {

/// Parses `bytes` as a ModelProto with a graph; `path` names the file in the
/// diagnostic on failure.
LogicalResult parseModel(StringRef bytes, StringRef path, Location loc,
                         onnx::ModelProto &model);

/// Reads the external data of `tensor`, which must lie in a file inside
/// `modelDir` (no absolute paths, no `..`, no symlink leading out), within
/// the file's bounds.
FailureOr<std::string> readExternalData(const onnx::TensorProto &tensor,
                                        StringRef modelDir, Location loc);

} // namespace mlir::quarc::onnx_import

#endif // QUARC_LIB_IMPORT_ONNX_MODELLOADER_H
