//===- TensorExport.h - MLIR types and constants to ONNX -------*- C++ -*-===//
//
// The inverse of the importer's TensorImport: element types to ONNX data
// types (TensorProto.DataType), tensor types to TypeProto, and constant
// elements to TensorProto.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_EXPORT_ONNX_TENSOREXPORT_H
#define QUARC_LIB_EXPORT_ONNX_TENSOREXPORT_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

#include <onnx/onnx_pb.h>

namespace mlir::quarc::onnx_export {

/// TensorProto.DataType numbers (onnx.proto); the installed libonnx
/// predates the float8 and 4-bit types, so they are spelled out here.
enum OnnxDataType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUint8 = 2,
  kInt8 = 3,
  kUint16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUint32 = 12,
  kUint64 = 13,
  kBFloat16 = 16,
  kFloat8E4M3FN = 17,
  kFloat8E4M3FNUZ = 18,
  kFloat8E5M2 = 19,
  kFloat8E5M2FNUZ = 20,
  kUint4 = 21,
  kInt4 = 22,
  kFloat4E2M1 = 23,
};

/// The ONNX data type of an element type: signless and signed integers are
/// ONNX's signed ones, `ui` its unsigned ones, i1 is BOOL, and a
/// `!quant.uniform` element is its storage type with the quantized type's
/// signedness. kUndefined for types ONNX has no data type for.
int32_t getOnnxDataType(Type element);

/// The ONNX name of a data type, for diagnostics ("INT8", ...).
StringRef getOnnxDataTypeName(int32_t dataType);

/// Fills `type` with the tensor type of `tensorType`: its data type and
/// shape, each dynamic dim a dim_param named `name` + "_d" + index. Fails
/// at `loc`, naming tensor `name`, for an element type ONNX has no data
/// type for.
LogicalResult exportTensorType(RankedTensorType tensorType, StringRef name,
                               onnx::TypeProto &type, Location loc);

/// Fills `tensor` (dims, data type, data; not the name) from `value`,
/// stored as `dataType` (the caller's choice for integer storage, e.g.
/// INT8 for the signless i8 data of a signed quantized weight). At most
/// `typedFieldElementLimit` elements go into the typed fields, larger
/// tensors into raw_data. Fails at `loc` for data it cannot read.
LogicalResult exportTensor(ElementsAttr value, int32_t dataType,
                           int64_t typedFieldElementLimit,
                           onnx::TensorProto &tensor, Location loc);

} // namespace mlir::quarc::onnx_export

#endif // QUARC_LIB_EXPORT_ONNX_TENSOREXPORT_H
