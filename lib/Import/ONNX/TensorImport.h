//===- TensorImport.h - ONNX data types and tensors to MLIR ----*- C++ -*-===//

#ifndef QUARC_LIB_IMPORT_ONNX_TENSORIMPORT_H
#define QUARC_LIB_IMPORT_ONNX_TENSORIMPORT_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

#include <onnx/onnx_pb.h>

namespace mlir::quarc::onnx_import {

/// The MLIR element type of an ONNX TensorProto data type (signed integers
/// are signless, unsigned ones `ui`, bool is i1), or null if unsupported.
Type getElementType(MLIRContext *context, int32_t dataType);

/// The ONNX name of a data type, for diagnostics ("FLOAT", "STRING", ...).
std::string getDataTypeName(int32_t dataType);

/// How tensors are turned into attributes.
struct TensorImportSettings {
  StringRef modelDir;
  /// More elements than this: a dense_resource blob, else a dense attribute.
  int64_t inlineElementLimit = 64;
};

/// Converts an initializer or a tensor attribute, checking that its data
/// matches its shape. `what` names it in diagnostics.
FailureOr<ElementsAttr> importTensor(const onnx::TensorProto &tensor,
                                     StringRef what, Location loc,
                                     const TensorImportSettings &settings);

} // namespace mlir::quarc::onnx_import

#endif // QUARC_LIB_IMPORT_ONNX_TENSORIMPORT_H
